"""CPU cost of the MANE Select step in default-bundle mode: runs with it on and off, alternating.

Each pair annotates the same random chr1 records (as ``make bench``'s default-bundle
input) with one process, MANE on then off (``ANNTOOLS_BENCH_SKIP_MANE=1``, read by
anntools.pipeline for benchmarks only). Prints each pair's CPU seconds (user + system,
start-up included) and records/s, then the median and worst overhead over the pairs.
Figures are noisy on a shared machine: compare medians.

    python scripts/bench_mane.py --records 100000 --pairs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from anntools.pipeline import SKIP_MANE_ENV

BENCH = Path(__file__).resolve().parent / "bench.py"


def cpu_seconds(vcf: Path, out: Path, skip_mane: bool) -> float:
    """User + system CPU seconds of one ``anntools annotate --workers 1`` run."""
    env = dict(os.environ, **{SKIP_MANE_ENV: "1" if skip_mane else "0"})
    command = [sys.executable, "-m", "anntools", "annotate", str(vcf), "-o", str(out)]
    command += ["--workers", "1", "--progress", "none"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"anntools annotate failed on {vcf}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        vcf = work / "input.vcf"
        generate = [sys.executable, str(BENCH), "--generate", "bundle", "--out", str(vcf)]
        generate += ["--records", str(args.records), "--seed", str(args.seed)]
        subprocess.run(generate, check=True)
        vcf = vcf.with_suffix(".vcf.gz")
        overheads = []
        print(f"{args.records:,} random chr1 records, 1 process; CPU s (records/s)")
        for number in range(1, args.pairs + 1):
            on = cpu_seconds(vcf, work / "on", skip_mane=False)
            off = cpu_seconds(vcf, work / "off", skip_mane=True)
            overheads.append(on / off - 1)
            print(
                f"  pair {number}: MANE on {on:.2f} s ({args.records / on:,.0f}/s), "
                f"off {off:.2f} s ({args.records / off:,.0f}/s), overhead {on / off - 1:+.1%}"
            )
    print(
        f"MANE overhead: median {statistics.median(overheads):+.1%}, "
        f"worst {max(overheads):+.1%} over {len(overheads)} pairs"
    )


if __name__ == "__main__":
    main()
