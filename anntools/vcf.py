"""Streaming VCF input: raw lines with line numbers, checked, then parsed by htslib.

Why two layers: htslib parses fields and genotypes fast and correctly, but it
stops at the first malformed record and cannot say which line it was. So this
module reads the raw lines itself (plain, gzip or bgzip), keeps line numbers
and byte progress, and hands them on in bounded chunks; the record loop
(anntools.recordloop) sets aside lines that are not valid records, with the
reason ``line_problem`` gives, and has htslib parse each of the others.
Memory stays flat: at most one chunk of lines is held at a time.

Coordinates: ``Record.pos`` is VCF's 1-based position.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

from anntools.errors import AnnotationError, LimitExceeded
from anntools.recordloop import RecordLoop

if TYPE_CHECKING:
    from anntools._recordloop import SiteSource
    from anntools.csq import TranscriptAnnotator

MAX_LINE_BYTES = 8 * 1024 * 1024
# The '##' lines are kept (they are copied to the output), so they are bounded; human VCFs
# have hundreds, a few thousand with every alt contig.
MAX_HEADER_LINES = 200_000
MAX_HEADER_BYTES = 32 * 1024 * 1024
READ_BLOCK_BYTES = 1024 * 1024
CHUNK_RECORDS = 20_000
CHUNK_BYTES = 8 * 1024 * 1024
FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")

_BASES = re.compile(r"[ACGTNacgtn]+")
_SYMBOLIC = re.compile(r"<[^<>,\s]+>")
_BREAKEND = re.compile(r"[ACGTNacgtn]*[\[\]][^\s,]+[\[\]][ACGTNacgtn]*|\.?[ACGTNacgtn]+\.?")
_V3_INDEL = re.compile(r"D[0-9]+|I[ACGTNacgtn]+")  # VCFv3.3: deletion length, inserted bases
_CONTIG = re.compile(r"##contig=<.*?ID=([^,>]+).*?(?:length=(\d+))?.*>")

ProgressCallback = Callable[[int, int, int], None]
"""Called as ``progress(records_done, bytes_read, bytes_total)``."""


@dataclass(frozen=True, slots=True)
class Header:
    """The meta lines and the #CHROM line of a VCF."""

    meta_lines: list[str]
    column_line: str
    samples: list[str]
    version: str
    contig_lengths: dict[str, int]

    @property
    def line_count(self) -> int:
        return len(self.meta_lines) + 1

    @property
    def n_columns(self) -> int:
        return len(self.column_line.split("\t"))

    @property
    def text(self) -> str:
        """The header as written: meta lines and the #CHROM line, each ending in a newline."""
        return "\n".join([*self.meta_lines, self.column_line]) + "\n"


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A line set aside (``skipped``) or kept with a warning."""

    line_no: int
    reason: str
    skipped: bool = True


@dataclass(slots=True)
class ReadStats:
    """What reading found before the record loop: lines too long to hold."""

    problems: list[LineProblem] = field(default_factory=list)


class VcfReader:
    """Reads one VCF file: the header, then its record lines once, by ``raw_chunks()``.

    The record loop (anntools.recordloop, run by anntools.runner) checks and
    parses those lines: it is the one way records are read. Lines too long to
    hold are recorded in ``stats.problems`` here and handed on empty. Fatal
    problems (not a VCF, no header, a truncated or corrupt gzip stream, a
    header past its bounds) raise AnnotationError naming the line; more than
    ``max_bytes`` of decompressed input raises LimitExceeded as soon as the
    reading passes it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        max_line_bytes: int = MAX_LINE_BYTES,
        max_bytes: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.bytes_total = self.path.stat().st_size
        self.bytes_decompressed = 0
        self.stats = ReadStats()
        self._max_line_bytes = max_line_bytes
        self._max_bytes = max_bytes
        self._raw: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self._text = self._open_decompressed(self._raw)
        self._line_no = 0  # the last line handed out by _next_line
        self._lines_seen = 0  # lines split off so far
        self._chunk_start = 0
        self._carry: list[bytes] = []
        self._carry_at = 0  # the next line of _carry that _next_line hands out
        self._batches = self._raw_batches()
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._text.close()
        self._raw.close()

    def __enter__(self) -> VcfReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _open_decompressed(raw: IO[bytes]) -> IO[bytes] | gzip.GzipFile:
        magic = raw.read(2)
        raw.seek(0)
        if magic == b"\x1f\x8b":  # gzip and bgzip (bgzip is multi-member gzip)
            return gzip.GzipFile(fileobj=raw, mode="rb")
        return raw

    @property
    def bytes_read(self) -> int:
        return self._raw.tell()

    def _read_block(self) -> bytes:
        try:
            block = self._text.read(READ_BLOCK_BYTES)
        except EOFError as exc:
            raise AnnotationError(
                f"the compressed file ends early, after line {self._line_no}: "
                "it is truncated; upload it again"
            ) from exc
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise AnnotationError(
                f"the compressed data is corrupt after line {self._line_no} ({exc})"
            ) from exc
        self.bytes_decompressed += len(block)
        if self._max_bytes is not None and self.bytes_decompressed > self._max_bytes:
            raise LimitExceeded(
                "max_bytes",
                self._max_bytes,
                f"the input is larger than the limit of {self._max_bytes:,} bytes "
                "(counted decompressed)",
            )
        return block

    def _raw_batches(self) -> Iterator[list[bytes] | BlankRun]:
        """Lists of lines without line ends, one list per block read (fast: no per-line I/O).

        A line longer than the limit is counted, reported and replaced by b""
        without ever being held whole: its bytes are skipped up to its newline.
        A block of nothing but whitespace is a BlankRun: its lines are counted,
        never split into a list (a gzip of newlines expands a thousandfold).
        """
        pending, skipping, limit = b"", False, self._max_line_bytes
        while block := self._read_block():
            if skipping:
                cut = block.find(b"\n")
                if cut < 0:
                    continue
                block, skipping = block[cut + 1 :], False
            text = pending + block if pending else block
            if not text.strip():
                pending = text[text.rfind(b"\n") + 1 :]
                yield self._blank_run(text.count(b"\n"))
                continue
            pieces = text.split(b"\n")
            pending = pieces.pop()
            yield self._clean(pieces, b"\r" in text, may_be_long=len(text) > limit)
            if len(pending) > limit:
                pending, skipping = b"", True
                yield self._clean([b""], False, too_long=0)  # stands for the over-long line
        if pending:
            yield self._clean([pending], b"\r" in pending)

    def _blank_run(self, count: int) -> BlankRun:
        self._lines_seen += count
        return BlankRun(count)

    def _clean(
        self,
        lines: list[bytes],
        has_cr: bool,
        too_long: int | None = None,
        may_be_long: bool = True,
    ) -> list[bytes]:
        """Lines with CR line ends stripped and over-long ones reported and emptied
        (``too_long`` is the index of a line already emptied for its length;
        ``may_be_long`` False skips measuring lines that cannot be too long)."""
        first_line_no = self._lines_seen + 1
        self._lines_seen += len(lines)
        reason = f"line longer than the limit of {self._max_line_bytes:,} bytes"
        if too_long is not None:
            self.stats.problems.append(LineProblem(first_line_no + too_long, reason))
        if may_be_long and lines and max(map(len, lines)) > self._max_line_bytes:
            for index, line in enumerate(lines):
                if len(line) > self._max_line_bytes:
                    self.stats.problems.append(LineProblem(first_line_no + index, reason))
                    lines[index] = b""
        if has_cr:
            lines = [line.rstrip(b"\r") for line in lines]
        return lines

    def _next_line(self) -> bytes | None:
        """The next line, for the header; records are taken in chunks by ``raw_chunks``."""
        while self._carry_at >= len(self._carry):
            batch = next(self._batches, None)
            if batch is None:
                return None
            # A blank run is bounded by the block size; the header check stops at its first line.
            self._carry = [b""] * batch.count if isinstance(batch, BlankRun) else batch
            self._carry_at = 0
        self._line_no += 1
        self._carry_at += 1
        return self._carry[self._carry_at - 1]

    def raw_chunks(self) -> Iterator[RawChunk]:
        """The record lines after the header, in chunks of whole read blocks."""
        first_line_no = self._line_no + 1
        lines, self._carry = self._carry[self._carry_at :], []
        for batch in self._batches:
            if isinstance(batch, BlankRun):  # ends the chunk: its lines are consecutive
                if lines:
                    yield RawChunk(first_line_no, lines, self.bytes_read)
                first_line_no += len(lines) + batch.count
                lines, self._chunk_start = [], self.bytes_read
                continue
            lines += batch
            if len(lines) >= CHUNK_RECORDS or self.bytes_read - self._chunk_start >= CHUNK_BYTES:
                yield RawChunk(first_line_no, lines, self.bytes_read)
                first_line_no += len(lines)
                lines, self._chunk_start = [], self.bytes_read
        if lines:
            yield RawChunk(first_line_no, lines, self.bytes_read)

    def _decode(self, line: bytes) -> str | None:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _read_header(self) -> Header:
        first = self._next_line()
        text = self._decode(first) if first is not None else None
        if text is None or not text.startswith("##fileformat=VCF"):
            raise AnnotationError(
                "not a VCF file: the first line must be '##fileformat=VCFv…'", line_no=1
            )
        meta, meta_bytes = [text], len(text)
        while True:
            line = self._next_line()
            if line is None:
                raise AnnotationError("the file ends before the '#CHROM' header line")
            text = self._decode(line)
            if text is None:
                raise AnnotationError("header line is not UTF-8 text", self._line_no)
            if text.startswith("##"):
                meta.append(text)
                meta_bytes += len(line)
                self._check_header_size(len(meta), meta_bytes)
                continue
            if not text.startswith("#CHROM"):
                raise AnnotationError(
                    "expected the '#CHROM' header line before any record", self._line_no
                )
            return self._parse_column_line(meta, text)

    def _check_header_size(self, lines: int, size: int) -> None:
        if lines > MAX_HEADER_LINES or size > MAX_HEADER_BYTES:
            raise AnnotationError(
                f"the header has more than {MAX_HEADER_LINES:,} '##' lines or "
                f"{MAX_HEADER_BYTES // 2**20} MiB of them, the limit",
                self._line_no,
            )

    def _parse_column_line(self, meta: list[str], text: str) -> Header:
        columns = text.split("\t")
        if tuple(columns[:8]) != FIXED_COLUMNS:
            raise AnnotationError(
                "the '#CHROM' line must be tab-separated: " + "\t".join(FIXED_COLUMNS),
                self._line_no,
            )
        samples = columns[9:] if len(columns) > 9 else []
        repeated = first_repeated(samples)
        if repeated is not None:
            raise AnnotationError(
                f"sample name {repeated!r} appears more than once in the '#CHROM' line",
                self._line_no,
            )
        return Header(
            meta_lines=meta,
            column_line=text,
            samples=samples,
            version=meta[0].split("=", 1)[1].strip(),
            contig_lengths=_contig_lengths(meta),
        )


