"""Read an annotation bundle (numpy only) and answer per-variant queries.

Queries take GRCh38 positions, 1-based and closed (``[pos, end]``), with
chromosomes named ``chr1``/``1``/``chrM``/``MT``. Arrays are memory-mapped;
only the gene table is turned into Python lists at load, and annotation sets
are decoded on first use and cached.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from anntools.bundle import format as fmt
from anntools.bundle.format import BundleError
from anntools.bundle.paths import default_bundle_dir
from anntools.hgvs import Transcript
from anntools.model import REGIONS, GeneHit

_LAST_INSIDE_CODE = fmt.INTRON  # codes up to this one mean "inside the gene"

Entries = tuple[tuple[int, int], ...]  # (gene index, region code) pairs


@dataclass(frozen=True, slots=True)
class _SegmentIndex:
    start: npt.NDArray[np.int64]  # 1-based first base per segment
    set_id: npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class _SnpIndex:
    pos: npt.NDArray[np.int64]  # 1-based, sorted
    ref: npt.NDArray[np.uint8]
    alt: npt.NDArray[np.uint8]
    rs: npt.NDArray[np.uint32]


@dataclass(frozen=True, slots=True)
class ManeTranscript:
    """A MANE Select transcript of the bundle: its structure, gene and RefSeq name."""

    transcript: Transcript
    gene: str
    refseq: str  # NM_..., "" if unknown
    # What anntools.mane works out once per intron of the transcript (keyed by exon index).
    introns: dict[int, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class _TranscriptIndex:
    """One chromosome's transcripts as lists: bisect on them beats numpy on scalars."""

    start: list[int]  # sorted
    end: list[int]
    reach: list[int]  # running maximum of the ends
    first_row: int  # row of start[0] in the bundle's transcript arrays
    # Filled on first query: the bases where the set of transcripts changes, and the rows
    # reaching each stretch from one bound to the next, so that most queries (one base, or
    # a few within one stretch) take a single bisection.
    bounds: list[int] = field(default_factory=list, compare=False, repr=False)
    stretch_rows: list[tuple[int, ...]] = field(default_factory=list, compare=False, repr=False)

    def rows(self, low: int, high: int) -> tuple[int, ...]:
        """Bundle rows of the transcripts reaching [low, high], in row order."""
        self.fill_stretches()
        stretch = bisect_right(self.bounds, low) - 1
        if high == low or stretch == bisect_right(self.bounds, high) - 1:
            return self.stretch_rows[stretch] if stretch >= 0 else ()
        return self.rows_by_scan(low, high)

    def fill_stretches(self) -> None:
        if not self.bounds:
            self.bounds.extend(sorted(set(self.start) | {end + 1 for end in self.end}))
            self.stretch_rows.extend(self.rows_by_scan(bound, bound) for bound in self.bounds)

    def rows_by_scan(self, low: int, high: int) -> tuple[int, ...]:
        row = bisect_right(self.start, high) - 1
        found = []
        # reach never decreases, so every transcript ending at low or later is above
        # the first row whose reach gets there.
        while row >= 0 and self.reach[row] >= low:
            if self.end[row] >= low:
                found.append(self.first_row + row)
            row -= 1
        return tuple(reversed(found))


