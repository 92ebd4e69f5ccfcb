# cython: annotation_typing=False
"""Haplotype-aware consequences, as bcftools csq's default (non ``-l``) mode calls them.

    from anntools.csq.haplotype import PhasedRecord, annotate_haplotypes
    calls = annotate_haplotypes(annotator, records)   # one list per record
    swaps = haplotype_overrides(annotator, records)   # what the record loop changes

Variants carried by the same haplotype (one sample's GT allele) that change
the same codon(s) of a transcript's CDS are combined into one consequence
(``107G>A+108T>A``), reported on the record that comes first in the
transcript's coding direction; the other records get a ``@POS`` reference to
it. While the frame is shifted every later CDS variant of the haplotype joins
the same consequence. Grouping, trimming, overlapping variants, lost starts
and the compound's terms follow bcftools' csq.c (hap_init, hap_finalize,
hap_add_csq); everything else (UTR, splice, intron, single-variant codons) is
the local call of :class:`~anntools.csq.TranscriptAnnotator`.

Departures from bcftools: unphased genotypes are read as if phased
(bcftools' ``--phase a``; by default it refuses them); a record without
samples is one haplotype carrying ALT 1; only variants lying wholly within
one CDS segment are combined; an in-frame indel upstream shifts the
alternate amino-acid position of later combined consequences but not of
single-variant ones.
"""

from __future__ import annotations

import pickle
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from anntools.csq.codons import GeneticCode, reverse_complement
from anntools.csq.engine import TranscriptAnnotator
from anntools.csq.gff3 import Transcript
from anntools.model import Consequence


class PhasedRecord:
    """One VCF record: ``pos`` 1-based; ``haplotypes`` per sample, the allele index per haplotype.

    ``None`` marks a missing allele. With no samples (empty ``haplotypes``)
    the record is taken as one haplotype carrying ALT 1. Read-only by convention: a
    plain slotted class, because the haplotype buffer makes one per held record and a
    frozen dataclass's generated __init__ costs several times more.
    """

    __slots__ = ("alts", "chrom", "haplotypes", "pos", "ref")

    def __init__(
        self,
        chrom: str,
        pos: int,
        ref: str,
        alts: tuple[str, ...],
        haplotypes: tuple[tuple[int | None, ...], ...] = (),
    ) -> None:
        self.chrom = chrom
        self.pos = pos
        self.ref = ref
        self.alts = alts
        self.haplotypes = haplotypes


@dataclass(frozen=True, slots=True)
class SeeRecord:
    """bcftools' ``@POS``: this record's consequence is reported on the record at ``pos``."""

    pos: int

    def __str__(self) -> str:
        return f"@{self.pos}"


HaplotypeCall = Consequence | SeeRecord
Replaced = dict[tuple[int, str], HaplotypeCall | None]  # (record, transcript id) -> call


def parse_genotypes(columns: Sequence[str]) -> tuple[tuple[int | None, ...], ...]:
    """Haplotype alleles of the sample columns of a VCF line (FORMAT's first key must be GT)."""
    out = []
    for column in columns:
        gt = column.split(":", 1)[0].replace("/", "|")
        out.append(tuple(None if a in (".", "") else int(a) for a in gt.split("|")))
    return tuple(out)


class _Edit:
    """One allele of one record placed on a transcript's coding sequence (coding order).

    A plain class rather than a dataclass: one is made per held allele, and the
    compiled module builds these faster than a dataclass's generated __init__.
    """

    __slots__ = ("alt", "pos", "record", "ref", "talt", "tbeg", "tend")

    def __init__(
        self, record: int, pos: int, ref: str, alt: str, tbeg: int, tend: int, talt: str
    ) -> None:
        self.record = record
        self.pos = pos  # 1-based VCF POS
        self.ref = ref
        self.alt = alt
        self.tbeg = tbeg  # half-open range in the coding sequence, transcript orientation
        self.tend = tend
        self.talt = talt  # ALT in transcript orientation


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


