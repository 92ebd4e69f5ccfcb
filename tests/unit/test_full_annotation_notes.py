"""A full bundle's shortcut for one-base substitutions (anntools/full_annotation.py) gives
what the general exon/intron and HGVS c. code gives, at every base in and around a
transcript: exons, introns, UTRs, both strands, coding and non-coding."""

from __future__ import annotations

import pytest

from anntools.full_annotation import _snv_notes
from anntools.hgvs import Transcript, hgvs, trim_alleles
from anntools.hgvs_shift import _region

EXONS = ((11, 20), (31, 45), (61, 62), (80, 99))
TRANSCRIPTS = [
    Transcript("PLUS", "+", EXONS, 15, 85),
    Transcript("MINUS", "-", EXONS, 15, 85),
    Transcript("NONCODING", "-", EXONS),
    Transcript("ONE_EXON", "+", ((11, 40),), 20, 30),
]


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=lambda tr: tr.id)
def test_snv_shortcut_matches_the_general_path(transcript: Transcript) -> None:
    seen = set()
    for pos in range(1, 111):
        snv = trim_alleles(pos, "C", "T")
        expected = (*transcript.exon_intron(pos, pos), hgvs(transcript, pos, "C", "T"))
        assert _snv_notes(transcript, snv) == expected, pos
        seen.add(tuple(bool(part) for part in expected))
    # the walk crossed exons, introns (where the transcript has any) and the outside
    assert (False, False, False) in seen and (True, False, True) in seen
    assert len(transcript.exons) == 1 or (False, True, True) in seen


def test_region_of_a_shift_is_its_exon_or_intron() -> None:
    transcript = TRANSCRIPTS[0]
    assert _region(transcript, 12, 14) == (11, 20)
    assert _region(transcript, 21, 30) == (21, 30)  # the first intron, whole
    assert _region(transcript, 19, 22) is None  # across an exon's end
    assert _region(transcript, 5, 5) is None  # before the transcript
    assert _region(transcript, 100, 100) is None  # after it
    assert _region(transcript, 63, 79) == (63, 79)
