"""Ensembl-style GFF3 gene models, read the way bcftools csq reads them.

Lines are linked gene <- transcript <- (exon | CDS | five_prime_UTR |
three_prime_UTR) through ``ID=gene:...``/``ID=transcript:...`` and
``Parent=...``; biotypes come from ``biotype=`` (or the feature type, e.g.
``mRNA``). CDS phases trim incomplete 5' codons and an incomplete 3' codon is
dropped, as bcftools does.

Coordinates: every ``beg``/``end`` stored here is **0-based and closed**
(GFF3 start - 1, GFF3 end - 1), the convention of bcftools' own structures,
so the consequence logic can be compared with csq.c line by line.
"""

from __future__ import annotations

import gzip
import logging
import os
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

PHASE_UNKNOWN = 3
_FEATURE_TYPES = {"exon": "exon", "CDS": "CDS", "three_prime_UTR": "utr3", "five_prime_UTR": "utr5"}

# (prefix, printed biotype, coding?, case-insensitive?) in bcftools' matching order: first hit wins.
_BIOTYPES: tuple[tuple[str, str, bool, bool], ...] = (
    ("protein_coding", "protein_coding", True, False),
    ("pseudogene", "pseudogene", False, False),
    ("processed_transcript", "processed_transcript", False, False),
    ("processed_pseudogene", "processed_pseudogene", False, False),
    ("polymorphic_pseudogene", "polymorphic_pseudogene", True, False),
    ("artifact", "artifact", False, False),
    ("antisense", "antisense", False, False),
    ("ambiguous_orf", "ambiguous_orf", False, False),
    ("IG_pseudogene", "IG_pseudogene", False, False),
    ("IG_C_pseudogene", "IG_C_pseudogene", False, False),
    ("IG_J_pseudogene", "IG_J_pseudogene", False, False),
    ("IG_V_pseudogene", "IG_V_pseudogene", False, False),
    ("IG_C", "IG_C", True, False),
    ("IG_D", "IG_D", True, False),
    ("IG_J", "IG_J", True, False),
    ("IG_V", "IG_V", True, False),
    ("IG_LV", "IG_LV", True, False),
    ("TR_V_pseudogene", "TR_V_pseudogene", False, False),
    ("TR_J_pseudogene", "TR_J_pseudogene", False, False),
    ("TR_C", "TR_C", True, False),
    ("TR_D", "TR_D", True, False),
    ("TR_J", "TR_J", True, False),
    ("TR_V", "TR_V", True, False),
    ("Mt_tRNA_pseudogene", "MT_tRNA_pseudogene", False, False),
    ("Mt_tRNA", "MT_tRNA", False, True),
    ("Mt_rRNA", "MT_rRNA", False, True),
    ("MRNA", "protein_coding", True, True),
    ("lincRNA", "lincRNA", False, False),
    ("lncRNA", "lncRNA", False, False),
    ("macro_lncRNA", "macro_lncRNA", False, False),
    ("misc_RNA_pseudogene", "misc_RNA_pseudogene", False, False),
    ("miRNA_pseudogene", "miRNA_pseudogene", False, False),
    ("miRNA", "miRNA", False, False),
    ("misc_RNA", "misc_RNA", False, False),
    ("rRNA", "rRNA", False, False),
    ("ribozyme", "ribozyme", False, False),
    ("retained_intron", "retained_intron", False, False),
    ("retrotransposed", "retrotransposed", False, False),
    ("snRNA", "snRNA", False, False),
    ("sRNA", "sRNA", False, False),
    ("scRNA", "scRNA", False, False),
    ("scaRNA", "scaRNA", False, False),
    ("snoRNA", "snoRNA", False, False),
    ("sense_intronic", "sense_intronic", False, False),
    ("sense_overlapping", "sense_overlapping", False, False),
    ("tRNA_pseudogene", "Trna_pseudogene", False, False),
    ("transcribed_processed_pseudogene", "transcribed_processed_pseudogene", False, False),
    ("transcribed_unprocessed_pseudogene", "transcribed_unprocessed_pseudogene", False, False),
    ("transcribed_unitary_pseudogene", "transcribed_unitary_pseudogene", False, False),
    ("translated_unprocessed_pseudogene", "translated_unprocessed_pseudogene", False, False),
    ("translated_processed_pseudogene", "translated_processed_pseudogene", False, False),
    ("nonsense_mediated_decay", "NMD", True, False),
    ("non_stop_decay", "non_stop_decay", True, False),
    ("NMD", "NMD", True, False),
    ("known_ncrna", "known_ncRNA", False, False),
    ("unitary_pseudogene", "unitary_pseudogene", False, False),
    ("unprocessed_pseudogene", "unprocessed_pseudogene", False, False),
    ("LRG_gene", "LRG_gene", False, False),
    ("3prime_overlapping_ncRNA", "3_prime_overlapping_ncRNA", False, True),
    ("3_prime_overlapping_ncRNA", "3_prime_overlapping_ncRNA", False, True),
    ("disrupted_domain", "disrupted_domain", False, False),
    ("vaultRNA", "vaultRNA", False, False),
    ("bidirectional_promoter_lncRNA", "bidirectional_promoter_lncRNA", False, False),
)


