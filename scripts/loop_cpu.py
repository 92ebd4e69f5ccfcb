"""CPU time per record of the compiled record loop alone, in this process.

Reads a VCF's chunks into memory first, then times ``RecordLoop.annotate`` over
them (process CPU time, so other processes on the machine matter less than for
wall time): with no sources (parsing, checks, tallies, output only) and, when
``--gff``/``--fasta`` are given, with the transcript engine in per-record mode.
Prints the median and the worst of ``--repeat`` runs in microseconds per record.

    python scripts/loop_cpu.py input.vcf.gz [--gff g.gff3 --fasta g.fa] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from anntools.csq import TranscriptAnnotator
from anntools.vcf import RawChunk, VcfReader, record_loop


def cpu_per_record(
    chunks: list[RawChunk], reader: VcfReader, transcripts: TranscriptAnnotator | None
) -> float:
    """Microseconds of CPU per record for one pass of a fresh loop over ``chunks``."""
    loop = record_loop(reader.header, None, transcripts)
    records = 0
    start = time.process_time()
    for chunk in chunks:
        counts = loop.annotate(chunk.lines, chunk.first_line_no)[2]
        records += counts["records"]
    return (time.process_time() - start) / max(records, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vcf", type=Path)
    parser.add_argument("--gff", type=Path)
    parser.add_argument("--fasta", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with VcfReader(args.vcf) as reader:
        chunks = list(reader.raw_chunks())
        setups: list[tuple[str, TranscriptAnnotator | None]] = [("no sources", None)]
        if args.gff and args.fasta:
            setups.append(("transcripts", TranscriptAnnotator.from_files(args.gff, args.fasta)))
        for label, transcripts in setups:
            cpu_per_record(chunks, reader, transcripts)  # warm: plans, caches, page faults
            runs = [cpu_per_record(chunks, reader, transcripts) for _ in range(args.repeat)]
            print(
                f"{args.vcf.name} {label}: median {statistics.median(runs):.2f} us/record, "
                f"worst {max(runs):.2f} ({args.repeat} runs)"
            )


if __name__ == "__main__":
    main()
