# cython: annotation_typing=False
"""Haplotype-aware calling over a stream of raw chunks (bcftools csq's default mode).

    buffer = HaplotypeBuffer(annotator)
    for chunk in chunks:
        for released, stretches in buffer.feed(chunk):
            ...  # annotate ``released`` with these transcript calls (see HeldStretch.merged)
    for released, stretches in buffer.finish():
        ...

A record whose ALT lies in the coding sequence of a transcript may share a
codon (or a shifted reading frame) with later records of the same haplotype.
The buffer holds those records, and the lines from the first of them on, until
their calls are settled; every other line passes straight through. bcftools
csq waits for the end of the transcript (csq.c, hap_flush). On the + strand the
held records are settled sooner, once the stream has left their last codon
with every haplotype back in frame (see ``HaplotypeBuffer._settled_before``):
no later record can join their groups, and the length change carried to later
groups is kept per haplotype. On the - strand a group's calls depend on the
records after it in the genome, so those wait for the transcript's end. So
memory follows the variants of one open group (at most one transcript's
reach), never the file's size.
The calls that haplotype-aware calling changes come back with each chunk as
held stretches (see :class:`anntools.csq.haplotype.HeldStretch`), which merge
into overrides: line number -> ALT number (1-based) -> Consequences (see
:func:`anntools.csq.haplotype.haplotype_overrides`). The merge is left to
whoever annotates the chunk, and a big group's haplotypes are called by a
pool's worker processes when the buffer is given one (``pool``): the main
process only holds the records and decides when a group is settled.
"""

from __future__ import annotations

import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from anntools.csq.engine import ContigIndex, RefMismatch, TranscriptAnnotator, check_ref
from anntools.csq.gff3 import Transcript
from anntools.csq.haplotype import (
    CalledGroup,
    Haplotype,
    HaplotypeCalls,
    HeldGroup,
    HeldStretch,
    PhasedRecord,
    Slot,
    call_payload,
    carry_shifts,
    distinct_haplotypes,
    parse_genotypes,
)
from anntools.recordloop import next_event
from anntools.vcf import RawChunk

Genotypes = tuple[tuple[int | None, ...], ...]
_RAW_DEFLATE = -15  # zlib without header and checksum: the text never leaves the process
_GENOTYPE_TEXTS = 4096  # distinct genotype column texts remembered at a time
_REF_WINDOW = 1 << 16  # bases of the reference read at once for the held records' REF checks
# A group is called by the pool's workers from this many haplotype walks (records x distinct
# haplotypes): below, sending the records costs more than the call
POOL_MIN_WALKS = 20_000
Task = TypeVar("Task")
Result = TypeVar("Result")


class TaskPool(Protocol):
    """Worker processes that run tasks with their own copy of the annotator (see
    anntools.runner.WorkerPool); ``size``: how many."""

    size: int

    def map(
        self, fn: Callable[[TranscriptAnnotator, Task], Result], tasks: list[Task]
    ) -> list[Result]: ...


