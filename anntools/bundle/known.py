"""Known variants (rsIDs, ClinVar significance) from dbSNP- or ClinVar-format VCFs.

Both formats carry one variant per line with its alleles; dbSNP writes the
rsID in ID (``rs334``) and both write its number in ``INFO/RS``; ClinVar
writes its own variation id in ID and the significance in ``INFO/CLNSIG``.
Contig names are lifted to the bundle's (see ContigNamer), and every REF is
checked against the bundle's sequence: a VCF of another assembly (contig
lengths in its header that differ, positions past a contig's end, or many
REFs that disagree with the sequence) is refused with a BundleError.

Stored in the bundle as arrays sorted by contig, position and allele key::

    known_pos.npy     i8  1-based VCF POS
    known_key.npy     u8  allele_key(REF, ALT): 64 bits of a hash of "REF>ALT"
    known_rs.npy      u4  dbSNP number (0: none)
    known_clinvar.npy u2  index into manifest["known_variants"]["clinvar"] ("" at 0)

Lookups match position, REF and ALT exactly (upper case, as written in the VCF).
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from anntools.bundle.format import BundleError
from anntools.bundle.sequence import open_text
from anntools.csq import normalize_chrom

ARRAYS = ("known_pos", "known_key", "known_rs", "known_clinvar")
# A VCF whose REF disagrees with the sequence this often is of another assembly.
MAX_REF_MISMATCH = 0.05
_CONTIG_LINE = re.compile(r"^##contig=<(.*)>\s*$")
# Human chromosomes as RefSeq names them: NC_000001 .. NC_000024 (23 = X, 24 = Y),
# NC_012920 the mitochondrion; the version after the dot tells the assembly.
_REFSEQ_CHROMOSOME = re.compile(r"^NC_0000(\d\d)\.\d+$")
_REFSEQ_SPECIAL = {"23": "X", "24": "Y"}
_REFSEQ_MT = re.compile(r"^NC_012920\.\d+$")


def allele_key(ref: str, alt: str) -> int:
    """64 bits that identify a REF/ALT pair at one position."""
    digest = hashlib.blake2b(f"{ref}>{alt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class ContigNamer:
    """Maps a known-variants VCF's contig names onto the bundle's.

    Tries, in order: the same name; the same after dropping ``chr`` (``1`` <->
    ``chr1``, ``MT`` <-> ``chrM``); a name the NCBI assembly report gives for
    the accession; a human RefSeq chromosome accession (``NC_000001.11`` ->
    ``1``). A header ``##contig`` length that differs from the bundle's
    contig is another assembly: refused.
    """

    def __init__(self, bundle_lengths: dict[str, int], aliases: dict[str, str] | None = None):
        self.lengths = bundle_lengths
        self._by_short = {normalize_chrom(name): name for name in bundle_lengths}
        self._aliases = aliases or {}
        self._cache: dict[str, str | None] = {}

    def __call__(self, name: str) -> str | None:
        try:
            return self._cache[name]
        except KeyError:
            found = self._cache[name] = self._lift(name)
            return found

    def _lift(self, name: str) -> str | None:
        if name in self.lengths:
            return name
        for candidate in (name, self._aliases.get(name), _refseq_chromosome(name)):
            if candidate and normalize_chrom(candidate) in self._by_short:
                return self._by_short[normalize_chrom(candidate)]
        return None

    def check_header(self, source: Path, header_lengths: dict[str, int]) -> None:
        for name, length in header_lengths.items():
            ours = self(name)
            if ours is not None and self.lengths[ours] != length:
                raise BundleError(
                    f"known variants {source.name} are on another assembly: its contig {name} "
                    f"is {length:,} bp, the bundle's {ours} {self.lengths[ours]:,} bp"
                )


def _refseq_chromosome(name: str) -> str | None:
    match = _REFSEQ_CHROMOSOME.match(name)
    if match:
        number = match.group(1).lstrip("0")
        return _REFSEQ_SPECIAL.get(number, number)
    return "MT" if _REFSEQ_MT.match(name) else None


def read_assembly_report(path: Path) -> dict[str, str]:
    """Accession -> sequence name from an NCBI assembly report (``*_assembly_report.txt``).

    Both GenBank and RefSeq accessions map to the UCSC-style name when there is
    one (``chr1``), else the Sequence-Name (``1``); ContigNamer then matches
    either naming.
    """
    aliases: dict[str, str] = {}
    for line in _open_text(path):
        if line.startswith("#") or not line.strip():
            continue
        cols = line.rstrip("\n").split("\t")
        if len(cols) < 10:
            raise BundleError(f"{path.name} is not an NCBI assembly report (10 columns a row)")
        name = cols[9] if cols[9] not in ("", "na") else cols[0]
        for accession in (cols[4], cols[6]):
            if accession not in ("", "na"):
                aliases[accession] = name
    return aliases


@dataclass
class SourceStats:
    """What one known-variants VCF gave, for the manifest and the build log."""

    file: str
    records: int = 0
    kept: int = 0
    unknown_contig: int = 0
    ref_mismatch: int = 0
    clinvar: int = 0
    unknown_contigs: set[str] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "records": self.records,
            "kept_alleles": self.kept,
            "with_clinvar": self.clinvar,
            "skipped_unknown_contig": self.unknown_contig,
            "skipped_ref_mismatch": self.ref_mismatch,
        }


class KnownVariantTable:
    """Collects known alleles from VCFs, then writes them as the bundle's sorted arrays."""

    def __init__(
        self, namer: ContigNamer, fetcher: Callable[[str], Callable[[int, int], str]]
    ) -> None:
        self.namer = namer
        self.fetcher = fetcher  # bundle contig -> fetch(0-based start, end): upper-case bases
        self._fetch: dict[str, Callable[[int, int], str]] = {}
        self.clinvar_terms: list[str] = [""]
        self._clinvar_index: dict[str, int] = {"": 0}
        self._rows: dict[str, tuple[array[int], array[int], array[int], array[int]]] = {}
        self.sources: list[SourceStats] = []

    def add_vcf(self, path: Path) -> SourceStats:
        stats = SourceStats(path.name)
        lines = _open_text(path)
        header_lengths = _header(lines, path)
        self.namer.check_header(path, header_lengths)
        for line_no, cols in _records(lines, path):
            stats.records += 1
            self._add_record(cols, stats, path, line_no)
        _check_assembly(stats, path)
        self.sources.append(stats)
        return stats

    def _add_record(self, cols: list[str], stats: SourceStats, path: Path, line_no: int) -> None:
        contig = self.namer(cols[0])
        if contig is None:
            stats.unknown_contig += 1
            stats.unknown_contigs.add(cols[0])
            return
        pos, ref = int(cols[1]), cols[3].upper()
        if pos + len(ref) - 1 > self.namer.lengths[contig]:
            raise BundleError(
                f"known variants {path.name} are on another assembly: line {line_no} "
                f"({cols[0]}:{pos}) lies past the end of the bundle's {contig}"
            )
        fetch = self._fetch.get(contig) or self._fetch.setdefault(contig, self.fetcher(contig))
        if fetch(pos - 1, pos - 1 + len(ref)) != ref:
            stats.ref_mismatch += 1
            return
        info = cols[7]
        rs = _rs_number(cols[2], _info_value(info, "RS"))
        clinvar = self._clinvar_code(_info_value(info, "CLNSIG"))
        stats.clinvar += bool(clinvar)
        rows = self._rows.get(contig)
        if rows is None:
            rows = self._rows[contig] = (array("q"), array("Q"), array("L"), array("H"))
        positions, keys, numbers, codes = rows
        for alt in cols[4].upper().split(","):
            if alt in (".", "*") or alt.startswith("<"):
                continue
            positions.append(pos)
            keys.append(allele_key(ref, alt))
            numbers.append(rs)
            codes.append(clinvar)
            stats.kept += 1

    def _clinvar_code(self, significance: str) -> int:
        code = self._clinvar_index.get(significance)
        if code is None:
            code = self._clinvar_index[significance] = len(self.clinvar_terms)
            self.clinvar_terms.append(significance)
        return code

    def arrays(
        self, contig_order: list[str]
    ) -> tuple[dict[str, npt.NDArray[Any]], dict[str, list[int]]]:
        """The bundle's arrays (see the module doc) and each contig's [first, last) rows.

        The same allele from several VCFs is one row: its rsID and ClinVar
        significance are taken from whichever source gave them.
        """
        parts: list[tuple[npt.NDArray[Any], ...]] = []
        ranges: dict[str, list[int]] = {}
        offset = 0
        for contig in contig_order:
            if contig not in self._rows:
                continue
            merged = _merge_rows(*(np.asarray(column) for column in self._rows[contig]))
            parts.append(merged)
            ranges[contig] = [offset, offset + len(merged[0])]
            offset += len(merged[0])
        dtypes = (np.int64, np.uint64, np.uint32, np.uint16)
        arrays = {
            name: np.concatenate([part[i] for part in parts]).astype(dtype)
            if parts
            else np.zeros(0, dtype=dtype)
            for i, (name, dtype) in enumerate(zip(ARRAYS, dtypes, strict=True))
        }
        return arrays, ranges


