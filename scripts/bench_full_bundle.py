"""Benchmark of full bundles: build and annotate time and peak memory, in two parts.

There is no whole genome here, so the inputs are made from real data by
tiling: bcftools' largest consequence case (ENST00000542803, 343 kb of chr1
with NTNG1) is repeated ``--tiles`` times along one contig, and its
transcript ``--copies`` times per tile under new IDs.

``beside``: a full bundle beside ``--gff --fasta`` and bcftools csq.

1. ``anntools bundle build --gff3 --fasta -o`` on every bcftools case
   (tests/data/csq: real GFF3s and real human sequence around one gene each;
   ``--skip-cases`` leaves this out);
2. the same on the tiled model (15 x 14 by default: 210 transcripts over 5.2 Mb),
   the FASTA bgzipped;
3. on ``--records`` records over that model (scripts/bench.py's mix, one
   phased sample), in one process: ``annotate --bundle`` beside
   ``annotate --gff --fasta``, both haplotype-aware and both ``--local``;
   ``--bundle`` once more with the genome uncompressed (a format-1 bundle), to
   see what reading the bgzipped genome costs; and ``bcftools csq`` (and
   ``csq -l``) on the same input, when bcftools is installed, as the reference.

``scale``: a genome-sized bundle with known variants (900 x 19 by default: a
309 Mb genome at Ensembl's density of GFF3 lines per base, 1M known SNVs in
ClinVar's VCF format whose REF is the genome's):

1. ``anntools bundle build --gff3 --fasta --known-variants -o`` (FASTA bgzipped),
   and the bundle's size;
2. ``anntools annotate --bundle`` on ``--records`` records, in one process and
   in one per core.

Each measurement runs ``--repeat`` times; it prints CPU seconds (user + sys,
workers included), wall seconds and peak RSS, as the median and the worst of
the runs (for the cases: of the cases' medians). The machine may be shared:
CPU time is the figure to compare. Nothing is asserted.

    python -m scripts.bench_full_bundle beside --skip-cases --records 200000 \
        --workdir bench-out/bundle-full
    python -m scripts.bench_full_bundle scale --records 200000 --workdir bench-out/full
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pysam

from scripts.bench import CASES, anntools, synthetic_records
from tests.unit.test_csq_conformance import discover_cases

CASE = CASES / "ENST00000542803"
CHROM = "1"


def read_case() -> tuple[str, list[list[str]]]:
    """The case's bases and its GFF3 feature rows (columns split)."""
    bases = "".join(line.strip() for line in (CASE / "ENST00000542803.fa").open() if line[0] != ">")
    rows = [
        line.rstrip("\n").split("\t")
        for line in (CASE / "ENST00000542803.gff").open()
        if line.strip() and not line.startswith("#")
    ]
    return bases.upper(), rows


def write_genome(path: Path, bases: str, tiles: int) -> int:
    """``tiles`` copies of ``bases`` as one contig, 60 bases a line across the tiles (so
    that the file can be indexed as it is)."""
    length = len(bases) * tiles
    doubled = bases + bases  # a line may run from one tile into the next
    with path.open("w") as out:
        out.write(f">{CHROM}\n")
        for start in range(0, length, 60):
            offset = start % len(bases)
            out.write(doubled[offset : offset + min(60, length - start)] + "\n")
    return length


def write_gff3(path: Path, rows: list[list[str]], tile: int, tiles: int, copies: int) -> int:
    """The case's gene model, shifted into every tile and copied under new IDs."""
    lines = 0
    with gzip.open(path, "wt") as out:
        out.write("##gff-version 3\n")
        for t in range(tiles):
            for c in range(copies):
                suffix = f"_{t}_{c}"
                for cols in rows:
                    shifted = [
                        CHROM,
                        *cols[1:3],
                        str(int(cols[3]) + t * tile),
                        str(int(cols[4]) + t * tile),
                        *cols[5:8],
                        _renamed(cols[8], suffix),
                    ]
                    out.write("\t".join(shifted) + "\n")
                    lines += 1
    return lines


def _renamed(attributes: str, suffix: str) -> str:
    """IDs and parents of one copy: ``gene:ENSG...`` -> ``gene:ENSG..._3_1``."""
    items = []
    for item in attributes.split(";"):
        key, _, value = item.partition("=")
        if key in ("ID", "Parent"):
            value = value + suffix
        items.append(f"{key}={value}")
    return ";".join(items)


def write_known(
    path: Path, genome: Callable[[int], str], length: int, count: int, seed: int
) -> None:
    rng = random.Random(seed)
    significance = ("Pathogenic", "Likely_pathogenic", "Benign", "Uncertain_significance")
    with gzip.open(path, "wt") as out:
        out.write("##fileformat=VCFv4.1\n##source=ClinVar\n##reference=GRCh38\n")
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i, pos in enumerate(sorted(rng.sample(range(1, length), count))):
            ref = genome(pos)
            if ref not in "ACGT":
                continue
            alt = rng.choice([b for b in "ACGT" if b != ref])
            sig = rng.choice(significance)
            out.write(f"{CHROM}\t{pos}\t{i}\t{ref}\t{alt}\t.\t.\tCLNSIG={sig};RS={100 + i}\n")


