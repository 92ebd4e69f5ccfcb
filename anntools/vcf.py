"""Streaming VCF input: line checks with line numbers, record parsing by htslib (cyvcf2).

Why two layers: htslib parses fields and genotypes fast and correctly, but it
stops at the first malformed record and cannot say which line it was. So this
module reads the raw lines itself (plain, gzip or bgzip), keeps line numbers
and byte progress, sets aside lines that are not valid records with a reason,
and hands the valid ones to cyvcf2 in bounded chunks. Memory stays flat: at most
one chunk of lines is held at a time.

Coordinates: ``Record.pos`` is VCF's 1-based position.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import cyvcf2
import numpy as np

from anntools.errors import AnnotationError

MAX_LINE_BYTES = 8 * 1024 * 1024
READ_BLOCK_BYTES = 1024 * 1024
CHUNK_RECORDS = 20_000
CHUNK_BYTES = 8 * 1024 * 1024
FIXED_COLUMNS = ("#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")

_BASES = re.compile(r"[ACGTNacgtn]+")
_SYMBOLIC = re.compile(r"<[^<>,\s]+>")
_BREAKEND = re.compile(r"[ACGTNacgtn]*[\[\]][^\s,]+[\[\]][ACGTNacgtn]*|\.?[ACGTNacgtn]+\.?")
_CONTIG = re.compile(r"##contig=<.*?ID=([^,>]+).*?(?:length=(\d+))?.*>")

ProgressCallback = Callable[[int, int, int], None]
"""Called as ``progress(records_done, bytes_read, bytes_total)``."""


def _silence_htslib() -> None:
    """Turn off htslib's stderr chatter (undeclared contigs, dummy INFO types).

    Our own checks report what matters, with line numbers; htslib's warnings
    would only reach the worker's log as noise. cyvcf2 links htslib statically
    and exports its symbols, so the switch is reached through its module file.
    """
    with contextlib.suppress(OSError, AttributeError):  # no such symbol: keep the noise
        ctypes.CDLL(cyvcf2.cyvcf2.__file__).hts_set_log_level(0)


_silence_htslib()


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


@dataclass(slots=True)
class Genotypes:
    """Genotype tallies of one record over its samples.

    ``allele_counts[i]`` counts called copies of allele i (0 = REF) over all
    samples; ``called`` counts samples with no missing allele.
    """

    called: int
    het: int
    hom_alt: int
    allele_counts: list[int]


@dataclass(slots=True)
class Record:
    """One valid data line. ``columns`` are the raw text fields, kept for output."""

    line_no: int
    columns: list[str]
    chrom: str
    pos: int
    ref: str
    alts: list[str]
    info_ac: list[int] | None
    info_an: int | None
    genotypes: Genotypes | None


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A line set aside (``skipped``) or kept with a warning."""

    line_no: int
    reason: str
    skipped: bool = True


@dataclass(slots=True)
class ReadStats:
    records: int = 0
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return sum(1 for p in self.problems if p.skipped)


