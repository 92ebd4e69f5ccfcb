"""Hostile inputs through ``anntools annotate``: time and peak memory of each.

Builds small files that cost a naive reader far more than their size:

- ``distinct-samples``: a '#CHROM' line with 80,000 distinct sample names and
  a few records carrying a genotype for each (annotated);
- ``identical-samples``: 200,000 copies of one sample name (refused: repeated
  name);
- ``newline-bomb``: a gzip of about 1 MB that expands to 1 GiB of blank lines
  between the header and the only record (annotated, the blank lines counted);
- ``header-bomb``: a gzip whose '##' header lines expand past the header
  limit (refused).

Each runs as its own ``anntools annotate`` process; the script prints the
wall time, the CPU time (median) and the peak resident memory of that process tree (sampled from
/proc every 20 ms, so a very short peak may be missed; the children's own
``ru_maxrss`` is printed too). Nothing is asserted: the figures go to
docs/operations.md. Timings on a shared machine are noisy: use --runs.

    python scripts/bench_bombs.py --workdir bench-bombs --runs 3
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
FORMAT_GT = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
FIXED = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
RECORD = "chr1\t{pos}\t.\tA\tG\t50\tPASS\t."
GIB = 1024**3
WRITE_BLOCK = 16 * 1024 * 1024


@dataclass(frozen=True)
class Run:
    case: str
    exit_code: int
    seconds: float
    cpu_seconds: float
    tree_peak_mib: float
    self_peak_mib: float
    message: str


def distinct_samples(path: Path, samples: int = 80_000) -> None:
    names = "\t".join(f"sample{i}" for i in range(samples))
    genotypes = "\t".join("0/1" if i % 3 else "0/0" for i in range(samples))
    with path.open("w") as out:
        out.write(HEADER + FORMAT_GT + f"{FIXED}\tFORMAT\t{names}\n")
        for pos in range(10_000, 10_010):
            out.write(f"{RECORD.format(pos=pos)}\tGT\t{genotypes}\n")


def identical_samples(path: Path, samples: int = 200_000) -> None:
    names = "\t".join(["sample"] * samples)
    path.write_text(HEADER + FORMAT_GT + f"{FIXED}\tFORMAT\t{names}\n{RECORD.format(pos=1)}\n")


def _gzip_with_filler(path: Path, before: str, filler: bytes, size: int, after: str) -> None:
    """A gzip of ``before``, ``size`` bytes of repeated ``filler``, then ``after``."""
    block = filler * (WRITE_BLOCK // len(filler))
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(before.encode())
        written = 0
        while written < size:
            piece = block[: size - written]
            out.write(piece)
            written += len(piece)
        out.write(after.encode())


def newline_bomb(path: Path) -> None:
    _gzip_with_filler(path, HEADER + FIXED + "\n", b"\n", GIB, RECORD.format(pos=12345) + "\n")


def header_bomb(path: Path) -> None:
    _gzip_with_filler(path, HEADER, b"##x\n", GIB, FIXED + "\n" + RECORD.format(pos=1) + "\n")


CASES: dict[str, tuple[str, Callable[[Path], None]]] = {
    "distinct-samples": ("distinct.vcf", distinct_samples),
    "identical-samples": ("identical.vcf", identical_samples),
    "newline-bomb": ("newlines.vcf.gz", newline_bomb),
    "header-bomb": ("header.vcf.gz", header_bomb),
}


def _tree_rss_bytes(root: int) -> int:
    """Resident bytes of ``root`` and its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, frontier = 0, [root]
    while frontier:
        pid = frontier.pop()
        total += rss.get(pid, 0)
        frontier += [child for child, parent in parents.items() if parent == pid]
    return total


def measure(case: str, input_path: Path, out_dir: Path) -> Run:
    command = [sys.executable, "-m", "anntools", "annotate", str(input_path), "-o", str(out_dir)]
    command += ["--bundle", "none", "--progress", "none"]
    peak = 0
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _tree_rss_bytes(child.pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    assert child.stderr is not None
    message = child.stderr.read().decode(errors="replace").strip()
    exit_code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(case, exit_code, seconds, cpu, peak / 2**20, usage.ru_maxrss / 1024, message[:200])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("bench-bombs"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    print(
        f"{'case':<18} {'input':>10} {'exit':>4} {'median s':>9} {'worst s':>8} {'cpu s':>6} "
        f"{'tree MiB':>9} {'self MiB':>9}"
    )
    for case in args.cases:
        name, build = CASES[case]
        input_path = args.workdir / name
        if not input_path.exists():
            build(input_path)
        runs = [measure(case, input_path, args.workdir / f"out-{case}") for _ in range(args.runs)]
        seconds = [run.seconds for run in runs]
        print(
            f"{case:<18} {input_path.stat().st_size / 2**20:>8.2f}MB {runs[-1].exit_code:>4} "
            f"{statistics.median(seconds):>9.2f} {max(seconds):>8.2f} "
            f"{statistics.median(run.cpu_seconds for run in runs):>6.2f} "
            f"{max(run.tree_peak_mib for run in runs):>9.0f} "
            f"{max(run.self_peak_mib for run in runs):>9.0f}"
        )
        if runs[-1].message:
            print(f"    {runs[-1].message}")


if __name__ == "__main__":
    main()
