"""The haplotype buffer settles held records as the stream goes: on the + strand before the
transcript's end, with the calls bcftools makes at the end; on the - strand at the end."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from anntools.csq import TranscriptAnnotator
from anntools.csq.haplotype import PhasedRecord, Swaps, haplotype_overrides, parse_genotypes
from anntools.csq.stream import POOL_MIN_WALKS, HaplotypeBuffer, Result, Task, TaskPool
from anntools.runner import ChunkWork, PendingJob, WorkerPool, resolved
from anntools.vcf import Header, RawChunk

TOY = Path(__file__).resolve().parents[1] / "data" / "csq" / "_toplevel"
GFF, FASTA = TOY / "csq.gff3", TOY / "csq.fa"
# chrom 1: XYZ on the + strand, CDS 99-171; chrom 2: ABC on the - strand (1-based)
SPANS = {"1": (92, 178), "2": (78, 205)}


@pytest.fixture(scope="module")
def annotator() -> TranscriptAnnotator:
    return TranscriptAnnotator.from_files(GFF, FASTA)


def line(chrom: str, pos: int, ref: str, alt: str, *genotypes: str) -> bytes:
    return f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\tGT\t{chr(9).join(genotypes)}".encode()


def snv(chrom: str, pos: int, annotator: TranscriptAnnotator) -> bytes:
    """An SNV at ``pos`` (1-based) on both haplotypes of sample B, one of sample A."""
    contig = annotator.contig(chrom)
    assert contig is not None
    ref = contig.fetch(pos - 1, pos).upper()
    return line(chrom, pos, ref, "C" if ref != "C" else "T", "0|1", "1|1")


def random_lines(annotator: TranscriptAnnotator, seed: int, per_chrom: int = 40) -> list[bytes]:
    """Sorted records over both transcripts: SNVs, in-frame and frameshift indels, REFs from
    the FASTA, two samples with random phased genotypes; more records than bases share
    positions."""
    rng = random.Random(seed)
    out = []
    for chrom, (lo, hi) in SPANS.items():
        contig = annotator.contig(chrom)
        assert contig is not None
        if per_chrom <= hi - lo:
            positions = rng.sample(range(lo, hi), per_chrom)
        else:
            positions = rng.choices(range(lo, hi), k=per_chrom)
        for pos in sorted(positions):
            bases = contig.fetch(pos - 1, pos + 6).upper()
            roll = rng.random()
            if roll < 0.7:
                ref, alt = bases[0], rng.choice([b for b in "ACGT" if b != bases[0]])
            elif roll < 0.85:
                ref, alt = bases[: 1 + rng.randint(1, 4)], bases[0]
            else:
                ref, alt = bases[0], bases[0] + "".join(rng.choices("ACGT", k=rng.randint(1, 4)))
            genotypes = [rng.choice(("0|1", "1|0", "1|1", "0|0")) for _ in range(2)]
            out.append(line(chrom, pos, ref, alt, *genotypes))
    return out


def whole_transcript_calls(annotator: TranscriptAnnotator, lines: list[bytes]) -> dict:
    """Line index -> swaps, calling each chromosome's records at once (bcftools' way)."""
    found: dict[int, Swaps] = {}
    for chrom in SPANS:
        indexed = [(i, text.decode().split("\t")) for i, text in enumerate(lines)]
        mine = [(i, cols) for i, cols in indexed if cols[0] == chrom]
        records = [
            PhasedRecord(chrom, int(c[1]), c[3], tuple(c[4].split(",")), parse_genotypes(c[9:]))
            for _, c in mine
        ]
        for k, swaps in haplotype_overrides(annotator, records).items():
            found[mine[k][0]] = swaps
    return found


Released = list[tuple[RawChunk, dict[int, Swaps]]]


def stream(buffer: HaplotypeBuffer, chunks: list[list[bytes]]) -> list[Released]:
    """What the buffer releases after each chunk (and a last batch at the end), overrides
    gathered by line index (merged as a worker merges them before annotating a chunk)."""
    released: list[Released] = []
    first = 0
    for lines in chunks:
        released.append([merged(job) for job in buffer.feed(RawChunk(first, lines, 0))])
        first += len(lines)
    released.append([merged(job) for job in buffer.finish()])
    return released


def merged(job: PendingJob) -> tuple[RawChunk, dict[int, Swaps]]:
    chunk, overrides = resolved(job)
    assert overrides is not None
    return chunk, overrides


@pytest.mark.parametrize("seed", range(6))
def test_streamed_calls_are_the_whole_transcript_calls_whatever_the_chunking(
    annotator: TranscriptAnnotator, seed: int
) -> None:
    # GIVEN random records over a + and a - strand transcript, cut into random chunks
    lines = random_lines(annotator, seed)
    rng = random.Random(seed)
    chunks, start = [], 0
    while start < len(lines):
        size = rng.randint(1, 7)
        chunks.append(lines[start : start + size])
        start += size
    # WHEN the buffer streams them
    released = [item for batch in stream(HaplotypeBuffer(annotator), chunks) for item in batch]
    # THEN every line comes back once, in order, with the calls made over whole transcripts
    assert [text for chunk, _ in released for text in chunk.lines] == lines
    streamed = {n: swaps for _, found in released for n, swaps in found.items()}
    expected = whole_transcript_calls(annotator, lines)
    assert expected, "the records must combine somewhere for the test to mean anything"
    assert streamed == expected


def test_plus_strand_records_are_released_once_the_stream_leaves_their_codons(
    annotator: TranscriptAnnotator,
) -> None:
    # GIVEN SNVs in XYZ's (+ strand) CDS, each in its own codon, one record a chunk
    lines = [snv("1", pos, annotator) for pos in (100, 107, 124, 143, 163)]
    # WHEN streamed
    released = stream(HaplotypeBuffer(annotator), [[text] for text in lines])
    # THEN each record goes out as soon as the next one is read, long before XYZ ends
    released_after = [[c.first_line_no for c, _ in batch] for batch in released]
    assert released_after[:4] == [[], [0], [1], [2]]


def test_minus_strand_records_wait_for_the_transcripts_end(
    annotator: TranscriptAnnotator,
) -> None:
    # GIVEN SNVs in ABC's (- strand) CDS, far apart, then a record past ABC's end
    lines = [snv("2", pos, annotator) for pos in (110, 130, 150, 199, 400)]
    # WHEN streamed, one record a chunk
    released = stream(HaplotypeBuffer(annotator), [[text] for text in lines])
    # THEN nothing goes out until a record past the transcript's end is read
    released_after = [[c.first_line_no for c, _ in batch] for batch in released]
    assert released_after[:4] == [[], [], [], []]
    assert [n for batch in released_after[4:] for n in batch][:1] == [0]


def test_an_upstream_inframe_insertion_shifts_a_later_combined_call_as_at_once(
    annotator: TranscriptAnnotator,
) -> None:
    # GIVEN on XYZ (+ strand) an in-frame insertion, then, codons later, two SNVs that
    # share a codon, all on one haplotype
    contig = annotator.contig("1")
    assert contig is not None
    base = contig.fetch(99, 100).upper()
    lines = [line("1", 100, base, base + "GCA", "1|1", "1|1"), snv("1", 124, annotator)]
    lines.append(snv("1", 125, annotator))
    # WHEN streamed one record a chunk (the insertion is settled before the SNVs are read)
    released = stream(HaplotypeBuffer(annotator), [[text] for text in lines])
    # THEN the combined call is the one made over the whole transcript: its alternate
    # amino-acid position is shifted by the insertion
    assert [c.first_line_no for c, _ in released[1]] == [0]
    streamed = {n: s for batch in released for _, found in batch for n, s in found.items()}
    expected = whole_transcript_calls(annotator, lines)
    assert streamed == expected
    combined = [
        c
        for swaps in expected.values()
        for by_tid in swaps.values()
        for calls in by_tid.values()
        for c in calls
        if c is not None and c.dna_change
    ]
    assert any("+" in c.dna_change for c in combined)


def test_plus_strand_group_is_released_as_soon_as_its_frame_is_restored(
    annotator: TranscriptAnnotator,
) -> None:
    # GIVEN on XYZ (+ strand), on both haplotypes: a 1-base insertion, SNVs in later codons
    # while the frame is shifted, a 1-base deletion restoring it, then SNVs codons later
    contig = annotator.contig("1")
    assert contig is not None
    ins_base, del_bases = contig.fetch(101, 102).upper(), contig.fetch(141, 143).upper()
    lines = [line("1", 102, ins_base, ins_base + "T", "1|1", "1|1")]
    lines += [snv("1", pos, annotator) for pos in (106, 122, 126)]
    lines.append(line("1", 142, del_bases, del_bases[0], "1|1", "1|1"))
    lines += [snv("1", pos, annotator) for pos in (162, 168)]
    # WHEN streamed one record a chunk
    released = stream(HaplotypeBuffer(annotator), [[text] for text in lines])
    # THEN the shifted stretch goes out as soon as a record past the restoring deletion's
    # codon is read, not at the transcript's end
    released_after = [[c.first_line_no for c, _ in batch] for batch in released]
    assert released_after[5] == [0, 1, 2, 3, 4]
    # AND with the calls made over the whole transcript
    streamed = {n: s for batch in released for _, found in batch for n, s in found.items()}
    assert streamed == whole_transcript_calls(annotator, lines)


class CountingPool:
    """A pool that counts the tasks it is given."""

    def __init__(self, pool: TaskPool) -> None:
        self.pool = pool
        self.size = pool.size
        self.tasks = 0

    def map(
        self, fn: Callable[[TranscriptAnnotator, Task], Result], tasks: list[Task]
    ) -> list[Result]:
        self.tasks += len(tasks)
        return self.pool.map(fn, tasks)


def test_a_big_groups_calls_made_by_worker_processes_are_the_calls_made_here(
    annotator: TranscriptAnnotator,
) -> None:
    # GIVEN two samples' records crowding both transcripts: each transcript's records are
    # one big group (thousands of records, four distinct haplotypes)
    lines = random_lines(annotator, 11, per_chrom=POOL_MIN_WALKS)
    chunks = [lines[k : k + 700] for k in range(0, len(lines), 700)]
    header = Header([], "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB", [], "", {})

    def make_work() -> ChunkWork:
        return ChunkWork(header, None, annotator)

    # WHEN they are streamed with the groups called by two worker processes
    with WorkerPool(make_work, 2, annotator) as workers:
        pool = CountingPool(workers)
        in_workers = stream(HaplotypeBuffer(annotator, pool), chunks)
    # THEN the workers called each group's haplotypes, two tasks a group
    assert pool.tasks == 4
    # AND the calls are those made in this process, over whole transcripts
    here = stream(HaplotypeBuffer(annotator), chunks)
    assert in_workers == here
    streamed = {n: s for batch in in_workers for _, found in batch for n, s in found.items()}
    assert streamed == whole_transcript_calls(annotator, lines)
