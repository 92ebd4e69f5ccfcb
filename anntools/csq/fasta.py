"""Random access to a FASTA reference without writing anything next to it.

Uses the ``.fai`` index when one exists beside the file, otherwise builds the
same index in memory; plain files are memory-mapped, gzip files are read into
memory. Coordinates are 0-based, half-open; bases outside a contig read as N.
"""

from __future__ import annotations

import gzip
import mmap
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path


@dataclass(frozen=True, slots=True)
class _FaiEntry:
    length: int
    offset: int
    line_bases: int
    line_width: int


class FastaReader:
    """Upper-case sequence slices of the contigs of one FASTA file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._in_memory: dict[str, str] = {}
        self._index: dict[str, _FaiEntry] = {}
        self._mmap: mmap.mmap | None = None
        if self.path.suffix == ".gz":
            self._in_memory = _read_all(self.path)
        else:
            self._index = _read_fai(self.path) or _build_fai(self.path)
            with open(self.path, "rb") as handle:
                self._mmap = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    @property
    def names(self) -> list[str]:
        """Contig names, in file order."""
        return list(self._in_memory or self._index)

    def length(self, name: str) -> int:
        """Length of a contig in bases."""
        if self._in_memory:
            return len(self._in_memory[name])
        return self._index[name].length

    def fetch(self, name: str, start: int, end: int) -> str:
        """Bases ``[start, end)`` (0-based, half-open) of ``name``, N-padded outside the contig."""
        if end <= start:
            return ""
        length = self.length(name)
        inner_start, inner_end = max(start, 0), min(end, length)
        if inner_start >= inner_end:
            return "N" * (end - start)
        left = "N" * (inner_start - start)
        right = "N" * (end - inner_end)
        return left + self._fetch_inside(name, inner_start, inner_end) + right

    def fetcher(self, name: str) -> Callable[[int, int], str]:
        """``fetch`` bound to one contig: the same slices, without the per-call name lookups.

        The annotator reads a few short slices per variant, so the lookups
        ``fetch`` repeats (contig length, index entry) are worth doing once.
        """
        if self._in_memory:
            return partial(self.fetch, name)
        entry, data = self._index[name], self._mmap
        assert data is not None
        length, offset, line_bases, line_width = (
            entry.length,
            entry.offset,
            entry.line_bases,
            entry.line_width,
        )
        has_breaks = line_width != line_bases

        def fetch(start: int, end: int) -> str:
            if start < 0 or end > length or start >= end:
                return self.fetch(name, start, end)  # empty, or N-padded: the general case
            first = offset + (start // line_bases) * line_width + start % line_bases
            last = offset + (end // line_bases) * line_width + end % line_bases
            raw = data[first:last]
            if has_breaks:
                raw = raw.replace(b"\n", b"").replace(b"\r", b"")
            return raw.decode("ascii").upper()

        return fetch

    def _fetch_inside(self, name: str, start: int, end: int) -> str:
        if self._in_memory:
            return self._in_memory[name][start:end]
        entry = self._index[name]
        assert self._mmap is not None
        first = (
            entry.offset + (start // entry.line_bases) * entry.line_width + start % entry.line_bases
        )
        last = entry.offset + (end // entry.line_bases) * entry.line_width + end % entry.line_bases
        raw = self._mmap[first:last]
        if entry.line_width != entry.line_bases:
            raw = raw.replace(b"\n", b"").replace(b"\r", b"")
        return raw.decode("ascii").upper()


def _read_fai(path: Path) -> dict[str, _FaiEntry]:
    fai = Path(str(path) + ".fai")
    if not fai.exists() or fai.stat().st_mtime < path.stat().st_mtime:
        return {}
    index: dict[str, _FaiEntry] = {}
    for line in fai.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) >= 5:
            index[fields[0]] = _FaiEntry(*(int(value) for value in fields[1:5]))
    return index


def _build_fai(path: Path) -> dict[str, _FaiEntry]:
    """The samtools faidx index of ``path``, computed in memory (one pass over the file)."""
    index: dict[str, _FaiEntry] = {}
    name = ""
    length = offset = line_bases = line_width = 0
    position = 0
    with open(path, "rb") as handle:
        for line in handle:
            if line.startswith(b">"):
                if name:
                    index[name] = _FaiEntry(length, offset, line_bases, line_width)
                name = line[1:].split()[0].decode() if line[1:].split() else ""
                length = line_bases = line_width = 0
                offset = position + len(line)
            else:
                bases = len(line.rstrip(b"\r\n"))
                if line_bases == 0 and bases:
                    line_bases, line_width = bases, len(line)
                length += bases
            position += len(line)
    if name:
        index[name] = _FaiEntry(length, offset, line_bases or 1, line_width or 1)
    return index


def _read_all(path: Path) -> dict[str, str]:
    contigs: dict[str, list[str]] = {}
    current: list[str] = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith(">"):
                current = contigs.setdefault(line[1:].split()[0], [])
            else:
                current.append(line.strip().upper())
    return {name: "".join(parts) for name, parts in contigs.items()}
