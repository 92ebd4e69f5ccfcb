"""TranscriptAnnotator: transcript-level consequences of VCF alleles, like ``bcftools csq -l``.

The search order is bcftools': CDS segments first (coding prediction), then
UTRs, then exons (splice sites), and only when none of these was hit, whole
transcripts (intron / non_coding). Transcripts of a contig are binned by
position so that a lookup touches a handful of candidates.

Coordinates: the public ``annotate`` takes the VCF's 1-based POS; everything
inside is 0-based (closed intervals), like bcftools' own structures.
"""

from __future__ import annotations

import logging
import os
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping

from anntools.csq import collector as bits
from anntools.csq.coding import annotate_cds, snv_consequence, spliced_reference
from anntools.csq.codons import STANDARD, VERTEBRATE_MITOCHONDRIAL, GeneticCode, genetic_code
from anntools.csq.collector import Change, Collector
from anntools.csq.fasta import FastaReader
from anntools.csq.gff3 import Cds, Exon, Transcript, Utr, read_gff3
from anntools.csq.snv_codon import PAD, codon_change
from anntools.csq.splice import (
    INSIDE,
    N_SPLICE_REGION_EXON,
    N_SPLICE_REGION_INTRON,
    OVERLAP,
    Call,
    Splice,
)
from anntools.model import Consequence

log = logging.getLogger(__name__)

_BIN_SHIFT = 14  # 16 kb bins
# How far around a feature edge an SNV's answer may differ from its neighbours' (see
# _loud_windows): (bases before, bases after) the first base, then the last base.
# Each is one base wider than the checks reach, as a margin.
_SPLICED_EXON = (
    (N_SPLICE_REGION_INTRON + 1, N_SPLICE_REGION_EXON + 1),
    (N_SPLICE_REGION_EXON + 1, N_SPLICE_REGION_INTRON + 1),
)
_CDS = ((2, N_SPLICE_REGION_EXON + 1), (N_SPLICE_REGION_EXON + 1, 2))
_CONTAINMENT = ((2, 2), (2, 2))  # in or out; lookups reach one base before a feature
_PAD = N_SPLICE_REGION_INTRON  # exons are looked up with this much flank, as bcftools indexes them
# An allele other than an SNV shares its quiet stretch's plan when it stays this many bases
# clear of every loud window: twice the reach of any check (_PAD), as a wide margin.
QUIET_MARGIN = 2 * _PAD
_MITO_NAMES = {"M", "MT"}
# What a symbolic allele (its first four characters, upper case) does to the features it meets.
_SYMBOLIC_CLASS = {"<INS": bits.ELONGATION, "<DEL": bits.TRUNCATION}
_BASES = frozenset("ACGT")


def normalize_chrom(name: str) -> str:
    """Canonical contig name: no ``chr`` prefix, and ``M``/``chrM``/``chrMT`` -> ``MT``."""
    bare = name[3:] if name[:3].lower() == "chr" else name
    return "MT" if bare.upper() in _MITO_NAMES else bare


def default_genetic_codes() -> dict[str, int]:
    """Table per canonical contig name: vertebrate mitochondrial (2) for MT, standard otherwise."""
    return {"MT": VERTEBRATE_MITOCHONDRIAL}


def _loud_windows(tr: Transcript) -> Iterator[tuple[int, int]]:
    """Half-open windows around ``tr``'s feature edges where an SNV's answer varies by position.

    Outside them an SNV is either in or out of each feature, at least 3 bases
    inside any CDS (no start/stop/splice-region call) and out of every splice
    window, so one plan serves every position between two windows. Exon edges
    matter only for transcripts with a CDS (only those get splice checks),
    hence the wide window there; other edges only switch containment.
    """
    features: list[tuple[int, int, tuple[tuple[int, int], tuple[int, int]]]] = [
        (tr.beg, tr.end, _CONTAINMENT)
    ]
    exon_margins = _SPLICED_EXON if tr.cds else _CONTAINMENT
    features += ((exon.beg, exon.end, exon_margins) for exon in tr.exons)
    features += ((utr.beg, utr.end, _CONTAINMENT) for utr in tr.utrs)
    features += ((cds.beg, cds.end, _CDS) for cds in tr.cds)
    for beg, end, ((before_beg, after_beg), (before_end, after_end)) in features:
        yield beg - before_beg, beg + after_beg + 1
        yield end - before_end, end + after_end + 1


