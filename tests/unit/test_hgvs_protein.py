"""HGVS p. notation: from peptides (``describe``) and from real sequence (bcftools' cases)."""

from __future__ import annotations

import pytest

from anntools.csq import TranscriptAnnotator
from anntools.hgvs_protein import describe, protein_hgvs
from tests.unit.test_csq_conformance import CASES


@pytest.mark.parametrize(
    ("reference", "variant", "codons", "shift", "expected"),
    [
        ("MVKL*", "MVEL*", range(2, 3), 0, "Lys3Glu"),  # missense
        ("MVKL*", "MVKL*", range(2, 3), 0, "Lys3="),  # synonymous
        ("MVKL*", "MV*", range(2, 3), 0, "Lys3Ter"),  # nonsense
        ("MVKL*", "IVKL*", range(0, 1), 0, "Met1?"),  # start codon
        ("MVKL*", "MVKLRG*", range(4, 5), 0, "Ter5ArgextTer2"),  # stop lost
        ("MVKL*", "MVKLRG", range(4, 5), 0, "Ter5ArgextTer?"),  # no new stop in reach
        ("MVKLGS*", "MVRPT*", range(2, 3), -1, "Lys3ArgfsTer4"),  # frameshift
        ("MVKLGS*", "MV*", range(2, 3), 1, "Lys3Ter"),  # frameshift to an immediate stop
        ("MVKLGS*", "MVKGS*", range(3, 4), -3, "Leu4del"),
        ("MVKLGS*", "MVS*", range(2, 5), -9, "Lys3_Gly5del"),
        ("MVKKLS*", "MVKLS*", range(2, 3), -3, "Lys4del"),  # the 3' rule: the last Lys
        ("MVKLS*", "MVKKLS*", range(3, 3), 3, "Lys3dup"),
        ("MVKLS*", "MVKLKLS*", range(4, 4), 6, "Lys3_Leu4dup"),
        ("MVKLS*", "MVKWWLS*", range(3, 3), 6, "Lys3_Leu4insTrpTrp"),
        ("MVKLS*", "MVWWLS*", range(2, 3), 3, "Lys3delinsTrpTrp"),
        ("MVKLGS*", "MVWS*", range(2, 5), -6, "Lys3_Gly5delinsTrp"),
        ("MVKLGS*", "MVKW*", range(3, 3), 6, "Lys3_Leu4insTrpTer"),  # an inserted stop
    ],
)
def test_describe(reference: str, variant: str, codons: range, shift: int, expected: str) -> None:
    assert describe(reference, variant, codons, shift) == expected


# (case folder, file stem, chrom, pos, ref, alt, transcript): each case's EXP names the same
# residues in bcftools' notation, given here after the p. notation.
REAL = [
    (
        "ENST00000423372",
        "ENST00000423372",
        "1",
        3638,
        "T",
        "A",
        "ENST00000423372",
        "p.Asn258Tyr",
    ),  # 258N>258Y
    (
        "ENST00000420670",
        "ENST00000420670",
        "9",
        44688,
        "C",
        "T",
        "ENST00000420670",
        "p.Met1?",
    ),  # 1M>1I
    (
        "ENST00000285021",
        "ENST00000285021",
        "3",
        13461,
        "CTCTTTA",
        "C",
        "ENST00000285021",
        "p.Tyr430Ter",
    ),  # 430YKE>430*
    (
        "ENST00000423372",
        "ENST00000423372",
        "1",
        3630,
        "T",
        "A",
        "ENST00000423372",
        "p.Ter260CysextTer2",
    ),  # 260*>260C
    (
        "ENST00000423372",
        "ENST00000423372",
        "1",
        3630,
        "T",
        "TAAA",
        "ENST00000423372",
        "p.Ter260CysextTer3",
    ),  # 260*>260CL
    (
        "ENST00000593942",
        "ENST00000593942",
        "19",
        349,
        "CA",
        "C",
        "ENST00000593942",
        "p.Ter172AspextTer36",
    ),  # 172*>172D
    (
        "ENST00000357367",
        "ENST00000357367",
        "1",
        358,
        "C",
        "T",
        "ENST00000357367",
        "p.Ter475=",
    ),  # 475*
    (
        "ENSG00000173376",
        "ENSG00000173376",
        "4",
        1944,
        "T",
        "C",
        "ENST00000379692",
        "p.Leu145=",
    ),  # 145L
    (
        "ENST00000400151",
        "ENST00000400151",
        "4",
        28388,
        "TTCACACCTGATGTGCGTCC",
        "T",
        "ENST00000400151",
        "p.Cys162SerfsTer25",
    ),  # 157SSHLMCV...>157SSHLMSL...
]


@pytest.mark.parametrize(
    ("folder", "stem", "chrom", "pos", "ref", "alt", "transcript", "expected"), REAL
)
def test_protein_hgvs_on_real_sequence(
    folder: str, stem: str, chrom: str, pos: int, ref: str, alt: str, transcript: str, expected: str
) -> None:
    annotator = TranscriptAnnotator.from_files(
        CASES / folder / f"{stem}.gff", CASES / folder / f"{stem}.fa"
    )
    contig = annotator.contig(chrom)
    assert contig is not None
    tr = next(t for t in contig.transcripts if t.id == transcript)
    assert protein_hgvs(tr, pos, ref, alt, contig.fetch, contig.code) == expected


def test_alleles_outside_the_coding_exons_get_no_protein_change() -> None:
    folder = CASES / "ENST00000256452"
    annotator = TranscriptAnnotator.from_files(
        folder / "ENST00000256452.gff", folder / "ENST00000256452.fa"
    )
    contig = annotator.contig("3")
    assert contig is not None
    (tr,) = contig.transcripts
    # an intronic insertion (the case's own record) and a 3' UTR base
    assert protein_hgvs(tr, 35931, "A", "AAAC", contig.fetch, contig.code) is None
    assert protein_hgvs(tr, 300, contig.fetch(299, 300), "N", contig.fetch, contig.code) is None