class Bundle:
    """A loaded GRCh38 annotation bundle; build one with ``python -m anntools.bundle build``."""

    def __init__(
        self, path: Path, manifest: dict[str, Any], arrays: dict[str, npt.NDArray[Any]]
    ) -> None:
        self.path = path
        self.manifest = manifest
        self._set_offset = arrays["set_offset"]
        self._set_entry = arrays["set_entry"]
        self.gene_names: list[str] = arrays["genes_name"].tolist()
        biotypes: list[str] = manifest["biotypes"]
        self.gene_biotypes = [biotypes[i] for i in arrays["genes_biotype"].tolist()]
        self.gene_strands = [s.decode() for s in arrays["genes_strand"].tolist()]
        self._starts: list[int] = arrays["genes_start"].tolist()
        self._ends: list[int] = arrays["genes_end"].tolist()
        self.arrays = arrays  # read by anntools._bundlesites
        # Memory-mapped slices, searched one query at a time: the default mode's records go
        # to anntools._bundlesites instead; these serve chrM, indels reaching over several
        # segments, the BCSQ-compatible mode and the tests.
        self._segments = {
            chrom: _SegmentIndex(arrays["seg_start"][a:b], arrays["seg_set"][a:b])
            for chrom, (a, b) in manifest["segments"]["chroms"].items()
        }
        self._snps = {
            chrom: _SnpIndex(*(arrays[name][a:b] for name in fmt.SNP_ARRAYS))
            for chrom, (a, b) in manifest["snps"]["chroms"].items()
        }
        self._tx = {name: arrays[name] for name in fmt.TRANSCRIPT_ARRAYS}
        self._tx_index = {
            chrom: _TranscriptIndex(
                arrays["tx_start"][a:b].tolist(),
                arrays["tx_end"][a:b].tolist(),
                np.maximum.accumulate(arrays["tx_end"][a:b]).tolist(),
                a,
            )
            for chrom, (a, b) in manifest["transcripts"]["chroms"].items()
            if b > a
        }
        self._tx_cache: dict[int, ManeTranscript] = {}
        self._chrom_names: dict[str, str] = {}
        self._entries: dict[int, Entries] = {}
        self._inside_hits: dict[int, tuple[GeneHit, ...]] = {}

    @classmethod
    def load(cls, path: Path | str | None = None) -> Bundle:
        """Open the bundle at ``path`` (default: default_bundle_dir())."""
        path = Path(path) if path else default_bundle_dir()
        manifest = _read_manifest(path)
        names = (
            fmt.GENE_ARRAYS
            + fmt.SEGMENT_ARRAYS
            + fmt.SET_ARRAYS
            + fmt.SNP_ARRAYS
            + fmt.TRANSCRIPT_ARRAYS
        )
        arrays = {name: _load_array(path, name) for name in names}
        return cls(path, manifest, arrays)

    @property
    def mt_gff3_path(self) -> Path:
        """GFF3 of the 13 mitochondrial protein-coding genes (seqid MT, rCRS coordinates)."""
        return self.path / self.manifest["mt_gff3"]

    @property
    def source_sha256(self) -> str:
        """sha256 of the source sdist the bundle was built from."""
        return str(self.manifest["source"]["sha256"])

    def gene_hits(self, chrom: str, pos: int, end: int | None = None) -> list[GeneHit]:
        """Where the GRCh38 interval [pos, end] (1-based closed) falls relative to genes.

        One hit per gene overlapping the interval or within 5 kb of it (no
        flanks on chrM, whose genes abut), with the most specific region (see
        REGIONS) any of its bases reaches. Upstream/downstream follow the
        gene's strand; their distance is the gap in bp (1 = adjacent). With no
        gene that near: one ``intergenic`` hit naming the nearest gene. An
        unknown chromosome gives no hits. Hits come in the genes' positional
        order.
        """
        segments = self._segments.get(self.bundle_chrom(chrom))
        if segments is None:
            return []
        end = pos if end is None else max(end, pos)
        first = int(segments.start.searchsorted(pos, "right")) - 1
        if end == pos:
            return self._hits_for_set(int(segments.set_id[max(first, 0)]), pos, end)
        last = int(segments.start.searchsorted(end, "right")) - 1
        # Adjacent segments never share a set, but a long interval may revisit one.
        set_ids = list(dict.fromkeys(segments.set_id[max(first, 0) : last + 1].tolist()))
        if len(set_ids) == 1:
            return self._hits_for_set(set_ids[0], pos, end)
        return self._hits(_merge_entries([self._decode(s) for s in set_ids]), pos, end)

    def mane_transcripts(
        self, chrom: str, pos: int, end: int, flank: int = 0
    ) -> list[ManeTranscript]:
        """MANE Select transcripts reaching [pos - flank, end + flank] (1-based closed)."""
        index = self._tx_index.get(self.bundle_chrom(chrom))
        if index is None:
            return []
        rows = index.rows(pos - flank, end + flank)
        return [self.transcript(row) for row in rows] if rows else []

    def mane_transcript_rows(self, chrom: str, pos: int, end: int) -> tuple[int, ...]:
        """The rows (for ``transcript``) of the MANE transcripts reaching [pos, end]."""
        index = self._tx_index.get(self.bundle_chrom(chrom))
        return () if index is None else index.rows(pos, end)

    def transcript_stretches(
        self, chrom: str
    ) -> tuple[npt.NDArray[np.int64], list[tuple[int, ...]]] | None:
        """The bases of a chromosome where the set of MANE transcripts changes, and the rows
        reaching each stretch from one of them to the next; None without transcripts."""
        index = self._tx_index.get(self.bundle_chrom(chrom))
        if index is None:
            return None
        index.fill_stretches()
        return np.array(index.bounds, dtype=np.int64), index.stretch_rows

    def transcript(self, row: int) -> ManeTranscript:
        """The MANE transcript of a row of the bundle's transcript arrays (made once)."""
        cached = self._tx_cache.get(row)
        if cached is not None:
            return cached
        tx = self._tx
        a, b = int(tx["tx_exon_offset"][row]), int(tx["tx_exon_offset"][row + 1])
        coding = int(tx["tx_coding_start"][row]), int(tx["tx_coding_end"][row])
        structure = Transcript(
            id=str(tx["tx_id"][row]),
            strand=tx["tx_strand"][row].decode(),
            exons=tuple(
                zip(tx["exon_start"][a:b].tolist(), tx["exon_end"][a:b].tolist(), strict=True)
            ),
            coding_start=coding[0] or None,
            coding_end=coding[1] or None,
        )
        found = ManeTranscript(structure, str(tx["tx_gene"][row]), str(tx["tx_refseq"][row]))
        self._tx_cache[row] = found
        return found

    def rsid(self, chrom: str, pos: int, ref: str, alt: str, any_alt: bool = False) -> str | None:
        """The rsID of the common SNP at GRCh38 ``pos`` (1-based) with this REF and ALT.

        The common set holds one ALT per rsID, though dbSNP ids name a site
        with all its alleles; ``any_alt=True`` matches on position and REF only.
        """
        snps = self._snps.get(self.bundle_chrom(chrom))
        if snps is None or len(ref) != 1 or (len(alt) != 1 and not any_alt):
            return None
        ref_code, alt_code = ord(ref.upper()), ord(alt.upper()[:1] or "N")
        row = int(snps.pos.searchsorted(pos))
        while row < len(snps.pos) and int(snps.pos[row]) == pos:
            if snps.ref[row] == ref_code and (any_alt or snps.alt[row] == alt_code):
                return f"rs{int(snps.rs[row])}"
            row += 1
        return None

    def bundle_chrom(self, chrom: str) -> str:
        """The bundle's name of a chromosome: ``1``/``chr1`` -> ``chr1``, ``MT`` -> ``chrM``."""
        try:
            return self._chrom_names[chrom]
        except KeyError:
            short = chrom[3:] if chrom[:3].lower() == "chr" else chrom
            name = "chrM" if short.upper() in ("M", "MT") else f"chr{short}"
            self._chrom_names[chrom] = name
            return name

    def _decode(self, set_id: int) -> Entries:
        entries = self._entries.get(set_id)
        if entries is None:
            packed = self._set_entry[self._set_offset[set_id] : self._set_offset[set_id + 1]]
            entries = tuple((v >> fmt.CODE_BITS, v & fmt.CODE_MASK) for v in packed.tolist())
            self._entries[set_id] = entries
        return entries

    def _hits_for_set(self, set_id: int, pos: int, end: int) -> list[GeneHit]:
        # Sets whose genes all contain the segment give the same hits everywhere.
        cached = self._inside_hits.get(set_id)
        if cached is not None:
            return list(cached)
        entries = self._decode(set_id)
        hits = self._hits(entries, pos, end)
        if all(code <= _LAST_INSIDE_CODE for _, code in entries):
            self._inside_hits[set_id] = tuple(hits)
        return hits

    def _hits(self, entries: Entries, pos: int, end: int) -> list[GeneHit]:
        if entries and entries[0][1] == fmt.INTERGENIC:
            gene = min((g for g, _ in entries), key=lambda g: self._gap(g, pos, end))
            return [self.gene_hit(gene, fmt.INTERGENIC, self._gap(gene, pos, end))]
        return [
            self.gene_hit(gene, code, 0 if code <= _LAST_INSIDE_CODE else self._gap(gene, pos, end))
            for gene, code in entries
        ]

    def gene_hit(self, gene: int, code: int, distance: int) -> GeneHit:
        """The hit on gene number ``gene`` with region code ``code`` (format.CODE)."""
        return GeneHit(
            gene=self.gene_names[gene],
            biotype=self.gene_biotypes[gene],
            strand=self.gene_strands[gene],
            region=REGIONS[code],
            distance=distance,
        )

    def _gap(self, gene: int, pos: int, end: int) -> int:
        """Bases from the interval [pos, end] to the gene's span; 0 when they overlap."""
        if end < self._starts[gene]:
            return self._starts[gene] - end
        if pos > self._ends[gene]:
            return pos - self._ends[gene]
        return 0


