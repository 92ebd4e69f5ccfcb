"""The variant table's SQLite index: filters, the sort whitelist, pagination, the cache."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gas.web.results_index import (
    PER_PAGE,
    IndexCache,
    IndexUnavailable,
    VariantQuery,
    build_index,
    query_variants,
)

HEADER = (
    "CHROM\tPOS\tID\tREF\tALT\tVariant_class\tTs_Tv\tGRCh38\trsID\tConsequence\tGene\t"
    "Transcript\tBiotype\tStrand\tRegion\tProtein_change\tDNA_change\tDistance\tCalled\tHet\t"
    "Hom_alt\tAF"
)
# (chrom, pos, rsid, consequence, gene, region, af)
ROWS = [
    ("2", 500, "rs5", "missense", "BRCA2", "CDS", "0.5"),
    ("1", 900, "", "intron", "GENE1", "intron", "0.1"),
    ("1", 100, "rs1", "synonymous", "GENE1", "CDS", ""),
    ("X", 50, "rs9", "intergenic", "", "intergenic", "1"),
    ("MT", 7000, "", "missense", "MT-CO1", "CDS", "0.9926"),
    ("10", 1, "rs10", "upstream", "brca2", "intergenic", "0.25"),
    ("1", 100, "", "missense", "GENE1", "CDS", ""),  # a second consequence of the same site
]


def tsv(rows: list[tuple[str, int, str, str, str, str, str]] = ROWS) -> list[str]:
    lines = [HEADER + "\n"]
    for chrom, pos, rsid, consequence, gene, region, af in rows:
        cells = [chrom, str(pos), rsid or ".", "A", "G", "SNV", "Ts", f"chr{chrom}:{pos}", rsid]
        cells += [consequence, gene, "", "protein_coding", "+", region, "", "", "", "", "", ""]
        lines.append("\t".join([*cells, af]) + "\n")
    return lines


@pytest.fixture
def index(tmp_path: Path) -> Path:
    path = tmp_path / "job.sqlite"
    assert build_index(tsv(), path) == len(ROWS)
    return path


def positions(path: Path, **query: object) -> list[str]:
    page = query_variants(path, VariantQuery(**query))  # type: ignore[arg-type]
    return [f"{row['chrom']}:{row['pos']}" for row in page.rows]


def test_default_order_is_karyotype_then_position_then_file_order(index: Path) -> None:
    assert positions(index) == ["1:100", "1:100", "1:900", "2:500", "10:1", "X:50", "MT:7000"]
    page = query_variants(index, VariantQuery())
    assert [row["consequence"] for row in page.rows[:2]] == ["synonymous", "missense"]
    assert page.total == page.rows_in_job == len(ROWS) and page.pages == 1
    assert (page.first_row, page.last_row) == (1, 7)


def test_filters(index: Path) -> None:
    assert positions(index, gene="brca2") == ["2:500", "10:1"]  # case-insensitive, exact
    assert positions(index, gene="BRCA") == []
    assert positions(index, consequence="missense") == ["1:100", "2:500", "MT:7000"]
    assert positions(index, region="intergenic") == ["10:1", "X:50"]
    assert positions(index, rsid="yes") == ["1:100", "2:500", "10:1", "X:50"]
    assert positions(index, rsid="no") == ["1:100", "1:900", "MT:7000"]
    assert positions(index, consequence="missense", region="CDS", rsid="no") == ["1:100", "MT:7000"]
    page = query_variants(index, VariantQuery(gene="GENE1"))
    assert page.total == 3 and page.rows_in_job == 7


def test_sorts_and_directions(index: Path) -> None:
    assert positions(index, sort="gene")[:3] == ["X:50", "2:500", "10:1"]  # "" < BRCA2
    assert positions(index, sort="position", direction="desc")[0] == "MT:7000"
    assert positions(index, sort="consequence")[0] == "X:50"  # intergenic
    # AF: rows without one come last, in either direction
    assert positions(index, sort="af") == [
        "1:900",
        "10:1",
        "2:500",
        "MT:7000",
        "X:50",
        "1:100",
        "1:100",
    ]
    assert positions(index, sort="af", direction="desc")[:2] == ["X:50", "MT:7000"]
    assert positions(index, sort="af", direction="desc")[-2:] == ["1:100", "1:100"]


def test_unknown_sorts_fall_back_to_the_default_order(index: Path) -> None:
    default = positions(index)
    # GIVEN parameters as a request would carry them
    query = VariantQuery.from_params({"sort": "pos; DROP TABLE variants", "dir": "sideways"})
    assert (query.sort, query.direction) == ("position", "asc")
    # AND a query built around from_params: the whitelist still holds
    assert positions(index, sort="chrom DESC --", direction="desc; --") == default
    with sqlite3.connect(index) as db:
        assert db.execute("SELECT COUNT(*) FROM variants").fetchone()[0] == len(ROWS)


def test_filter_values_are_parameters_not_sql(index: Path) -> None:
    assert positions(index, gene="' OR 1=1 --") == []
    assert positions(index, consequence="missense' OR '1'='1") == []


def test_pagination_bounds(index: Path) -> None:
    first = query_variants(index, VariantQuery(per_page=25))
    assert first.pages == 1
    query = VariantQuery.from_params({"page": "99", "per_page": "25"})
    last = query_variants(index, query)
    assert last.query.page == 1 and len(last.rows) == 7  # clamped to the last page
    for bad in ("0", "-3", "abc", ""):
        assert VariantQuery.from_params({"page": bad}).page == 1
    assert VariantQuery.from_params({"per_page": "100000"}).per_page == PER_PAGE
    assert VariantQuery.from_params({"rsid": "maybe"}).rsid == ""
    assert len(VariantQuery.from_params({"gene": "G" * 5000}).gene) == 100


def test_many_pages(tmp_path: Path) -> None:
    rows = [("1", n, "", "intron", f"G{n % 3}", "intron", "") for n in range(1, 131)]
    path = tmp_path / "many.sqlite"
    build_index(tsv(rows), path)
    page = query_variants(path, VariantQuery(page=3, per_page=50))
    assert (page.pages, page.total, page.first_row, page.last_row) == (3, 130, 101, 130)
    assert page.rows[0]["pos"] == 101
    beyond = query_variants(path, VariantQuery(page=7, per_page=50))
    assert beyond.query.page == 3 and beyond.rows == page.rows
    assert query_variants(path, VariantQuery(gene="G0", page=1)).total == 43


def test_params_round_trip_and_leave_defaults_out() -> None:
    query = VariantQuery.from_params({"gene": "MT-CO1", "sort": "af", "dir": "desc", "page": "2"})
    assert query.params() == {"gene": "MT-CO1", "sort": "af", "dir": "desc", "page": "2"}
    assert VariantQuery.from_params(query.params()) == query
    assert query.params(page=1, sort="position") == {"gene": "MT-CO1", "dir": "desc"}
    assert VariantQuery().params() == {} and not VariantQuery().filtered


def test_facets(index: Path) -> None:
    page = query_variants(index, VariantQuery())
    assert page.facets["consequence"][0] == ("missense", 3)
    assert dict(page.facets["region"]) == {"CDS": 4, "intron": 1, "intergenic": 2}
    assert "" not in dict(page.facets["gene"])


def test_a_file_that_is_not_an_anntools_tsv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IndexUnavailable, match="not an anntools TSV"):
        build_index(["tsv of some job\n"], tmp_path / "a.sqlite")
    bad_pos = [*tsv()[:1], "1\tten" + "\t" * 20 + "\n"]
    with pytest.raises(IndexUnavailable, match="POS"):
        build_index(bad_pos, tmp_path / "b.sqlite")


JOB = "00000000-0000-4000-8000-000000000001"


def test_the_cache_builds_once_and_shares_the_file(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path / "cache")
    opened = []

    def lines() -> Iterator[str]:
        opened.append(1)
        return iter(tsv())

    path = cache.ensure(JOB, lines)
    assert cache.ensure(JOB, lines) == path and len(opened) == 1
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in path.parent.iterdir() if p.suffix == ".part"] == []
    cache.evict(JOB)
    assert not path.exists()
    cache.ensure(JOB, lines)
    assert len(opened) == 2


def test_concurrent_first_requests_build_once(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    opened = []
    started = threading.Barrier(4)

    def lines() -> Iterator[str]:
        opened.append(1)
        yield from tsv()

    totals = []

    def request() -> None:
        started.wait()
        totals.append(query_variants(cache.ensure(JOB, lines), VariantQuery()).total)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 1 and totals == [len(ROWS)] * 4


def test_a_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    cache = IndexCache(tmp_path)
    with pytest.raises(IndexUnavailable):
        cache.ensure(JOB, lambda: iter(["junk\n"]))
    assert [p for p in tmp_path.iterdir() if p.suffix != ".lock"] == []


def test_cache_paths_are_job_ids_only(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        IndexCache(tmp_path).path_for("../../etc/passwd")
