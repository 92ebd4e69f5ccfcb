"""HGVS c./n. notation from a transcript's exon structure and VCF alleles, without sequence.

A transcript is its strand, its exons and, when it codes for a protein, the
genomic span of its coding range (start codon to stop codon, both included).
That is enough to place any base relative to the transcript (``c.1799``,
``c.123+5``, ``c.124-3``, ``c.-14``, ``c.*30``, ``c.-14+2``) and to write a
variant from its VCF alleles (complemented on minus-strand transcripts):

* substitution ``c.1799T>A``; several bases replaced ``c.10_12delinsAG``;
* deletion ``c.1520_1522del`` (deleted bases are not listed, as HGVS recommends);
* insertion ``c.1798_1799insA``; ``dup`` only when the VCF record itself shows
  that the inserted bases repeat the bases beside them (its REF must hold
  them), since deciding it otherwise needs the genome sequence.

Not done, because it needs the sequence: the HGVS 3' rule (shifting an indel
in a repeat to its most 3' position). Positions are those of the VCF record
after trimming the bases REF and ALT share, so a left-aligned VCF indel in a
repeat of a plus-strand transcript is written at its 5'-most position.

Coordinates: genomic positions are 1-based and closed, as in VCF.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import NamedTuple

_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")
_PLAIN = frozenset("ACGTNacgtn")
_BASE_COMPLEMENT = {base: base.translate(_COMPLEMENT) for base in "ACGTN"}


def reverse_complement(bases: str) -> str:
    """The reverse complement of a DNA string (N and case kept)."""
    return bases.translate(_COMPLEMENT)[::-1]


class Position(NamedTuple):
    """One base's HGVS position: ``number`` with an intronic ``offset``.

    ``number`` counts transcript bases; in c. notation it is negative in the
    5' UTR and, when ``after_stop``, counts 3' UTR bases after the stop codon.
    """

    number: int
    offset: int = 0
    after_stop: bool = False

    def __str__(self) -> str:
        text = f"*{self.number}" if self.after_stop else str(self.number)
        if self.offset:
            text += f"{self.offset:+d}"
        return text


@dataclass(frozen=True, slots=True)
class Transcript:
    """A transcript's structure on the genome (1-based closed coordinates).

    ``exons`` are in ascending genomic order whatever the strand;
    ``coding_start``/``coding_end`` are the lowest and highest genomic bases of
    the coding range (stop codon included), both None for non-coding ones.
    """

    id: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    coding_start: int | None = None
    coding_end: int | None = None
    # Derived in __post_init__, for lookups by bisection: exon starts and ends, and the
    # exonic bases before each exon.
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _ends: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _before: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _bounds: tuple[int, int] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.strand not in ("+", "-"):
            raise ValueError(f"{self.id}: strand must be + or -, not {self.strand!r}")
        if not self.exons or any(
            b[0] <= a[1] for a, b in zip(self.exons, self.exons[1:], strict=False)
        ):
            raise ValueError(f"{self.id}: exons must be non-empty, sorted and disjoint")
        if (self.coding_start is None) != (self.coding_end is None):
            raise ValueError(f"{self.id}: give both ends of the coding range or neither")
        lengths = [end - start + 1 for start, end in self.exons]
        object.__setattr__(self, "_starts", tuple(start for start, _ in self.exons))
        object.__setattr__(self, "_ends", tuple(end for _, end in self.exons))
        object.__setattr__(self, "_before", tuple(accumulate(lengths, initial=0)))
        object.__setattr__(self, "_bounds", self._transcript_bounds_of_coding())

    @property
    def start(self) -> int:
        return self.exons[0][0]

    @property
    def end(self) -> int:
        return self.exons[-1][1]

    @property
    def is_coding(self) -> bool:
        return self.coding_start is not None

    @property
    def prefix(self) -> str:
        """``c.`` for coding transcripts, ``n.`` otherwise."""
        return "c." if self.is_coding else "n."

    def exon_number(self, index: int) -> int:
        """The 1-based number, in transcription order, of ``exons[index]``."""
        return index + 1 if self.strand == "+" else len(self.exons) - index

    def exon_index(self, pos: int) -> int | None:
        """Index into ``exons`` of the exon holding ``pos``, or None."""
        index = bisect_right(self._starts, pos) - 1
        if index >= 0 and pos <= self._ends[index]:
            return index
        return None

    def intron_index(self, pos: int) -> int | None:
        """Index ``i`` of the intron between ``exons[i]`` and ``exons[i + 1]`` holding ``pos``."""
        if not self.start < pos < self.end or self.exon_index(pos) is not None:
            return None
        return bisect_right(self._starts, pos) - 1

    def locate(self, pos: int) -> tuple[int, bool]:
        """(index, True) for a base of ``exons[index]``, (index, False) for one of the intron
        after it; ``pos`` must lie within the transcript's span."""
        index = bisect_right(self._starts, pos) - 1
        return index, pos <= self._ends[index]

    def exons_overlapping(self, start: int, end: int) -> range:
        """Indices into ``exons`` of the exons that share a base with [start, end].

        When there is none, the range is empty and starts at the next exon's index.
        """
        return range(bisect_left(self._ends, start), bisect_right(self._starts, end))

    def intron_number(self, index: int) -> int:
        """The 1-based number, in transcription order, of the intron after ``exons[index]``."""
        return index + 1 if self.strand == "+" else len(self.exons) - 1 - index

    def exon_intron(self, start: int, end: int) -> tuple[str, str]:
        """VEP's EXON and INTRON fields for the bases [start, end]: ``"15/18"``, ``"2-3/18"``.

        Each is "" when the bases touch no exon (or no intron) of the transcript.
        """
        overlapping = self.exons_overlapping(start, end)
        exons = [self.exon_number(i) for i in overlapping]
        introns = [
            self.intron_number(i)
            for i in range(
                max(overlapping.start - 1, 0), min(overlapping.stop, len(self.exons) - 1)
            )
            if self._ends[i] < end and start < self._starts[i + 1]
        ]
        return _numbered(exons, len(self.exons)), _numbered(introns, len(self.exons) - 1)

    def transcript_offset(self, pos: int) -> int:
        """1-based position along the spliced transcript of an exonic base ``pos``."""
        index = self.exon_index(pos)
        if index is None:
            raise ValueError(f"{pos} is not in an exon of {self.id}")
        return self._offset_in(index, pos)

    @property
    def length(self) -> int:
        return self._before[-1]

    def coding_bounds(self) -> tuple[int, int] | None:
        """Transcript positions of the first and last coding bases, or None if non-coding."""
        return self._bounds

    def _transcript_bounds_of_coding(self) -> tuple[int, int] | None:
        if self.coding_start is None or self.coding_end is None:
            return None
        first, last = self.coding_start, self.coding_end
        if self.strand == "-":
            first, last = last, first
        return self.transcript_offset(first), self.transcript_offset(last)

    def position(self, pos: int) -> Position | None:
        """The HGVS position of genomic base ``pos``; None outside the transcript."""
        if not self._starts[0] <= pos <= self._ends[-1]:
            return None
        index = bisect_right(self._starts, pos) - 1
        if pos <= self._ends[index]:
            return self._exonic(self._offset_in(index, pos))
        anchor_index, anchor, offset = self._nearest_exon_base(index, pos)
        exonic = self._exonic(self._offset_in(anchor_index, anchor))
        return Position(exonic.number, offset, exonic.after_stop)

    def _offset_in(self, index: int, pos: int) -> int:
        """``transcript_offset`` of ``pos``, known to lie in ``exons[index]``."""
        genomic_rank = self._before[index] + pos - self._starts[index] + 1
        return genomic_rank if self.strand == "+" else self._before[-1] - genomic_rank + 1

    def _exonic(self, t: int) -> Position:
        bounds = self._bounds
        if bounds is None:
            return Position(t)
        first, last = bounds
        if t < first:
            return Position(t - first)
        if t > last:
            return Position(t - last, after_stop=True)
        return Position(t - first + 1)

    def _nearest_exon_base(self, index: int, pos: int) -> tuple[int, int, int]:
        """(exon index, base, offset): the exon boundary base nearest ``pos``, in the
        intron after ``exons[index]``, and the offset from it.

        An offset is + after an exon and - before one, in transcription order;
        the middle base of an odd-length intron takes +, as HGVS says.
        """
        left_end, right_start = self._ends[index], self._starts[index + 1]
        from_left, from_right = pos - left_end, right_start - pos
        if self.strand == "+":
            if from_left <= from_right:
                return index, left_end, from_left
            return index + 1, right_start, -from_right
        if from_right <= from_left:
            return index + 1, right_start, from_right
        return index, left_end, -from_left