def _span_order(tr: Transcript) -> tuple[int, int, int]:
    """bcftools' regidx order: by start, longer first, then GFF3 order."""
    return tr.beg, -tr.end, tr.order


class Plan:
    """What a variant anywhere in one quiet stretch of a contig hits.

    ``coding`` are the (transcript, CDS) pairs whose codon must be translated;
    ``tail`` the consequences that do not depend on the bases (UTR, intron, ...).
    """

    __slots__ = ("coding", "tail")

    def __init__(
        self, coding: tuple[tuple[Transcript, Cds], ...], tail: tuple[Consequence, ...]
    ) -> None:
        self.coding = coding
        self.tail = tail


REF_MISMATCH = "REF does not match the reference FASTA"


class RefMismatch(ValueError):
    """A record's REF differs from the reference FASTA where its consequence depends on it.

    bcftools csq stops there, or with ``--force`` warns once and leaves the record
    without consequences. The record loop does what ``--force`` does, keeping
    the record, and reports every one as a warning.
    """

    def __init__(self, chrom: str, pos: int, ref: str, found: str) -> None:
        self.reason = (
            f"{REF_MISMATCH}: {ref} where it has {found} at {chrom}:{pos} "
            "(kept, without transcript consequences)"
        )
        super().__init__(self.reason)


def check_ref(contig: ContigIndex, beg: int, ref: str) -> None:
    """Raise RefMismatch when upper-case ``ref`` at 0-based ``beg`` is not the FASTA's.

    An N on either side matches anything: a masked base, or one past the contig's
    end (read as N), says nothing against the REF.
    """
    found = contig.fetch(beg, beg + len(ref))
    if found != ref and any(a != b and "N" not in (a, b) for a, b in zip(ref, found, strict=True)):
        raise RefMismatch(contig.name, beg + 1, ref, found)


