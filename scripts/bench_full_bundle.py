"""Benchmark of full bundles: build time, bundle size, annotate time and peak memory.

There is no whole genome here, so the inputs are made from real data by
tiling: bcftools' largest consequence case (ENST00000542803, 343 kb of chr1
with NTNG1) is repeated ``--tiles`` times along one contig, and its
transcript ``--copies`` times per tile under new IDs (19 copies give
Ensembl's density of GFF3 lines per base). Known variants are a
ClinVar-format VCF of ``--known`` SNVs whose REF is the genome's. Then, each
``--repeat`` times:

1. ``anntools bundle build --gff3 --fasta --known-variants -o`` (FASTA bgzipped);
2. ``anntools annotate --bundle`` on ``--records`` records (scripts/bench.py's
   mix of SNVs and indels), in one process and in one per core.

It prints wall and CPU seconds and peak RSS, median and worst of the runs
(CPU time says more than wall time on a busy machine). Nothing is asserted.

    python scripts/bench_full_bundle.py --tiles 900 --records 200000 --workdir bench-out/full
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pysam

from scripts.bench import CASES, anntools, synthetic_records

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
    with path.open("w") as out:
        out.write(f">{CHROM}\n")
        for _ in range(tiles):
            for start in range(0, len(bases), 60):
                out.write(bases[start : start + 60] + "\n")
    return len(bases) * tiles


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiles", type=int, default=900, help="copies of the 343 kb case")
    parser.add_argument("--copies", type=int, default=19, help="transcripts per tile")
    parser.add_argument("--known", type=int, default=1_000_000, help="known variants")
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench-out/full"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
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
    build = [
        sys.executable,
        "-m",
        "anntools",
        "bundle",
        "build",
        "--gff3",
        str(gff3),
        "--fasta",
        str(fasta),
        "--known-variants",
        str(known),
        "-o",
        str(bundle),
    ]
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


if __name__ == "__main__":
    main()
