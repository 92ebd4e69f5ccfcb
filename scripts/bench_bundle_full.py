"""Benchmark of full bundles against --gff/--fasta: build and annotate, time and peak memory.

1. ``anntools bundle build --gff3 --fasta -o`` on every bcftools case
   (tests/data/csq: real GFF3s and real human sequence around one gene each);
2. the same on a larger synthetic gene model: bcftools' largest case
   (ENST00000542803, 343 kb of chr1) tiled ``--tiles`` times along one contig,
   its transcript copied ``--copies`` times per tile under new IDs (15 x 14:
   210 transcripts over 5.1 Mb), the FASTA bgzipped;
3. on ``--records`` records over that model (scripts/bench.py's mix, one
   phased sample), in one process: ``annotate --bundle`` beside
   ``annotate --gff --fasta``, both haplotype-aware and both ``--local``; and
   ``--bundle`` once more with the genome uncompressed (a format-1 bundle), to
   see what reading the bgzipped genome costs; and ``bcftools csq`` on the same
   input, when bcftools is installed, as the reference.

Each measurement runs ``--repeat`` times; it prints CPU seconds (user + sys,
workers included), wall seconds and peak RSS, as the median and the worst of
the runs (for the cases: of the cases' medians). The machine may be shared:
CPU time is the figure to compare. Nothing is asserted.

    python scripts/bench_bundle_full.py --records 200000 --workdir bench-out/bundle-full
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

import pysam

from scripts.bench import anntools
from scripts.bench_full_bundle import (
    Run,
    describe,
    measure,
    read_case,
    write_gff3,
    write_records,
)
from tests.unit.test_csq_conformance import discover_cases


def write_genome(path: Path, bases: str) -> int:
    """One contig of ``bases``, 60 a line, with its .fai."""
    with path.open("w") as out:
        out.write(">1\n")
        out.writelines(bases[start : start + 60] + "\n" for start in range(0, len(bases), 60))
    pysam.faidx(str(path))
    return len(bases)


def build_command(gff3: Path, fasta: Path, out: Path) -> list[str]:
    command = [sys.executable, "-m", "anntools", "bundle", "build"]
    return [*command, "--gff3", str(gff3), "--fasta", str(fasta), "-o", str(out)]


def median_run(runs: list[Run]) -> Run:
    return Run(
        statistics.median(run.seconds for run in runs),
        statistics.median(run.cpu_seconds for run in runs),
        statistics.median(run.peak_rss_mib for run in runs),
    )


def bench_cases(workdir: Path, repeat: int) -> None:
    """Build time and peak memory of every case's bundle (a line each), then the median and
    the worst over the cases of each case's median."""
    per_case = []
    models = dict.fromkeys((gff3, fasta) for _vcf, gff3, fasta in discover_cases())
    for index, (gff3, fasta) in enumerate(models):
        out = workdir / f"case{index}"
        runs = [measure(build_command(gff3, fasta, out)) for _ in range(repeat)]
        per_case.append((gff3.parent.name, median_run(runs)))
        print(describe(f"  {gff3.parent.name}/{gff3.name}", runs), flush=True)
    worst = max(per_case, key=lambda item: item[1].cpu_seconds)
    print(describe(f"bundle build, {len(per_case)} bcftools gene models", [r for _, r in per_case]))
    print(f"  (slowest case: {worst[0]}, {worst[1].cpu_seconds:.2f} CPU s)", flush=True)


def as_format_1(bundle: Path, target: Path) -> Path:
    """A copy of ``bundle`` as format version 1 wrote it: the genome uncompressed, with .fai."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(bundle, target, ignore=shutil.ignore_patterns("genome.fa.gz*"))
    with (
        gzip.open(bundle / "genome.fa.gz", "rb") as packed,
        open(target / "genome.fa", "wb") as out,
    ):
        shutil.copyfileobj(packed, out)
    pysam.faidx(str(target / "genome.fa"))
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["format_version"] = 1
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, default=15, help="copies of the 343 kb case")
    parser.add_argument("--copies", type=int, default=14, help="transcripts per tile")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench-out/bundle-full"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-cases", action="store_true", help="only the synthetic model")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, possibly shared: compare CPU seconds", flush=True)
    if not args.skip_cases:
        bench_cases(args.workdir / "cases", args.repeat)

    bases, rows = read_case()
    plain = args.workdir / "genome.fa"  # for --fasta: plain and indexed, memory-mapped
    length = write_genome(plain, bases * args.tiles)
    fasta = args.workdir / "genome.fa.gz"  # for the build
    pysam.tabix_compress(str(plain), str(fasta), force=True)
    gff3 = args.workdir / "genes.gff3.gz"
    lines = write_gff3(gff3, rows, len(bases), args.tiles, args.copies)
    vcf = args.workdir / "input.vcf"
    write_records(vcf, bases, args.tiles, args.records, args.seed)
    vcf = vcf.with_name("input.vcf.gz")
    transcripts = args.tiles * args.copies
    print(
        f"synthetic model: {length / 1e6:.1f} Mb, {transcripts} transcripts ({lines:,} GFF3 "
        f"lines); {args.records:,} records",
        flush=True,
    )
    bundle = args.workdir / "bundle"
    runs = [measure(build_command(gff3, fasta, bundle)) for _ in range(args.repeat)]
    print(describe("bundle build, synthetic model", runs), flush=True)
    plain_bundle = as_format_1(bundle, args.workdir / "bundle-format1")
    sources = {
        "--bundle": ["--bundle", str(bundle)],
        "--bundle (format 1: plain genome)": ["--bundle", str(plain_bundle)],
        "--gff --fasta": ["--gff", str(gff3), "--fasta", str(plain)],
    }
    for mode in ([], ["--local"]):
        for label, extra in sources.items():
            out = args.workdir / "out"
            command = anntools(vcf, out, "--workers", "1", *extra, *mode)
            runs = [measure(command) for _ in range(args.repeat)]
            name = f"annotate {label}{' --local' if mode else ''}"
            print(describe(name, runs, args.records), flush=True)
        if shutil.which("bcftools"):  # the reference: bcftools csq on the same input
            local = ["-l"] if mode else []
            command = ["bcftools", "csq", "-f", str(plain), "-g", str(gff3), *local, str(vcf)]
            runs = [measure([*command, "-Ov", "-o", os.devnull]) for _ in range(args.repeat)]
            print(describe(f"bcftools csq{' -l' if mode else ''}", runs, args.records), flush=True)


if __name__ == "__main__":
    main()