class ContigIndex:
    """The transcripts of one contig, binned for lookup, with its sequence and genetic code.

    It also keeps "quiet" stretches: positions outside every loud window
    around a feature boundary (see _loud_windows), where a variant's relation
    to every transcript (inside a CDS, UTR, intron...) cannot change, so that
    part of the answer is computed once per stretch (a plan) and reused.
    Stretch ``k`` runs from ``loud_ends[k]`` to ``loud_starts[k + 1]``
    (0-based, half-open; ``k = -1`` is everything before the first window).
    """

    __slots__ = (
        "_loud_ends",
        "_loud_starts",
        "_plans",
        "bins",
        "code",
        "fetch",
        "name",
        "transcripts",
    )

    def __init__(
        self,
        name: str,
        transcripts: list[Transcript],
        fetch: Callable[[int, int], str],
        code: GeneticCode,
    ):
        self.name = name
        self.fetch = fetch
        self.code = code
        self.transcripts = transcripts
        self._loud_starts: array[int] | None = None
        self._loud_ends: array[int] = array("q")
        self._plans: dict[int, Plan | None] = {}
        bins: dict[int, list[Transcript]] = {}
        for tr in sorted(transcripts, key=_span_order):
            for b in range((tr.beg - _PAD) >> _BIN_SHIFT, ((tr.end + _PAD) >> _BIN_SHIFT) + 1):
                bins.setdefault(b, []).append(tr)
        self.bins = {b: tuple(trs) for b, trs in bins.items()}

    def candidates(self, beg: int, end: int) -> list[Transcript]:
        """Transcripts whose span, plus the splice-region flank, overlaps [beg, end] (0-based)."""
        first, last = beg >> _BIN_SHIFT, end >> _BIN_SHIFT
        pool: Iterable[Transcript] = self.bins.get(first, ())
        if last != first:
            merged: dict[int, Transcript] = {}
            for b in range(first, last + 1):
                merged.update((id(tr), tr) for tr in self.bins.get(b, ()))
            pool = sorted(merged.values(), key=_span_order)
        return [tr for tr in pool if tr.beg - _PAD <= end and tr.end + _PAD >= beg]

    @property
    def loud_starts(self) -> array[int]:
        """Sorted starts of the merged loud windows (0-based, half-open with ``loud_ends``)."""
        if self._loud_starts is None:
            self._index_boundaries()
        assert self._loud_starts is not None
        return self._loud_starts

    @property
    def loud_ends(self) -> array[int]:
        self.loud_starts  # noqa: B018 - builds both arrays on first use
        return self._loud_ends

    def stretch(self, beg: int, end: int) -> int | None:
        """The quiet stretch holding all of [beg, end) (0-based, half-open), or None."""
        starts = self.loud_starts
        k = bisect_right(starts, beg) - 1
        if k >= 0 and beg < self._loud_ends[k]:
            return None
        if k + 1 < len(starts) and end > starts[k + 1]:
            return None
        return k

    def stretch_span(self, k: int) -> tuple[int | None, int | None]:
        """Where quiet stretch ``k`` begins and ends (0-based, half-open); None: no bound."""
        starts = self.loud_starts
        return (
            self._loud_ends[k] if k >= 0 else None,
            starts[k + 1] if k + 1 < len(starts) else None,
        )

    def plan(self, k: int, beg: int) -> Plan | None:
        """The plan of quiet stretch ``k``, which holds 0-based ``beg``; None if it has none."""
        try:
            return self._plans[k]
        except KeyError:
            plan = self._plans[k] = self._make_plan(beg)
            return plan

    def snv_plan(self, beg: int) -> Plan | None:
        """The plan for an SNV at 0-based ``beg``, or None near a feature boundary."""
        k = self.stretch(beg, beg + 1)
        return None if k is None else self.plan(k, beg)

    def quiet_plan(self, beg: int, end: int) -> Plan | None:
        """The plan an allele other than an SNV on [beg, end) (0-based, half-open) shares.

        Only outside coding sequence, and only QUIET_MARGIN bases clear of every
        loud window: there an indel or MNV is inside or outside each feature
        exactly as an SNV is, far from any edge rule, so its consequences are the
        plan's base-independent ones (tests compare it with the general path).
        """
        k = self.stretch(beg - QUIET_MARGIN, end + QUIET_MARGIN)
        if k is None:
            return None
        plan = self.plan(k, beg)
        return plan if plan is not None and not plan.coding else None

    def coding_snv(self, tr: Transcript, cds: Cds, beg: int, ref: str, alt: str) -> Consequence:
        """The coding consequence of an SNV at 0-based ``beg`` of a plan's (tr, cds) pair."""
        return snv_consequence(tr, *self.snv_change(tr, cds, beg, ref, alt))

    def snv_change(
        self, tr: Transcript, cds: Cds, beg: int, ref: str, alt: str
    ) -> tuple[int, Change]:
        """Consequence bit and change of an SNV at 0-based ``beg`` of a plan's (tr, cds) pair.

        Raises RefMismatch when ``ref`` is not the reference base (as check_ref, but read
        from the transcript's spliced reference, which holds it).
        """
        sref = spliced_reference(tr, self.fetch)
        found = sref[PAD + cds.pos + beg - cds.beg]
        if found != ref and "N" not in (found, ref):
            raise RefMismatch(self.name, beg + 1, ref, found)
        return codon_change(tr, cds, beg, ref, alt, sref, self.code)

    def _index_boundaries(self) -> None:
        """Merged loud windows (half-open) of every transcript, see _loud_windows."""
        windows = sorted(window for tr in self.transcripts for window in _loud_windows(tr))
        starts, ends = array("q"), array("q")
        for lo, hi in windows:
            if ends and lo <= ends[-1]:
                ends[-1] = max(ends[-1], hi)
            else:
                starts.append(lo)
                ends.append(hi)
        self._loud_starts, self._loud_ends = starts, ends

    def _make_plan(self, beg: int) -> Plan | None:
        """Run the general checks once on a stand-in SNV; keep what is base-independent."""
        end = beg + 1
        candidates = self.candidates(beg, end)
        coding = tuple(_cds_hits(candidates, beg, end, coding_only=True))
        ref = self.fetch(beg, end)
        out = Collector()
        call = Call(beg, ref, "C" if ref == "A" else "A", self.fetch, self.code, out)
        hit = bool(coding) | _test_utr(call, candidates, beg, end)
        if _test_splice(call, candidates, beg, end):
            return None  # cannot happen this far from exons; stay on the general path if it does
        if not hit:
            _test_transcripts(call, candidates, beg, end, 0)
        coding_ids = {id(tr) for tr, _ in coding}
        if len(coding_ids) != len(coding) or any(
            id(e.transcript) in coding_ids for e in out.entries
        ):
            return None  # one transcript hit twice: let the collector merge on the general path
        return Plan(coding, tuple(out.render()))