class HaplotypeBuffer:
    """Holds the lines a transcript's haplotypes may still change, releases the rest."""

    def __init__(self, annotator: TranscriptAnnotator, pool: TaskPool | None = None) -> None:
        self.annotator = annotator
        self._pool = pool
        # read, not yet released (from the first held line); packed while it waits
        self._pending: list[_Packed | RawChunk] = []
        self._held: list[int] = []  # line numbers of the records in coding reach
        self._chrom = b""
        self._reach = -1  # last base (0-based) of the transcripts the held records touch
        self._called: deque[CalledGroup] = deque()  # in line order, until released
        self._coding: dict[bytes, tuple[array[int], array[int]] | None] = {}  # by CHROM
        self._spans: dict[bytes, CodingSpans] = {}  # the same spans, with their transcripts
        self._names: dict[str, str] = {}  # one copy of each contig name...
        self._genotypes: dict[bytes, Genotypes] = {}  # genotypes by FORMAT and sample columns
        self._held_end = -1  # end (0-based, exclusive) of the held records' REFs
        self._shifts: dict[Slot, dict[str, int]] = {}  # carried from settled stretches
        self._shift_ends: dict[str, int] = {}  # transcript id -> its last base, while carried
        self._group = HeldGroup(annotator, self._shifts)  # the held records
        self._window_contig: ContigIndex | None = None  # a slice of it, for REF checks
        self._window_beg = 0
        self._window = ""

    def feed(self, chunk: RawChunk) -> Iterator[tuple[RawChunk, list[HeldStretch]]]:
        """The lines that can be annotated now, in file order, each chunk with the held
        stretches of called records on its lines."""
        cut = None  # index of the first line after the last point where nothing was held
        i = 0
        while True:
            held_chrom = self._chrom if self._held else None
            found = next_event(
                chunk.lines, i, self._coding, self._spans_of, held_chrom, self._reach
            )
            if found is None:
                break
            i, chrom, beg, span = found
            coding = span >= 0
            if self._held and (chrom != self._chrom or beg > self._reach):
                self._resolve()
                cut = i
            elif coding and self._held and self._settled_before(beg):
                cut = i
            if self._shift_ends and (chrom != self._chrom or beg > self._reach):
                self._forget_ended(chrom, beg)
            if coding:
                segments = self._spans[chrom].segments[span]
                self._hold(chunk.first_line_no + i, chrom, chunk.lines[i].split(b"\t", 5), segments)
            i += 1
        if not self._held:
            cut = len(chunk.lines)
        if cut is None:
            self._pending.append(_Packed.of(chunk, 0, len(chunk.lines)))
            return
        if cut:  # released right away: not worth packing
            lines = chunk.lines if cut == len(chunk.lines) else chunk.lines[:cut]
            self._pending.append(RawChunk(chunk.first_line_no, lines, chunk.bytes_read))
        yield from self._release()
        if cut < len(chunk.lines):
            self._pending.append(_Packed.of(chunk, cut, len(chunk.lines)))

    def finish(self) -> Iterator[tuple[RawChunk, list[HeldStretch]]]:
        """Everything still held, at the end of the input."""
        self._resolve()
        yield from self._release()

    def _spans_of(self, chrom: bytes) -> tuple[array[int], array[int]] | None:
        spans = CodingSpans.of(self.annotator, chrom)
        if spans is None:
            return None
        self._spans[chrom] = spans
        return spans.begs, spans.ends

    def _hold(
        self, line_no: int, chrom: bytes, columns: list[bytes], segments: list[_Segment]
    ) -> None:
        """Hold a record whose REF touches a coding span (``segments``: its CDS segments, as
        next_event found them), unless the record loop will reject it."""
        if len(columns) < 6:
            return  # too few columns: the record loop reports the line
        try:
            name, ref, alts = columns[0].decode(), columns[3].decode(), columns[4].decode()
            haplotypes = self._haplotypes(columns[5])
        except (ValueError, UnicodeDecodeError):
            return  # the record loop reports the line; it takes no part in haplotypes
        contig = self.annotator.contig(name)
        if contig is None:
            return
        beg = int(columns[1]) - 1
        end = beg + len(ref)
        reached = _reached(segments, beg, end)
        if not reached:
            return
        if not self._ref_matches(contig, beg, ref.upper()):
            return  # reported by the record loop
        if not self._held:
            self._chrom, self._reach, self._held_end = chrom, -1, -1
        name = self._names.setdefault(name, name)
        record = PhasedRecord(name, beg + 1, ref, tuple(alts.split(",")), haplotypes)
        self._held.append(line_no)
        self._group.add(record, reached)
        self._held_end = max(self._held_end, end)
        for tr in reached:
            self._reach = max(self._reach, tr.end)

    def _ref_matches(self, contig: ContigIndex, beg: int, ref: str) -> bool:
        """Whether ``ref`` (upper case) is the reference's at ``beg``, as check_ref rules.

        Held records crowd a transcript's few kilobases: their REFs are read from one
        slice of the contig, fetched once per window; only a REF that differs from it
        goes through check_ref (an N matches anything)."""
        end = beg + len(ref)
        offset = beg - self._window_beg
        if (
            contig is not self._window_contig
            or offset < 0
            or end - self._window_beg > len(self._window)
        ):
            self._window_contig, self._window_beg = contig, beg
            self._window = contig.fetch(beg, max(end, beg + _REF_WINDOW))
            offset = 0
        if self._window[offset : offset + len(ref)] == ref:
            return True
        try:
            check_ref(contig, beg, ref)
        except RefMismatch:
            return False
        return True

    def _haplotypes(self, rest: bytes) -> Genotypes:
        """The genotypes of the columns after INFO (see _haplotypes), parsed once per text:
        a file repeats few genotype columns."""
        samples = rest.split(b"\t", 3)[3:]
        key = samples[0] if samples else b""
        try:
            return self._genotypes[key]
        except KeyError:
            pass
        if len(self._genotypes) >= _GENOTYPE_TEXTS:
            self._genotypes.clear()  # many samples: texts rarely repeat, keep memory flat
        found = self._genotypes[key] = _haplotypes(rest)
        return found

    def _resolve(self) -> None:
        if not self._held:
            return
        self._commit()

    def _commit(self) -> None:
        """Call the held records (carrying their shifts on) and start a new group."""
        group = self._group
        haplotypes = distinct_haplotypes(group.records, self._shifts)
        calls = self._calls(group, list(haplotypes))
        carry_shifts(self._shifts, haplotypes, calls)
        self._called.append(CalledGroup(self._held, group.records, list(haplotypes), calls))
        for tr in group.transcripts.values():
            self._shift_ends[tr.id] = tr.end
        self._held, self._group = [], HeldGroup(self.annotator, self._shifts)

    def _calls(self, group: HeldGroup, haplotypes: list[Haplotype]) -> list[HaplotypeCalls]:
        """The group's calls on each haplotype: a big group's by the pool's workers, each
        calling a share of the haplotypes (they are independent)."""
        pool = self._pool
        if pool is None or pool.size < 2 or len(group.records) * len(haplotypes) < POOL_MIN_WALKS:
            return group.calls(haplotypes)
        payload = group.payload()  # pickled once for every task
        share = -(-len(haplotypes) // pool.size)  # haplotypes per worker, rounded up
        tasks = [(payload, haplotypes[k : k + share]) for k in range(0, len(haplotypes), share)]
        return [calls for result in pool.map(call_payload, tasks) for calls in result]

    def _settled_before(self, beg: int) -> bool:
        """Whether no record from ``beg`` (0-based, coding) on can change the held records'
        calls; if so they are called, and the stream may be cut before ``beg``.

        Only when every transcript they reach is on the + strand. A record from
        ``beg`` joins a group if it overlaps a held REF, if its first coding base
        shares a codon with the held ones (counted as bcftools counts a deletion's
        last base: one past its end, csq.c hap_finalize), or if a haplotype's frame
        is still shifted (the group walks its records once, as asked).
        """
        if beg < self._held_end:
            return False
        for tr in self._group.transcripts.values():
            if not tr.forward:
                return False
            if _coding_before(tr, beg) // 3 <= (_coding_before(tr, self._held_end) + 1) // 3:
                return False
        if not self._group.in_frame():
            return False
        self._commit()
        return True

    def _forget_ended(self, chrom: bytes, beg: int) -> None:
        """Drop the carried length changes of transcripts the stream has left."""
        ended = [tid for tid, end in self._shift_ends.items() if chrom != self._chrom or end < beg]
        for tid in ended:
            del self._shift_ends[tid]
            for by_tid in self._shifts.values():
                by_tid.pop(tid, None)

    def _release(self) -> Iterator[tuple[RawChunk, list[HeldStretch]]]:
        """The pending chunks, each with the stretches of called groups on its lines (taken
        in line order: every called record is on a pending line)."""
        called = self._called
        for pending in self._pending:
            chunk = pending.unpack() if isinstance(pending, _Packed) else pending
            last = chunk.first_line_no + len(chunk.lines)
            stretches = []
            while called:
                stretch = called[0].take_before(last)
                if stretch:
                    stretches.append(stretch)
                if not called[0].done:
                    break
                called.popleft()
            yield chunk, stretches
        self._pending = []


_Segment = tuple[int, int, Transcript]  # a CDS segment (0-based, closed) and its transcript


class CodingSpans:
    """The merged CDS spans of one contig's coding transcripts, for a quick overlap test
    (next_event reads it, in C), and the segments each span merges: a record touching a
    span is matched against those only."""

    def __init__(self, segments: list[_Segment]) -> None:
        merged: list[list[int]] = []
        self.segments: list[list[_Segment]] = []
        for segment in sorted(segments, key=lambda s: (s[0], s[1])):
            beg, end, _ = segment
            if merged and beg <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
                self.segments[-1].append(segment)
            else:
                merged.append([beg, end])
                self.segments.append([segment])
        self.begs = array("q", (beg for beg, _ in merged))
        self.ends = array("q", (end for _, end in merged))

    @classmethod
    def of(cls, annotator: TranscriptAnnotator, chrom: bytes) -> CodingSpans | None:
        try:
            contig = annotator.contig(chrom.decode())
        except UnicodeDecodeError:
            return None
        if contig is None:
            return None
        return cls(
            [
                (cds.beg, cds.end, tr)
                for tr in contig.transcripts
                if tr.coding and tr.cds_indexed
                for cds in tr.cds
                if cds.length > 0  # as in the transcript's CDS index
            ]
        )


def _reached(segments: list[_Segment], beg: int, end: int) -> list[Transcript]:
    """The transcripts with a segment overlapping [beg, end], each once, in span order."""
    reached: list[Transcript] = []
    for seg_beg, seg_end, tr in segments:
        if seg_beg <= end and seg_end >= beg:
            for other in reached:
                if tr is other:
                    break
            else:
                reached.append(tr)
    return reached


@dataclass(frozen=True, slots=True)
class _Packed:
    """Lines of a chunk held back, compressed: a held transcript may span a million lines."""

    first_line_no: int
    text: bytes
    bytes_read: int

    @classmethod
    def of(cls, chunk: RawChunk, start: int, stop: int) -> _Packed:
        text = zlib.compress(b"\n".join(chunk.lines[start:stop]), 1, _RAW_DEFLATE)
        return cls(chunk.first_line_no + start, text, chunk.bytes_read)

    def unpack(self) -> RawChunk:
        lines = zlib.decompress(self.text, _RAW_DEFLATE).split(b"\n")
        return RawChunk(self.first_line_no, lines, self.bytes_read)


def _coding_before(tr: Transcript, pos: int) -> int:
    """How many coding bases of ``tr`` lie before ``pos`` (0-based) on the + strand."""
    count = 0
    for cds in tr.cds:
        if pos <= cds.beg:
            break
        count += min(pos - cds.beg, cds.length)
    return count


def _haplotypes(rest: bytes) -> Genotypes:
    """The genotypes of the columns after INFO, when FORMAT leads with GT (else none)."""
    columns = rest.split(b"\t")  # QUAL, FILTER, INFO, FORMAT, samples...
    if len(columns) < 5 or columns[3].split(b":", 1)[0] != b"GT":
        return ()
    return parse_genotypes([column.decode() for column in columns[4:]])