class VcfReader:
    """Reads one VCF file; iterate ``records()`` once.

    Lines that are not valid records are recorded in ``stats.problems`` and
    not returned. Fatal problems (not a VCF, no header, a truncated or corrupt
    gzip stream) raise AnnotationError naming the line.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        progress: ProgressCallback | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        self.path = Path(path)
        self.bytes_total = self.path.stat().st_size
        self.stats = ReadStats()
        self._progress = progress
        self._max_line_bytes = max_line_bytes
        self._raw: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self._text = self._open_decompressed(self._raw)
        self._line_no = 0  # the last line handed out by _next_line
        self._lines_seen = 0  # lines split off so far
        self._chunk_start = 0
        self._carry: list[bytes] = []
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
            return self._text.read(READ_BLOCK_BYTES)
        except EOFError as exc:
            raise AnnotationError(
                f"the compressed file ends early, after line {self._line_no}: "
                "it is truncated; upload it again"
            ) from exc
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise AnnotationError(
                f"the compressed data is corrupt after line {self._line_no} ({exc})"
            ) from exc

    def _raw_batches(self) -> Iterator[list[bytes]]:
        """Lists of lines without line ends, one list per block read (fast: no per-line I/O).

        A line longer than the limit is counted, reported and replaced by b""
        without ever being held whole: its bytes are skipped up to its newline.
        """
        pending, skipping, limit = b"", False, self._max_line_bytes
        while block := self._read_block():
            if skipping:
                cut = block.find(b"\n")
                if cut < 0:
                    continue
                block, skipping = block[cut + 1 :], False
            pieces = (pending + block if pending else block).split(b"\n")
            pending = pieces.pop()
            yield self._clean(pieces)
            if len(pending) > limit:
                pending, skipping = b"", True
                yield self._clean([b"\0" * (limit + 1)])  # stands for the over-long line
        if pending:
            yield self._clean([pending])

    def _clean(self, lines: list[bytes]) -> list[bytes]:
        first_line_no = self._lines_seen + 1
        self._lines_seen += len(lines)
        if lines and max(map(len, lines)) > self._max_line_bytes:
            for index, line in enumerate(lines):
                if len(line) > self._max_line_bytes:
                    reason = f"line longer than the limit of {self._max_line_bytes:,} bytes"
                    self.stats.problems.append(LineProblem(first_line_no + index, reason))
                    lines[index] = b""
        if any(line.endswith(b"\r") for line in lines):
            lines = [line.rstrip(b"\r") for line in lines]
        return lines

    def _next_line(self) -> bytes | None:
        """The next line, for the header; records are taken in chunks by ``raw_chunks``."""
        while not self._carry:
            batch = next(self._batches, None)
            if batch is None:
                return None
            self._carry = batch
        self._line_no += 1
        return self._carry.pop(0)

    def raw_chunks(self) -> Iterator[RawChunk]:
        """The record lines after the header, in chunks of whole read blocks."""
        first_line_no = self._line_no + 1
        lines, self._carry = self._carry, []
        for batch in self._batches:
            lines += batch
            if len(lines) >= CHUNK_RECORDS or self.bytes_read - self._chunk_start >= CHUNK_BYTES:
                yield RawChunk(first_line_no, lines, self.bytes_read)
                first_line_no += len(lines)
                lines, self._chunk_start = [], self.bytes_read
        if lines:
            yield RawChunk(first_line_no, lines, self.bytes_read)

    def records(self) -> Iterator[Record]:
        """Valid records in file order, parsed here in bounded chunks.

        Problems go to ``stats.problems`` (in line order once iteration ends).
        """
        order = OrderChecker()
        with tempfile.TemporaryDirectory(prefix="anntools-") as tmp:
            parser = ChunkParser(self.header, Path(tmp))
            for chunk in self.raw_chunks():
                parsed = parser.parse(chunk)
                self.stats.problems += parsed.problems + order.merge(parsed.runs)
                self.stats.records += len(parsed.records)
                yield from parsed.records
                if self._progress is not None:
                    self._progress(self.stats.records, chunk.bytes_read, self.bytes_total)
        self.stats.problems.sort(key=lambda problem: problem.line_no)

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
        meta = [text]
        while True:
            line = self._next_line()
            if line is None:
                raise AnnotationError("the file ends before the '#CHROM' header line")
            text = self._decode(line)
            if text is None:
                raise AnnotationError("header line is not UTF-8 text", self._line_no)
            if text.startswith("##"):
                meta.append(text)
                continue
            if not text.startswith("#CHROM"):
                raise AnnotationError(
                    "expected the '#CHROM' header line before any record", self._line_no
                )
            return self._parse_column_line(meta, text)

    def _parse_column_line(self, meta: list[str], text: str) -> Header:
        columns = text.split("\t")
        if tuple(columns[:8]) != FIXED_COLUMNS:
            raise AnnotationError(
                "the '#CHROM' line must be tab-separated: " + "\t".join(FIXED_COLUMNS),
                self._line_no,
            )
        samples = columns[9:] if len(columns) > 9 else []
        return Header(
            meta_lines=meta,
            column_line=text,
            samples=samples,
            version=meta[0].split("=", 1)[1].strip(),
            contig_lengths=_contig_lengths(meta),
        )


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


@dataclass(slots=True)
class ParsedChunk:
    records: list[Record]
    problems: list[LineProblem]
    runs: list[ChromRun]


class ChunkParser:
    """Turns raw chunks into records: line checks here, fields and genotypes by htslib.

    Holds no state between chunks except caches, so chunks can be parsed in
    any process; ordering across chunks is checked by OrderChecker.
    """

    def __init__(self, header: Header, workdir: Path) -> None:
        self._n_columns = len(header.column_line.split("\t"))
        self._has_samples = bool(header.samples)
        self._path = workdir / f"chunk-{os.getpid()}.vcf"
        self._header_text = "\n".join([*header.meta_lines, header.column_line]) + "\n"
        self._good_refs: set[str] = set()
        self._good_alts: set[str] = set()

    def parse(self, chunk: RawChunk) -> ParsedChunk:
        problems: list[LineProblem] = []
        candidates: list[tuple[int, str, list[str]]] = []
        order = _RunTracker(problems)
        line_no = chunk.first_line_no - 1
        for raw in chunk.lines:
            line_no += 1
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(LineProblem(line_no, "not UTF-8 text"))
                continue
            columns = text.split("\t")
            problem = self._problem(columns)
            if problem is not None:
                problems.append(LineProblem(line_no, problem))
                continue
            order.add(line_no, columns[0], int(columns[1]))
            candidates.append((line_no, text, columns))
        return ParsedChunk(
            self._parse_fields(candidates, problems), problems, order.finished_runs()
        )

    def first_valid_chrom(self, chunk: RawChunk) -> str | None:
        """CHROM of the chunk's first line that passes the line checks."""
        for raw in chunk.lines:
            if raw.strip():
                columns = raw.decode("utf-8", errors="replace").split("\t")
                if self._problem(columns) is None:
                    return columns[0]
        return None

    def _problem(self, columns: list[str]) -> str | None:
        """Why a split line is not a valid record, or None; known-good alleles are cached."""
        if len(columns) != self._n_columns:
            return (
                f"{len(columns)} tab-separated columns, expected {self._n_columns} "
                "as in the '#CHROM' line"
            )
        if not columns[1].isdigit() or int(columns[1]) < 1:
            return f"POS {columns[1]!r} is not a positive integer"
        ref, alts = columns[3], columns[4]
        if ref not in self._good_refs:
            if not _BASES.fullmatch(ref):
                return f"REF {_clip(ref)!r} has characters other than A, C, G, T, N"
            _remember(self._good_refs, ref)
        if alts not in self._good_alts:
            for alt in alts.split(","):
                if not _valid_alt(alt):
                    return f"ALT allele {_clip(alt)!r} is not bases, '*', '.', <ID> or a breakend"
            _remember(self._good_alts, alts)
        return None

    def _parse_fields(
        self, candidates: list[tuple[int, str, list[str]]], problems: list[LineProblem]
    ) -> list[Record]:
        records: list[Record] = []
        pending = candidates
        while pending:
            done = 0
            try:
                for variant in self._htslib(pending):
                    line_no, _, columns = pending[done]
                    records.append(_record(line_no, columns, variant, self._has_samples))
                    done += 1
                pending = []
            except Exception as exc:  # htslib refused a line our checks let through
                problems.append(LineProblem(pending[done][0], f"htslib cannot parse it ({exc})"))
                pending = pending[done + 1 :]
        return records

    def _htslib(self, lines: list[tuple[int, str, list[str]]]) -> Iterator[Any]:
        """cyvcf2 variants for the lines, through a small file htslib can open."""
        body = "\n".join(text for _, text, _ in lines)
        self._path.write_text(self._header_text + body + "\n", encoding="utf-8")
        reader = cyvcf2.VCF(str(self._path), strict_gt=False)
        try:
            yield from reader
        finally:
            reader.close()