class TranscriptAnnotator:
    """Consequences of single ALT alleles on the transcripts of a GFF3, read like bcftools csq.

    Build it with :meth:`from_files`; then :meth:`annotate` one allele at a time.
    """

    def __init__(
        self,
        transcripts: Iterable[Transcript],
        fasta: FastaReader,
        genetic_codes: Mapping[str, int] | None = None,
        default_code: int = STANDARD,
        fast_paths: bool = True,
    ) -> None:
        self._fast_paths = fast_paths  # False forces the general path (for checking the fast ones)
        codes = default_genetic_codes()
        codes.update(
            {normalize_chrom(name): table for name, table in (genetic_codes or {}).items()}
        )
        fasta_names = {normalize_chrom(name): name for name in fasta.names}
        by_contig: dict[str, list[Transcript]] = {}
        gff_names: dict[str, set[str]] = {}
        for tr in transcripts:
            key = normalize_chrom(tr.chrom)
            by_contig.setdefault(key, []).append(tr)
            gff_names.setdefault(key, set()).add(tr.chrom)
        self._contigs: dict[str, ContigIndex] = {}
        self._gff_names: set[str] = set()
        for key, trs in by_contig.items():
            if key not in fasta_names:
                log.warning(
                    "contig %s has transcripts but no sequence in %s; skipped", key, fasta.path
                )
                continue
            fetch = fasta.fetcher(fasta_names[key])
            code = genetic_code(codes.get(key, default_code))
            self._contigs[key] = ContigIndex(key, trs, fetch, code)
            self._gff_names |= gff_names[key]
        self._lookup: dict[str, ContigIndex | None] = {}

    @classmethod
    def from_files(
        cls,
        gff3_path: str | os.PathLike[str],
        fasta_path: str | os.PathLike[str],
        genetic_codes: Mapping[str, int] | None = None,
        default_code: int = STANDARD,
        fast_paths: bool = True,
    ) -> TranscriptAnnotator:
        """Annotator for an Ensembl-style GFF3 and its FASTA (``.fai`` optional, never written).

        ``genetic_codes`` maps contig names (any naming style) to NCBI table ids;
        MT/chrM default to table 2, every other contig to ``default_code``.
        """
        return cls(
            read_gff3(gff3_path),
            FastaReader(fasta_path),
            genetic_codes,
            default_code,
            fast_paths,
        )

    @property
    def chromosomes(self) -> set[str]:
        """Contig names (as spelled in the GFF3) that carry transcripts with sequence."""
        return set(self._gff_names)

    def has_chromosome(self, chrom: str) -> bool:
        """Whether ``chrom``, in any naming (``chr1``/``1``, ``chrM``/``MT``), has transcripts."""
        return self.contig(chrom) is not None

    def contig(self, chrom: str) -> ContigIndex | None:
        """The index of ``chrom`` (any naming), or None when it has no transcripts."""
        try:
            return self._lookup[chrom]
        except KeyError:
            contig = self._contigs.get(normalize_chrom(chrom))
            self._lookup[chrom] = contig
            return contig

    def annotate(self, chrom: str, pos: int, ref: str, alt: str) -> list[Consequence]:
        """Consequences of one ALT allele at 1-based ``pos``; [] when no transcript is hit.

        Missing (``.``), spanning-deletion (``*``) and symbolic alleles other than
        ``<INS...>`` and ``<DEL...>`` give []. Alleles need not be left-normalised.
        Raises RefMismatch when the REF of an allele near a transcript's exons or
        in its coding sequence is not the reference's.
        """
        contig = self.contig(chrom)
        if contig is None or not alt or not ref or alt[0] in ".*" or alt[1:2] == "*":
            return []
        if alt[0] == "<":
            return self._annotate_symbolic(contig, pos - 1, ref.upper(), alt)
        ref, alt = ref.upper(), alt.upper()
        beg = pos - 1
        if self._fast_paths and ref != alt:
            found = self._planned(contig, beg, ref, alt)
            if found is not None:
                return found
        end = beg + len(ref)  # one past the REF, as bcftools extends lookups for insertions
        candidates = contig.candidates(beg, end)
        if not candidates:
            return []
        check_ref(contig, beg, ref)
        out = Collector()
        call = Call(beg, ref, alt, contig.fetch, contig.code, out, self._fast_paths)
        hit = _test_cds(call, candidates, beg, end)
        hit |= _test_utr(call, candidates, beg, end)
        hit |= _test_splice(call, candidates, beg, end)
        if not hit:
            _test_transcripts(call, candidates, beg, end, 0)
        return out.render()

    @staticmethod
    def _planned(contig: ContigIndex, beg: int, ref: str, alt: str) -> list[Consequence] | None:
        """The answer from the quiet stretch's plan (upper-case REF != ALT), or None.

        An SNV's coding codons are translated per call; other alleles of plain
        bases use a plan only outside coding sequence (see ContigIndex.quiet_plan).
        """
        if len(ref) == 1 and len(alt) == 1:
            if alt not in _BASES:
                return None
            plan = contig.snv_plan(beg)
            if plan is None:
                return None
            found = [contig.coding_snv(tr, cds, beg, ref, alt) for tr, cds in plan.coding]
            found.extend(plan.tail)
            return found
        if not (_BASES.issuperset(ref) and _BASES.issuperset(alt)):
            return None
        plan = contig.quiet_plan(beg, beg + len(ref))
        return None if plan is None else list(plan.tail)

    def _annotate_symbolic(
        self, contig: ContigIndex, beg: int, ref: str, alt: str
    ) -> list[Consequence]:
        """bcftools' experimental symbolic alleles: ``<INS...>`` feature_elongation and
        ``<DEL...>`` feature_truncation, with what the base after the anchor is in.

        As in bcftools, only that one base is looked up: INFO/END and SVLEN are not read.
        """
        kind = alt[:4].upper()
        if kind not in _SYMBOLIC_CLASS:
            return []
        extra = _SYMBOLIC_CLASS[kind]
        point = beg + 1  # the base after the anchor, 0-based
        candidates = contig.candidates(point, point)
        out = Collector()
        call = Call(beg, ref, alt, contig.fetch, contig.code, out)
        for tr, _cds in _cds_hits(candidates, point, point, coding_only=False):
            out.push((bits.CODING_SEQUENCE if tr.coding else bits.NON_CODING) | extra, tr)
        hit = bool(out.entries)
        for utr in _utr_hits(candidates, point, point):
            out.push((bits.UTR5 if utr.five_prime else bits.UTR3) | extra, utr.transcript)
            hit = True
        hit |= _test_splice(call, candidates, point, point, extra)
        if not hit:
            _test_transcripts(call, candidates, point, point, extra)
        return out.render()


