"""Consequences from exon structure alone, on the hand-made transcripts of test_hgvs.

Plus strand: exons 101-110, 201-220, 301-330; coding 106-311 (c.1-c.36, 12
codons): start codon 106-108, stop codon 309-311. Minus strand: same exons,
c.1 = 311, so the start codon is 311-309 and the stop codon 108-106.
"""

from __future__ import annotations

import itertools

import pytest

from anntools.bundle.reader import ManeTranscript
from anntools.hgvs import Transcript, trim_alleles
from anntools.mane import any_change_entry, effect_terms, mane_entry
from tests.unit.test_hgvs import MINUS, NONCODING, PLUS


def terms(transcript: Transcript, pos: int, ref: str, alt: str) -> str:
    return "&".join(effect_terms(transcript, trim_alleles(pos, ref, alt)))


@pytest.mark.parametrize(
    ("pos", "ref", "alt", "expected"),
    [
        (102, "A", "G", "5_prime_UTR_variant"),
        (320, "A", "G", "3_prime_UTR_variant"),
        (150, "A", "G", "intron_variant"),
        (111, "G", "A", "splice_donor_variant"),  # c.5+1
        (112, "T", "A", "splice_donor_variant"),  # c.5+2
        (113, "A", "G", "splice_region_variant&intron_variant"),  # c.5+3
        (118, "A", "G", "splice_region_variant&intron_variant"),  # c.5+8
        (119, "A", "G", "intron_variant"),  # c.5+9
        (199, "A", "G", "splice_acceptor_variant"),  # c.6-2
        (110, "A", "G", "splice_region_variant&coding_sequence_variant"),  # last exon base
        (110, "A", "AT", "splice_region_variant"),  # insertion at the exon-intron junction
        (
            108,
            "GATGCAGT",
            "G",
            "splice_donor_variant&splice_region_variant&coding_sequence_variant&intron_variant",
        ),
    ],
)
def test_regions_and_splice_sites(pos: int, ref: str, alt: str, expected: str) -> None:
    assert terms(PLUS, pos, ref, alt) == expected


@pytest.mark.parametrize(
    ("pos", "ref", "alt", "expected"),
    [
        (107, "T", "C", "start_lost"),  # c.2 of ATG
        (107, "C", "T", "coding_sequence_variant"),  # REF is not ATG's base: no claim
        (205, "C", "T", "coding_sequence_variant"),  # the amino acid needs the sequence
        (309, "T", "C", "stop_lost"),  # c.34, the stop codon's T
        (310, "G", "A", "stop_retained_variant"),  # TGA > TAA
        (310, "A", "T", "stop_lost"),  # TAx > TTx
        (310, "A", "G", "coding_sequence_variant"),  # TAA > TGA, or TAG > TGG
        (311, "G", "A", "stop_retained_variant"),  # TAG > TAA
        (311, "A", "C", "stop_lost"),
        (304, "GA", "G", "frameshift_variant"),
        (304, "GACG", "G", "inframe_deletion"),
        (305, "A", "AGGG", "inframe_insertion"),
        (305, "A", "AG", "frameshift_variant"),
        (309, "T", "TA", "frameshift_variant&stop_lost"),  # between c.34 and c.35
        (105, "CA", "C", "frameshift_variant&start_lost"),
        (106, "A", "AT", "frameshift_variant&start_lost"),  # between c.1 and c.2
        (108, "G", "GT", "frameshift_variant&splice_region_variant"),  # after the start codon
        (205, "CG", "TA", "coding_sequence_variant"),
    ],
)
def test_coding_effects(pos: int, ref: str, alt: str, expected: str) -> None:
    assert terms(PLUS, pos, ref, alt) == expected