def _merge_entries(sets: list[Entries]) -> Entries:
    """Union of sets, keeping per gene the most specific code; intergenic only if nothing else."""
    best: dict[int, int] = {}
    for entries in sets:
        for gene, code in entries:
            if code < best.get(gene, len(REGIONS)):
                best[gene] = code
    genic = {g: c for g, c in best.items() if c != fmt.INTERGENIC}
    return tuple(sorted((genic or best).items()))


def _read_manifest(path: Path) -> dict[str, Any]:
    manifest_path = path / fmt.MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except FileNotFoundError:
        raise BundleError(
            f"no annotation bundle at {path}; build it with `python -m anntools.bundle build`"
        ) from None
    if (
        manifest.get("format") != fmt.FORMAT_NAME
        or manifest.get("format_version") != fmt.FORMAT_VERSION
    ):
        raise BundleError(
            f"{manifest_path} is not a {fmt.FORMAT_NAME} v{fmt.FORMAT_VERSION} bundle; rebuild it"
        )
    return manifest


def _load_array(path: Path, name: str) -> npt.NDArray[Any]:
    try:
        array = np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise BundleError(f"annotation bundle {path} lacks {name}.npy; rebuild it") from None
    # A plain ndarray view of the map: numpy.memmap's subclass hooks slow scalar access.
    return np.asarray(array).view(np.ndarray)