def _cds_hits(
    candidates: list[Transcript], beg: int, end: int, coding_only: bool
) -> list[tuple[Transcript, Cds]]:
    hits = [
        (tr, cds)
        for tr in candidates
        if tr.cds_indexed and (tr.coding or not coding_only)
        for cds in tr.cds_index.overlapping(beg, end)
    ]
    if len(hits) > 1:
        hits.sort(key=lambda hit: (hit[1].beg, -hit[1].end, hit[0].order))
    return hits


def _utr_hits(candidates: list[Transcript], beg: int, end: int) -> list[Utr]:
    hits = [utr for tr in candidates if tr.utrs for utr in tr.utr_index.overlapping(beg, end)]
    if len(hits) > 1:
        hits.sort(key=lambda utr: (utr.beg, -utr.end, utr.order))
    return hits


def _exon_hits(candidates: list[Transcript], beg: int, end: int) -> list[Exon]:
    hits = [
        ex
        for tr in candidates
        if tr.cds
        for ex in tr.exon_index.overlapping(beg - _PAD, end + _PAD)
    ]
    if len(hits) > 1:
        hits.sort(key=lambda ex: (ex.beg, -ex.end, ex.order))
    return hits


def _test_cds(call: Call, candidates: list[Transcript], beg: int, end: int) -> bool:
    """Coding consequences on every coding CDS segment within [beg, end]; True if any was hit."""
    hits = _cds_hits(candidates, beg, end, coding_only=True)
    for tr, cds in hits:
        annotate_cds(call, tr, cds)
    return bool(hits)


