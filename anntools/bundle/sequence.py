"""A full bundle's genome sequence: any FASTA in, one bgzipped, indexed FASTA out.

The input may be plain, gzip or bgzip (bgzip is gzip with many members, which
Python's gzip reads as one stream), so no index needs writing next to it and a
plain gzip file is simply recompressed. The bundle keeps the sequence
bgzip-compressed, wrapped at 60 bases, with samtools' ``.fai`` and ``.gzi``
indexes (written by pysam): a GRCh38 genome takes about 1 GB instead of 3.1 GB.
:class:`BgzfFastaReader` reads it through pysam (htslib's faidx).

A FASTA that ends early (a cut bgzip/gzip stream, or a ``.fai`` beside the
input that promises more bases than the file holds) stops the build with a
BundleError.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

import pysam
from pysam.libcbgzf import BGZFile

from anntools.bundle.format import BundleError
from anntools.csq.fasta import FastaReader

LINE_BASES = 60
_GZIP_MAGIC = b"\x1f\x8b"
# zlib level 1: on DNA, level 6 (bgzip's default) compresses 8 times slower (8 MB/s) for a
# file only 11% smaller. The BGZFile stubs list no levelled modes, which htslib takes.
BGZF_WRITE_MODE: Any = "wb1"
_BGZF_HEADER_BYTES = 18
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


@dataclass(frozen=True, slots=True)
class Contig:
    """One contig written: its name and length."""

    name: str
    length: int


def copy_fasta(source: Path, target: Path) -> dict[str, int]:
    """Write ``source`` bgzipped at ``target`` with ``target.fai`` and ``target.gzi``; returns
    the contig lengths.

    Raises BundleError for an unreadable, empty, cut or duplicated-contig FASTA.
    """
    entries: list[Contig] = []
    try:
        with open_text(source) as lines, BGZFile(str(target), BGZF_WRITE_MODE, None) as out:
            entries = _write_wrapped(lines, out, source)
    except (OSError, EOFError, zlib.error, UnicodeError) as error:
        raise BundleError(f"cannot read FASTA {source}: {_reason(error)}") from None
    if not entries:
        raise BundleError(f"FASTA {source} holds no sequence (no '>' header lines)")
    lengths = {entry.name: entry.length for entry in entries}
    _check_against_index(source, lengths)
    pysam.faidx(str(target))  # writes target.fai and target.gzi
    return lengths


def _reason(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "the compressed file ends early (truncated download?)"
    return str(error) or type(error).__name__


def open_text(path: Path) -> IO[str]:
    """A text file, plain or gzip/bgzip (told by its first bytes, not its name).

    Raises EOFError for a bgzip file without its end-of-file block: cut at a block
    boundary, it would otherwise read as a whole, shorter file.
    """
    with open(path, "rb") as probe:
        head = probe.read(_BGZF_HEADER_BYTES)
        if _is_bgzf(head):
            probe.seek(max(0, path.stat().st_size - len(_BGZF_EOF)))
            if probe.read() != _BGZF_EOF:
                raise EOFError(f"{path.name} lacks bgzip's end-of-file block")
    if head[:2] == _GZIP_MAGIC:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _is_bgzf(head: bytes) -> bool:
    """A BGZF block header: gzip with the FEXTRA flag and the ``BC`` subfield first."""
    return head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def _write_wrapped(lines: IO[str], out: BGZFile, source: Path) -> list[Contig]:
    """Copy contigs, rewrapping their bases; returns them in file order."""
    entries: list[Contig] = []
    contig: _ContigWriter | None = None
    for line in lines:
        if line.startswith(">"):
            if contig is not None:
                entries.append(contig.finish())
            contig = _ContigWriter(_contig_name(line, source), out)
        elif contig is not None:
            contig.add(line.strip())
        elif line.strip():
            raise BundleError(f"{source} is not a FASTA file (it does not start with '>')")
    if contig is not None:
        entries.append(contig.finish())
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise BundleError(f"FASTA {source} holds contig {twice[0]!r} more than once")
    return entries


def _contig_name(header: str, source: Path) -> str:
    fields = header[1:].split()
    if not fields:
        raise BundleError(f"FASTA {source} has a '>' line without a contig name")
    return fields[0]


class _ContigWriter:
    """Writes one contig's bases LINE_BASES a line, whatever the input's wrapping."""

    def __init__(self, name: str, out: BGZFile) -> None:
        self.name = name
        self.out = out
        out.write(f">{name}\n".encode())
        self.length = 0
        self.carry = ""

    def add(self, bases: str) -> None:
        self.carry += bases
        whole = len(self.carry) - len(self.carry) % LINE_BASES
        if whole:
            carry, step = self.carry, LINE_BASES
            self._write("\n".join(carry[start : start + step] for start in range(0, whole, step)))
        self.length += whole
        self.carry = self.carry[whole:]

    def _write(self, line: str) -> None:
        self.out.write(line.encode("ascii") + b"\n")

    def finish(self) -> Contig:
        if self.carry:
            self._write(self.carry)
            self.length += len(self.carry)
        if self.length == 0:
            raise BundleError(f"FASTA contig {self.name!r} has no bases")
        return Contig(self.name, self.length)


def _check_against_index(source: Path, lengths: dict[str, int]) -> None:
    """A ``.fai`` beside the input names each contig's length: fewer bases means a cut file."""
    fai = Path(f"{source}.fai")
    if not fai.is_file():
        return
    for line in fai.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 2 or not fields[1].isdigit():
            continue
        name, expected = fields[0], int(fields[1])
        found = lengths.get(name)
        if found is None or found < expected:
            raise BundleError(
                f"FASTA {source} is truncated: its index {fai.name} gives {name} "
                f"{expected:,} bases, the file holds {found or 0:,}"
            )


