"""Consequence bits and the per-record list they are merged into, as bcftools csq does.

The bit values and their output order are csq.c's: terms are printed in bit
order, which is why ``stop_gained&inframe_deletion`` reads the way it does.
``push`` reproduces csq_push (how consequences of one record merge) and
``render`` reproduces kput_vcsq (which fields get printed).
"""

from __future__ import annotations

from anntools.csq.gff3 import Transcript
from anntools.model import Consequence

SYNONYMOUS = 1 << 1
MISSENSE = 1 << 2
STOP_LOST = 1 << 3
STOP_GAINED = 1 << 4
INFRAME_DELETION = 1 << 5
INFRAME_INSERTION = 1 << 6
FRAMESHIFT = 1 << 7
SPLICE_ACCEPTOR = 1 << 8
SPLICE_DONOR = 1 << 9
START_LOST = 1 << 10
SPLICE_REGION = 1 << 11
STOP_RETAINED = 1 << 12
UTR5 = 1 << 13
UTR3 = 1 << 14
NON_CODING = 1 << 15
INTRON = 1 << 16
INFRAME_ALTERING = 1 << 18
UPSTREAM_STOP = 1 << 19
INCOMPLETE_CDS = 1 << 20  # internal: lets start/stop calls drop out on incomplete CDS
CODING_SEQUENCE = 1 << 21
ELONGATION = 1 << 22
START_RETAINED = 1 << 23
TRUNCATION = 1 << 24  # symbolic deletion (bcftools' feature_truncation)

COMPOUND = (
    SYNONYMOUS
    | MISSENSE
    | STOP_LOST
    | STOP_GAINED
    | INFRAME_DELETION
    | INFRAME_INSERTION
    | FRAMESHIFT
    | START_LOST
    | STOP_RETAINED
    | INFRAME_ALTERING
    | INCOMPLETE_CDS
    | UPSTREAM_STOP
    | START_RETAINED
)
START_STOP = STOP_LOST | STOP_GAINED | STOP_RETAINED | START_LOST | START_RETAINED
SPLICE_ANY = SPLICE_ACCEPTOR | SPLICE_DONOR | SPLICE_REGION
PRINTS_TRANSCRIPT = ~(INTRON | NON_CODING)

TERMS: tuple[tuple[int, str], ...] = (
    (SYNONYMOUS, "synonymous"),
    (MISSENSE, "missense"),
    (STOP_LOST, "stop_lost"),
    (STOP_GAINED, "stop_gained"),
    (INFRAME_DELETION, "inframe_deletion"),
    (INFRAME_INSERTION, "inframe_insertion"),
    (FRAMESHIFT, "frameshift"),
    (SPLICE_ACCEPTOR, "splice_acceptor"),
    (SPLICE_DONOR, "splice_donor"),
    (START_LOST, "start_lost"),
    (SPLICE_REGION, "splice_region"),
    (STOP_RETAINED, "stop_retained"),
    (UTR5, "5_prime_utr"),
    (UTR3, "3_prime_utr"),
    (NON_CODING, "non_coding"),
    (INTRON, "intron"),
    (INFRAME_ALTERING, "inframe_altering"),
    (CODING_SEQUENCE, "coding_sequence"),
    (ELONGATION, "feature_elongation"),
    (TRUNCATION, "feature_truncation"),
    (START_RETAINED, "start_retained"),
)

Change = tuple[str, str]  # (aa_change, dna_change), e.g. ("2V>2I", "103G>A")


class _Entry:
    __slots__ = ("allele", "bits", "change", "transcript")

    def __init__(
        self, bits: int, transcript: Transcript, allele: int, change: Change | None
    ) -> None:
        self.bits = bits
        self.transcript = transcript
        self.allele = allele
        self.change = change