def _trimmed(ref: str, alt: str, beg: int) -> tuple[str, str, int]:
    """REF and ALT without the bases they share, and the new 0-based start, as bcftools
    trims them: the common suffix first while REF keeps a base (``ACTA>A`` deletes
    ``ACT``, ``C>CC`` stays), then the common prefix while both keep a base (``G>GCGT``
    stays anchored on its G)."""
    while len(ref) > 1 and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, beg = ref[1:], alt[1:], beg + 1
    return ref, alt, beg


def _place(tr: Transcript, index: int, pos: int, ref: str, alt: str) -> _Edit | None:
    """The edit of one allele when what it changes (see _trimmed) lies wholly within one
    CDS segment, else None (also for REF == ALT)."""
    core_ref, core_alt, beg = _trimmed(ref, alt, pos - 1)
    if core_ref == core_alt:
        return None
    end = beg + len(core_ref) - 1
    for cds in tr.cds:
        if cds.beg <= beg and end < cds.beg + cds.length:  # within [cds.beg, cds.end]
            gbeg = cds.pos + beg - cds.beg  # cds.pos: the segment's offset in the CDS
            gend = gbeg + len(core_ref)
            break
    else:
        return None
    if tr.forward:
        return _Edit(index, pos, ref, alt, gbeg, gend, core_alt)
    total = _cds_length(tr)
    return _Edit(index, pos, ref, alt, total - gend, total - gbeg, reverse_complement(core_alt))


def _cds_length(tr: Transcript) -> int:
    last = tr.cds[-1]
    return last.pos + last.length


def _terms(group: list[_Edit], dlen: int, tref: str, tseq: str, c0: int) -> list[str]:
    """The consequence terms of a group, by bcftools' rules (csq.c, hap_add_csq)."""
    terms: list[str] = []
    if dlen:
        terms.append(
            "frameshift" if dlen % 3 else "inframe_deletion" if dlen < 0 else "inframe_insertion"
        )
        if dlen % 3 == 0 and not tref.endswith("*") and tseq.endswith("*"):
            terms.append("stop_gained")  # (bcftools' cases call a frameshift only that)
    else:
        if any(_dlen(e) for e in group):
            terms.append("inframe_altering")
        for j, ref_aa in enumerate(tref):
            alt_aa = tseq[j] if j < len(tseq) else ""
            if ref_aa != alt_aa:
                term = (
                    "stop_lost" if ref_aa == "*" else "stop_gained" if alt_aa == "*" else "missense"
                )
                if term not in terms:
                    terms.append(term)
        if terms in ([], ["inframe_altering"]):
            terms.append("synonymous")
    if c0 == 0 and tref[:1] == "M" and tseq[:1] != "M":
        terms.append("start_lost")
    inframe = [t for t in terms if t.startswith("inframe_")]
    if len(group) > 1 and inframe and tseq.endswith("*"):
        # a stop comes before the frame is restored
        terms = [t for t in terms if t not in inframe]
        terms += [t for t in ("frameshift", "stop_gained") if t not in terms]
    return terms


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
    dlen = sum(_dlen(e) for e in group)
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
    tref = _translate(ref_nt, code, to_stop=True)  # bcftools cuts both at the first stop
    tseq = _translate(alt_nt, code, to_stop=True)
    terms = _terms(group, dlen, tref, tseq, c0)
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


Slot = tuple[int, int]  # (sample, ploidy slot); (0, 0) for a record without samples


def _haplotypes(records: Sequence[PhasedRecord]) -> list[list[int]]:
    """Per haplotype (sample x ploidy slot), the carried allele index of every record."""
    return list(_slotted_haplotypes(records).values())


def _slotted_haplotypes(records: Sequence[PhasedRecord]) -> dict[Slot, list[int]]:
    """Per haplotype slot, in slot order, the carried allele index of every record."""
    if not any(record.haplotypes for record in records):
        return {(0, 0): [1 if record.alts else 0 for record in records]}
    # records share few genotype tuples (the buffer keeps one of each): look at each once
    distinct = {id(record.haplotypes): record.haplotypes for record in records}
    slots = {
        (s, h)
        for haplotypes in distinct.values()
        for s, sample in enumerate(haplotypes)
        for h in range(len(sample))
    }
    haps = {}
    for s, h in sorted(slots):
        alleles = []
        for record in records:
            sample = record.haplotypes[s] if s < len(record.haplotypes) else ()
            allele = sample[h] if h < len(sample) else None
            alleles.append(allele or 0)
        haps[s, h] = alleles
    return haps


