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

from collections.abc import Iterator

from anntools.csq.engine import RefMismatch, TranscriptAnnotator, check_ref
from anntools.csq.haplotype import AlleleCalls, PhasedRecord, haplotype_overrides, parse_genotypes
from anntools.vcf import RawChunk

Overrides = dict[int, AlleleCalls]


class HaplotypeBuffer:
    """Holds the lines a transcript's haplotypes may still change, releases the rest."""

    def __init__(self, annotator: TranscriptAnnotator) -> None:
        self.annotator = annotator
        self._pending: list[RawChunk] = []  # read, not yet released (from the first held line)
        self._held: list[tuple[int, PhasedRecord]] = []  # (line number, record) in coding reach
        self._chrom = ""
        self._reach = -1  # last base (0-based) of the transcripts the held records touch
        self._overrides: Overrides = {}

    def feed(self, chunk: RawChunk) -> Iterator[tuple[RawChunk, Overrides]]:
        """The lines that can be annotated now, in file order, with their overrides."""
        cut = None  # index of the first line after the last point where nothing was held
        for i, raw in enumerate(chunk.lines):
            record = _coding_candidate(raw)
            if record is None:
                continue
            chrom, beg = record[0], record[1] - 1
            if self._held and (chrom != self._chrom or beg > self._reach):
                self._resolve()
                cut = i
            self._hold(chunk.first_line_no + i, record)
        if not self._held:
            cut = len(chunk.lines)
        if cut is None:
            self._pending.append(chunk)
            return
        if cut:
            self._pending.append(_lines(chunk, 0, cut))
        yield from self._release()
        if cut < len(chunk.lines):
            self._pending.append(_lines(chunk, cut, len(chunk.lines)))

    def finish(self) -> Iterator[tuple[RawChunk, Overrides]]:
        """Everything still held, at the end of the input."""
        self._resolve()
        yield from self._release()

    def _hold(self, line_no: int, fields: tuple[str, int, str, str, list[bytes]]) -> None:
        chrom, pos, ref, alts, samples = fields
        contig = self.annotator.contig(chrom)
        if contig is None:
            return
        beg, end = pos - 1, pos - 1 + len(ref)
        reach = [
            tr.end
            for tr in contig.candidates(beg, end)
            if tr.coding and tr.cds_indexed and tr.cds_index.overlapping(beg, end)
        ]
        if not reach:
            return
        try:
            check_ref(contig, beg, ref.upper())
            haplotypes = parse_genotypes([s.decode() for s in samples]) if samples else ()
        except (RefMismatch, ValueError, UnicodeDecodeError):
            return  # the record loop reports the line; it takes no part in haplotypes
        record = PhasedRecord(chrom, pos, ref, tuple(alts.split(",")), haplotypes)
        if not self._held:
            self._chrom, self._reach = chrom, -1
        self._held.append((line_no, record))
        self._reach = max(self._reach, *reach)

    def _resolve(self) -> None:
        if not self._held:
            return
        records = [record for _, record in self._held]
        for index, calls in haplotype_overrides(self.annotator, records).items():
            self._overrides[self._held[index][0]] = calls
        self._held = []

    def _release(self) -> Iterator[tuple[RawChunk, Overrides]]:
        for chunk in self._pending:
            last = chunk.first_line_no + len(chunk.lines)
            mine = {n: c for n, c in self._overrides.items() if chunk.first_line_no <= n < last}
            for line_no in mine:
                del self._overrides[line_no]
            yield chunk, mine
        self._pending = []


def _lines(chunk: RawChunk, start: int, stop: int) -> RawChunk:
    return RawChunk(chunk.first_line_no + start, chunk.lines[start:stop], chunk.bytes_read)


def _coding_candidate(raw: bytes) -> tuple[str, int, str, str, list[bytes]] | None:
    """(chrom, pos, ref, alts, sample columns) of a record line with a GT-led FORMAT or no
    samples; None for anything else (the record loop checks and reports lines)."""
    if not raw or raw[:1] == b"#":
        return None
    columns = raw.split(b"\t")
    if len(columns) < 8 or not columns[1].isdigit():
        return None
    samples = columns[9:] if len(columns) > 9 and columns[8].split(b":", 1)[0] == b"GT" else []
    try:
        chrom, ref, alts = (columns[k].decode() for k in (0, 3, 4))
    except UnicodeDecodeError:
        return None
    return chrom, int(columns[1]), ref, alts, samples
