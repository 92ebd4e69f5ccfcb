"""CPU time per record of the compiled record loop alone, in this process.

Reads a VCF's chunks into memory first, then times ``RecordLoop.annotate`` over
them (process CPU time, so other processes on the machine matter less than for
wall time): with no sources (parsing, checks, tallies, output only), when
``--gff``/``--fasta`` are given with the transcript engine in per-record mode,
and with ``--bundle`` with the default bundle's sites (genes, regions, MANE
Select transcripts, rsIDs; the input's assembly detected as a run detects it).
Prints the median and the worst of ``--repeat`` runs in microseconds per record.

    python scripts/loop_cpu.py input.vcf.gz [--gff g.gff3 --fasta g.fa] [--bundle] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

from anntools.assembly import detect_assembly
from anntools.bundle import Bundle, default_bundle_dir
from anntools.csq import TranscriptAnnotator
from anntools.pipeline import Sources
from anntools.runner import relaxed_gc
from anntools.vcf import Header, RawChunk, VcfReader, record_loop

if TYPE_CHECKING:
    from anntools._recordloop import SiteSource


def cpu_per_record(
    chunks: list[RawChunk],
    reader: VcfReader,
    transcripts: TranscriptAnnotator | None,
    sites: SiteSource | None = None,
) -> float:
    """Microseconds of CPU per record for one pass of a fresh loop over ``chunks``."""
    loop = record_loop(reader.header, sites, transcripts)
    records = 0
    start = time.process_time()
    for chunk in chunks:
        counts = loop.annotate(chunk.lines, chunk.first_line_no)[2]
        records += counts["records"]
    return (time.process_time() - start) / max(records, 1) * 1e6


def bundle_sites(header: Header) -> SiteSource | None:
    """The default bundle's site source for a file with this header, as a run makes it."""
    assembly = detect_assembly(
        header.meta_lines, header.contig_lengths, list(header.contig_lengths)
    )
    return Sources(assembly, Bundle.load(default_bundle_dir()), None).record_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("vcf", type=Path)
    parser.add_argument("--gff", type=Path)
    parser.add_argument("--fasta", type=Path)
    parser.add_argument("--bundle", action="store_true", help="also with the default bundle")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with VcfReader(args.vcf) as reader, relaxed_gc():  # as a run streams
        chunks = list(reader.raw_chunks())
        setups: list[tuple[str, TranscriptAnnotator | None, SiteSource | None]] = [
            ("no sources", None, None)
        ]
        if args.gff and args.fasta:
            engine = TranscriptAnnotator.from_files(args.gff, args.fasta)
            setups.append(("transcripts", engine, None))
        if args.bundle:
            setups.append(("default bundle", None, bundle_sites(reader.header)))
        for label, transcripts, sites in setups:
            cpu_per_record(chunks, reader, transcripts, sites)  # warm: plans, caches, faults
            runs = [cpu_per_record(chunks, reader, transcripts, sites) for _ in range(args.repeat)]
            print(
                f"{args.vcf.name} {label}: median {statistics.median(runs):.2f} us/record, "
                f"worst {max(runs):.2f} ({args.repeat} runs)"
            )


if __name__ == "__main__":
    main()
