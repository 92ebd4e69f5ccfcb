"""The compiled record loop (``_recordloop.pyx`` and the modules it cimports), with the
htslib it calls.

The extensions are built against the htslib headers pysam ships and call
htslib's functions without linking a library themselves: they come from pysam's
``libchtslib``, loaded here into the global symbol scope before the extensions
are imported. So the extensions use the same htslib as pysam, wherever pip put
it, and nothing needs a system htslib.
"""

from __future__ import annotations

import ctypes
import os
from importlib.util import find_spec
from pathlib import Path


def _load_htslib() -> None:
    spec = find_spec("pysam")
    locations = spec.submodule_search_locations if spec else None
    found = sorted(Path(next(iter(locations))).glob("libchtslib.*")) if locations else []
    if not found:
        raise ImportError("pysam's htslib (pysam/libchtslib.*) is missing: pip install pysam")
    ctypes.CDLL(str(found[0]), mode=os.RTLD_NOW | os.RTLD_GLOBAL)


_load_htslib()

from anntools._parsing import next_event  # noqa: E402 - needs htslib first
from anntools._recordloop import RecordLoop  # noqa: E402

__all__ = ["RecordLoop", "next_event"]