def _replacements(
    annotator: TranscriptAnnotator,
    records: Sequence[PhasedRecord],
    alleles: Sequence[int],
    transcripts: dict[str, Transcript],
    placed: Placements | None = None,
    shifts: dict[str, int] | None = None,
) -> Replaced:
    """On one haplotype: (record, transcript id) -> the call replacing the record's local
    coding call on that transcript: a compound consequence, a :class:`SeeRecord`, or None
    (the allele overlaps one placed before it on this haplotype: bcftools skips it).

    ``placed`` (transcript id -> (record, allele) -> placement) keeps the placements for
    the next haplotype: they depend on the allele, not on who carries it. ``shifts``
    (transcript id -> length change of the haplotype's edits so far, on the + strand
    carried over from records already called) is read and updated."""
    replaced: Replaced = {}
    for tr in transcripts.values():
        contig = annotator.contig(tr.chrom)
        cds_seq = _coding_sequence(annotator, tr)
        if contig is None or cds_seq is None:
            continue
        known = {} if placed is None else placed.setdefault(tr.id, {})
        edits, last_end = [], -1  # the kept edits in genomic order
        for i, allele in enumerate(alleles):
            if allele <= 0:
                continue
            try:
                found = known[i, allele]
            except KeyError:
                found = known[i, allele] = _placed(tr, cds_seq, contig.code, records, i, allele)
            if found is None:
                continue
            edit, genomic_beg, genomic_end = found
            if genomic_beg < last_end:
                replaced[edit.record, tr.id] = None
                continue
            last_end = max(last_end, genomic_end)
            edits.append(edit)
        shift = shifts.get(tr.id, 0) if shifts is not None else 0
        for group in _groups(edits, tr.forward, len(cds_seq)):
            if len(group) > 1:
                lead = group[0]
                compound = _compound(tr, cds_seq, contig.code, group, shift)
                replaced[lead.record, tr.id] = compound
                for edit in group[1:]:
                    replaced[edit.record, tr.id] = SeeRecord(lead.pos)
            for edit in group:
                shift += _dlen(edit)
        if shifts is not None:
            shifts[tr.id] = shift
    return replaced


# An allele placed on a transcript's coding sequence, with its half-open span on the + strand
_Placed = tuple[_Edit, int, int] | None
Placements = dict[str, dict[tuple[int, int], _Placed]]  # tid -> (record, allele) -> placement


def _placed(
    tr: Transcript,
    cds_seq: str,
    code: GeneticCode,
    records: Sequence[PhasedRecord],
    i: int,
    allele: int,
) -> _Placed:
    """ALT ``allele`` of record ``i`` placed on ``tr``; None when it takes no part in
    combined calls (not wholly within one CDS segment, symbolic, or a lost start, which
    bcftools calls on its own)."""
    record = records[i]
    if allele > len(record.alts) or record.chrom != tr.chrom:
        return None
    alt = record.alts[allele - 1].upper()
    if not alt or alt[0] in ".*<" or "*" in alt:
        return None
    edit = _place(tr, i, record.pos, record.ref.upper(), alt)
    if edit is None or _loses_start(cds_seq, edit, code):
        return None
    return (edit, *_genomic_span(edit, tr.forward, len(cds_seq)))


def _genomic_span(edit: _Edit, forward: bool, total: int) -> tuple[int, int]:
    """The edit's half-open span in coding-sequence offsets on the + strand."""
    return (edit.tbeg, edit.tend) if forward else (total - edit.tend, total - edit.tbeg)


def _loses_start(cds_seq: str, edit: _Edit, code: GeneticCode) -> bool:
    """Whether the edit turns a start codon (M) into something else."""
    if edit.tbeg >= 3 or code.aa(cds_seq[:3]) != "M":
        return False
    altered = cds_seq[: edit.tbeg] + edit.talt + cds_seq[edit.tend : edit.tend + 3]
    return code.aa(altered[:3]) != "M"


