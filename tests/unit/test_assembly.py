"""Assembly detection from VCF headers and record chromosomes."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from anntools.assembly import (
    GRCH37,
    GRCH38,
    NCBI36,
    RCRS,
    AssemblyError,
    detect_assembly,
    normalise_assembly,
)
from tests.conftest import SAMPLES


def read_header_and_chroms(path: Path) -> tuple[list[str], set[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    header: list[str] = []
    chroms: set[str] = set()
    with opener(path, "rt") as handle:
        for line in handle:
            if line.startswith("##"):
                header.append(line.rstrip("\n"))
            elif not line.startswith("#"):
                chroms.add(line.split("\t", 1)[0])
    return header, chroms


@pytest.mark.parametrize(
    ("sample", "expected", "evidence"),
    [
        ("free_1.vcf", RCRS, "only mitochondrial"),
        ("test.vcf", RCRS, "only mitochondrial"),
        ("free_2.vcf", NCBI36, "1000GenomesPilot-NCBI36"),
        ("premium_1.vcf", NCBI36, "human_b36_both"),
        ("premium_2.vcf", GRCH37, "human_g1k_v37"),
        ("premium_3.vcf.gz", NCBI36, "human_b36_both"),
    ],
)
def test_samples(sample: str, expected: str, evidence: str) -> None:
    # GIVEN a shipped sample
    header, chroms = read_header_and_chroms(SAMPLES / sample)
    # WHEN its assembly is detected
    guess = detect_assembly(header, {}, chroms)
    # THEN it is the known one, for the known reason
    assert guess.assembly == expected
    assert evidence in guess.reason


def contig(name: str, length: int) -> str:
    return f"##contig=<ID={name},length={length}>"


@pytest.mark.parametrize(
    ("chr1_length", "expected"),
    [(248956422, GRCH38), (249250621, GRCH37), (247249719, NCBI36)],
)
def test_contig_lengths_decide(chr1_length: int, expected: str) -> None:
    header = ["##fileformat=VCFv4.2", contig("chr1", chr1_length)]
    assert detect_assembly(header, {}, ["chr1"]).assembly == expected


def test_contig_lengths_passed_by_caller() -> None:
    guess = detect_assembly([], {"1": 249250621, "2": 243199373}, ["1", "2"])
    assert guess.assembly == GRCH37
    assert "##contig lengths" in guess.reason


def test_contig_lengths_beat_a_contradicting_reference_line() -> None:
    header = ["##reference=hg19.fa", contig("chr1", 248956422)]
    assert detect_assembly(header, {}, ["chr1"]).assembly == GRCH38


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("file:///ref/Homo_sapiens_assembly38.fasta", GRCH38),
        ("GRCh38", GRCH38),
        ("hg38.fa", GRCH38),
        ("hg19", GRCH37),
        ("hs37d5.fa.gz", GRCH37),
        ("human_g1k_v37.fasta", GRCH37),
        ("NCBI36", NCBI36),
        ("hg18", NCBI36),
    ],
)
def test_reference_line(reference: str, expected: str) -> None:
    assert detect_assembly([f"##reference={reference}"], {}, ["1"]).assembly == expected


def test_gatk_command_line_reference() -> None:
    header = ['##GATKCommandLine=<ID=HaplotypeCaller,CommandLine="--reference /r/hg38.fa">']
    assert detect_assembly(header, {}, ["chr1"]).assembly == GRCH38


def test_only_mitochondrial_records_are_rcrs_even_in_a_grch37_file() -> None:
    header = ["##reference=human_g1k_v37.fasta"]
    assert detect_assembly(header, {}, ["MT"]).assembly == RCRS
    assert detect_assembly([], {}, ["chrM"]).assembly == RCRS


def test_ucsc_hg19_chrm_is_not_rcrs() -> None:
    with pytest.raises(AssemblyError, match="NC_001807"):
        detect_assembly([contig("chrM", 16571)], {}, ["chrM"])


def test_rcrs_reference_with_nuclear_records_is_not_guessed() -> None:
    with pytest.raises(AssemblyError, match="--assembly"):
        detect_assembly(["##reference=rCRS"], {}, ["1", "MT"])


def test_unknown_asks_for_assembly() -> None:
    # GIVEN a header naming no reference, with chr-style names only
    # WHEN detecting THEN the error tells the user what to pass
    with pytest.raises(AssemblyError, match="--assembly"):
        detect_assembly(["##fileformat=VCFv4.2"], {}, ["chr1"])


def test_ambiguous_hints_are_not_guessed() -> None:
    with pytest.raises(AssemblyError):
        detect_assembly(["##source=lifted hg19 to hg38"], {}, ["chr1"])


def test_override_wins() -> None:
    guess = detect_assembly(["##reference=hg19"], {}, ["1"], override="b36")
    assert guess.assembly == NCBI36
    assert "explicitly" in guess.reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hg19", GRCH37),
        ("GRCh37", GRCH37),
        ("b37", GRCH37),
        ("b36", NCBI36),
        ("hg18", NCBI36),
        ("NCBI36", NCBI36),
        ("hg38", GRCH38),
        (" grch38 ", GRCH38),
        ("rCRS", RCRS),
    ],
)
def test_normalise_assembly(name: str, expected: str) -> None:
    assert normalise_assembly(name) == expected


def test_normalise_unknown_lists_choices() -> None:
    with pytest.raises(AssemblyError, match="hg19"):
        normalise_assembly("mm10")
