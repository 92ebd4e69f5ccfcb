"""Shared fixtures and paths for the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
SAMPLES = PROJECT_ROOT / "data" / "samples"


@pytest.fixture
def write_vcf(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a VCF from lines (tabs given as '\\t' or real tabs) and return its path."""

    def write(lines: list[str], name: str = "input.vcf") -> Path:
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