_CACHE_LIMIT = 100_000


def _remember(cache: set[str], value: str) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache.add(value)


class _RunTracker:
    """Chromosome runs of one chunk, with a warning for each position that goes backwards."""

    def __init__(self, problems: list[LineProblem]) -> None:
        self.runs: list[ChromRun] = []
        self._problems = problems
        self._chrom = ""
        self._max_pos = 0

    def add(self, line_no: int, chrom: str, pos: int) -> None:
        if chrom == self._chrom:
            if pos < self._max_pos:
                warning = f"unsorted: {chrom}:{pos} comes after {chrom}:{self._max_pos} (kept)"
                self._problems.append(LineProblem(line_no, warning, skipped=False))
            else:
                self._max_pos = pos
            return
        self._close_run()
        self._chrom, self._max_pos = chrom, pos
        self.runs.append(ChromRun(chrom, line_no, pos, pos))

    def _close_run(self) -> None:
        if self.runs:
            last = self.runs[-1]
            self.runs[-1] = ChromRun(last.chrom, last.first_line_no, last.first_pos, self._max_pos)

    def finished_runs(self) -> list[ChromRun]:
        self._close_run()
        return self.runs


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


def _record(line_no: int, columns: list[str], variant: Any, has_samples: bool) -> Record:
    # CHROM, POS, REF and ALT are the checked text columns htslib has just parsed
    # the same way; taking them from the list saves four calls into cyvcf2.
    info = columns[7]
    ac, an = _info_counts(variant) if "AC=" in info or "AN=" in info else (None, None)
    return Record(
        line_no=line_no,
        columns=columns,
        chrom=columns[0],
        pos=int(columns[1]),
        ref=columns[3],
        alts=columns[4].split(","),
        info_ac=ac,
        info_an=an,
        genotypes=_genotypes(variant) if has_samples else None,
    )