def parse_biotype(text: str) -> tuple[str, bool] | None:
    """(printed biotype, is coding) of a GFF biotype, prefix-matched as bcftools does; or None."""
    for prefix, printed, coding, case_insensitive in _BIOTYPES:
        head = text[: len(prefix)]
        if head == prefix or (case_insensitive and head.lower() == prefix.lower()):
            return printed, coding
    return None


T = TypeVar("T")


class IntervalList(Generic[T]):
    """Closed intervals sorted by (beg, -end) with overlap queries in O(log n + hits)."""

    __slots__ = ("begs", "ends", "items", "max_ends")

    def __init__(self, intervals: list[tuple[int, int, T]]) -> None:
        ordered = sorted(intervals, key=lambda iv: (iv[0], -iv[1]))
        self.begs = [iv[0] for iv in ordered]
        self.ends = [iv[1] for iv in ordered]
        self.items = [iv[2] for iv in ordered]
        running = -1
        self.max_ends = []
        for end in self.ends:
            running = max(running, end)
            self.max_ends.append(running)

    def overlapping(self, beg: int, end: int) -> list[T]:
        """Items whose interval overlaps the closed interval [beg, end], in (beg, -end) order."""
        if not self.items or self.max_ends[-1] < beg or self.begs[0] > end:
            return []  # the common miss, answered without a search
        k = bisect_right(self.begs, end) - 1
        max_ends, ends = self.max_ends, self.ends
        found: list[T] = []
        while k >= 0 and max_ends[k] >= beg:
            if ends[k] >= beg:
                found.append(self.items[k])
            k -= 1
        found.reverse()
        return found

    def first_overlapping(self, beg: int, end: int) -> T | None:
        """The first item (in sort order) overlapping [beg, end], or None."""
        hits = self.overlapping(beg, end)
        return hits[0] if hits else None

    def __len__(self) -> int:
        return len(self.items)


@dataclass(slots=True)
class Cds:
    """A CDS segment: ``beg`` 0-based start, ``length`` bases, ``pos`` offset in the spliced CDS."""

    beg: int
    length: int
    phase: int
    pos: int = 0
    icds: int = 0

    @property
    def end(self) -> int:
        """Last base, 0-based closed (``beg - 1`` for an emptied segment)."""
        return self.beg + self.length - 1


@dataclass(slots=True)
class Utr:
    """A UTR, 0-based closed; ``five_prime`` tells which end; ``order`` is its GFF line rank."""

    beg: int
    end: int
    five_prime: bool
    transcript: Transcript
    order: int = 0


@dataclass(slots=True)
class Exon:
    """An exon, 0-based closed; ``order`` is its GFF line rank."""

    beg: int
    end: int
    transcript: Transcript
    order: int = 0