def write_records(path: Path, bases: str, tiles: int, count: int, seed: int) -> None:
    """scripts/bench.py's record mix over the tiled genome, bgzipped."""
    tiled = bases * tiles
    with path.open("w") as out:
        out.write("##fileformat=VCFv4.2\n")
        out.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1\n")
        for line in synthetic_records(CHROM, tiled, 1, len(tiled), count, seed, "today"):
            out.write(line + "\n")
    pysam.tabix_compress(str(path), f"{path}.gz", force=True)
    path.unlink()


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    peak_rss_mib: float


def measure(command: list[str]) -> Run:
    """Wall and CPU time and peak RSS of one child (and the workers it waited for)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        sys.exit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    # wait4's usage includes the child's own waited-for children (its pool workers)
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def describe(label: str, runs: list[Run], records: int = 0) -> str:
    """Median and worst of wall time, CPU time and peak RSS (and, given the record count, the
    records per CPU second of the median CPU time)."""
    seconds = [m.seconds for m in runs]
    cpu = [m.cpu_seconds for m in runs]
    rss = [m.peak_rss_mib for m in runs]
    text = (
        f"{label:<44} wall median {statistics.median(seconds):7.2f} s worst {max(seconds):7.2f} s"
        f"  CPU median {statistics.median(cpu):7.2f} s worst {max(cpu):7.2f} s"
        f"  peak RSS median {statistics.median(rss):6.1f} MiB worst {max(rss):6.1f} MiB"
    )
    if records:
        text += f"  {records / statistics.median(cpu):,.0f} records per CPU s"
    return text


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


def scale(args: argparse.Namespace) -> None:
    """The scale part (see the module doc)."""
    bases, rows = read_case()
    plain = args.workdir / "genome.fa"
    length = write_genome(plain, bases, args.tiles)
    fasta = args.workdir / "genome.fa.gz"
    pysam.tabix_compress(str(plain), str(fasta), force=True)
    plain.unlink()
    gff3 = args.workdir / "genes.gff3.gz"
    lines = write_gff3(gff3, rows, len(bases), args.tiles, args.copies)
    known = args.workdir / "clinvar.vcf.gz"
    write_known(known, lambda pos: bases[(pos - 1) % len(bases)], length, args.known, args.seed)
    vcf = args.workdir / "input.vcf"
    write_records(vcf, bases, args.tiles, args.records, args.seed)
    transcripts = args.tiles * args.copies
    print(
        f"genome {length / 1e6:,.1f} Mb, GFF3 {lines:,} lines ({transcripts:,} transcripts), "
        f"{args.known:,} known variants, {args.records:,} input records; "
        f"{os.cpu_count()} cores (shared: figures are noisy)",
        flush=True,
    )
    bundle = args.workdir / "bundle"
    build = [*build_command(gff3, fasta, bundle), "--known-variants", str(known)]
    print(describe("bundle build", [measure(build) for _ in range(args.repeat)]), flush=True)
    size = sum(p.stat().st_size for p in bundle.iterdir())
    print(f"bundle size {size / 2**20:,.1f} MiB", flush=True)
    for workers in sorted({1, min(4, os.cpu_count() or 1)}):
        out = args.workdir / f"out{workers}"
        command = anntools(
            args.workdir / "input.vcf.gz", out, "--workers", str(workers), "--bundle", str(bundle)
        )
        runs = [measure(command) for _ in range(args.repeat)]
        print(describe(f"annotate --bundle, {workers} process(es)", runs, args.records), flush=True)


def beside(args: argparse.Namespace) -> None:
    """The beside part (see the module doc)."""
    print(f"{os.cpu_count()} cores, possibly shared: compare CPU seconds", flush=True)
    if not args.skip_cases:
        bench_cases(args.workdir / "cases", args.repeat)

    bases, rows = read_case()
    plain = args.workdir / "genome.fa"  # for --fasta: plain and indexed, memory-mapped
    length = write_genome(plain, bases, args.tiles)
    pysam.faidx(str(plain))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parts = parser.add_subparsers(dest="part", required=True)
    near = parts.add_parser("beside", help="beside --gff --fasta and bcftools csq")
    near.add_argument("--tiles", type=int, default=15, help="copies of the 343 kb case")
    near.add_argument("--copies", type=int, default=14, help="transcripts per tile")
    near.add_argument("--skip-cases", action="store_true", help="only the tiled model")
    large = parts.add_parser("scale", help="a genome-sized bundle with known variants")
    large.add_argument("--tiles", type=int, default=900, help="copies of the 343 kb case")
    large.add_argument("--copies", type=int, default=19, help="transcripts per tile")
    large.add_argument("--known", type=int, default=1_000_000, help="known variants")
    for part, workdir in ((near, "bench-out/bundle-full"), (large, "bench-out/full")):
        part.add_argument("--records", type=int, default=200_000)
        part.add_argument("--repeat", type=int, default=3)
        part.add_argument("--workdir", type=Path, default=Path(workdir))
        part.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    beside(args) if args.part == "beside" else scale(args)


if __name__ == "__main__":
    main()