class Collector:
    """The consequences of one VCF record, merged the way bcftools merges them."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[_Entry] = []

    def push(
        self, bits: int, tr: Transcript, allele: int = 1, change: Change | None = None
    ) -> None:
        """Add one consequence; merges into an existing entry when bcftools would."""
        if bits & SPLICE_REGION and bits & (SPLICE_DONOR | SPLICE_ACCEPTOR):
            bits &= ~SPLICE_REGION  # donor/acceptor already says it
        if bits & COMPOUND:
            merged = self._merge_compound(bits, tr, allele, change)
        else:
            merged = self._merge_simple(bits, tr)
        if not merged:
            self.entries.append(_Entry(bits, tr, allele, change))

    def _merge_compound(
        self, bits: int, tr: Transcript, allele: int, change: Change | None
    ) -> bool:
        for entry in self.entries:
            if entry.transcript is not tr and (bits | entry.bits) & PRINTS_TRANSCRIPT:
                continue
            other = entry.transcript
            if other.biotype != tr.biotype or other.gene != tr.gene or entry.allele != allele:
                continue
            if (bits ^ entry.bits) & UPSTREAM_STOP:
                continue
            if change is not None or entry.change is not None:
                if change is None or entry.change is None:
                    # a start/stop call from the splice checks meets the sequence-based one
                    if not (bits & START_STOP and entry.bits & START_STOP):
                        continue
                    entry.bits |= bits
                    if entry.bits & STOP_RETAINED:
                        entry.bits &= ~(STOP_LOST | SYNONYMOUS)
                    entry.change = entry.change or change
                    return True
                if change != entry.change:
                    continue
            entry.bits |= bits
            return True
        return False

    def _merge_simple(self, bits: int, tr: Transcript) -> bool:
        for entry in self.entries:
            if entry.transcript is not tr and (bits | entry.bits) & PRINTS_TRANSCRIPT:
                continue
            if entry.transcript.biotype != tr.biotype:
                continue
            if not entry.bits & COMPOUND:
                entry.bits |= bits
                return True
            if entry.bits | bits == entry.bits:
                return True
        return False

    def render(self) -> list[Consequence]:
        """The merged entries as Consequence records, fields printed as bcftools prints them."""
        return [_render(entry) for entry in self.entries]


def _render(entry: _Entry) -> Consequence:
    if entry.change is None:
        return _unchanged(entry.bits, entry.transcript)
    terms, bits, _ = _printed(entry.bits)
    tr = entry.transcript
    aa_change, dna_change = entry.change
    return Consequence(
        terms,
        tr.gene,
        tr.id if bits & PRINTS_TRANSCRIPT else "",
        tr.biotype,
        "+" if tr.forward else "-",  # a change prints its strand
        aa_change,
        dna_change,
    )


def _unchanged(bits: int, tr: Transcript) -> Consequence:
    """The Consequence of merged ``bits`` on ``tr`` with no change to print.

    It depends on nothing else, and most calls near feature edges (UTR, intron,
    splice) are such, so each is made once per transcript and kept in its cache.
    """
    made = tr.cache.get("unchanged")
    if not isinstance(made, dict):
        made = tr.cache["unchanged"] = {}
    found: Consequence | None = made.get(bits)
    if found is None:
        terms, printed, prints_strand = _printed(bits)
        found = made[bits] = Consequence(
            terms=terms,
            gene=tr.gene,
            transcript=tr.id if printed & PRINTS_TRANSCRIPT else "",
            biotype=tr.biotype,
            strand=("+" if tr.forward else "-") if prints_strand else "",
        )
    return found


_PRINTED: dict[int, tuple[tuple[str, ...], int, bool]] = {}


def _printed(bits: int) -> tuple[tuple[str, ...], int, bool]:
    """(terms, bits as printed, whether the strand prints) of merged bits; memoised.

    Only a few dozen bit combinations ever occur, and spelling them out is a
    noticeable share of a call, so each is worked out once.
    """
    try:
        return _PRINTED[bits]
    except KeyError:
        pass
    printed = bits
    if printed & INCOMPLETE_CDS and printed & ~(START_STOP | INCOMPLETE_CDS | UPSTREAM_STOP):
        printed &= ~(START_STOP | INCOMPLETE_CDS)
    if printed & START_STOP and printed & MISSENSE:
        printed &= ~MISSENSE
    # bcftools 1.16 and its test EXP strings print no NMD_transcript term: the biotype says NMD
    terms = tuple(name for bit, name in TERMS if printed & bit)
    prints_strand = bool(printed & COMPOUND) and not printed & SPLICE_ANY
    found = _PRINTED[bits] = (terms, printed, prints_strand)
    return found
