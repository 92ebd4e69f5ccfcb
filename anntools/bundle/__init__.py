"""The swappable GRCh38 annotation bundle: genes, regions, common rsIDs, MT gene model.

Reading needs only numpy (``Bundle.load``); building (``build_bundle`` or
``python -m anntools.bundle build``) also needs pyarrow.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from anntools.bundle.format import SOURCE_SHA256, BundleError
from anntools.bundle.paths import BUNDLE_DIR_ENV, default_bundle_dir

if TYPE_CHECKING:
    from anntools.bundle.reader import Bundle

__all__ = [
    "BUNDLE_DIR_ENV",
    "SOURCE_SHA256",
    "Bundle",
    "BundleError",
    "build_bundle",
    "default_bundle_dir",
]


def __getattr__(name: str) -> Any:
    """``Bundle`` on first use: the reader needs numpy, which runs without a bundle never need."""
    if name == "Bundle":
        from anntools.bundle.reader import Bundle

        return Bundle
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_bundle(out: Path | None = None, sdist: Path | None = None, force: bool = False) -> Path:
    """Build (or find up to date) the bundle; see anntools.bundle.build.build_bundle."""
    # Imported here so that readers never import pyarrow.
    from anntools.bundle.build import build_bundle as build

    return build(out=out, sdist=sdist, force=force)