class LocalCalls:
    """The engine's per-record calls of (record index, ALT number), each computed once."""

    def __init__(self, annotator: TranscriptAnnotator, records: Sequence[PhasedRecord]) -> None:
        self.annotator = annotator
        self.records = records
        self._found: dict[tuple[int, int], list[Consequence]] = {}

    def __call__(self, index: int, allele: int) -> list[Consequence]:
        key = (index, allele)
        if key not in self._found:
            r = self.records[index]
            self._found[key] = self.annotator.annotate(r.chrom, r.pos, r.ref, r.alts[allele - 1])
        return self._found[key]


def _groups(edits: list[_Edit], forward: bool, total: int) -> Iterator[list[_Edit]]:
    """Edits grouped as bcftools groups them, each group in coding order.

    ``edits`` are in genomic order. Walking them in coding order, a group goes on
    while its length change is not a multiple of 3 (the frame is shifted) or the
    last base of an edit and the first of the next fall in one codon; positions
    are on the alternate coding sequence, with bcftools' rules for an indel's
    last base (csq.c, hap_finalize).
    """
    starts, before = [], 0  # each edit's start on the alternate sequence, + strand
    for edit in edits:
        starts.append(_genomic_span(edit, forward, total)[0] + before)
        before += _dlen(edit)
    alt_total = total + before
    order = list(range(len(edits))) if forward else list(range(len(edits) - 1, -1, -1))
    group: list[_Edit] = []
    dlen = 0
    for n, k in enumerate(order):
        group.append(edits[k])
        dlen += _dlen(edits[k])
        if n + 1 < len(order) and (
            dlen % 3 or _same_codon(edits, starts, k, order[n + 1], forward, alt_total)
        ):
            continue
        yield group
        group, dlen = [], 0


def _same_codon(
    edits: list[_Edit], starts: list[int], k: int, nxt: int, forward: bool, alt_total: int
) -> bool:
    """Whether the last base of edit ``k`` and the first of edit ``nxt`` (next in coding
    order) share a codon of the alternate coding sequence."""
    d, d_next = _dlen(edits[k]), _dlen(edits[nxt])
    if forward:
        cur = starts[k] + (d if d > 0 else 1 if d < 0 else 0)
        return cur // 3 == starts[nxt] // 3
    cur = alt_total - 1 - starts[k] + (d - 1 if d > 0 else -d if d < 0 else 0)
    following = alt_total - 1 - starts[nxt] - (d_next if d_next > 0 else 0)
    return cur // 3 == following // 3


def _dlen(edit: _Edit) -> int:
    return len(edit.talt) - (edit.tend - edit.tbeg)


def _merge_calls(
    local: list[Consequence], replaced: dict[str, HaplotypeCall | None]
) -> list[tuple[str, HaplotypeCall]]:
    """A record's calls on one haplotype, with their transcript ids: local calls, the coding
    ones of the transcripts in ``replaced`` replaced."""
    calls: list[tuple[str, HaplotypeCall]] = [
        (csq.transcript, csq)
        for csq in local
        if not (csq.transcript in replaced and csq.dna_change)
    ]
    calls.extend((tid, call) for tid, call in replaced.items() if call is not None)
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
    local = LocalCalls(annotator, records)
    for alleles in _haplotypes(records):
        replaced: dict[int, dict[str, HaplotypeCall | None]] = {}
        for (record, tid), call in _replacements(annotator, records, alleles, transcripts).items():
            replaced.setdefault(record, {})[tid] = call
        for i, allele in enumerate(alleles):
            if allele <= 0 or allele > len(records[i].alts):
                continue
            for _tid, call in _merge_calls(local(i, allele), replaced.get(i, {})):
                if call not in out[i]:
                    out[i].append(call)
    return out


# ALT number (1-based) -> transcript id -> what replaces the allele's local coding call
# on that transcript: consequences, with None standing for the local call itself
Swaps = dict[int, dict[str, list[Consequence | None]]]