class Alleles(NamedTuple):
    """A VCF REF/ALT pair with the shared bases trimmed: ``ref`` replaced at [start, end].

    An insertion has ``ref == ""`` and ``end == start - 1`` (between the two);
    ``before`` holds the genomic bases just left of ``start`` that the record showed.
    A named tuple, as Position: one is made per variant and transcript.
    """

    start: int
    end: int
    ref: str
    alt: str
    before: str

    def changed_span(self) -> tuple[int, int]:
        """The genomic bases (1-based, closed) the change touches; for an insertion, the
        two bases either side of it."""
        return (self.start, self.end) if self.ref else (self.start - 1, self.start)


def trim_alleles(pos: int, ref: str, alt: str) -> Alleles:
    """Trim shared leading then trailing bases of a VCF allele pair (1-based ``pos``).

    Leading bases first, as VCF pads indels on the left: they become ``before``.
    """
    ref, alt = ref.upper(), alt.upper()
    if len(ref) == 1 and len(alt) == 1 and ref != alt:  # most variants: nothing to trim
        return Alleles(pos, pos, ref, alt, "")
    prefix = 0
    while prefix < min(len(ref), len(alt)) and ref[prefix] == alt[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(ref), len(alt)) - prefix and ref[-1 - suffix] == alt[-1 - suffix]:
        suffix += 1
    core_ref, core_alt = ref[prefix : len(ref) - suffix], alt[prefix : len(alt) - suffix]
    start = pos + prefix
    return Alleles(start, start + len(core_ref) - 1, core_ref, core_alt, ref[:prefix])


