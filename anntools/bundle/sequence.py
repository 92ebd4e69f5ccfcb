"""A full bundle's genome sequence: any FASTA in, one plain indexed FASTA out.

The input may be plain, gzip or bgzip (bgzip is gzip with many members, which
Python's gzip reads as one stream), so no index needs writing next to it.
The bundle keeps the sequence uncompressed, wrapped at 60 bases, with a
samtools-style ``.fai``: the annotator memory-maps it (anntools.csq.fasta),
so forked workers share the pages and a lookup decompresses nothing.

A FASTA that ends early (a cut bgzip/gzip stream, or a ``.fai`` beside the
input that promises more bases than the file holds) stops the build with a
BundleError.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from anntools.bundle.format import BundleError

LINE_BASES = 60
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class FaiEntry:
    """One ``.fai`` row: name, length, byte offset of the first base, bases and bytes a line."""

    name: str
    length: int
    offset: int
    line_bases: int = LINE_BASES
    line_width: int = LINE_BASES + 1

    def line(self) -> str:
        return f"{self.name}\t{self.length}\t{self.offset}\t{self.line_bases}\t{self.line_width}\n"


def copy_fasta(source: Path, target: Path) -> dict[str, int]:
    """Write ``source`` as a plain FASTA at ``target`` with ``target.fai``; returns the lengths.

    Raises BundleError for an unreadable, empty, cut or duplicated-contig FASTA.
    """
    entries: list[FaiEntry] = []
    try:
        with open_text(source) as lines, open(target, "w", encoding="ascii") as out:
            entries = _write_wrapped(lines, out, source)
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise BundleError(f"cannot read FASTA {source}: {_reason(error)}") from None
    if not entries:
        raise BundleError(f"FASTA {source} holds no sequence (no '>' header lines)")
    lengths = {entry.name: entry.length for entry in entries}
    _check_against_index(source, lengths)
    Path(f"{target}.fai").write_text("".join(entry.line() for entry in entries))
    return lengths


def _reason(error: BaseException) -> str:
    if isinstance(error, EOFError):
        return "the compressed file ends early (truncated download?)"
    return str(error) or type(error).__name__


def open_text(path: Path) -> IO[str]:
    """A text file, plain or gzip/bgzip (told by its first bytes, not its name)."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == _GZIP_MAGIC
    if compressed:
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _write_wrapped(lines: IO[str], out: IO[str], source: Path) -> list[FaiEntry]:
    """Copy contigs, rewrapping their bases; returns their index entries in file order."""
    entries: list[FaiEntry] = []
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

    def __init__(self, name: str, out: IO[str]) -> None:
        self.name = name
        self.out = out
        out.write(f">{name}\n")
        self.offset = out.tell()
        self.length = 0
        self.carry = ""

    def add(self, bases: str) -> None:
        self.carry += bases
        whole = len(self.carry) - len(self.carry) % LINE_BASES
        for start in range(0, whole, LINE_BASES):
            self.out.write(self.carry[start : start + LINE_BASES] + "\n")
        self.length += whole
        self.carry = self.carry[whole:]

    def finish(self) -> FaiEntry:
        if self.carry:
            self.out.write(self.carry + "\n")
            self.length += len(self.carry)
        if self.length == 0:
            raise BundleError(f"FASTA contig {self.name!r} has no bases")
        return FaiEntry(self.name, self.length, self.offset)


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
