"""Liftover of VCF sites to GRCh38 with the bundled chains (no bundle needed)."""

from __future__ import annotations

import pytest

from anntools.assembly import AssemblyError
from anntools.lift import LiftedSite, Lifter, reverse_complement, ucsc_name


@pytest.fixture(scope="module")
def grch37() -> Lifter:
    return Lifter.for_assembly("GRCh37")


def test_known_grch37_position(grch37: Lifter) -> None:
    # rs8997: GRCh37 1:949654 A>G is chr1:1014274 on GRCh38 (dbSNP)
    assert grch37.lift("1", 949654, "A", "G") == LiftedSite("chr1", 1014274, "A", "G")


def test_known_ncbi36_position() -> None:
    # rs2058276 from free_2.vcf: NCBI36 Y:2728456 T>C is chrY:2800415 on GRCh38
    lifter = Lifter.for_assembly("hg18")
    assert lifter.lift("Y", 2728456, "T", "C") == LiftedSite("chrY", 2800415, "T", "C")


def test_chr_prefixed_input(grch37: Lifter) -> None:
    assert grch37.lift("chr1", 949654, "A", "G") == grch37.lift("1", 949654, "A", "G")


def test_minus_strand_reverse_complements(grch37: Lifter) -> None:
    # GIVEN a GRCh37 region that maps to GRCh38's reverse strand (chr1 ~13.0 Mb)
    # WHEN a SNV there is lifted
    site = grch37.lift("1", 13026611, "A", "G,T")
    # THEN its alleles are complemented and the strand reported
    assert site == LiftedSite("chr1", 13235024, "T", "C,A", "-")


def test_minus_strand_multibase_ref_starts_at_its_last_base(grch37: Lifter) -> None:
    # The source's second base (13026612) lands one before the first (13235023).
    site = grch37.lift("1", 13026611, "AC", "A")
    assert site == LiftedSite("chr1", 13235023, "GT", "T", "-")


def test_symbolic_alleles_are_not_complemented(grch37: Lifter) -> None:
    site = grch37.lift("1", 13026611, "A", "<DEL>,*")
    assert site is not None
    assert site.alt == "<DEL>,*"


def test_unmapped_is_none(grch37: Lifter) -> None:
    assert grch37.lift("1", 1, "N", "A") is None  # before the first chain block
    assert grch37.lift("chrUn_nowhere", 100, "A", "G") is None


def test_mitochondrion_is_never_lifted(grch37: Lifter) -> None:
    assert grch37.lift("MT", 3310, "C", "T") == LiftedSite("chrM", 3310, "C", "T")


@pytest.mark.parametrize("assembly", ["GRCh38", "rCRS", "hg38"])
def test_identity_lifters_only_rename(assembly: str) -> None:
    lifter = Lifter.for_assembly(assembly)
    assert lifter.is_identity
    assert lifter.lift("1", 12345, "AC", "A") == LiftedSite("chr1", 12345, "AC", "A")


def test_unknown_assembly_is_refused() -> None:
    with pytest.raises(AssemblyError, match="mm10"):
        Lifter.for_assembly("mm10")


def test_helpers() -> None:
    assert reverse_complement("AACGTN") == "NACGTT"
    assert ucsc_name("MT") == "chrM"
    assert ucsc_name("X") == "chrX"
    assert ucsc_name("chr2") == "chr2"
