"""Counts over a run, written as the AnnTools-style count log and as summary.json."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from anntools.model import REGIONS
from anntools.vcf import LineProblem

SUMMARY_VERSION = 1
MAX_LISTED_PROBLEMS = 1000  # the log names at most this many lines; the counts stay exact


@dataclass(slots=True)
class RunInfo:
    """Facts about the run that are not counts."""

    input_name: str
    vcf_version: str
    samples: int
    assembly: str
    assembly_reason: str
    sources: list[str]
    engine_version: str


@dataclass(slots=True)
class Counts:
    """Tallies over records: regions, consequences and genes count a record once each."""

    records: int = 0
    alleles: int = 0
    in_dbsnp: int = 0
    rsid_from_input: int = 0
    rsid_from_common: int = 0
    lifted: int = 0
    unmapped: int = 0
    transitions: int = 0
    transversions: int = 0
    regions: Counter[str] = field(default_factory=Counter)
    consequences: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    chromosomes: Counter[str] = field(default_factory=Counter)
    genes: Counter[str] = field(default_factory=Counter)

    @classmethod
    def from_chunk(cls, counts: dict[str, Any]) -> Counts:
        """Counts from the record loop's plain dict (see RecordLoop.annotate)."""
        found = cls()
        for name, value in counts.items():
            setattr(found, name, Counter(value) if isinstance(value, dict) else value)
        return found

    def merge(self, other: Counts) -> None:
        """Add another chunk's counts to these."""
        for item in fields(self):
            mine = getattr(self, item.name)
            if isinstance(mine, Counter):
                mine.update(getattr(other, item.name))
            else:
                setattr(self, item.name, mine + getattr(other, item.name))

    @property
    def ts_tv(self) -> float | None:
        return self.transitions / self.transversions if self.transversions else None


@dataclass(slots=True)
class ProblemLog:
    """Line problems of a run: exact totals, but only the first few kept, so that a file of
    a million bad lines costs no more memory than a good one."""

    limit: int = MAX_LISTED_PROBLEMS
    skipped_total: int = 0
    warnings_total: int = 0
    skipped: list[LineProblem] = field(default_factory=list)
    warnings: list[LineProblem] = field(default_factory=list)

    def add(self, problems: Iterable[LineProblem]) -> None:
        for problem in problems:
            if problem.skipped:
                self.skipped_total += 1
                if len(self.skipped) < self.limit:
                    self.skipped.append(problem)
            else:
                self.warnings_total += 1
                if len(self.warnings) < self.limit:
                    self.warnings.append(problem)

    def sort(self) -> None:
        self.skipped.sort(key=_line_no)
        self.warnings.sort(key=_line_no)


def _line_no(problem: LineProblem) -> int:
    return problem.line_no


def summary(info: RunInfo, counts: Counts, problems: ProblemLog) -> dict[str, Any]:
    """The machine-readable summary the web page draws its charts from."""
    return {
        "version": SUMMARY_VERSION,
        "engine": info.engine_version,
        "input": {
            "name": info.input_name,
            "vcf_version": info.vcf_version,
            "samples": info.samples,
            "assembly": info.assembly,
            "assembly_reason": info.assembly_reason,
        },
        "sources": info.sources,
        "records": counts.records,
        "alleles": counts.alleles,
        "in_dbsnp": {
            "total": counts.in_dbsnp,
            "percent": _percent(counts.in_dbsnp, counts.records),
            "from_input": counts.rsid_from_input,
            "from_common_set": counts.rsid_from_common,
        },
        "ts_tv": {
            "transitions": counts.transitions,
            "transversions": counts.transversions,
            "ratio": None if counts.ts_tv is None else round(counts.ts_tv, 4),
        },
        "regions": _ordered_regions(counts.regions),
        "consequences": dict(counts.consequences.most_common()),
        "classes": dict(counts.classes.most_common()),
        "chromosomes": dict(counts.chromosomes),
        "top_genes": dict(counts.genes.most_common(25)),
        "liftover": {"lifted": counts.lifted, "unmapped": counts.unmapped},
        "skipped_lines": {
            "total": problems.skipped_total,
            "lines": [{"line": p.line_no, "reason": p.reason} for p in problems.skipped],
        },
        "warnings": {
            "total": problems.warnings_total,
            "lines": [{"line": p.line_no, "reason": p.reason} for p in problems.warnings],
        },
    }


def count_log(data: dict[str, Any]) -> str:
    """The human-readable count log, AnnTools' first lines kept in their order."""
    total = data["records"]
    dbsnp = data["in_dbsnp"]
    lines = [
        f"Input: {data['input']['name']} ({data['input']['vcf_version']}, "
        f"{data['input']['samples']} samples)",
        f"Assembly: {data['input']['assembly']} ({data['input']['assembly_reason']})",
        f"Annotation sources: {', '.join(data['sources']) or 'none'}",
        "",
        f"Total number of variants: {total} (VCF records, holding {data['alleles']} ALT alleles)",
        # Only the bundle's common SNPs are looked up: the rest may be in dbSNP all the same.
        f"With a known rsID: {dbsnp['total']} ({dbsnp['percent']:.2f}%)"
        f" [from the input's ID column {dbsnp['from_input']},"
        f" matched to the bundle's common SNPs {dbsnp['from_common_set']}]",
        "  (only common SNPs are looked up: a variant without an rsID here may be in dbSNP)",
        "",
    ]
    lines += _section("By region (per record)", data["regions"], total)
    lines += _section("By consequence (per record)", data["consequences"], total)
    lines += _section("By variant class (per ALT allele)", data["classes"], data["alleles"])
    tstv = data["ts_tv"]
    ratio = "n/a" if tstv["ratio"] is None else f"{tstv['ratio']:.3f}"
    lines += [
        f"Ts/Tv: {ratio} (transitions {tstv['transitions']}, "
        f"transversions {tstv['transversions']})",
        "",
    ]
    lines += _section("By chromosome", data["chromosomes"], total)
    lift = data["liftover"]
    lines += [
        f"Placed on GRCh38 (lifted where needed): {lift['lifted']}, "
        f"unmapped (kept, flagged): {lift['unmapped']}",
        "",
    ]
    lines += _problem_section("Skipped lines", data["skipped_lines"])
    lines += _problem_section("Warnings (records kept)", data["warnings"])
    return "\n".join(lines) + "\n"


def _section(title: str, counts: dict[str, int], total: int) -> list[str]:
    rows = [f"{title}:"]
    rows += [f"  {name}\t{n}\t{_percent(n, total):.2f}%" for name, n in counts.items()]
    return [*rows, ""]


def _problem_section(title: str, problems: dict[str, Any]) -> list[str]:
    rows = [f"{title}: {problems['total']}"]
    rows += [f"  line {p['line']}: {p['reason']}" for p in problems["lines"]]
    if problems["total"] > len(problems["lines"]):
        rows.append(f"  … and {problems['total'] - len(problems['lines'])} more")
    return [*rows, ""]


def _ordered_regions(regions: Counter[str]) -> dict[str, int]:
    order = [*REGIONS, "unannotated"]
    return {r: regions[r] for r in order if regions[r]}


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"