def swapped_calls(
    found: list[Consequence], swaps: dict[str, list[Consequence | None]] | None
) -> list[tuple[Consequence, bool]]:
    """An allele's calls with its coding call on each transcript in ``swaps`` (one allele's
    part of Swaps) replaced by what haplotype-aware calling decided; each call paired with
    whether it came from a swap (None in a swap stands for the call itself)."""
    if not swaps:
        return [(csq, False) for csq in found]
    calls: list[tuple[Consequence, bool]] = []
    done = set()
    for csq in found:
        swap = swaps.get(csq.transcript) if csq.dna_change else None
        if swap is None:
            calls.append((csq, False))
            continue
        done.add(csq.transcript)
        calls.extend((csq, False) if item is None else (item, True) for item in swap)
    for transcript, swap in swaps.items():
        if transcript not in done:
            calls.extend((item, True) for item in swap if item is not None)
    return calls


def haplotype_overrides(
    annotator: TranscriptAnnotator,
    records: Sequence[PhasedRecord],
    transcripts: dict[str, Transcript] | None = None,
    shifts: dict[Slot, dict[str, int]] | None = None,
    placed: Placements | None = None,
) -> dict[int, Swaps]:
    """The records whose calls haplotype-aware calling changes: record index -> Swaps.

    Over all haplotypes carrying an allele, its coding call on a transcript is
    kept (None), replaced by a compound consequence or by a reference to the
    record carrying one (a Consequence whose one term is ``@POS``), or dropped
    (an allele overlapping one placed before it on that haplotype). Records left
    out, and their other calls, are the local ones. ``transcripts``: the coding
    transcripts whose CDS the records overlap, when the caller has them already.
    ``shifts`` (haplotype slot -> transcript id -> length change so far), when given,
    carries the haplotypes' shifted amino-acid positions over from records called
    before (a stream called in stretches) and is updated for the next stretch.
    ``placed``: the records' placements, when the caller has made them (see HeldGroup).

    The three steps (distinct_haplotypes, call_haplotypes, CalledGroup) run apart in
    a stream: the haplotypes' calls in worker processes, the merge chunk by chunk.
    """
    if transcripts is None:
        transcripts = _transcripts(annotator, records)
    if not transcripts:
        return {}
    carried = {} if shifts is None else shifts
    haplotypes = distinct_haplotypes(records, carried)
    calls = call_haplotypes(annotator, records, transcripts, list(haplotypes), placed)
    carry_shifts(carried, haplotypes, calls)
    called = CalledGroup(list(range(len(records))), records, list(haplotypes), calls)
    return called.take_before(len(records)).merged()


# What decides a haplotype slot's calls: the allele index it carries on every record of a
# group, and the length changes carried in (transcript id, shift; sorted)
Haplotype = tuple[tuple[int, ...], tuple[tuple[str, int], ...]]


def distinct_haplotypes(
    records: Sequence[PhasedRecord], carried: dict[Slot, dict[str, int]]
) -> dict[Haplotype, list[Slot]]:
    """The records' haplotype slots, in slot order, by what decides their calls: slots
    carrying the same alleles from the same shifts get the same calls, so each distinct
    haplotype is called once (see call_haplotypes)."""
    by_key: dict[Haplotype, list[Slot]] = {}
    for slot, slot_alleles in _slotted_haplotypes(records).items():
        shifted = tuple(sorted(carried.get(slot, {}).items()))
        by_key.setdefault((tuple(slot_alleles), shifted), []).append(slot)
    return by_key