@dataclass(eq=False, slots=True)
class Transcript:
    """A transcript with its features; coordinates 0-based closed on the + strand."""

    id: str
    chrom: str
    gene: str
    biotype: str
    coding: bool
    forward: bool
    beg: int
    end: int
    cds: list[Cds] = field(default_factory=list)
    exons: list[Exon] = field(default_factory=list)
    utrs: list[Utr] = field(default_factory=list)
    trim5: bool = False
    trim3: bool = False
    cds_indexed: bool = False  # False when the phases did not check out (bcftools skips such CDS)
    cds_index: IntervalList[Cds] = field(default_factory=lambda: IntervalList([]))
    exon_index: IntervalList[Exon] = field(default_factory=lambda: IntervalList([]))
    utr_index: IntervalList[Utr] = field(default_factory=lambda: IntervalList([]))
    cache: dict[str, object] = field(default_factory=dict)
    order: int = 0  # rank of the first mention of the ID in the GFF3; bcftools breaks ties by it

    @property
    def nmd(self) -> bool:
        """True for nonsense-mediated-decay transcripts (bcftools adds ``NMD_transcript``)."""
        return self.biotype == "NMD"

    @property
    def ncds(self) -> int:
        """Number of CDS segments (including segments emptied by phase trimming)."""
        return len(self.cds)


@dataclass(slots=True)
class _RawFeature:
    kind: str
    beg: int
    end: int
    forward: bool | None
    phase: int
    parent: str


@dataclass(slots=True)
class _Attributes:
    id: str | None = None
    name: str | None = None
    parent: str | None = None
    biotype: str | None = None
    gene_line: bool = False


def _parse_attributes(column: str) -> _Attributes:
    attrs = _Attributes()
    for item in column.split(";"):
        if item.startswith("ID="):
            value = item[3:]
            if value.startswith("gene:"):
                attrs.gene_line = True
                value = value[5:]
            elif value.startswith("transcript:"):
                value = value[11:]
            attrs.id = value
        elif item.startswith("Name="):
            attrs.name = item[5:]
        elif item.startswith("Parent="):
            value = item[7:]
            if value.startswith("gene:"):
                value = value[5:]
            elif value.startswith("transcript:"):
                value = value[11:]
            attrs.parent = value
        elif item.startswith("biotype="):
            attrs.biotype = item[8:]
        elif item.startswith("gene_biotype="):
            attrs.biotype = item[13:]
    return attrs


def _open_text(path: str | os.PathLike[str]) -> Iterator[str]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        yield from handle


class _GffBuilder:
    """Collects genes, transcripts and features, then links them like bcftools' gff.c."""

    def __init__(self) -> None:
        self.gene_names: dict[str, str] = {}
        self.transcripts: dict[str, Transcript] = {}
        self.transcript_genes: dict[str, str] = {}
        self.features: list[_RawFeature] = []
        self.id_order: dict[str, int] = {}

    def _register(self, transcript_id: str) -> None:
        self.id_order.setdefault(transcript_id, len(self.id_order))

    def add_line(self, line: str) -> None:
        if not line or line[0] == "#":
            return
        cols = line.rstrip("\r\n").split("\t")
        if len(cols) < 9 or cols[2] == "biological_region":
            return
        kind = _FEATURE_TYPES.get(cols[2], "")
        attrs = _parse_attributes(cols[8])
        beg, end = int(cols[3]) - 1, int(cols[4]) - 1
        forward = True if cols[6] == "+" else False if cols[6] == "-" else None
        if attrs.gene_line or cols[2] == "gene" or attrs.parent is None:
            self._add_gene(attrs)
        elif kind:
            phase = int(cols[7]) if cols[7] in ("0", "1", "2") else PHASE_UNKNOWN
            self._register(attrs.parent)
            self.features.append(_RawFeature(kind, beg, end, forward, phase, attrs.parent))
        else:
            self._add_transcript(cols, attrs, beg, end, forward)

    def _add_gene(self, attrs: _Attributes) -> None:
        if attrs.id is None or attrs.id in self.gene_names:
            return
        self.gene_names[attrs.id] = attrs.name if attrs.name is not None else attrs.id

    def _add_transcript(
        self, cols: list[str], attrs: _Attributes, beg: int, end: int, forward: bool | None
    ) -> None:
        biotype = parse_biotype(attrs.biotype) if attrs.biotype else None
        biotype = biotype or parse_biotype(cols[2])
        if biotype is None or attrs.id is None or attrs.parent is None or forward is None:
            return
        printed, coding = biotype
        self._register(attrs.id)
        self.transcripts[attrs.id] = Transcript(
            attrs.id, cols[0], "", printed, coding, forward, beg, end
        )
        self.transcript_genes[attrs.id] = attrs.parent

    def build(self) -> list[Transcript]:
        for tr_id, gene_id in self.transcript_genes.items():
            self.transcripts[tr_id].gene = self.gene_names.get(gene_id, "")
            self.transcripts[tr_id].order = self.id_order[tr_id]
        for rank, ftr in enumerate(self.features):
            tr = self.transcripts.get(ftr.parent)
            if tr is None or ftr.forward is None:
                continue
            tr.beg, tr.end = min(tr.beg, ftr.beg), max(tr.end, ftr.end)
            if ftr.kind == "CDS":
                tr.cds.append(Cds(ftr.beg, ftr.end - ftr.beg + 1, ftr.phase))
            elif ftr.kind == "exon":
                tr.exons.append(Exon(ftr.beg, ftr.end, tr, rank))
            else:
                tr.utrs.append(Utr(ftr.beg, ftr.end, ftr.kind == "utr5", tr, rank))
        for tr in self.transcripts.values():
            _finish_transcript(tr)
        return sorted(self.transcripts.values(), key=lambda tr: tr.order)


