"""Haplotype-aware calling (anntools.csq.haplotype) against bcftools' haplotype-only expectations.

The records of tests/data/csq whose only expectation is haplotype-aware (EXP
with ``@POS`` references or ``+``-joined compound changes, no EXPL; the local
conformance test leaves them unscored) are scored here on the full BCSQ items:
terms, gene, transcript, amino-acid and DNA change, or the ``@POS`` reference.

The test fails when agreement drops below MIN_AGREEMENT, when a disagreeing
record is missing from tests/data/csq_haplotype_known_differences.tsv, or when
a listed record agrees again.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from anntools.csq import TranscriptAnnotator
from anntools.csq.haplotype import (
    PhasedRecord,
    SeeRecord,
    annotate_haplotypes,
    parse_genotypes,
    render_bcsq,
)
from tests.unit.test_csq_conformance import CASES, _info, _parse_expectation, discover_cases

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KNOWN_DIFFERENCES = PROJECT_ROOT / "tests" / "data" / "csq_haplotype_known_differences.tsv"
MIN_AGREEMENT = 0.9  # 38/38 agree at the time of writing; the margin allows one odd case

Item = tuple[str, ...]
Key = tuple[str, str, str, str, str]


def _items(value: str) -> frozenset[Item]:
    """BCSQ items as (terms sorted, gene, transcript, aa change, dna change) or ("@POS",)."""
    items: set[Item] = set()
    for item in value.split(","):
        if item in (".", ""):
            continue
        if item.startswith("@"):
            items.add((item,))
            continue
        fields = item.split("|") + [""] * 7
        terms = "&".join(sorted(fields[0].lstrip("*").split("&")))
        items.add((terms, fields[1], fields[2], fields[5], fields[6]))
    return frozenset(items)


def _render(items: frozenset[Item]) -> str:
    return ",".join("|".join(item) for item in sorted(items)) or "."


@cache
def evaluate() -> tuple[int, int, dict[Key, tuple[str, str]]]:
    """(scored, agreeing, disagreements keyed by file/chrom/pos/ref/alt)."""
    scored = agreeing = 0
    disagreements: dict[Key, tuple[str, str]] = {}
    for vcf, gff, fasta in discover_cases():
        records, expectations = [], []
        for line in vcf.read_text().splitlines():
            if line.startswith("#") or not line.strip():
                continue
            cols = line.split("\t")
            records.append(
                PhasedRecord(
                    cols[0],
                    int(cols[1]),
                    cols[3],
                    tuple(cols[4].split(",")),
                    parse_genotypes(cols[9:]),
                )
            )
            info = _info(cols[7])
            haplotype_only = "EXPL" not in info and "EXP" in info
            haplotype_only = haplotype_only and _parse_expectation(info["EXP"]) is None
            expectations.append(info["EXP"] if haplotype_only else None)
        if not any(expectations):
            continue
        annotator = TranscriptAnnotator.from_files(gff, fasta)
        calls = annotate_haplotypes(annotator, records)
        for record, expected, got in zip(records, expectations, calls, strict=True):
            if expected is None:
                continue
            scored += 1
            want, have = _items(expected), _items(render_bcsq(got))
            if want == have:
                agreeing += 1
            else:
                key = (
                    str(vcf.relative_to(CASES)),
                    record.chrom,
                    str(record.pos),
                    record.ref,
                    ",".join(record.alts),
                )
                disagreements[key] = (_render(want), _render(have))
    return scored, agreeing, disagreements


def read_known_differences() -> dict[Key, dict[str, str]]:
    with open(KNOWN_DIFFERENCES, newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {(r["file"], r["chrom"], r["pos"], r["ref"], r["alt"]): r for r in rows}


def test_haplotype_agreement_with_bcftools_expectations() -> None:
    scored, agreeing, _ = evaluate()
    print(f"csq haplotype conformance: {agreeing}/{scored} haplotype-only records agree")
    assert scored == 38
    assert agreeing / scored >= MIN_AGREEMENT


def test_every_haplotype_disagreement_is_a_listed_known_difference() -> None:
    _, _, disagreements = evaluate()
    known = read_known_differences()
    unlisted = {key: value for key, value in disagreements.items() if key not in known}
    assert not unlisted, f"unlisted differences (expected, got): {unlisted}"


def test_every_listed_haplotype_difference_still_differs_as_described() -> None:
    _, _, disagreements = evaluate()
    for key, row in read_known_differences().items():
        assert key in disagreements, f"{key} agrees now: remove it from {KNOWN_DIFFERENCES.name}"
        assert disagreements[key] == (row["expected"], row["got"]), f"{key} changed"
        assert row["reason"].strip(), f"{key} needs a reason"


def _toy() -> TranscriptAnnotator:
    return TranscriptAnnotator.from_files(
        CASES / "_toplevel" / "csq.gff3", CASES / "_toplevel" / "csq.fa"
    )


def test_variants_on_different_haplotypes_are_called_locally() -> None:
    # GIVEN two SNVs of one codon of XYZ, on opposite haplotypes
    records = [
        PhasedRecord("1", 107, "G", ("A",), ((1, 0),)),
        PhasedRecord("1", 108, "T", ("A",), ((0, 1),)),
    ]
    # WHEN annotated haplotype-aware THEN each keeps its local call
    calls = annotate_haplotypes(_toy(), records)
    assert render_bcsq(calls[0]) == "missense|XYZ|ENST00000000001|protein_coding|+|3R>3H|107G>A"
    assert not any(isinstance(call, SeeRecord) for call in calls[1])


def test_variants_on_one_haplotype_share_a_codon() -> None:
    # GIVEN the same two SNVs on one haplotype WHEN annotated THEN one compound call and @107
    records = [
        PhasedRecord("1", 107, "G", ("A",), ((0, 1),)),
        PhasedRecord("1", 108, "T", ("A",), ((0, 1),)),
    ]
    calls = annotate_haplotypes(_toy(), records)
    assert render_bcsq(calls[0]) == (
        "missense|XYZ|ENST00000000001|protein_coding|+|3R>3Q|107G>A+108T>A"
    )
    assert SeeRecord(107) in calls[1]
    assert str(SeeRecord(107)) == "@107"


def test_parse_genotypes_reads_phased_unphased_and_missing() -> None:
    assert parse_genotypes(["1|0:5", "0/1", ".|1"]) == ((1, 0), (0, 1), (None, 1))