class HaplotypeCalls:
    """One haplotype's calls replacing the local coding calls of a group's records (see
    _replacements), ordered by record, in parallel lists so that the calls of a stretch of
    records are slices: ``calls[k]`` replaces the coding call of record ``records[k]`` on
    transcript ``tids[k]`` (None: dropped). ``shifts``: the haplotype's length changes at
    the group's end (transcript id -> shift), carried to the next group."""

    __slots__ = ("calls", "records", "shifts", "tids")

    def __init__(
        self,
        replaced: Replaced,
        transcripts: dict[str, Transcript],
        made: dict[tuple[SeeRecord, str], Consequence],
        shifts: dict[str, int],
    ) -> None:
        ordered = sorted(replaced.items(), key=_by_record)  # stable: a record's tids in order
        self.records = array("q", [record for (record, _), _ in ordered])
        self.tids = [tid for (_, tid), _ in ordered]
        self.calls: list[Consequence | None] = [
            None if call is None else _as_consequence(call, transcripts[tid], made)
            for (_, tid), call in ordered
        ]
        self.shifts = shifts

    def between(self, first: int, stop: int) -> StretchCalls:
        """The calls of records ``first`` to ``stop`` (excluded), as slices of the lists."""
        lo = bisect_left(self.records, first)
        hi = bisect_left(self.records, stop, lo)
        return self.records[lo:hi], self.tids[lo:hi], self.calls[lo:hi]


# A stretch of one haplotype's calls: records, transcript ids, calls (see HaplotypeCalls)
StretchCalls = tuple["array[int]", list[str], list[Consequence | None]]


def _by_record(item: tuple[tuple[int, str], HaplotypeCall | None]) -> int:
    return item[0][0]


def call_haplotypes(
    annotator: TranscriptAnnotator,
    records: Sequence[PhasedRecord],
    transcripts: dict[str, Transcript],
    haplotypes: Sequence[Haplotype],
    placed: Placements | None = None,
) -> list[HaplotypeCalls]:
    """The calls of each distinct haplotype (see distinct_haplotypes) on the records.
    Haplotypes are independent: a big group's can be called in several processes."""
    placed = {} if placed is None else placed  # an allele's placement serves every haplotype
    made: dict[tuple[SeeRecord, str], Consequence] = {}
    out = []
    for alleles, start in haplotypes:
        moved = dict(start)
        replaced = _replacements(annotator, records, alleles, transcripts, placed, moved)
        out.append(HaplotypeCalls(replaced, transcripts, made, moved))
    return out


def carry_shifts(
    carried: dict[Slot, dict[str, int]],
    haplotypes: dict[Haplotype, list[Slot]],
    calls: Sequence[HaplotypeCalls],
) -> None:
    """Carry each haplotype's length changes to its slots, for the group after."""
    for slots, found in zip(haplotypes.values(), calls, strict=True):
        for slot in slots:
            carried[slot] = found.shifts


class CalledGroup:
    """A group's records called on each distinct haplotype, handed out stretch by stretch
    (the records of one chunk) to be merged into swaps where the chunk is annotated."""

    def __init__(
        self,
        line_nos: list[int],
        records: Sequence[PhasedRecord],
        haplotypes: Sequence[Haplotype],
        calls: list[HaplotypeCalls],
    ) -> None:
        self.line_nos = line_nos  # of the records, ascending
        self.n_alts = [len(record.alts) for record in records]
        self.alleles = [alleles for alleles, _ in haplotypes]
        self.calls = calls
        self.taken = 0  # records handed out so far

    @property
    def done(self) -> bool:
        return self.taken == len(self.line_nos)

    def take_before(self, line_no: int) -> HeldStretch:
        """The next records, up to line ``line_no`` (excluded)."""
        first = self.taken
        stop = self.taken = bisect_left(self.line_nos, line_no, first)
        return HeldStretch(
            first,
            self.line_nos[first:stop],
            self.n_alts[first:stop],
            [alleles[first:stop] for alleles in self.alleles],
            [found.between(first, stop) for found in self.calls],
        )