def _merge_rows(
    pos: npt.NDArray[Any], key: npt.NDArray[Any], rs: npt.NDArray[Any], clinvar: npt.NDArray[Any]
) -> tuple[npt.NDArray[Any], ...]:
    """Rows sorted by (pos, key), duplicates folded into one (the largest rs and ClinVar code)."""
    order = np.lexsort((key, pos))
    pos, key, rs, clinvar = pos[order], key[order], rs[order], clinvar[order]
    if len(pos) == 0:
        return pos, key, rs, clinvar
    first = np.flatnonzero(np.r_[True, (pos[1:] != pos[:-1]) | (key[1:] != key[:-1])])
    return (
        pos[first],
        key[first],
        np.maximum.reduceat(rs, first),
        np.maximum.reduceat(clinvar, first),
    )


def _check_assembly(stats: SourceStats, path: Path) -> None:
    placed = stats.records - stats.unknown_contig
    if stats.records and placed == 0:
        names = ", ".join(sorted(stats.unknown_contigs)[:5])
        raise BundleError(
            f"known variants {path.name}: none of its contigs ({names}) is in the bundle's FASTA"
        )
    if placed and stats.ref_mismatch > MAX_REF_MISMATCH * placed:
        raise BundleError(
            f"known variants {path.name} are on another assembly: {stats.ref_mismatch} of "
            f"{placed} REF alleles differ from the bundle's sequence"
        )