@dataclass(frozen=True, slots=True)
class BlankRun:
    """``count`` consecutive lines of only whitespace: counted, never held."""

    count: int


@dataclass(frozen=True, slots=True)
class RawChunk:
    """Consecutive raw lines: ``lines[i]`` is line ``first_line_no + i`` of the file.

    A dropped over-long line is b"" (already reported). ``bytes_read`` is how far
    into the (compressed) file reading had got, for progress.
    """

    first_line_no: int
    lines: list[bytes]
    bytes_read: int


@dataclass(frozen=True, slots=True)
class ChromRun:
    """Consecutive records on one chromosome within a chunk (positions 1-based)."""

    chrom: str
    first_line_no: int
    first_pos: int
    max_pos: int


def record_loop(
    header: Header,
    sites: SiteSource | None = None,
    transcripts: TranscriptAnnotator | None = None,
) -> RecordLoop:
    """The compiled record loop for a file with this header (sources: see RecordLoop)."""
    check_line = partial(line_problem, n_columns=header.n_columns)
    try:
        return RecordLoop(header.text, check_line, sites, transcripts)
    except ValueError as exc:  # htslib refused a header our own checks let through
        raise AnnotationError(f"{exc}; check its ## lines") from exc


def line_problem(columns: list[str], n_columns: int) -> str | None:
    """Why a line split at its tabs is not a valid record, or None."""
    if len(columns) != n_columns:
        return f"{len(columns)} tab-separated columns, expected {n_columns} as in the '#CHROM' line"
    pos = columns[1]
    if not (pos.isascii() and pos.isdigit()) or int(pos) < 1:
        return f"POS {pos!r} is not a positive integer"
    ref, alts = columns[3], columns[4]
    if not _BASES.fullmatch(ref):
        return f"REF {_clip(ref)!r} has characters other than A, C, G, T, N"
    for alt in alts.split(","):
        if _V3_INDEL.fullmatch(alt):
            return (
                f"ALT allele {_clip(alt)!r} is VCFv3.3 indel notation (D<length>, I<bases>): "
                "rewrite it as VCFv4 bases, with the reference base before the indel in REF"
            )
        if not _valid_alt(alt):
            return f"ALT allele {_clip(alt)!r} is not bases, '*', '.', <ID> or a breakend"
    return None