def _deep_inside(call: Call, feature_beg: int, feature_end: int) -> bool:
    """Whether the allele lies so far inside the feature that no edge rule can apply.

    Splice tests then find the variant INSIDE and set no bit (exon and CDS
    edge rules reach 3 bases in; an indel's trimmed span can start one base
    before POS). Only for calls with shortcuts, i.e. never for ALT == REF.
    """
    if not call.shortcuts:
        return False
    if call.snv:
        return feature_beg + N_SPLICE_REGION_EXON <= call.pos <= feature_end - N_SPLICE_REGION_EXON
    reach = N_SPLICE_REGION_EXON + 1
    return feature_beg + reach <= call.pos and call.pos + len(call.ref) + reach - 1 <= feature_end


def _inside(call: Call, tr: Transcript, feature_beg: int, feature_end: int, extra: int = 0) -> bool:
    """Whether the variant lies in a feature tested with no splice/start/stop checks.

    For an SNV that is simply whether the base is in the feature (and nothing
    gets staged); others need the full Splice test (trimming, insertion
    flanks, and ``extra`` bits staged as a side effect) unless deep inside.
    """
    if call.snv and not extra:
        return feature_beg <= call.pos <= feature_end
    if not extra and _deep_inside(call, feature_beg, feature_end):
        return True
    return Splice(call, tr, extra).run(feature_beg, feature_end) in (INSIDE, OVERLAP)


def _test_utr(call: Call, candidates: list[Transcript], beg: int, end: int) -> bool:
    hit = False
    for utr in _utr_hits(candidates, beg, end):
        if _inside(call, utr.transcript, utr.beg, utr.end):
            call.out.push(bits.UTR5 if utr.five_prime else bits.UTR3, utr.transcript, call.allele)
            hit = True
    return hit


def _test_splice(
    call: Call, candidates: list[Transcript], beg: int, end: int, extra: int = 0
) -> bool:
    """Splice donor/acceptor/region from the exons of coding transcripts near [beg, end]."""
    hit = False
    for exon in _exon_hits(candidates, beg, end):
        if not extra and _deep_inside(call, exon.beg, exon.end):
            continue  # a variant this deep inside the exon is no splice variant
        tr = exon.transcript
        splice = Splice(call, tr, extra)
        splice.check_acceptor = splice.check_donor = True
        splice.check_region_beg = tr.beg != exon.beg
        splice.check_region_end = tr.end != exon.end
        splice.run(exon.beg, exon.end)
        hit = hit or bool(splice.csq)
    return hit


def _test_transcripts(
    call: Call, candidates: list[Transcript], beg: int, end: int, extra: int
) -> None:
    """intron (coding transcripts) or non_coding, when nothing more specific was found."""
    for tr in candidates:
        if tr.beg > end or tr.end < beg:
            continue
        if _inside(call, tr, tr.beg, tr.end, extra):
            kind = bits.INTRON if tr.coding else bits.NON_CODING
            call.out.push(kind | extra, tr, call.allele)
