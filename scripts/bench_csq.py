"""Benchmark: anntools against bcftools csq on the same synthetic VCF, in one run.

Builds a sorted, bgzipped VCF of N records (default 1,000,000) over one of
bcftools' own consequence test cases (a GFF3 + FASTA pair), with SNVs,
insertions and deletions whose REF matches the reference. Runs
``bcftools csq -l`` and ``anntools annotate --bundle none`` (transcript
consequences only, like bcftools) on it, and prints records/s, their ratio
and each tool's peak RSS. Nothing is asserted: the figures are for the README.

    python scripts/bench_csq.py --records 1000000 --workdir bench-out
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CASES = PROJECT_ROOT / "tests" / "data" / "csq"
DEFAULT_CASE = "ENST00000542803"  # the largest case: 349 kb of chr1 with 21 transcripts
BASES = "ACGT"


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


def synthetic_records(chrom: str, sequence: str, count: int, seed: int) -> list[str]:
    """Sorted VCF lines: 85% SNVs, 8% deletions, 7% insertions (1-based POS)."""
    rng = random.Random(seed)
    positions = sorted(rng.randrange(2, len(sequence) - 20) for _ in range(count))
    lines = []
    for pos in positions:
        ref_base = sequence[pos - 1]
        roll = rng.random()
        if roll < 0.85 or ref_base not in BASES:
            ref, alt = ref_base, rng.choice([b for b in BASES if b != ref_base])
        elif roll < 0.93:
            ref, alt = sequence[pos - 1 : pos + rng.randint(1, 6)], ref_base
        else:
            ref, alt = ref_base, ref_base + "".join(rng.choices(BASES, k=rng.randint(1, 6)))
        gt = rng.choice(("0/1", "1/1", "0/1"))
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT\t{gt}")
    return lines


def write_vcf(path: Path, chrom: str, length: int, records: list[str]) -> Path:
    header = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID={chrom},length={length}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1",
    ]
    path.write_text("\n".join(header + records) + "\n")
    subprocess.run(["bgzip", "-f", str(path)], check=True)
    return path.with_suffix(path.suffix + ".gz")


def build_input_in_child(fasta: Path, args: argparse.Namespace) -> Path:
    """Build the synthetic VCF in a child process.

    A child's peak RSS starts from its parent's size at fork and survives exec,
    so the parent must never hold the million records itself.
    """
    vcf = args.workdir / "synthetic.vcf"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import bench_csq as b; "
        "from pathlib import Path; name, seq = b.read_fasta(Path(sys.argv[2])); "
        "b.write_vcf(Path(sys.argv[3]), name, len(seq), "
        "b.synthetic_records(name, seq, int(sys.argv[4]), int(sys.argv[5])))"
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(Path(__file__).parent),
            str(fasta),
            str(vcf),
            str(args.records),
            str(args.seed),
        ],
        check=True,
    )
    return vcf.with_suffix(".vcf.gz")


def anntools_command(vcf: Path, gff: Path, fasta: Path, workdir: Path, workers: int) -> list[str]:
    """Transcript consequences only (no bundle), as bcftools csq computes."""
    return [
        sys.executable,
        "-m",
        "anntools",
        "annotate",
        str(vcf),
        "-o",
        str(workdir / "anntools"),
        "--gff",
        str(gff),
        "--fasta",
        str(fasta),
        "--bundle",
        "none",
        "--progress",
        "none",
        "--workers",
        str(workers),
    ]


def measure(tool: str, command: list[str]) -> Measurement:
    """Wall time and peak RSS of one child process (wait4 gives the child's own rusage)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        sys.exit(f"{tool} failed:\n{process.stderr.read().decode()}")
    return Measurement(tool, seconds, usage.ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--case", default=DEFAULT_CASE, help="folder under shared/data/csq")
    parser.add_argument("--workdir", type=Path, default=Path("bench-out"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for tool in ("bcftools", "bgzip"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install bcftools tabix")

    case = CASES / args.case
    gff = next(p for p in case.iterdir() if p.suffix in (".gff", ".gff3"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    fasta = args.workdir / "reference.fa"
    shutil.copyfile(next(case.glob("*.fa")), fasta)  # bcftools writes its .fai beside it
    chrom, sequence = read_fasta(fasta)
    print(
        f"case {args.case}: {gff.name}, {chrom} {len(sequence):,} bp; "
        f"building {args.records:,} records …",
        flush=True,
    )
    vcf = build_input_in_child(fasta, args)

    bcftools = measure(
        "bcftools csq",
        [
            "bcftools",
            "csq",
            "-l",
            "-f",
            str(fasta),
            "-g",
            str(gff),
            "-Oz",
            "-o",
            str(args.workdir / "bcftools.csq.vcf.gz"),
            str(vcf),
        ],
    )
    anntools = [
        measure(f"anntools {label}", anntools_command(vcf, gff, fasta, args.workdir, workers))
        for label, workers in (("1 proc", 1), (f"{os.cpu_count()} procs", os.cpu_count() or 1))
    ]
    print(f"{'tool':<18}{'seconds':>10}{'records/s':>14}{'peak RSS MiB*':>15}")
    for m in (bcftools, *anntools):
        print(
            f"{m.tool:<18}{m.seconds:>10.2f}{args.records / m.seconds:>14,.0f}"
            f"{m.peak_rss_mib:>15.1f}"
        )
    print("* of the largest single process (wait4 rusage)")
    for m in anntools:
        print(f"{m.tool} / bcftools csq throughput: {bcftools.seconds / m.seconds:.2f}")


if __name__ == "__main__":
    main()