def hgvs(transcript: Transcript, pos: int, ref: str, alt: str) -> str:
    """HGVS c. (or n.) of VCF allele ``alt`` at ``pos`` in ``transcript``; "" if none applies.

    Empty when the changed bases reach outside the transcript, when REF equals
    ALT, or when an allele is not plain bases (``*``, ``<DEL>``, ``.``).
    """
    if not plain_bases(ref) or not plain_bases(alt):
        return ""
    return hgvs_of_trimmed(transcript, trim_alleles(pos, ref, alt))


def hgvs_of_trimmed(transcript: Transcript, alleles: Alleles) -> str:
    """As ``hgvs``, for alleles already trimmed by ``trim_alleles`` (plain bases only)."""
    if not alleles.ref and not alleles.alt:
        return ""
    if not alleles.ref:
        return _insertion(transcript, alleles)
    first = transcript.position(alleles.start)
    last = first if alleles.end == alleles.start else transcript.position(alleles.end)
    if first is None or last is None:
        return ""
    if transcript.strand == "-":
        first, last = last, first
    span = f"{first}" if alleles.start == alleles.end else f"{first}_{last}"
    ref_t, alt_t = _oriented(transcript, alleles.ref), _oriented(transcript, alleles.alt)
    if len(alleles.ref) == 1 and len(alleles.alt) == 1:
        return f"{transcript.prefix}{first}{ref_t}>{alt_t}"
    if not alleles.alt:
        return f"{transcript.prefix}{span}del"
    return f"{transcript.prefix}{span}delins{alt_t}"


def _insertion(transcript: Transcript, alleles: Alleles) -> str:
    inserted = alleles.alt
    if len(alleles.before) >= len(inserted) and alleles.before.endswith(inserted):
        # The record shows the inserted bases right before the insertion point.
        first = transcript.position(alleles.start - len(inserted))
        last = transcript.position(alleles.start - 1)
        kind = "dup"
    else:
        first = transcript.position(alleles.start - 1)
        last = transcript.position(alleles.start)
        kind = "ins"
    if first is None or last is None:
        return ""
    if transcript.strand == "-":
        first, last = last, first
    if kind == "dup":
        span = f"{first}" if len(inserted) == 1 else f"{first}_{last}"
        return f"{transcript.prefix}{span}dup"
    return f"{transcript.prefix}{first}_{last}ins{_oriented(transcript, inserted)}"


def _numbered(numbers: list[int], total: int) -> str:
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    return f"{low}/{total}" if low == high else f"{low}-{high}/{total}"


def _oriented(transcript: Transcript, bases: str) -> str:
    if transcript.strand == "+":
        return bases
    return _BASE_COMPLEMENT.get(bases) or reverse_complement(bases)


def plain_bases(allele: str) -> bool:
    """True for a non-empty allele of A, C, G, T and N only (either case)."""
    if len(allele) == 1:  # most alleles: no set to build
        return allele in _PLAIN
    return bool(allele) and set(allele) <= _PLAIN
