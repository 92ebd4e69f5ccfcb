"""Conformance of the plain CLI with bcftools csq's default (haplotype-aware) mode.

Every case of tests/data/csq is annotated as a user would, with
``anntools annotate x.vcf -o out --gff g.gff --fasta g.fa`` and nothing else,
and every record with an INFO/EXP (bcftools' default-mode expectation) is
scored on its ANNTOOLS items: the set of (terms, gene, transcript) items, with
the compound DNA change of a haplotype item (``107G>A+108T>A``) and the
``@POS`` references to a record carrying one. The test fails when agreement
drops below 95%.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from anntools.cli import main
from anntools.output import INFO_KEY
from tests.unit.test_csq_conformance import CASES, _info, discover_cases

MIN_AGREEMENT = 0.95

Item = tuple[str, ...]


def expected_items(value: str) -> frozenset[Item]:
    """The items of a BCSQ-style EXP value: ("@POS",) or (terms, gene, transcript[, compound])."""
    items: set[Item] = set()
    for item in value.split(","):
        if item in (".", ""):
            continue
        if item.startswith("@"):
            items.add((item,))
            continue
        fields = item.split("|") + [""] * 7
        items.add(_item(fields[0].lstrip("*"), fields[1], fields[2], fields[6]))
    return frozenset(items)


def observed_items(value: str) -> frozenset[Item]:
    """The items of an ANNTOOLS value (Allele|Consequence|Gene|Transcript|...|DNA_change|...)."""
    items: set[Item] = set()
    for entry in value.split(","):
        fields = entry.split("|") + [""] * 10
        if fields[1].startswith("@"):
            items.add((fields[1],))
        elif fields[1]:
            items.add(_item(fields[1], fields[2], fields[3], fields[8]))
    return frozenset(items)


def _item(terms: str, gene: str, transcript: str, dna_change: str) -> Item:
    key = ("&".join(sorted(terms.split("&"))), gene, transcript)
    return (*key, dna_change) if "+" in dna_change else key


@dataclass(frozen=True)
class Outcome:
    scored: int
    agreeing: int
    disagreements: dict[str, tuple[str, str]]


def _render(items: frozenset[Item]) -> str:
    return ",".join("|".join(item) for item in sorted(items)) or "."


def score_case(vcf: Path, gff: Path, fasta: Path, out_dir: Path) -> Outcome:
    args = ["annotate", str(vcf), "-o", str(out_dir), "--gff", str(gff), "--fasta", str(fasta)]
    assert main(args) == 0, f"{vcf} failed"
    out_vcf = next(out_dir.glob("*.annot.vcf"))
    scored = agreeing = 0
    disagreements = {}
    for line in out_vcf.read_text().splitlines():
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        info = _info(cols[7])
        if "EXP" not in info:
            continue
        scored += 1
        want, have = expected_items(info["EXP"]), observed_items(info.get(INFO_KEY, ""))
        if want == have:
            agreeing += 1
        else:
            key = f"{vcf.relative_to(CASES)}:{cols[1]}:{cols[3]}>{cols[4]}"
            disagreements[key] = (_render(want), _render(have))
    return Outcome(scored, agreeing, disagreements)


@cache
def evaluate(tmp_root: Path) -> Outcome:
    scored = agreeing = 0
    disagreements: dict[str, tuple[str, str]] = {}
    for n, (vcf, gff, fasta) in enumerate(discover_cases()):
        outcome = score_case(vcf, gff, fasta, tmp_root / str(n))
        scored += outcome.scored
        agreeing += outcome.agreeing
        disagreements.update(outcome.disagreements)
    return Outcome(scored, agreeing, disagreements)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    return evaluate(tmp_path_factory.mktemp("default-mode"))


def test_default_mode_agrees_with_bcftools_on_at_least_95_percent(outcome: Outcome) -> None:
    # GIVEN bcftools' own cases WHEN annotated with only --gff and --fasta
    # THEN at least 95% of the default-mode expectations are met
    print(f"default mode: {outcome.agreeing}/{outcome.scored} agree")
    for key, (want, have) in sorted(outcome.disagreements.items()):
        print(f"  {key}\n    expected {want}\n    got      {have}")
    assert outcome.scored >= 150
    assert outcome.agreeing / outcome.scored >= MIN_AGREEMENT


def test_expected_items_read_references_and_compounds() -> None:
    value = "missense|XYZ|ENST1|protein_coding|+|3R>3K|107G>A+108T>A,@120,*intron|XYZ|ENST1"
    assert expected_items(value) == {
        ("missense", "XYZ", "ENST1", "107G>A+108T>A"),
        ("@120",),
        ("intron", "XYZ", "ENST1"),
    }
