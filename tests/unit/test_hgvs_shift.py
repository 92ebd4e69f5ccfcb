"""HGVS c. after the 3' rule, with the genome sequence (anntools/hgvs_shift.py)."""

from __future__ import annotations

import pytest

from anntools.hgvs import Transcript, hgvs
from anntools.hgvs_shift import hgvs_3prime

#         1   5   9  12       21        30
GENOME = "ACGT" + "AAAA" + "CGT" + "CAGCAGCAG" + "TTGCAACGTT"


def fetch(start: int, end: int) -> str:
    return GENOME[max(start, 0) : end]


PLUS = Transcript("T1", "+", ((1, 30),), 1, 30)  # c.N is genome N
MINUS = Transcript("T2", "-", ((1, 30),), 1, 30)  # c.N is genome 31 - N
SPLIT = Transcript("T3", "+", ((1, 6), (9, 30)), 1, 30)  # an intron at 7-8


@pytest.mark.parametrize(
    ("transcript", "pos", "ref", "alt", "plain", "shifted"),
    [
        (PLUS, 4, "TA", "T", "c.5del", "c.8del"),  # one A of AAAA: the last one
        (PLUS, 4, "T", "TA", "c.4_5insA", "c.8dup"),  # an A more: a dup of the last
        (PLUS, 11, "T", "TCAG", "c.11_12insCAG", "c.18_20dup"),  # a CAG more
        (PLUS, 11, "T", "TCTG", "c.11_12insCTG", "c.12_13insTGC"),  # past the matching C
        (MINUS, 7, "AA", "A", "c.23del", "c.26del"),  # the 3' end is the genome's left
        (MINUS, 8, "A", "AA", "c.23dup", "c.26dup"),
        (SPLIT, 4, "TA", "T", "c.5del", "c.6del"),  # not past the exon's end
    ],
)
def test_indels_move_3prime_and_repeats_read_as_dup(
    transcript: Transcript, pos: int, ref: str, alt: str, plain: str, shifted: str
) -> None:
    assert hgvs(transcript, pos, ref, alt) == plain
    assert hgvs_3prime(transcript, pos, ref, alt, fetch) == shifted


def test_substitutions_are_as_without_sequence() -> None:
    assert hgvs_3prime(PLUS, 6, "A", "G", fetch) == hgvs(PLUS, 6, "A", "G") == "c.6A>G"
    assert hgvs_3prime(MINUS, 6, "A", "G", fetch) == "c.25T>C"