class HeldStretch:
    """Consecutive records of a called group, from record ``first`` on: their line numbers,
    ALT counts, and per distinct haplotype the alleles they carry and the calls replacing
    their local ones. Picklable, and small: :meth:`merged` runs where they are annotated."""

    __slots__ = ("alleles", "calls", "first", "line_nos", "n_alts")

    def __init__(
        self,
        first: int,
        line_nos: list[int],
        n_alts: list[int],
        alleles: list[tuple[int, ...]],
        calls: list[StretchCalls],
    ) -> None:
        self.first = first
        self.line_nos = line_nos
        self.n_alts = n_alts
        self.alleles = alleles
        self.calls = calls

    def __bool__(self) -> bool:
        return bool(self.line_nos)

    def merged(self) -> dict[int, Swaps]:
        """Line number -> the swaps of the records whose calls a haplotype replaces: over
        the haplotypes carrying an allele, in haplotype order, each distinct item once."""
        first, line_nos = self.first, self.line_nos
        cursors = [0] * len(self.calls)  # per haplotype: its next call (calls are by record)
        out: dict[int, Swaps] = {}
        for i in sorted(set().union(*(records for records, _, _ in self.calls))):
            tids: list[str] = []  # transcripts with a replaced call on some haplotype
            found_on: list[dict[str, Consequence | None]] = []  # per haplotype: tid -> call
            for h, (records, call_tids, calls) in enumerate(self.calls):
                k, found = cursors[h], {}
                while k < len(records) and records[k] == i:
                    found[call_tids[k]] = calls[k]
                    if call_tids[k] not in tids:
                        tids.append(call_tids[k])
                    k += 1
                cursors[h] = k
                found_on.append(found)
            tids.sort()
            out[line_nos[i - first]] = self._swaps(i - first, tids, found_on)
        return out

    def _swaps(
        self, at: int, tids: list[str], found_on: list[dict[str, Consequence | None]]
    ) -> Swaps:
        n_alts = self.n_alts[at]
        swaps: Swaps = {}
        for alleles, found in zip(self.alleles, found_on, strict=True):
            allele = alleles[at]
            if allele <= 0 or allele > n_alts:
                continue
            by_tid = swaps.setdefault(allele, {})
            for tid in tids:
                swap = by_tid.setdefault(tid, [])
                item = found.get(tid, _LOCAL)
                if item is None:
                    continue  # dropped on this haplotype
                if item is _LOCAL:
                    item = None  # the local call
                if item not in swap:
                    swap.append(item)
        return swaps


_LOCAL = Consequence(("local",), "", "", "")  # a marker: no call replaces the record's local one


def _as_consequence(
    call: HaplotypeCall, tr: Transcript, made: dict[tuple[SeeRecord, str], Consequence]
) -> Consequence:
    """A call as a Consequence; a :class:`SeeRecord` as the term ``@POS`` on ``tr``, made
    once (in ``made``) for all the records pointing at one."""
    if isinstance(call, Consequence):
        return call
    key = (call, tr.id)
    found = made.get(key)
    if found is None:
        strand = "+" if tr.forward else "-"
        found = made[key] = Consequence((str(call),), tr.gene, tr.id, tr.biotype, strand)
    return found


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