def _trim_5prime_phase(tr: Transcript) -> None:
    """Drop the bases before the first complete codon (GFF phase of the 5'-most CDS)."""
    if tr.forward:
        first = tr.cds[0]
        if first.phase != PHASE_UNKNOWN:
            tr.trim5 = first.phase != 0
            first.beg += first.phase
            first.length -= first.phase
            first.phase = 0
        return
    i = len(tr.cds) - 1
    if tr.cds[i].phase == PHASE_UNKNOWN:
        return
    phase = tr.cds[i].phase
    tr.trim5 = phase != 0
    while i >= 0 and phase > tr.cds[i].length:  # the phase can exceed a short CDS
        phase -= tr.cds[i].length
        tr.cds[i].phase = 0
        tr.cds[i].length = 0
        i -= 1
    tr.cds[i].length -= tr.cds[i].phase  # as bcftools: the segment's own phase
    tr.cds[i].phase = 0


def _phases_consistent(tr: Transcript) -> bool:
    """GFF3 phase must equal the number of bases needed to finish the previous codon."""
    length = 0
    ordered = tr.cds if tr.forward else list(reversed(tr.cds))
    for cds in ordered:
        if cds.phase != PHASE_UNKNOWN:
            expected = 3 - cds.phase if cds.phase else 0
            if expected != length % 3:
                return False
        length += cds.length
    return True


def _trim_3prime_incomplete_codon(tr: Transcript) -> None:
    length = sum(cds.length for cds in tr.cds)
    if length % 3 == 0:
        return
    tr.trim3 = True
    indices = range(len(tr.cds) - 1, -1, -1) if tr.forward else range(len(tr.cds))
    for i in indices:
        if length % 3 == 0:
            break
        cut = min(length % 3, tr.cds[i].length)
        tr.cds[i].length -= cut
        if not tr.forward:
            tr.cds[i].beg += cut
        length -= cut


def _finish_transcript(tr: Transcript) -> None:
    tr.exon_index = IntervalList([(ex.beg, ex.end, ex) for ex in tr.exons])
    tr.utr_index = IntervalList([(utr.beg, utr.end, utr) for utr in tr.utrs])
    if not tr.cds:
        return
    tr.cds.sort(key=lambda cds: cds.beg)
    _trim_5prime_phase(tr)
    if not _phases_consistent(tr):
        log.warning("GFF3 phase column inconsistent in transcript %s, its CDS are skipped", tr.id)
        return
    for icds, cds in enumerate(tr.cds):
        cds.icds = icds
    _trim_3prime_incomplete_codon(tr)
    offset = 0
    for cds in tr.cds:
        cds.pos = offset
        offset += cds.length
    tr.cds_index = IntervalList([(cds.beg, cds.end, cds) for cds in tr.cds if cds.length > 0])
    tr.cds_indexed = True


def read_gff3(path: str | os.PathLike[str]) -> list[Transcript]:
    """All usable transcripts of a GFF3 file (plain or gzip), features linked and CDS trimmed."""
    builder = _GffBuilder()
    for line in _open_text(path):
        builder.add_line(line)
    transcripts = builder.build()
    log.info("read %d transcripts from %s", len(transcripts), path)
    return transcripts
