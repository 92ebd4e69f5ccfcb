"""make bundle-full up to the download: the pinned table, sha256 checks, failed downloads."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from anntools.bundle import BundleError, download
from anntools.bundle.download import UNPINNED, Source, fetch, read_sources, write_pins


def test_the_pinned_table_names_one_ensembl_release_over_https() -> None:
    sources = read_sources()
    assert {"gff3", "fasta"} <= set(sources)
    releases = {re.search(r"/release-(\d+)/", sources[n].url).group(1) for n in ("gff3", "fasta")}  # type: ignore[union-attr]
    assert len(releases) == 1
    assert sources["gff3"].file_name.endswith(f".{releases.pop()}.gff3.gz")
    assert "primary_assembly" in sources["fasta"].file_name
    assert len({s.file_name for s in sources.values()}) == len(sources)


def test_a_malformed_table_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv"
    table.write_text(
        "name\turl\tsha256\ngff3\thttps://x/a.gff3.gz\tabc\nfasta\thttps://x/b.fa.gz\tunpinned\n"
    )
    with pytest.raises(BundleError, match="line 2: sha256 must be 64 hex digits"):
        read_sources(table)


def test_a_failed_download_is_one_clear_message_and_leaves_nothing(tmp_path: Path) -> None:
    source = Source("gff3", "https://127.0.0.1:9/genes.gff3.gz", UNPINNED)
    with pytest.raises(
        BundleError, match=r"cannot download https://127.0.0.1:9/genes.gff3.gz: .*put the file at"
    ):
        fetch(source, tmp_path, pin=True)
    assert list(tmp_path.iterdir()) == []


def test_an_unpinned_file_needs_pin(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"no pinned sha256.*--pin"):
        fetch(Source("gff3", "https://127.0.0.1:9/genes.gff3.gz", UNPINNED), tmp_path)


def served(tmp_path: Path, data: bytes) -> tuple[str, str]:
    origin = tmp_path / "origin"
    origin.mkdir()
    (origin / "genes.gff3.gz").write_bytes(data)
    return (origin / "genes.gff3.gz").as_uri(), hashlib.sha256(data).hexdigest()


def test_a_download_must_match_its_pinned_sha256(tmp_path: Path) -> None:
    url, _ = served(tmp_path, b"changed upstream")
    with pytest.raises(BundleError, match="differs from the pinned"):
        fetch(Source("gff3", url, "0" * 64), tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


def test_a_matching_download_is_kept_and_not_fetched_again(tmp_path: Path) -> None:
    url, sha = served(tmp_path, b"##gff-version 3\n")
    path, found = fetch(Source("gff3", url, sha), tmp_path / "dl")
    assert (path.read_bytes(), found) == (b"##gff-version 3\n", sha)
    (tmp_path / "origin" / "genes.gff3.gz").unlink()  # a second fetch would fail
    assert fetch(Source("gff3", url, sha), tmp_path / "dl") == (path, sha)


def test_pin_records_the_sums_found(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv"
    table.write_text(
        "name\turl\tsha256\ngff3\thttps://x/a.gff3.gz\tunpinned\nfasta\thttps://x/b.fa.gz\tunpinned\n"
    )
    write_pins({"gff3": "a" * 64}, table)
    sources = read_sources(table)
    assert (sources["gff3"].sha256, sources["fasta"].sha256) == ("a" * 64, UNPINNED)


def test_make_bundle_full_refuses_an_unpinned_table_before_downloading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a table whose sums read "unpinned" (as committed: no internet where it was made)
    table = tmp_path / "sources.tsv"
    table.write_text(
        "name\turl\tsha256\ngff3\thttps://127.0.0.1:9/a.gff3.gz\tunpinned\n"
        "fasta\thttps://127.0.0.1:9/b.fa.gz\tunpinned\n"
    )
    monkeypatch.setattr(download, "read_sources", lambda: read_sources(table))
    # WHEN make bundle-full runs without --pin THEN it stops with what to do, having fetched nothing
    status = download.main(["--dir", str(tmp_path / "dl"), "-o", str(tmp_path / "bundle")])
    assert status == 1
    assert "a.gff3.gz has no pinned sha256" in capsys.readouterr().err
    assert not (tmp_path / "dl").exists() and not (tmp_path / "bundle").exists()