class HeldGroup:
    """Records held for haplotype-aware calling, in stream order, and whether every
    haplotype is in frame on every transcript they reach.

    That is the walk of :func:`_replacements` without the calls (an allele's
    placement, its overlap with the haplotype's last kept edit, the running length
    change from the shifts carried in). It is made when asked, from where the last
    question left it, so each record is walked once per transcript however often a
    stream asks whether a + strand group may be settled. The placements serve the
    group's call (:meth:`overrides`).
    """

    def __init__(self, annotator: TranscriptAnnotator, carried: dict[Slot, dict[str, int]]):
        self.annotator = annotator
        self.carried = carried  # slot -> transcript id -> length change carried in
        self.records: list[PhasedRecord] = []
        self.transcripts: dict[str, Transcript] = {}  # whose CDS the records overlap
        self.placed: Placements = {}
        self._walked: dict[str, int] = {}  # transcript id -> records walked
        self._walks: dict[tuple[Slot, str], list[int]] = {}  # -> [last kept end, shift]
        self._shifted = 0  # walks whose shift is not a multiple of 3
        self._samples = False  # any genotypes yet (else one haplotype carrying ALT 1)

    def add(self, record: PhasedRecord, reached: list[Transcript]) -> None:
        """Add the next record; ``reached``: the coding transcripts its REF overlaps."""
        self.records.append(record)
        if record.haplotypes and not self._samples:
            # the records before carried ALT 1 on one haplotype; with genotypes they carry
            # nothing (see _slotted_haplotypes): walk again from the start
            self._samples = True
            self._walked, self._walks, self._shifted = {}, {}, 0
        for tr in reached:
            self.transcripts.setdefault(tr.id, tr)

    def in_frame(self) -> bool:
        """Whether no haplotype's kept edits shift the frame of a transcript."""
        for tr in self.transcripts.values():
            for index in range(self._walked.get(tr.id, 0), len(self.records)):
                self._walk(tr, index)
            self._walked[tr.id] = len(self.records)
        return self._shifted == 0

    def calls(self, haplotypes: Sequence[Haplotype]) -> list[HaplotypeCalls]:
        """The group's calls on each of these haplotypes, in this process."""
        return call_haplotypes(
            self.annotator, self.records, self.transcripts, haplotypes, self.placed
        )

    def payload(self) -> bytes:
        """The records and their transcripts, pickled for worker processes (see
        call_payload): as columns, since pickling an object per record costs more than
        calling it."""
        records = self.records
        return pickle.dumps(
            (
                [(tr.chrom, tid) for tid, tr in self.transcripts.items()],
                [record.chrom for record in records],
                [record.pos for record in records],
                [record.ref for record in records],
                [record.alts for record in records],
                [record.haplotypes for record in records],
            ),
            pickle.HIGHEST_PROTOCOL,
        )

    def _walk(self, tr: Transcript, index: int) -> None:
        contig = self.annotator.contig(tr.chrom)
        cds_seq = _coding_sequence(self.annotator, tr)
        if contig is None or cds_seq is None:
            return  # _replacements skips the transcript too
        known = self.placed.setdefault(tr.id, {})
        for slot, allele in self._alleles(self.records[index]):
            key = (index, allele)
            if key in known:
                found = known[key]
            else:
                found = known[key] = _placed(tr, cds_seq, contig.code, self.records, index, allele)
            if found is None:
                continue
            edit, genomic_beg, genomic_end = found
            walk = self._walks.get((slot, tr.id))
            if walk is None:
                walk = self._walks[slot, tr.id] = [-1, self.carried.get(slot, {}).get(tr.id, 0)]
                self._shifted += walk[1] % 3 != 0
            if genomic_beg < walk[0]:
                continue  # overlaps a kept edit: dropped
            walk[0] = max(walk[0], genomic_end)
            was_shifted = walk[1] % 3 != 0
            walk[1] += _dlen(edit)
            self._shifted += (walk[1] % 3 != 0) - was_shifted

    def _alleles(self, record: PhasedRecord) -> list[tuple[Slot, int]]:
        """The (haplotype slot, ALT number) pairs of the alleles the record carries."""
        if not self._samples:
            return [((0, 0), 1)] if record.alts else []
        return [
            ((s, h), allele)
            for s, sample in enumerate(record.haplotypes)
            for h, allele in enumerate(sample)
            if allele is not None and allele > 0
        ]


def call_payload(
    annotator: TranscriptAnnotator, task: tuple[bytes, list[Haplotype]]
) -> list[HaplotypeCalls]:
    """A held group's calls on some of its haplotypes, in a worker process: ``task`` is
    the group's payload (see HeldGroup.payload) and the haplotypes to call."""
    payload, haplotypes = task
    where, chroms, positions, refs, alts, genotypes = pickle.loads(payload)
    records = [
        PhasedRecord(chrom, pos, ref, alt, haplotype)
        for chrom, pos, ref, alt, haplotype in zip(
            chroms, positions, refs, alts, genotypes, strict=True
        )
    ]
    by_id: dict[str, Transcript] = {}
    for chrom in {chrom for chrom, _ in where}:
        contig = annotator.contig(chrom)
        if contig is not None:  # the group's own contig: found when it was held
            by_id.update((tr.id, tr) for tr in contig.transcripts)
    transcripts = {tid: by_id[tid] for _, tid in where}
    return call_haplotypes(annotator, records, transcripts, haplotypes)
