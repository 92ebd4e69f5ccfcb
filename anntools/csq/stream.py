"""Haplotype-aware calling over a stream of raw chunks (bcftools csq's default mode).

    buffer = HaplotypeBuffer(annotator)
    for chunk in chunks:
        for released, overrides in buffer.feed(chunk):
            ...  # annotate ``released`` with these transcript calls
    for released, overrides in buffer.finish():
        ...

A record whose ALT lies in the coding sequence of a transcript may share a
codon (or a shifted reading frame) with later records of the same haplotype,
so its calls are only known once the stream has passed the end of every such
transcript. The buffer holds those records, and the lines from the first of
them on, until then; every other line passes straight through. So memory
follows the variants within one transcript's reach, never the file's size.
The calls that haplotype-aware calling changes come back as overrides: line
number -> ALT number (1-based) -> Consequences (see
:func:`anntools.csq.haplotype.haplotype_overrides`).
"""

from __future__ import annotations

import zlib
from array import array
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from anntools.csq.engine import RefMismatch, TranscriptAnnotator, check_ref
from anntools.csq.gff3 import Transcript
from anntools.csq.haplotype import PhasedRecord, Swaps, haplotype_overrides, parse_genotypes
from anntools.recordloop import next_event
from anntools.vcf import RawChunk

Genotypes = tuple[tuple[int | None, ...], ...]
_GENOTYPE_TEXTS = 4096  # distinct genotype column texts remembered at a time
Overrides = dict[int, Swaps]  # line number -> swaps of its alleles' coding calls


class HaplotypeBuffer:
    """Holds the lines a transcript's haplotypes may still change, releases the rest."""

    def __init__(self, annotator: TranscriptAnnotator) -> None:
        self.annotator = annotator
        self._pending: list[_Packed] = []  # read, not yet released (from the first held line)
        self._held: list[tuple[int, PhasedRecord]] = []  # (line number, record) in coding reach
        self._transcripts: dict[str, Transcript] = {}  # whose CDS the held records overlap
        self._chrom = b""
        self._reach = -1  # last base (0-based) of the transcripts the held records touch
        self._overrides: deque[tuple[int, Swaps]] = deque()  # by line number, in line order
        self._coding: dict[bytes, tuple[array[int], array[int]] | None] = {}  # by CHROM
        self._names: dict[str, str] = {}  # one copy of each contig name...
        self._genotypes: dict[bytes, Genotypes] = {}  # genotypes by FORMAT and sample columns

    def feed(self, chunk: RawChunk) -> Iterator[tuple[RawChunk, Overrides]]:
        """The lines that can be annotated now, in file order, with their overrides."""
        cut = None  # index of the first line after the last point where nothing was held
        i = 0
        while True:
            held_chrom = self._chrom if self._held else None
            found = next_event(
                chunk.lines, i, self._coding, self._spans_of, held_chrom, self._reach
            )
            if found is None:
                break
            i, chrom, beg, coding = found
            if self._held and (chrom != self._chrom or beg > self._reach):
                self._resolve()
                cut = i
            if coding:
                self._hold(chunk.first_line_no + i, chrom, chunk.lines[i].split(b"\t", 5))
            i += 1
        if not self._held:
            cut = len(chunk.lines)
        if cut is None:
            self._pending.append(_Packed.of(chunk, 0, len(chunk.lines)))
            return
        if cut:
            self._pending.append(_Packed.of(chunk, 0, cut))
        yield from self._release()
        if cut < len(chunk.lines):
            self._pending.append(_Packed.of(chunk, cut, len(chunk.lines)))

    def finish(self) -> Iterator[tuple[RawChunk, Overrides]]:
        """Everything still held, at the end of the input."""
        self._resolve()
        yield from self._release()

    def _spans_of(self, chrom: bytes) -> tuple[array[int], array[int]] | None:
        spans = CodingSpans.of(self.annotator, chrom)
        return None if spans is None else (spans.begs, spans.ends)

    def _hold(self, line_no: int, chrom: bytes, columns: list[bytes]) -> None:
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
        reached = [
            tr
            for tr in contig.candidates(beg, end)
            if tr.coding and tr.cds_indexed and tr.cds_index.overlapping(beg, end)
        ]
        if not reached:
            return
        try:
            check_ref(contig, beg, ref.upper())
        except RefMismatch:
            return  # reported by the record loop
        if not self._held:
            self._chrom, self._reach = chrom, -1
        name = self._names.setdefault(name, name)
        record = PhasedRecord(name, beg + 1, ref, tuple(alts.split(",")), haplotypes)
        self._held.append((line_no, record))
        for tr in reached:
            self._reach = max(self._reach, tr.end)
            self._transcripts.setdefault(tr.id, tr)

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
        records = [record for _, record in self._held]
        found = haplotype_overrides(self.annotator, records, self._transcripts)
        for index, swaps in found.items():  # in record order, so in line order
            self._overrides.append((self._held[index][0], swaps))
        self._held, self._transcripts = [], {}

    def _release(self) -> Iterator[tuple[RawChunk, Overrides]]:
        """The pending chunks, each with its overrides (taken in line order: every
        override is for a pending line, and each is looked at once)."""
        overrides = self._overrides
        for packed in self._pending:
            chunk = packed.unpack()
            last = chunk.first_line_no + len(chunk.lines)
            mine: Overrides = {}
            while overrides and overrides[0][0] < last:
                line_no, swaps = overrides.popleft()
                mine[line_no] = swaps
            yield chunk, mine
        self._pending = []


class CodingSpans:
    """The merged CDS spans of one contig's coding transcripts, for a quick overlap test
    (next_event reads it, in C)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for beg, end in sorted(spans):
            if merged and beg <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([beg, end])
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
                (cds.beg, cds.end)
                for tr in contig.transcripts
                if tr.coding and tr.cds_indexed
                for cds in tr.cds
            ]
        )


@dataclass(frozen=True, slots=True)
class _Packed:
    """Lines of a chunk held back, compressed: a held transcript may span a million lines."""

    first_line_no: int
    text: bytes
    bytes_read: int

    @classmethod
    def of(cls, chunk: RawChunk, start: int, stop: int) -> _Packed:
        text = zlib.compress(b"\n".join(chunk.lines[start:stop]), 1)
        return cls(chunk.first_line_no + start, text, chunk.bytes_read)

    def unpack(self) -> RawChunk:
        lines = zlib.decompress(self.text).split(b"\n")
        return RawChunk(self.first_line_no, lines, self.bytes_read)


def _haplotypes(rest: bytes) -> Genotypes:
    """The genotypes of the columns after INFO, when FORMAT leads with GT (else none)."""
    columns = rest.split(b"\t")  # QUAL, FILTER, INFO, FORMAT, samples...
    if len(columns) < 5 or columns[3].split(b":", 1)[0] != b"GT":
        return ()
    return parse_genotypes([column.decode() for column in columns[4:]])