class BgzfFastaReader(FastaReader):
    """Upper-case slices of a bgzipped FASTA with its ``.fai`` and ``.gzi``, through pysam.

    Coordinates as FastaReader's: 0-based, half-open, N outside a contig. A
    variant needs a few short slices, near it and at its transcript's exons, so
    the reader keeps the blocks of BLOCK bases it read last (CACHED_BLOCKS of
    them, 4 MB) and slices them in Python: most lookups call no htslib at all.
    Each process opens its own handle: htslib seeks it, so forked workers must
    not share the one their parent opened.
    """

    BLOCK = 1 << 15  # bases
    CACHED_BLOCKS = 128

    # FastaReader's __init__ is not called: it would read a compressed file into memory.
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._pid = os.getpid()
        self._file = self._open()
        self._lengths = dict(zip(self._file.references, self._file.lengths, strict=True))
        self._blocks: dict[tuple[str, int], str] = {}  # least recently used first

    def _open(self) -> pysam.FastaFile:
        try:
            return pysam.FastaFile(str(self.path))
        except (OSError, ValueError) as error:
            raise BundleError(f"cannot read the bundle's genome {self.path}: {error}") from None

    @property
    def names(self) -> list[str]:
        return list(self._lengths)

    def length(self, name: str) -> int:
        return self._lengths[name]

    def fetch(self, name: str, start: int, end: int) -> str:
        if end <= start:
            return ""
        length = self._lengths[name]
        inner_start, inner_end = max(start, 0), min(end, length)
        if inner_start >= inner_end:
            return "N" * (end - start)
        inside = self._inside(name, inner_start, inner_end, length)
        return "N" * (inner_start - start) + inside + "N" * (end - inner_end)

    def fetcher(self, name: str) -> Callable[[int, int], str]:
        return partial(self.fetch, name)

    def _inside(self, name: str, start: int, end: int, length: int) -> str:
        first, last = start // self.BLOCK, (end - 1) // self.BLOCK
        offset = first * self.BLOCK
        if first == last:
            return self._block(name, first, length)[start - offset : end - offset]
        if last - first > 2:  # a long stretch: read once, keep nothing
            return self._read(name, start, end)
        blocks = "".join(self._block(name, index, length) for index in range(first, last + 1))
        return blocks[start - offset : end - offset]

    def _block(self, name: str, index: int, length: int) -> str:
        key = (name, index)
        bases = self._blocks.pop(key, None)
        if bases is None:
            start = index * self.BLOCK
            bases = self._read(name, start, min(length, start + self.BLOCK))
            if len(self._blocks) >= self.CACHED_BLOCKS:
                del self._blocks[next(iter(self._blocks))]
        self._blocks[key] = bases  # now the most recently used
        return bases

    def _read(self, name: str, start: int, end: int) -> str:
        if os.getpid() != self._pid:  # a forked worker: its own handle
            self._pid, self._file = os.getpid(), self._open()
        return self._file.fetch(name, start, end).upper()