def first_valid_chrom(lines: list[bytes], n_columns: int) -> str | None:
    """CHROM of the first line that passes the line checks (no htslib)."""
    for raw in filter(None, lines):  # skips empty lines at C speed (newline bombs)
        if raw.strip():
            columns = raw.decode("utf-8", errors="replace").split("\t")
            if line_problem(columns, n_columns) is None:
                return columns[0]
    return None


class OrderChecker:
    """Joins the chunks' chromosome runs to find records out of order across chunks."""

    def __init__(self) -> None:
        self._chrom = ""
        self._max_pos = 0
        self._finished: set[str] = set()

    def merge(self, runs: list[ChromRun]) -> list[LineProblem]:
        warnings = []
        for run in runs:
            if run.chrom == self._chrom:
                if run.first_pos < self._max_pos:
                    warnings.append(self._warning(run, f"comes after {run.chrom}:{self._max_pos}"))
                self._max_pos = max(self._max_pos, run.max_pos)
                continue
            if run.chrom in self._finished:
                warnings.append(self._warning(run, "appears again after other chromosomes"))
            if self._chrom:
                self._finished.add(self._chrom)
            self._chrom, self._max_pos = run.chrom, run.max_pos
        return warnings

    @staticmethod
    def _warning(run: ChromRun, what: str) -> LineProblem:
        reason = f"unsorted: {run.chrom}:{run.first_pos} {what} (kept)"
        return LineProblem(run.first_line_no, reason, skipped=False)


def first_repeated(names: list[str]) -> str | None:
    """The first name that appears a second time, or None (linear: a set of those seen)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


def _valid_alt(alt: str) -> bool:
    return (
        alt in ("*", ".")
        or _BASES.fullmatch(alt) is not None
        or _SYMBOLIC.fullmatch(alt) is not None
        or _BREAKEND.fullmatch(alt) is not None
    )


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _contig_lengths(meta: list[str]) -> dict[str, int]:
    lengths = {}
    for line in meta:
        if line.startswith("##contig="):
            match = _CONTIG.match(line)
            if match and match.group(2):
                lengths[match.group(1)] = int(match.group(2))
    return lengths
