"""HGVS c./n. from exon structure alone, on tiny hand-made transcripts of each strand.

Both transcripts have exons 101-110, 201-220 and 301-330 (60 transcript bases)
and the coding range 106-311. Worked out by hand:

plus strand:  t = 1..10 on 101..110, 11..30 on 201..220, 31..60 on 301..330;
              c.1 = 106 (t6), last coding base 311 (t41) = c.36, so 312 = c.*1.
minus strand: t = 1..30 on 330..301, 31..50 on 220..201, 51..60 on 110..101;
              c.1 = 311 (t20), last coding base 106 (t55) = c.36, so 105 = c.*1.
"""

from __future__ import annotations

import pytest

from anntools.hgvs import Transcript, hgvs, reverse_complement, trim_alleles

EXONS = ((101, 110), (201, 220), (301, 330))
PLUS = Transcript("TX_PLUS.1", "+", EXONS, 106, 311)
MINUS = Transcript("TX_MINUS.1", "-", EXONS, 106, 311)
# Coding from 205 (exon 2): exon 1 and intron 1 are 5' UTR.
UTR_INTRON = Transcript("TX_UTR.1", "+", EXONS, 205, 311)
NONCODING = Transcript("TX_NC.1", "-", EXONS)


@pytest.mark.parametrize(
    ("pos", "expected"),
    [
        (101, "-5"),  # 5' UTR
        (105, "-1"),
        (106, "1"),  # first coding base
        (110, "5"),
        (111, "5+1"),  # intron 1, near exon 1
        (155, "5+45"),  # 90-base intron: 45 from each side goes to +
        (156, "6-45"),
        (200, "6-1"),
        (201, "6"),
        (301, "26"),
        (311, "36"),  # last base of the stop codon
        (312, "*1"),  # 3' UTR
        (330, "*19"),
    ],
)
def test_plus_strand_positions(pos: int, expected: str) -> None:
    assert str(PLUS.position(pos)) == expected


@pytest.mark.parametrize(
    ("pos", "expected"),
    [
        (330, "-19"),  # 5' UTR is at the high end
        (312, "-1"),
        (311, "1"),
        (301, "11"),
        (300, "11+1"),  # intron 1 (221-300), next to exon 1
        (221, "12-1"),
        (220, "12"),
        (110, "32"),
        (106, "36"),
        (105, "*1"),
        (101, "*5"),
        (200, "31+1"),  # intron 2 (111-200) follows exon 2 (201-220)
        (150, "32-40"),  # 40 bases from exon 3, 51 from exon 2
        (111, "32-1"),
    ],
)
def test_minus_strand_positions(pos: int, expected: str) -> None:
    assert str(MINUS.position(pos)) == expected


def test_utr_intron_positions() -> None:
    assert str(UTR_INTRON.position(101)) == "-14"
    assert str(UTR_INTRON.position(110)) == "-5"
    assert str(UTR_INTRON.position(112)) == "-5+2"
    assert str(UTR_INTRON.position(199)) == "-4-2"
    assert str(UTR_INTRON.position(205)) == "1"


def test_positions_outside_the_transcript() -> None:
    assert PLUS.position(100) is None
    assert MINUS.position(331) is None


@pytest.mark.parametrize(
    ("transcript", "start", "end", "exon", "intron"),
    [
        (PLUS, 105, 105, "1/3", ""),
        (PLUS, 150, 150, "", "1/2"),
        (PLUS, 305, 305, "3/3", ""),
        (PLUS, 108, 203, "1-2/3", "1/2"),
        (MINUS, 305, 305, "1/3", ""),
        (MINUS, 250, 250, "", "1/2"),
        (MINUS, 105, 105, "3/3", ""),
        (MINUS, 150, 150, "", "2/2"),
        (PLUS, 50, 60, "", ""),
    ],
)
def test_exon_and_intron_numbers(
    transcript: Transcript, start: int, end: int, exon: str, intron: str
) -> None:
    assert transcript.exon_intron(start, end) == (exon, intron)


@pytest.mark.parametrize(
    ("transcript", "pos", "ref", "alt", "expected"),
    [
        (PLUS, 106, "A", "G", "c.1A>G"),
        (PLUS, 312, "C", "T", "c.*1C>T"),
        (PLUS, 115, "G", "A", "c.5+5G>A"),
        (PLUS, 198, "C", "T", "c.6-3C>T"),
        (PLUS, 105, "CATG", "C", "c.1_3del"),
        (PLUS, 106, "AT", "A", "c.2del"),
        (PLUS, 108, "G", "GTTA", "c.3_4insTTA"),
        (PLUS, 110, "A", "AT", "c.5_5+1insT"),
        (PLUS, 108, "G", "GG", "c.3dup"),
        (PLUS, 107, "CG", "CGCG", "c.2_3dup"),
        (PLUS, 106, "AT", "GC", "c.1_2delinsGC"),
        (PLUS, 106, "ATG", "AC", "c.2_3delinsC"),
        (MINUS, 311, "T", "A", "c.1A>T"),
        (MINUS, 310, "G", "C", "c.2C>G"),
        (MINUS, 301, "GACG", "G", "c.8_10del"),
        (MINUS, 301, "G", "GTT", "c.10_11insAA"),
        (MINUS, 301, "G", "GG", "c.11dup"),
        (MINUS, 296, "A", "G", "c.11+5T>C"),
        (MINUS, 105, "A", "T", "c.*1T>A"),
        (MINUS, 325, "C", "A", "c.-14G>T"),
        (NONCODING, 330, "A", "G", "n.1T>C"),
        (NONCODING, 296, "A", "G", "n.30+5T>C"),
        (UTR_INTRON, 112, "A", "G", "c.-5+2A>G"),
    ],
)
def test_variants(transcript: Transcript, pos: int, ref: str, alt: str, expected: str) -> None:
    assert hgvs(transcript, pos, ref, alt) == expected


@pytest.mark.parametrize(
    ("pos", "ref", "alt"),
    [
        (100, "A", "G"),  # before the transcript
        (99, "ACG", "A"),  # deletion reaching into it from outside
        (106, "A", "<DEL>"),
        (106, "A", "*"),
        (106, "A", "A"),
    ],
)
def test_no_notation(pos: int, ref: str, alt: str) -> None:
    assert hgvs(PLUS, pos, ref, alt) == ""


def test_trim_keeps_the_shown_left_bases() -> None:
    alleles = trim_alleles(10, "CAG", "CAGAG")
    assert (alleles.start, alleles.end, alleles.ref, alleles.alt) == (13, 12, "", "AG")
    assert alleles.before == "CAG"


def test_reverse_complement() -> None:
    assert reverse_complement("AACGTN") == "NACGTT"


def test_bad_structure_is_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        Transcript("X", "+", ((10, 20), (15, 30)))
    with pytest.raises(ValueError, match="strand"):
        Transcript("X", ".", ((10, 20),))