@pytest.mark.parametrize(
    ("pos", "ref", "alt", "expected"),
    [
        (311, "T", "C", "start_lost"),  # c.1: transcript A of ATG is genomic T
        (330, "A", "G", "5_prime_UTR_variant"),
        (105, "A", "G", "3_prime_UTR_variant"),
        (300, "C", "T", "splice_donor_variant"),  # c.11+1
        (221, "C", "T", "splice_acceptor_variant"),  # c.12-1
        (108, "A", "G", "stop_lost&splice_region_variant"),  # c.34: the stop codon's T
        (106, "C", "T", "stop_retained_variant"),  # c.36: TAG > TAA
    ],
)
def test_minus_strand_effects(pos: int, ref: str, alt: str, expected: str) -> None:
    assert terms(MINUS, pos, ref, alt) == expected


def test_noncoding_exon() -> None:
    assert terms(NONCODING, 305, "A", "G") == "non_coding_transcript_exon_variant"
    assert terms(NONCODING, 250, "A", "G") == "intron_variant"


MANE_PLUS = ManeTranscript(PLUS, "GENEP", "NM_000001.1")
MANE_MINUS = ManeTranscript(MINUS, "GENEM", "NM_000002.1")


def test_entry_carries_transcript_numbering_and_hgvs() -> None:
    entry = mane_entry("G", MANE_PLUS, 106, "A", "G")
    assert entry is not None
    assert (entry.gene, entry.transcript, entry.mane_select) == (
        "GENEP",
        "TX_PLUS.1",
        "NM_000001.1",
    )
    assert (entry.exon, entry.intron, entry.region) == ("1/3", "", "CDS")
    assert entry.hgvsc == "TX_PLUS.1:c.1A>G"
    assert entry.consequence == "start_lost"
    assert entry.hgvsp == ""  # needs the sequence


def test_entry_in_an_intron() -> None:
    entry = mane_entry("T", MANE_MINUS, 250, "C", "T")
    assert entry is not None
    assert (entry.exon, entry.intron, entry.hgvsc) == ("", "1/2", "TX_MINUS.1:c.12-30G>A")
    assert (entry.consequence, entry.region) == ("intron_variant", "intron")


@pytest.mark.parametrize(
    ("mane", "pos", "term", "distance"),
    [
        (MANE_PLUS, 95, "upstream_gene_variant", 6),
        (MANE_PLUS, 340, "downstream_gene_variant", 10),
        (MANE_MINUS, 340, "upstream_gene_variant", 10),
        (MANE_MINUS, 100, "downstream_gene_variant", 1),
    ],
)
def test_entries_beside_the_transcript(
    mane: ManeTranscript, pos: int, term: str, distance: int
) -> None:
    entry = mane_entry("G", mane, pos, "A", "G")
    assert entry is not None
    assert (entry.consequence, entry.distance, entry.hgvsc, entry.exon) == (term, distance, "", "")


def test_no_entry_beyond_five_kb() -> None:
    assert mane_entry("G", MANE_PLUS, 330 + 5001, "A", "G") is None
    assert mane_entry("G", MANE_PLUS, 330 + 5000, "A", "G") is not None


SHORT_CHANGES = [
    *itertools.permutations("ACGT", 2),  # every substitution
    ("AC", "A"),  # deletions of 1 and 3 bases
    ("ACGT", "A"),
    ("A", "AG"),  # insertions of 1 and 3 bases
    ("A", "AGGC"),
    ("AC", "GT"),  # a two-base replacement
]


@pytest.mark.parametrize("mane", [MANE_PLUS, MANE_MINUS, ManeTranscript(NONCODING, "GENEN", "")])
def test_the_short_path_agrees_with_the_general_one(mane: ManeTranscript) -> None:
    # Every base from before the transcript to after it, every change above.
    compared = 0
    for pos in range(90, 345):
        for ref, alt in SHORT_CHANGES:
            general = any_change_entry(alt, mane, pos, ref, alt)
            assert mane_entry(alt, mane, pos, ref, alt) == general, (pos, ref, alt)
            compared += 1
    assert compared == 255 * len(SHORT_CHANGES)
