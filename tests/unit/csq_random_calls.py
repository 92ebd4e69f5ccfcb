"""Prints the engine's calls on random variants over every case gene model, one line each.

    python -m tests.unit.csq_random_calls              # the compiled engine modules
    python -m tests.unit.csq_random_calls --source     # the same modules run from their .py

setup.py compiles the engine's .py modules as they are; ``--source`` makes the import
read the .py files instead, so that the two runs' outputs can be compared byte for byte
(tests/unit/test_csq_compiled.py). Variants are drawn over each case's whole sequence,
so that many fall at feature edges: SNVs, MNVs, insertions and deletions, local calls
(``annotate``) and haplotype-aware ones (``annotate_haplotypes``) on random phased
genotypes.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType

CASES = Path(__file__).resolve().parents[1] / "data" / "csq"
PACKAGE = "anntools.csq."


class SourceFinder:
    """Finds ``anntools.csq.*`` modules as their .py files, never as extension modules."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not name.startswith(PACKAGE) or not path:
            return None
        source = Path(path[0]) / (name[len(PACKAGE) :] + ".py")
        if not source.exists():
            return None
        return importlib.util.spec_from_file_location(name, source)


def case_models() -> Iterator[tuple[str, Path, Path]]:
    """(name, GFF3, FASTA) of every case with one of each."""
    for case in sorted(p for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("_")):
        gffs = sorted(p for p in case.iterdir() if p.suffix in (".gff", ".gff3"))
        fastas = sorted(case.glob("*.fa"))
        if gffs and fastas:
            yield case.name, gffs[0], fastas[0]


def random_alleles(rng: random.Random, sequence: str, pos: int) -> tuple[str, str]:
    """REF (from the sequence at 1-based ``pos``) and a random ALT: SNV, MNV, indel."""
    ref = sequence[pos - 1 : pos + rng.choice((0, 0, 0, 1, 2, 5))]
    kind = rng.randrange(4)
    if kind == 0:
        alt = rng.choice([b for b in "ACGT" if b != ref[0]]) + ref[1:]
    elif kind == 1:
        alt = ref[0]
    elif kind == 2:
        alt = ref + "".join(rng.choices("ACGT", k=rng.randint(1, 7)))
    else:
        alt = "".join(rng.choices("ACGT", k=len(ref)))
    return ref, alt


def print_calls(local_per_case: int, records_per_case: int, seed: int) -> None:
    from anntools.csq import TranscriptAnnotator
    from anntools.csq.engine import RefMismatch
    from anntools.csq.fasta import FastaReader
    from anntools.csq.haplotype import PhasedRecord, annotate_haplotypes, render_bcsq

    rng = random.Random(seed)
    for name, gff, fasta in case_models():
        annotator = TranscriptAnnotator.from_files(gff, fasta)
        reader = FastaReader(fasta)
        for chrom in reader.names:
            if not annotator.has_chromosome(chrom):
                continue
            sequence = reader.fetch(chrom, 0, reader.length(chrom))
            if len(sequence) < 30:
                continue
            for _ in range(local_per_case):
                pos = rng.randrange(2, len(sequence) - 10)
                ref, alt = random_alleles(rng, sequence, pos)
                try:
                    found = render_bcsq(annotator.annotate(chrom, pos, ref, alt))
                except RefMismatch as exc:
                    found = exc.reason
                print(name, chrom, pos, ref, alt, found, sep="\t")
            records = []
            for pos in sorted(
                rng.randrange(2, len(sequence) - 10) for _ in range(records_per_case)
            ):
                ref, alt = random_alleles(rng, sequence, pos)
                genotype = rng.choice(((0, 1), (1, 0), (1, 1)))
                records.append(PhasedRecord(chrom, pos, ref, (alt,), (genotype,)))
            for record, calls in zip(records, annotate_haplotypes(annotator, records), strict=True):
                print(
                    name,
                    chrom,
                    record.pos,
                    record.ref,
                    record.alts[0],
                    render_bcsq(calls),
                    sep="\t",
                )


def main(argv: list[str]) -> None:
    if "--source" in argv:
        sys.meta_path.insert(0, SourceFinder())
    print_calls(
        local_per_case=400,
        records_per_case=300,
        seed=int(argv[-1]) if argv[-1:] and argv[-1].isdigit() else 3,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