def _open_text(path: Path) -> Iterator[str]:
    try:
        with open_text(path) as handle:
            yield from handle
    except (EOFError, OSError, UnicodeDecodeError) as error:
        raise BundleError(f"cannot read {path.name}: {error or 'the file ends early'}") from None


def _header(lines: Iterator[str], path: Path) -> dict[str, int]:
    """Reads up to and including the #CHROM line; returns the ##contig lengths."""
    lengths: dict[str, int] = {}
    for line in lines:
        if line.startswith("#CHROM"):
            return lengths
        match = _CONTIG_LINE.match(line)
        if match:
            fields = dict(_split_meta(match.group(1)))
            if "ID" in fields and fields.get("length", "").isdigit():
                lengths[fields["ID"]] = int(fields["length"])
        elif not line.startswith("##"):
            break
    raise BundleError(f"known variants {path.name} is not a VCF (no #CHROM header line)")


def _split_meta(body: str) -> Iterator[tuple[str, str]]:
    for item in re.findall(r'([^,=]+)=("[^"]*"|[^,]*)', body):
        yield item[0].strip(), item[1].strip('"')


def _records(lines: Iterator[str], path: Path) -> Iterator[tuple[int, list[str]]]:
    for line_no, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.rstrip("\n").split("\t", 8)
        if len(cols) < 8 or not cols[1].isdigit():
            raise BundleError(
                f"known variants {path.name}: data line {line_no} is not a VCF record "
                "(8 tab-separated columns, a numeric POS)"
            )
        yield line_no, cols


def _info_value(info: str, key: str) -> str:
    """The value of ``key`` in an INFO column ("" when absent), without splitting it all."""
    prefix = f"{key}="
    if info.startswith(prefix):
        start = len(prefix)
    else:
        found = info.find(f";{prefix}")
        if found < 0:
            return ""
        start = found + 1 + len(prefix)
    end = info.find(";", start)
    return info[start:] if end < 0 else info[start:end]


def _rs_number(identifier: str, rs_info: str) -> int:
    """The dbSNP number of an ID column (``rs334``, maybe among ``;``-joined IDs) or INFO/RS."""
    for candidate in (*identifier.split(";"), f"rs{rs_info}"):
        digits = candidate[2:]
        if candidate[:2] == "rs" and digits.isdigit() and int(digits) < 2**32:
            return int(digits)
    return 0


class KnownVariants:
    """The bundle's known alleles, memory-mapped; ``lookup`` by position and alleles."""

    def __init__(self, arrays: dict[str, npt.NDArray[Any]], manifest: dict[str, Any]) -> None:
        self._clinvar: list[str] = manifest["clinvar"]
        self._by_contig = {
            contig: tuple(arrays[name][a:b] for name in ARRAYS)
            for contig, (a, b) in manifest["chroms"].items()
        }
        self._names: dict[str, str | None] = {}

    def lookup(self, chrom: str, pos: int, ref: str, alt: str) -> tuple[str | None, str | None]:
        """(rsID, ClinVar significance) of this allele at 1-based ``pos``; None where unknown."""
        rows = self._by_contig.get(self._contig(chrom) or "")
        if rows is None:
            return None, None
        positions, keys, rs, clinvar = rows
        key = allele_key(ref.upper(), alt.upper())
        row = int(positions.searchsorted(pos))
        while row < len(positions) and int(positions[row]) == pos:
            if int(keys[row]) == key:
                number, code = int(rs[row]), int(clinvar[row])
                return (f"rs{number}" if number else None, self._clinvar[code] or None)
            row += 1
        return None, None

    def _contig(self, chrom: str) -> str | None:
        try:
            return self._names[chrom]
        except KeyError:
            short = normalize_chrom(chrom)
            found = next((c for c in self._by_contig if normalize_chrom(c) == short), None)
            self._names[chrom] = found
            return found
