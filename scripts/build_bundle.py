"""Build the GRCh38 annotation bundle.

``python scripts/build_bundle.py [--out DIR] [--sdist PATH] [--force]``
"""

from __future__ import annotations

import sys

from anntools.bundle.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["build", *sys.argv[1:]]))
