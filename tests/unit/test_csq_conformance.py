"""Conformance with bcftools csq's own test cases (copied into tests/data/csq).

Every VCF record with an INFO/EXP (or EXPL, the expectation for local ``-l``
calling, preferred when present) is annotated and compared on the set of
(consequence terms, gene, transcript). Records whose only expectation is
haplotype-aware (EXP holds ``@N`` references or ``+``-joined compound DNA
changes, and no EXPL) have no local expectation: they are annotated (must not
fail) but not scored.

The test fails when agreement drops below 95%, when a disagreeing record is
missing from tests/data/csq_known_differences.tsv, or when a listed record
agrees again (so the file stays true).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from anntools.csq import TranscriptAnnotator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CASES = PROJECT_ROOT / "tests" / "data" / "csq"
KNOWN_DIFFERENCES = PROJECT_ROOT / "tests" / "data" / "csq_known_differences.tsv"
MIN_AGREEMENT = 0.95

Key = tuple[str, str, str]  # (terms joined with &, gene, transcript)


@dataclass(frozen=True)
class Record:
    """One scored or unscored VCF record of a case."""

    file: str
    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    expected: frozenset[Key] | None  # None: haplotype-only expectation


def _parse_expectation(value: str) -> frozenset[Key] | None:
    """Keys of an EXP/EXPL value; None when it only refers to haplotype-aware calls."""
    keys: set[Key] = set()
    for item in value.split(","):
        if item == "." or not item:
            continue
        if item.startswith("@"):
            return None
        fields = item.split("|")
        if len(fields) > 6 and "+" in fields[6]:
            return None  # a compound change spanning several records
        terms = "&".join(sorted(fields[0].lstrip("*").split("&")))
        keys.add((terms, fields[1], fields[2] if len(fields) > 2 else ""))
    return frozenset(keys)


def _info(column: str) -> dict[str, str]:
    fields = (item.partition("=") for item in column.split(";"))
    return {key: value for key, _, value in fields}


def _pick(directory: Path, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    """The file named like the VCF, else like the folder (or ``csq``), else the only one."""
    found = sorted(p for p in directory.iterdir() if p.suffix in suffixes)
    for name in (stem, directory.name, "csq"):
        for path in found:
            if path.stem == name:
                return path
    return found[0] if len(found) == 1 else None


def discover_cases() -> list[tuple[Path, Path, Path]]:
    """(vcf, gff3, fasta) for every case VCF that carries expectations."""
    cases = []
    for vcf in sorted(CASES.glob("*/*.vcf")):
        if "EXP" not in vcf.read_text():
            continue
        gff = _pick(vcf.parent, vcf.stem, (".gff", ".gff3"))
        fasta = _pick(vcf.parent, vcf.stem, (".fa",))
        if gff is not None and fasta is not None:
            cases.append((vcf, gff, fasta))
    return cases


def read_records(vcf: Path) -> list[Record]:
    records = []
    for line in vcf.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cols = line.split("\t")
        info = _info(cols[7])
        if "EXP" not in info and "EXPL" not in info:
            continue
        expected = _parse_expectation(info["EXPL"] if "EXPL" in info else info["EXP"])
        rel = str(vcf.relative_to(CASES))
        records.append(
            Record(rel, cols[0], int(cols[1]), cols[3], tuple(cols[4].split(",")), expected)
        )
    return records


def observed(annotator: TranscriptAnnotator, record: Record) -> frozenset[Key]:
    keys = set()
    for alt in record.alts:
        for csq in annotator.annotate(record.chrom, record.pos, record.ref, alt):
            keys.add(("&".join(sorted(csq.terms)), csq.gene, csq.transcript))
    return frozenset(keys)


def render(keys: frozenset[Key]) -> str:
    return ",".join("|".join(key) for key in sorted(keys)) or "."


@cache
def evaluate() -> tuple[int, int, int, dict[tuple[str, str, str, str, str], tuple[str, str]]]:
    """(scored, agreeing, unscored, disagreements keyed by file/chrom/pos/ref/alt)."""
    scored = agreeing = unscored = 0
    disagreements: dict[tuple[str, str, str, str, str], tuple[str, str]] = {}
    for vcf, gff, fasta in discover_cases():
        annotator = TranscriptAnnotator.from_files(gff, fasta)
        for record in read_records(vcf):
            got = observed(annotator, record)
            if record.expected is None:
                unscored += 1
                continue
            scored += 1
            if got == record.expected:
                agreeing += 1
            else:
                key = (
                    record.file,
                    record.chrom,
                    str(record.pos),
                    record.ref,
                    ",".join(record.alts),
                )
                disagreements[key] = (render(record.expected), render(got))
    return scored, agreeing, unscored, disagreements


def read_known_differences() -> dict[tuple[str, str, str, str, str], dict[str, str]]:
    with open(KNOWN_DIFFERENCES, newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {(r["file"], r["chrom"], r["pos"], r["ref"], r["alt"]): r for r in rows}


def test_cases_are_found() -> None:
    # GIVEN the shared bcftools test data WHEN discovered THEN there are dozens of cases
    assert len(discover_cases()) >= 50


def test_agreement_with_bcftools_expectations_is_at_least_95_percent() -> None:
    scored, agreeing, unscored, _ = evaluate()
    print(
        f"csq conformance: {agreeing}/{scored} agree, {unscored} haplotype-only records not scored"
    )
    assert scored >= 120
    assert agreeing / scored >= MIN_AGREEMENT


def test_every_disagreement_is_a_listed_known_difference() -> None:
    _, _, _, disagreements = evaluate()
    known = read_known_differences()
    unlisted = {key: value for key, value in disagreements.items() if key not in known}
    assert not unlisted, f"unlisted differences (expected, got): {unlisted}"


def test_every_listed_difference_still_differs_as_described() -> None:
    _, _, _, disagreements = evaluate()
    for key, row in read_known_differences().items():
        assert key in disagreements, f"{key} agrees now: remove it from {KNOWN_DIFFERENCES.name}"
        assert disagreements[key] == (row["expected"], row["got"]), (
            f"{key} changed: {disagreements[key]}"
        )
        assert row["reason"].strip(), f"{key} needs a reason"
