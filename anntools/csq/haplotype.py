"""Haplotype-aware consequences, in the spirit of bcftools csq's default (non ``-l``) mode.

    from anntools.csq.haplotype import PhasedRecord, annotate_haplotypes
    calls = annotate_haplotypes(annotator, records)   # one list per record

Variants carried by the same haplotype (one sample's phased GT allele) that
fall in the same codon(s) of a transcript's CDS are combined into one
consequence (``107G>A+108T>A``), reported on the record that comes first in
the transcript's coding direction; the other records get a ``@POS``
reference to it. After a frameshift every later CDS variant of the
haplotype joins the same consequence, as the reading frame stays shifted.
Everything else (UTR, splice, intron, single-variant codons) is the local
call of :class:`~anntools.csq.TranscriptAnnotator`.

Simplifications against bcftools: unphased genotypes are read as if phased
(bcftools' ``-p a``); a record without samples is one haplotype carrying
ALT 1; only variants lying wholly within one CDS segment are combined; an
in-frame indel upstream shifts the alternate amino-acid position of later
combined consequences but not of single-variant ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from anntools.csq.codons import GeneticCode, reverse_complement
from anntools.csq.engine import TranscriptAnnotator
from anntools.csq.gff3 import Transcript
from anntools.model import Consequence


@dataclass(frozen=True, slots=True)
class PhasedRecord:
    """One VCF record: ``pos`` 1-based; ``haplotypes`` per sample, the allele index per haplotype.

    ``None`` marks a missing allele. With no samples (empty ``haplotypes``)
    the record is taken as one haplotype carrying ALT 1.
    """

    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    haplotypes: tuple[tuple[int | None, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class SeeRecord:
    """bcftools' ``@POS``: this record's consequence is reported on the record at ``pos``."""

    pos: int

    def __str__(self) -> str:
        return f"@{self.pos}"


HaplotypeCall = Consequence | SeeRecord


def parse_genotypes(columns: Sequence[str]) -> tuple[tuple[int | None, ...], ...]:
    """Haplotype alleles of the sample columns of a VCF line (FORMAT's first key must be GT)."""
    out = []
    for column in columns:
        gt = column.split(":", 1)[0].replace("/", "|")
        out.append(tuple(None if a in (".", "") else int(a) for a in gt.split("|")))
    return tuple(out)


@dataclass(slots=True)
class _Edit:
    """One allele of one record placed on a transcript's coding sequence (coding order)."""

    record: int
    pos: int  # 1-based VCF POS
    ref: str
    alt: str
    tbeg: int  # half-open range in the coding sequence, transcript orientation
    tend: int
    talt: str  # ALT in transcript orientation


def _coding_sequence(annotator: TranscriptAnnotator, tr: Transcript) -> str | None:
    contig = annotator.contig(tr.chrom)
    if contig is None:
        return None
    cached = tr.cache.get("hap_cds")
    if isinstance(cached, str):
        return cached
    seq = "".join(contig.fetch(cds.beg, cds.beg + cds.length) for cds in tr.cds).upper()
    if not tr.forward:
        seq = reverse_complement(seq)
    tr.cache["hap_cds"] = seq
    return seq


def _place(tr: Transcript, index: int, pos: int, ref: str, alt: str) -> _Edit | None:
    """The edit of one allele when its REF lies wholly within one CDS segment, else None."""
    beg, end = pos - 1, pos - 1 + len(ref) - 1
    offset = 0
    for cds in tr.cds:
        if cds.beg <= beg and end <= cds.end:
            gbeg = offset + beg - cds.beg
            gend = gbeg + len(ref)
            break
        offset += cds.length
    else:
        return None
    if tr.forward:
        return _Edit(index, pos, ref, alt, gbeg, gend, alt)
    total = sum(cds.length for cds in tr.cds)
    return _Edit(index, pos, ref, alt, total - gend, total - gbeg, reverse_complement(alt))


def _translate(seq: str, code: GeneticCode, to_stop: bool) -> str:
    out = []
    for k in range(0, len(seq) - 2, 3):
        aa = code.aa(seq[k : k + 3])
        out.append(aa)
        if to_stop and aa == "*":
            break
    return "".join(out)


def _compound(
    tr: Transcript, cds_seq: str, code: GeneticCode, group: list[_Edit], shift_before: int
) -> Consequence:
    """The one consequence of a group of edits sharing codons (or a shifted frame)."""
    c0 = group[0].tbeg // 3
    last = max(edit.tend for edit in group)
    dlen = sum(len(e.talt) - (e.tend - e.tbeg) for e in group)
    frameshift = dlen % 3 != 0
    stop = len(cds_seq) if frameshift else (max((last - 1) // 3, c0) + 1) * 3
    parts, cursor = [], c0 * 3
    for edit in group:
        parts.append(cds_seq[cursor : edit.tbeg])
        parts.append(edit.talt)
        cursor = edit.tend
    parts.append(cds_seq[cursor:stop])
    alt_nt = "".join(parts)
    ref_nt = cds_seq[c0 * 3 : stop]
    tref = _translate(ref_nt, code, frameshift)
    tseq = _translate(alt_nt, code, frameshift)
    terms: list[str] = []
    if frameshift:
        terms.append("frameshift")
    else:
        if dlen:
            terms.append("inframe_deletion" if dlen < 0 else "inframe_insertion")
        if c0 == 0 and tref[:1] == "M" and tseq[:1] != "M":
            terms.append("start_lost")
        changed = bool(dlen)  # in-frame indels: no per-residue terms, as bcftools
        for j, ref_aa in enumerate(tref if not dlen else ""):
            alt_aa = tseq[j] if j < len(tseq) else ""
            if ref_aa == alt_aa:
                continue
            changed = True
            if ref_aa == "*":
                term = "stop_lost"
            elif alt_aa == "*":
                term = "stop_gained"
            else:
                term = "missense"
            if term not in terms:
                terms.append(term)
        if not dlen and not changed:
            terms.append("synonymous")
        if dlen and "*" in tseq and "*" not in tref and "stop_gained" not in terms:
            terms.append("stop_gained")
    synonymous = terms == ["synonymous"]
    aa_change = f"{c0 + 1}{tref}" + ("" if synonymous else f">{c0 + 1 + shift_before // 3}{tseq}")
    dna = "+".join(f"{e.pos}{e.ref}>{e.alt}" for e in sorted(group, key=lambda e: e.pos))
    return Consequence(
        tuple(terms), tr.gene, tr.id, tr.biotype, "+" if tr.forward else "-", aa_change, dna
    )


def _transcripts(
    annotator: TranscriptAnnotator, records: Sequence[PhasedRecord]
) -> dict[str, Transcript]:
    found: dict[str, Transcript] = {}
    for record in records:
        contig = annotator.contig(record.chrom)
        if contig is None:
            continue
        beg = record.pos - 1
        for tr in contig.candidates(beg, beg + len(record.ref)):
            if tr.coding and tr.cds_indexed and tr.cds:
                found.setdefault(tr.id, tr)
    return found


def _haplotypes(records: Sequence[PhasedRecord]) -> list[list[int]]:
    """Per haplotype (sample x ploidy slot), the carried allele index of every record."""
    if not any(record.haplotypes for record in records):
        return [[1 if record.alts else 0 for record in records]]
    slots = {
        (s, h)
        for record in records
        for s, sample in enumerate(record.haplotypes)
        for h in range(len(sample))
    }
    haps = []
    for s, h in sorted(slots):
        alleles = []
        for record in records:
            sample = record.haplotypes[s] if s < len(record.haplotypes) else ()
            allele = sample[h] if h < len(sample) else None
            alleles.append(allele or 0)
        haps.append(alleles)
    return haps


def _replacements(
    annotator: TranscriptAnnotator,
    records: Sequence[PhasedRecord],
    alleles: Sequence[int],
    transcripts: dict[str, Transcript],
) -> dict[tuple[int, str], HaplotypeCall]:
    """On one haplotype: (record, transcript id) -> the call replacing the record's local
    coding call on that transcript (a compound consequence or a :class:`SeeRecord`)."""
    replaced: dict[tuple[int, str], HaplotypeCall] = {}
    for tr in transcripts.values():
        contig = annotator.contig(tr.chrom)
        cds_seq = _coding_sequence(annotator, tr)
        if contig is None or cds_seq is None:
            continue
        edits = []
        for i, (record, allele) in enumerate(zip(records, alleles, strict=True)):
            if allele <= 0 or allele > len(record.alts) or record.chrom != tr.chrom:
                continue
            alt = record.alts[allele - 1].upper()
            if not alt or alt[0] in ".*<" or "*" in alt:
                continue
            edit = _place(tr, i, record.pos, record.ref.upper(), alt)
            if edit is not None:
                edits.append(edit)
        edits.sort(key=lambda e: (e.tbeg, e.tend))
        shift = 0
        for group in _groups(edits):
            if len(group) > 1:
                lead = group[0]
                replaced[(lead.record, tr.id)] = _compound(tr, cds_seq, contig.code, group, shift)
                for edit in group[1:]:
                    replaced[(edit.record, tr.id)] = SeeRecord(lead.pos)
            shift += sum(len(e.talt) - (e.tend - e.tbeg) for e in group)
    return replaced


def _groups(edits: list[_Edit]) -> Iterator[list[_Edit]]:
    """Edits (in coding order) that share codons, or follow a frameshift, grouped."""
    k = 0
    while k < len(edits):
        group = [edits[k]]
        dlen = len(edits[k].talt) - (edits[k].tend - edits[k].tbeg)
        last_codon = (edits[k].tend - 1) // 3
        k += 1
        while k < len(edits):
            nxt = edits[k]
            if nxt.tbeg < group[-1].tend:
                break  # overlapping alleles cannot both be on one haplotype
            if dlen % 3 == 0 and nxt.tbeg // 3 > last_codon:
                break
            group.append(nxt)
            dlen += len(nxt.talt) - (nxt.tend - nxt.tbeg)
            last_codon = max(last_codon, (nxt.tend - 1) // 3)
            k += 1
        yield group


def _local_calls(
    annotator: TranscriptAnnotator, record: PhasedRecord, allele: int
) -> list[Consequence]:
    return annotator.annotate(record.chrom, record.pos, record.ref, record.alts[allele - 1])


def _merge_calls(
    local: list[Consequence], record: int, replaced: dict[tuple[int, str], HaplotypeCall]
) -> list[tuple[str, HaplotypeCall]]:
    """A record's calls on one haplotype, with their transcript ids: local calls, its
    coding ones replaced."""
    calls: list[tuple[str, HaplotypeCall]] = [
        (csq.transcript, csq)
        for csq in local
        if not ((record, csq.transcript) in replaced and csq.dna_change)
    ]
    calls.extend((tid, call) for (j, tid), call in replaced.items() if j == record)
    return calls


def annotate_haplotypes(
    annotator: TranscriptAnnotator, records: Sequence[PhasedRecord]
) -> list[list[HaplotypeCall]]:
    """Haplotype-aware consequences of every record of one VCF (sorted or not), one list each.

    Each list holds the record's calls over all its haplotypes, first
    occurrence first: local calls, with the coding call of a transcript
    replaced by a compound consequence (on the first record of a group in
    coding order) or a :class:`SeeRecord` (on the others).
    """
    out: list[list[HaplotypeCall]] = [[] for _ in records]
    transcripts = _transcripts(annotator, records)
    local: dict[tuple[int, int], list[Consequence]] = {}
    for alleles in _haplotypes(records):
        replaced = _replacements(annotator, records, alleles, transcripts)
        for i, allele in enumerate(alleles):
            if allele <= 0 or allele > len(records[i].alts):
                continue
            if (i, allele) not in local:
                local[(i, allele)] = _local_calls(annotator, records[i], allele)
            for _tid, call in _merge_calls(local[(i, allele)], i, replaced):
                if call not in out[i]:
                    out[i].append(call)
    return out


AlleleCalls = dict[int, list[Consequence]]


def haplotype_overrides(
    annotator: TranscriptAnnotator, records: Sequence[PhasedRecord]
) -> dict[int, AlleleCalls]:
    """The records whose calls haplotype-aware calling changes: record index -> ALT allele
    (1-based) -> its transcript calls over all haplotypes carrying it.

    Records left out keep their local calls. A :class:`SeeRecord` comes back
    as a Consequence whose one term is ``@POS``, on the transcript it refers to.
    """
    transcripts = _transcripts(annotator, records)
    if not transcripts:
        return {}
    haplotypes = list(dict.fromkeys(tuple(alleles) for alleles in _haplotypes(records)))
    replaced = [_replacements(annotator, records, alleles, transcripts) for alleles in haplotypes]
    touched = sorted({i for found in replaced for (i, _tid) in found})
    out: dict[int, AlleleCalls] = {}
    for i in touched:
        by_allele: AlleleCalls = {}
        for alleles, found in zip(haplotypes, replaced, strict=True):
            allele = alleles[i]
            if allele <= 0 or allele > len(records[i].alts):
                continue
            calls = by_allele.setdefault(allele, [])
            for tid, call in _merge_calls(_local_calls(annotator, records[i], allele), i, found):
                csq = _as_consequence(call, transcripts.get(tid))
                if csq not in calls:
                    calls.append(csq)
        out[i] = by_allele
    return out


def _as_consequence(call: HaplotypeCall, tr: Transcript | None) -> Consequence:
    """A call as a Consequence; a :class:`SeeRecord` as the term ``@POS`` on ``tr``."""
    if isinstance(call, Consequence):
        return call
    assert tr is not None, "a reference always comes from a coding transcript"
    return Consequence((str(call),), tr.gene, tr.id, tr.biotype, "+" if tr.forward else "-")


def render_bcsq(calls: Sequence[HaplotypeCall]) -> str:
    """The calls written as bcftools writes INFO/BCSQ (``.`` when there are none)."""
    parts = []
    for call in calls:
        if isinstance(call, SeeRecord):
            parts.append(str(call))
            continue
        fields = [call.term, call.gene, call.transcript, call.biotype]
        if call.strand:
            fields += [call.strand, call.aa_change, call.dna_change]
        parts.append("|".join(fields))
    return ",".join(parts) or "."
