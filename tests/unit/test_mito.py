"""Mitochondrial consequences with the vertebrate mitochondrial code (NCBI table 2), on the rCRS.

tests/data/mt_genes.gff3 holds MT-ND1 (3307-4262 +), MT-CO1 (5904-7445 +),
MT-CO3 (9207-9990 +) and MT-ND6 (14149-14673 -) at their rCRS coordinates.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anntools.csq import TranscriptAnnotator
from anntools.csq.fasta import FastaReader
from anntools.mito import RCRS_FASTA, mito_annotator

GFF3 = Path(__file__).resolve().parents[1] / "data" / "mt_genes.gff3"


@pytest.fixture(scope="module")
def mito() -> TranscriptAnnotator:
    return mito_annotator(GFF3)


@pytest.fixture(scope="module")
def rcrs() -> FastaReader:
    return FastaReader(RCRS_FASTA)


def ref_at(rcrs: FastaReader, pos: int) -> str:
    return rcrs.fetch("MT", pos - 1, pos)


def test_tga_is_tryptophan(mito: TranscriptAnnotator, rcrs: FastaReader) -> None:
    # GIVEN MT-CO1 codon 6 (5919-5921) reads TGA WHEN its last base becomes G (TGG)
    assert rcrs.fetch("MT", 5918, 5921) == "TGA"
    found = mito.annotate("MT", 5921, "A", "G")
    # THEN Trp stays Trp: synonymous, where the standard code would call a lost stop
    assert [(c.terms, c.aa_change) for c in found] == [(("synonymous",), "6W")]
    standard = TranscriptAnnotator.from_files(GFF3, RCRS_FASTA, genetic_codes={"MT": 1})
    assert standard.annotate("MT", 5921, "A", "G")[0].terms == ("stop_lost",)


def test_aga_stop_changed_to_agg_is_stop_retained(
    mito: TranscriptAnnotator, rcrs: FastaReader
) -> None:
    # GIVEN MT-CO1 ends with AGA (a stop in table 2) WHEN it becomes AGG THEN still a stop
    assert rcrs.fetch("MT", 7442, 7445) == "AGA"
    found = mito.annotate("chrM", 7445, "A", "G")
    assert [(c.terms, c.transcript, c.aa_change) for c in found] == [
        (("stop_retained",), "MT-CO1", "514*")
    ]


def test_ata_start_codon_is_recognised(mito: TranscriptAnnotator, rcrs: FastaReader) -> None:
    # GIVEN MT-ND1 starts with ATA (Met in table 2) WHEN its first base changes THEN start_lost
    assert rcrs.fetch("MT", 3306, 3309) == "ATA"
    assert mito.annotate("MT", 3307, "A", "G")[0].terms == ("start_lost",)


def test_minus_strand_agg_stop(mito: TranscriptAnnotator, rcrs: FastaReader) -> None:
    # GIVEN MT-ND6 (- strand) ends with AGG WHEN the + strand C at 14149 becomes T (AGG -> AGA)
    assert ref_at(rcrs, 14149) == "C"
    found = mito.annotate("M", 14149, "C", "T")
    assert [(c.terms, c.strand) for c in found] == [(("stop_retained",), "-")]


def test_missense(mito: TranscriptAnnotator, rcrs: FastaReader) -> None:
    assert ref_at(rcrs, 6000) == "C"
    found = mito.annotate("MT", 6000, "C", "A")
    assert [(c.terms, c.aa_change, c.dna_change) for c in found] == [
        (("missense",), "33L>33M", "6000C>A")
    ]


@pytest.mark.parametrize(
    ("pos", "alt"), [(4261, "C"), (4262, "G"), (9990, "C"), (4262, "AT"), (9990, "G")]
)
def test_incomplete_stop_codons_do_not_break_anything(
    mito: TranscriptAnnotator, rcrs: FastaReader, pos: int, alt: str
) -> None:
    # GIVEN MT-ND1 ends in TA and MT-CO3 in T (stops completed by polyadenylation)
    ref = ref_at(rcrs, pos)
    if alt == ref:
        alt = "A" if ref != "A" else "C"
    # WHEN a variant hits those trailing bases THEN no coding call is made up, and nothing fails
    for csq in mito.annotate("MT", pos, ref, alt):
        assert not {"missense", "synonymous", "stop_gained", "stop_lost"} & set(csq.terms)


def test_frameshift_in_nd1_reads_through_with_the_mito_code(mito: TranscriptAnnotator) -> None:
    found = mito.annotate("MT", 4000, "A", "AT")
    assert found[0].terms == ("stop_gained", "frameshift")
    assert found[0].aa_change.startswith("232IMMN")  # ATA read as Met


def test_outside_the_genes_nothing(mito: TranscriptAnnotator) -> None:
    assert mito.annotate("MT", 100, "G", "A") == []