def _info_counts(variant: Any) -> tuple[list[int] | None, int | None]:
    """INFO AC and AN as integers; old files declare them as strings or not at all."""
    info = variant.INFO
    ac, an = info.get("AC"), info.get("AN")
    try:
        ac_list = None if ac is None else [int(x) for x in str(ac).strip("()").split(",") if x]
        an_int = None if an is None else int(an)
    except ValueError:
        return None, None
    return ac_list, an_int


def _genotypes(variant: Any) -> Genotypes | None:
    """Tallies from htslib's genotypes; cyvcf2 counts called/het/hom-alt in C."""
    if variant.genotype is None:
        return None
    n_alleles = 1 + len(variant.ALT)
    if len(variant.gt_types) <= _SMALL_COHORT:
        counts = _allele_counts_small(variant.genotypes, n_alleles)
    else:
        counts = _allele_counts_large(variant.genotype.array(), n_alleles)
    return Genotypes(
        called=variant.num_called,
        het=variant.num_het,
        hom_alt=variant.num_hom_alt,
        allele_counts=counts,
    )


# Below this many samples, plain lists beat numpy's per-call overhead.
_SMALL_COHORT = 16


def _allele_counts_small(genotypes: list[list[Any]], n_alleles: int) -> list[int]:
    """Allele counts over fully called samples; each genotype ends with its phase flag."""
    counts = [0] * n_alleles
    for genotype in genotypes:
        alleles = genotype[:-1]
        if alleles and min(alleles) >= 0:
            for allele in alleles:
                if allele < n_alleles:
                    counts[allele] += 1
    return counts


def _allele_counts_large(array: Any, n_alleles: int) -> list[int]:
    """The same with numpy (-1 = missing allele, -2 = padding for lower ploidy)."""
    alleles = array[:, :-1]
    called_rows = ~(alleles == -1).any(axis=1) & (alleles >= 0).any(axis=1)
    called = alleles[called_rows]
    counts = np.bincount(called[called >= 0], minlength=n_alleles)
    return [int(c) for c in counts[:n_alleles]]
