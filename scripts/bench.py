"""Benchmarks: anntools against bcftools csq on the same input, and anntools' default mode.

1. A sorted, bgzipped VCF of N records (default 1,000,000) over one of
   bcftools' own consequence test cases (a GFF3 + FASTA pair): SNVs,
   insertions and deletions whose REF matches the reference, one sample.
   ``bcftools csq -l`` (plain VCF out, as anntools writes) and ``anntools
   annotate --bundle none`` (transcript consequences only, like bcftools) run
   on it, anntools in one process and in one per core.
2. N GRCh38 chr1 records through anntools with the default bundle (genes,
   regions, rsIDs; no reference tool computes the same).

It prints seconds, records/s, peak RSS and the throughput ratios. Nothing is
asserted: the figures are for docs/anntools.md.

    python scripts/bench.py --records 1000000 --workdir bench-out
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CASES = PROJECT_ROOT / "tests" / "data" / "csq"
DEFAULT_CASE = "ENST00000542803"  # the largest case: 343 kb of chr1
BASES = "ACGT"
GRCH38_CHR1_BP = 248_956_422


@dataclass(frozen=True)
class Measurement:
    tool: str
    seconds: float
    peak_rss_mib: float


def read_fasta(path: Path) -> tuple[str, str]:
    """The first sequence of a FASTA file as (name, bases)."""
    name, chunks = "", []
    with path.open() as handle:
        for line in handle:
            if line.startswith(">"):
                if name:
                    break
                name = line[1:].split()[0]
            else:
                chunks.append(line.strip())
    return name, "".join(chunks).upper()


def synthetic_records(
    chrom: str, sequence: str | None, length: int, count: int, seed: int
) -> Iterator[str]:
    """Sorted VCF lines: 85% SNVs, 8% deletions, 7% insertions (1-based POS).

    REF comes from ``sequence`` when given, else is drawn at random (the
    bundle, unlike a consequence caller, does not read the reference).
    """
    rng = random.Random(seed)
    for pos in sorted(rng.randrange(2, length - 20) for _ in range(count)):
        bases = sequence[pos - 1 : pos + 6] if sequence else "".join(rng.choices(BASES, k=7))
        first, roll = bases[0], rng.random()
        if roll < 0.85 or first not in BASES:
            ref, alt = first, rng.choice([b for b in BASES if b != first])
        elif roll < 0.93:
            ref, alt = bases[: 1 + rng.randint(1, 6)], first
        else:
            ref, alt = first, first + "".join(rng.choices(BASES, k=rng.randint(1, 6)))
        gt = rng.choice(("0/1", "1/1", "0/1"))
        yield f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT\t{gt}"


def generate(kind: str, out: Path, records: int, seed: int, fasta: Path | None) -> None:
    """Write a bgzipped synthetic VCF (run in a child process; see build_input)."""
    if kind == "csq":
        assert fasta is not None
        chrom, sequence = read_fasta(fasta)
        length, meta = len(sequence), []
    else:
        chrom, sequence, length = "chr1", None, GRCH38_CHR1_BP
        meta = ["##reference=GRCh38"]
    header = [
        "##fileformat=VCFv4.2",
        *meta,
        f"##contig=<ID={chrom},length={length}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1",
    ]
    with out.open("w") as handle:
        handle.write("\n".join(header) + "\n")
        for line in synthetic_records(chrom, sequence, length, records, seed):
            handle.write(line + "\n")
    subprocess.run(["bgzip", "-f", str(out)], check=True)


def build_input(kind: str, args: argparse.Namespace, fasta: Path | None = None) -> Path:
    """Build an input in a child process.

    A child's peak RSS starts from its parent's size at fork and survives exec,
    so this process must never hold the million records itself.
    """
    out = args.workdir / f"{kind}.vcf"
    command = [
        sys.executable,
        __file__,
        "--generate",
        kind,
        "--out",
        str(out),
        "--records",
        str(args.records),
        "--seed",
        str(args.seed),
    ]
    subprocess.run([*command, *(["--fasta", str(fasta)] if fasta else [])], check=True)
    return out.with_suffix(".vcf.gz")


def measure(tool: str, command: list[str]) -> Measurement:
    """Wall time and peak RSS of one child (wait4: the largest process among it and its
    waited-for children, e.g. anntools' workers)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        sys.exit(f"{tool} failed:\n{process.stderr.read().decode()}")
    return Measurement(tool, seconds, usage.ru_maxrss / 1024)


def anntools(vcf: Path, out: Path, workers: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "anntools",
        "annotate",
        str(vcf),
        "-o",
        str(out),
        "--progress",
        "none",
        "--workers",
        str(workers),
        *extra,
    ]


def print_table(records: int, rows: list[Measurement]) -> None:
    print(f"{'tool':<24}{'seconds':>10}{'records/s':>14}{'peak RSS MiB':>15}")
    for m in rows:
        print(f"{m.tool:<24}{m.seconds:>10.2f}{records / m.seconds:>14,.0f}{m.peak_rss_mib:>15.1f}")


def bench_csq(args: argparse.Namespace, cores: int) -> None:
    case = CASES / args.case
    gff = next(p for p in case.iterdir() if p.suffix in (".gff", ".gff3"))
    fasta = args.workdir / "reference.fa"
    shutil.copyfile(next(case.glob("*.fa")), fasta)  # bcftools writes its .fai beside it
    print(f"\n1. transcript consequences: {args.records:,} records over {args.case}", flush=True)
    vcf = build_input("csq", args, fasta)
    bcftools = measure(
        "bcftools csq -l",
        [
            "bcftools",
            "csq",
            "-l",
            "-f",
            str(fasta),
            "-g",
            str(gff),
            "-Ov",
            "-o",
            str(args.workdir / "bcftools.vcf"),
            str(vcf),
        ],
    )
    sources = ("--bundle", "none", "--gff", str(gff), "--fasta", str(fasta))
    ours = [
        measure(
            f"anntools, {n} process{'es' if n > 1 else ''}",
            anntools(vcf, args.workdir / "csq", n, *sources),
        )
        for n in sorted({1, cores})
    ]
    print_table(args.records, [bcftools, *ours])
    for m in ours:
        print(f"{m.tool}: {bcftools.seconds / m.seconds:.2f} x bcftools csq's throughput")


def bench_bundle(args: argparse.Namespace, cores: int) -> None:
    print(
        f"\n2. default bundle (GRCh38 genes, regions, rsIDs): {args.records:,} chr1 records",
        flush=True,
    )
    vcf = build_input("bundle", args)
    rows = [
        measure(
            f"anntools, {n} process{'es' if n > 1 else ''}",
            anntools(vcf, args.workdir / "bundle", n),
        )
        for n in sorted({1, cores})
    ]
    print_table(args.records, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--case", default=DEFAULT_CASE, help="folder under tests/data/csq")
    parser.add_argument("--workdir", type=Path, default=Path("bench-out"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--generate", choices=("csq", "bundle"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fasta", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.out, args.records, args.seed, args.fasta)
        return
    for tool in ("bcftools", "bgzip"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install bcftools tabix")
    args.workdir.mkdir(parents=True, exist_ok=True)
    cores = min(4, os.cpu_count() or 1)
    version = subprocess.check_output(["bcftools", "--version"], text=True).splitlines()[0]
    print(f"{cores} cores; {version}")
    bench_csq(args, cores)
    bench_bundle(args, cores)


if __name__ == "__main__":
    main()
