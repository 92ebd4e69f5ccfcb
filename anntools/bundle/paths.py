"""Where bundles and downloads live by default."""

from __future__ import annotations

import os
from pathlib import Path

from anntools.bundle.format import BUNDLE_NAME

BUNDLE_DIR_ENV = "ANNTOOLS_BUNDLE_DIR"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/anntools`` (default ``~/.cache/anntools``)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "anntools"


def default_bundle_dir() -> Path:
    """``$ANNTOOLS_BUNDLE_DIR``, else ``~/.cache/anntools/bundles/<BUNDLE_NAME>``."""
    configured = os.environ.get(BUNDLE_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return cache_root() / "bundles" / BUNDLE_NAME
