"""Benchmarks: anntools against bcftools csq (default and -l) on the same inputs, in one run.

1. Every case of tests/data/csq (bcftools' own gene models), each in turn:
   ``--case-records`` synthetic records over its transcripts +-2 kb.
2. A coding-dense, exome-like mix over a gene model no test uses: a
   synthetic 6-exon transcript +-2 kb (about 15% of positions coding),
   ``--records`` records, 90% SNVs, 5% insertions, 5% deletions.
3. Today's input: ``--records`` records over the largest case (mostly quiet
   stretches: introns and flanks).
4. The default bundle (GRCh38 genes, regions, MANE Select transcripts, rsIDs):
   ``--records`` chr1 records, with the default workers and with one process,
   its rate beside ``bcftools csq -l``'s on input 2.

Every input has one sample with phased genotypes and REFs that match the
reference. anntools runs as a user runs it (``--gff`` + ``--fasta``, the
default workers) in its default, haplotype-aware mode against ``bcftools csq``
and with ``--local`` against ``bcftools csq -l``. Ratios are throughput
ratios (their seconds / ours: above 1 means anntools is faster). Printed:
seconds, records/s and peak RSS of every run, the median and the worst case
over the cases (never the best). Nothing is asserted: the machine may be
shared, so the figures are noisy. Figures: docs/benchmarks.md.

    python scripts/bench.py --records 1000000 --case-records 100000 --workdir bench-out
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CASES = PROJECT_ROOT / "tests" / "data" / "csq"
TODAYS_CASE = "ENST00000542803"  # the largest case: 343 kb of chr1
BASES = "ACGT"
GRCH38_CHR1_BP = 248_956_422
FLANK = 2000
SENSE_CODONS = [
    a + b + c for a in BASES for b in BASES for c in BASES if a + b + c not in ("TAA", "TAG", "TGA")
]


@dataclass(frozen=True)
class Measurement:
    tool: str
    seconds: float
    peak_rss_mib: float


@dataclass(frozen=True)
class Model:
    """A gene model to annotate against: GFF3, FASTA, and where to put the records."""

    name: str
    gff: Path
    fasta: Path
    chrom: str
    beg: int  # 1-based, closed: the span the records fall in
    end: int


# ---------------------------------------------------------------- inputs


def read_fasta(path: Path) -> dict[str, str]:
    """Every sequence of a FASTA file, upper case."""
    sequences: dict[str, list[str]] = {}
    current: list[str] = []
    with path.open() as handle:
        for line in handle:
            if line.startswith(">"):
                current = sequences.setdefault(line[1:].split()[0], [])
            else:
                current.append(line.strip())
    return {name: "".join(chunks).upper() for name, chunks in sequences.items()}


def transcript_span(gff: Path, fasta_names: set[str]) -> tuple[str, int, int] | None:
    """(chrom, first, last) of the features of the first contig that has a sequence."""
    spans: dict[str, tuple[int, int]] = {}
    for line in gff.read_text().splitlines():
        cols = line.split("\t")
        if len(cols) < 5 or line.startswith("#") or cols[0] not in fasta_names:
            continue
        lo, hi = spans.get(cols[0], (int(cols[3]), int(cols[4])))
        spans[cols[0]] = (min(lo, int(cols[3])), max(hi, int(cols[4])))
    if not spans:
        return None
    chrom, (lo, hi) = next(iter(spans.items()))
    return chrom, lo, hi


def synthetic_records(
    chrom: str, sequence: str | None, beg: int, end: int, count: int, seed: int, mix: str
) -> Iterator[str]:
    """Sorted VCF lines over [beg, end] (1-based): ``mix`` "dense" is 90% SNVs, 5% insertions,
    5% deletions; "today" 85% SNVs, 8% deletions, 7% insertions. One sample, phased GT.

    REF comes from ``sequence`` when given, else is drawn at random (the bundle,
    unlike a consequence caller, does not read the reference).
    """
    rng = random.Random(seed)
    snv, deletion = (0.90, 0.95) if mix == "dense" else (0.85, 0.93)
    last = max(beg + 1, end - 8)
    for pos in sorted(rng.randint(beg, last) for _ in range(count)):
        bases = sequence[pos - 1 : pos + 6] if sequence else "".join(rng.choices(BASES, k=7))
        first, roll = bases[0], rng.random()
        if roll < snv or first not in BASES or len(bases) < 7:
            ref, alt = first, rng.choice([b for b in BASES if b != first])
        elif roll < deletion:
            ref, alt = bases[: 1 + rng.randint(1, 6)], first
        else:
            ref, alt = first, first + "".join(rng.choices(BASES, k=rng.randint(1, 6)))
        gt = rng.choice(("0|1", "1|0", "1|1"))
        yield f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t.\tGT\t{gt}"


def write_vcf(out: Path, chrom: str, length: int, meta: list[str], lines: Iterator[str]) -> Path:
    header = [
        "##fileformat=VCFv4.2",
        *meta,
        f"##contig=<ID={chrom},length={length}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSAMPLE1",
    ]
    with out.open("w") as handle:
        handle.write("\n".join(header) + "\n")
        for line in lines:
            handle.write(line + "\n")
    subprocess.run(["bgzip", "-f", str(out)], check=True)
    return out.with_suffix(".vcf.gz")


def synthetic_model(workdir: Path, seed: int) -> Model:
    """A 6-exon protein-coding transcript (a real ORF: ATG, sense codons, a stop) with
    random introns and UTRs, on a contig that leaves 2 kb either side."""
    rng = random.Random(seed)
    codons = ["ATG", *rng.choices(SENSE_CODONS, k=1199), "TAA"]  # 1,201 codons: 3,603 bp
    cds = "".join(codons)
    cuts = sorted(rng.sample(range(60, len(cds) - 60), 5))
    pieces = [cds[a:b] for a, b in zip([0, *cuts], [*cuts, len(cds)], strict=True)]

    def random_bases(n: int) -> str:
        return "".join(rng.choices(BASES, k=n))

    utr5, utr3 = random_bases(150), random_bases(400)
    sequence, exons, cds_parts = random_bases(FLANK), [], []
    for k, piece in enumerate(pieces):
        start = len(sequence) + 1
        exon = (utr5 if k == 0 else "") + piece + (utr3 if k == len(pieces) - 1 else "")
        cds_start = start + (len(utr5) if k == 0 else 0)
        cds_parts.append((cds_start, cds_start + len(piece) - 1))
        exons.append((start, start + len(exon) - 1))
        sequence += exon
        if k < len(pieces) - 1:
            sequence += "GT" + random_bases(rng.randint(1500, 4000)) + "AG"
    span = (exons[0][0], exons[-1][1])
    sequence += random_bases(FLANK)
    chrom = "bench1"
    fasta = workdir / "synthetic.fa"
    lines = [sequence[i : i + 60] for i in range(0, len(sequence), 60)]
    fasta.write_text(f">{chrom}\n" + "\n".join(lines) + "\n")
    attrs = "Parent=transcript:ENSTBENCH0001"
    gff_lines = [
        "##gff-version 3",
        f"{chrom}\t.\tgene\t{span[0]}\t{span[1]}\t.\t+\t.\t"
        "ID=gene:ENSGBENCH0001;Name=BENCH1;biotype=protein_coding",
        f"{chrom}\t.\tmRNA\t{span[0]}\t{span[1]}\t.\t+\t.\t"
        "ID=transcript:ENSTBENCH0001;Parent=gene:ENSGBENCH0001;biotype=protein_coding",
    ]
    gff_lines += [f"{chrom}\t.\texon\t{a}\t{b}\t.\t+\t.\t{attrs}" for a, b in exons]
    done = 0
    for a, b in cds_parts:
        phase = (3 - done % 3) % 3
        gff_lines.append(f"{chrom}\t.\tCDS\t{a}\t{b}\t.\t+\t{phase}\t{attrs}")
        done += b - a + 1
    gff_lines.append(
        f"{chrom}\t.\tfive_prime_UTR\t{exons[0][0]}\t{cds_parts[0][0] - 1}\t.\t+\t.\t{attrs}"
    )
    gff_lines.append(
        f"{chrom}\t.\tthree_prime_UTR\t{cds_parts[-1][1] + 1}\t{exons[-1][1]}\t.\t+\t.\t{attrs}"
    )
    gff = workdir / "synthetic.gff3"
    gff.write_text("\n".join(gff_lines) + "\n")
    return Model("synthetic 6-exon", gff, fasta, chrom, 1, len(sequence))


def case_model(case: Path, workdir: Path) -> Model | None:
    """A bcftools case as a Model (its FASTA copied: bcftools writes a .fai beside it)."""
    gffs = sorted(p for p in case.iterdir() if p.suffix in (".gff", ".gff3"))
    fastas = sorted(case.glob("*.fa"))
    if not gffs or not fastas:
        return None
    fasta = workdir / f"{case.name}.fa"
    shutil.copyfile(fastas[0], fasta)
    names = set(read_fasta(fasta))
    span = transcript_span(gffs[0], names)
    if span is None:
        return None
    chrom, lo, hi = span
    return Model(case.name, gffs[0], fasta, chrom, lo - FLANK, hi + FLANK)


def model_input(model: Model, out: Path, records: int, seed: int, mix: str) -> Path:
    sequence = read_fasta(model.fasta)[model.chrom]
    beg, end = max(1, model.beg), min(len(sequence), model.end)
    lines = synthetic_records(model.chrom, sequence, beg, end, records, seed, mix)
    return write_vcf(out, model.chrom, len(sequence), [], lines)


def generate(args: argparse.Namespace) -> None:
    """In a child process (see build_input): write one input."""
    if args.generate == "bundle":
        lines = synthetic_records("chr1", None, 2, GRCH38_CHR1_BP, args.records, args.seed, "today")
        write_vcf(args.out, "chr1", GRCH38_CHR1_BP, ["##reference=GRCh38"], lines)
        return
    model = Model("", args.gff, args.fasta, args.chrom, args.beg, args.end)
    model_input(model, args.out, args.records, args.seed, args.generate)


def build_input(args: argparse.Namespace, kind: str, out: Path, model: Model | None) -> Path:
    """Build an input in a child process: a child's peak RSS starts from its parent's size
    at fork, so this process must never hold the records itself."""
    command = [sys.executable, __file__, "--generate", kind, "--out", str(out)]
    command += ["--records", str(args.records), "--seed", str(args.seed)]
    if model is not None:
        command += ["--gff", str(model.gff), "--fasta", str(model.fasta), "--chrom", model.chrom]
        command += ["--beg", str(model.beg), "--end", str(model.end)]
    subprocess.run(command, check=True)
    return out.with_suffix(".vcf.gz")


# ---------------------------------------------------------------- runs


def measure(tool: str, command: list[str]) -> Measurement | None:
    """Wall time and peak RSS of one child (wait4: the largest process among it and its
    waited-for children, e.g. anntools' workers); None when it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        error = process.stderr.read().decode().strip().splitlines()
        print(f"  {tool} failed: {error[-1] if error else 'no message'}", flush=True)
        return None
    return Measurement(tool, seconds, usage.ru_maxrss / 1024)


def anntools(vcf: Path, out: Path, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "anntools", "annotate", str(vcf), "-o", str(out)]
    return [*command, "--progress", "none", *extra]


def bcftools(model: Model, vcf: Path, out: Path, *extra: str) -> list[str]:
    command = ["bcftools", "csq", *extra, "-f", str(model.fasta), "-g", str(model.gff)]
    return [*command, "-Ov", "-o", str(out), str(vcf)]


@dataclass(frozen=True)
class Pairing:
    """Default modes and local modes of both tools on one input."""

    name: str
    records: int
    runs: list[Measurement]

    def seconds(self, tool: str) -> float | None:
        found = [m.seconds for m in self.runs if m.tool == tool]
        return found[0] if found else None

    def ratio(self, ours: str, theirs: str) -> float | None:
        a, b = self.seconds(ours), self.seconds(theirs)
        return None if a is None or b is None else b / a


def pair(
    model: Model, vcf: Path, workdir: Path, records: int, extra: tuple[str, ...] = ()
) -> Pairing:
    """bcftools csq, bcftools csq -l, anntools (default mode) and anntools --local."""
    sources = ("--gff", str(model.gff), "--fasta", str(model.fasta), *extra)
    commands = {
        "bcftools csq": bcftools(model, vcf, workdir / "bcftools.vcf"),
        "bcftools csq -l": bcftools(model, vcf, workdir / "bcftools-l.vcf", "-l"),
        "anntools": anntools(vcf, workdir / "anntools", *sources),
        "anntools --local": anntools(vcf, workdir / "anntools-l", *sources, "--local"),
    }
    runs = [m for tool, command in commands.items() if (m := measure(tool, command)) is not None]
    return Pairing(model.name, records, runs)


def print_table(records: int, rows: list[Measurement]) -> None:
    print(f"  {'tool':<26}{'seconds':>10}{'records/s':>14}{'peak RSS MiB':>15}")
    for m in rows:
        rate = records / m.seconds
        print(f"  {m.tool:<26}{m.seconds:>10.2f}{rate:>14,.0f}{m.peak_rss_mib:>15.1f}")


def print_ratios(pairing: Pairing) -> None:
    for ours, theirs in (("anntools", "bcftools csq"), ("anntools --local", "bcftools csq -l")):
        ratio = pairing.ratio(ours, theirs)
        if ratio is not None:
            print(f"  {ours} / {theirs}: {ratio:.2f}x throughput")


def summarise(label: str, values: list[tuple[str, float]]) -> None:
    if not values:
        print(f"  {label}: no pairs")
        return
    worst = min(values, key=lambda item: item[1])
    median = statistics.median(v for _, v in values)
    print(f"  {label}: median {median:.2f}x, worst {worst[1]:.2f}x ({worst[0]}), n={len(values)}")


# ---------------------------------------------------------------- sections


def bench_cases(args: argparse.Namespace) -> None:
    print(f"\n1. every bcftools case, {args.case_records:,} records over each gene model +-2 kb")
    workdir = args.workdir / "cases"
    workdir.mkdir(parents=True, exist_ok=True)
    pairings, rss = [], 0.0
    for case in sorted(p for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("_")):
        model = case_model(case, workdir)
        if model is None:
            continue
        vcf = model_input(
            model, workdir / f"{case.name}.vcf", args.case_records, args.seed, "today"
        )
        pairing = pair(model, vcf, workdir, args.case_records)
        pairings.append(pairing)
        rss = max([rss, *(m.peak_rss_mib for m in pairing.runs if m.tool.startswith("anntools"))])
        shown = ", ".join(f"{m.tool} {m.seconds:.2f}s" for m in pairing.runs)
        print(f"  {case.name}: {shown}", flush=True)
    for ours, theirs in (("anntools", "bcftools csq"), ("anntools --local", "bcftools csq -l")):
        values = [(p.name, r) for p in pairings if (r := p.ratio(ours, theirs)) is not None]
        summarise(f"{ours} / {theirs}", values)
    print(f"  largest anntools peak RSS: {rss:.1f} MiB")


def bench_model(args: argparse.Namespace, model: Model, mix: str, title: str) -> Pairing:
    print(f"\n{title}", flush=True)
    workdir = args.workdir / mix
    workdir.mkdir(parents=True, exist_ok=True)
    vcf = build_input(args, mix, workdir / "input.vcf", model)
    pairing = pair(model, vcf, workdir, args.records)
    one = measure(
        "anntools, 1 process",
        anntools(
            vcf,
            workdir / "one",
            "--gff",
            str(model.gff),
            "--fasta",
            str(model.fasta),
            "--workers",
            "1",
        ),
    )
    runs = pairing.runs + ([one] if one else [])
    print_table(args.records, runs)
    print_ratios(pairing)
    return Pairing(pairing.name, pairing.records, runs)


def bench_bundle(args: argparse.Namespace, reference: Pairing) -> None:
    print(f"\n4. default bundle (GRCh38 genes, MANE, rsIDs): {args.records:,} chr1 records")
    workdir = args.workdir / "bundle"
    workdir.mkdir(parents=True, exist_ok=True)
    vcf = build_input(args, "bundle", workdir / "input.vcf", None)
    found = measure("anntools (bundle)", anntools(vcf, workdir / "out"))
    one = measure("anntools (bundle), 1 process", anntools(vcf, workdir / "one", "--workers", "1"))
    runs = [run for run in (found, one) if run is not None]
    print_table(args.records, runs)
    theirs = reference.seconds("bcftools csq -l")
    if theirs is None:
        return
    their_rate = reference.records / theirs
    for run in runs:
        rate = args.records / run.seconds
        print(
            f"  {run.tool}: {rate:,.0f} records/s beside bcftools csq -l's {their_rate:,.0f} "
            f"(input 2): {rate / their_rate:.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="inputs 2, 3 and 4")
    parser.add_argument("--case-records", type=int, default=100_000, help="per case (input 1)")
    parser.add_argument("--workdir", type=Path, default=Path("bench-out"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--only",
        choices=("cases", "dense", "today", "bundle"),
        action="append",
        help="run only these sections (repeatable)",
    )
    for hidden in ("--generate", "--out", "--gff", "--fasta", "--chrom", "--beg", "--end"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        args.out, args.gff, args.fasta = (
            Path(args.out),
            Path(args.gff or "."),
            Path(args.fasta or "."),
        )
        args.beg, args.end = int(args.beg or 0), int(args.end or 0)
        args.records, args.seed = int(args.records), int(args.seed)
        generate(args)
        return
    for tool in ("bcftools", "bgzip"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install bcftools tabix")
    args.workdir.mkdir(parents=True, exist_ok=True)
    version = subprocess.check_output(["bcftools", "--version"], text=True).splitlines()[0]
    print(f"{os.cpu_count()} cores (anntools: default workers); {version}; figures are noisy")
    sections = set(args.only or ("cases", "dense", "today", "bundle"))
    if "cases" in sections:
        bench_cases(args)
    dense = None
    if sections & {"dense", "bundle"}:
        model = synthetic_model(args.workdir, args.seed)
        title = (
            f"2. coding-dense mix: {args.records:,} records (90% SNVs, 5% ins, 5% del) over a "
            "synthetic 6-exon transcript +-2 kb"
        )
        dense = bench_model(args, model, "dense", title)
    if "today" in sections:
        todays = case_model(CASES / TODAYS_CASE, args.workdir)
        assert todays is not None
        todays = replace(todays, beg=1, end=GRCH38_CHR1_BP)  # the whole contig, as before
        title = f"3. today's input: {args.records:,} records over {TODAYS_CASE} (mostly quiet)"
        bench_model(args, todays, "today", title)
    if "bundle" in sections and dense is not None:
        bench_bundle(args, dense)


if __name__ == "__main__":
    main()
