"""HGVS c. with the genome sequence: indels moved 3' and insertions of repeated bases as dup.

anntools.hgvs writes c. notation from VCF alleles alone, so a deletion or an
insertion inside a repeat is written where the VCF puts it (left-aligned),
and ``dup`` only when the record shows the repeated bases. With the sequence
(a full bundle), ``hgvs_3prime`` first applies HGVS' 3' rule, as VEP does:
the indel moves towards the transcript's 3' end as far as the bases allow,
within the exon or intron that holds it, and an insertion that repeats the
bases just 5' of it (in transcript order) becomes a duplication of them.
It then hands anntools.hgvs a VCF-style record of the moved change.

Coordinates: 1-based closed, as VCF; ``fetch`` takes 0-based half-open.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from anntools.hgvs import Alleles, Transcript, hgvs, hgvs_of_trimmed, plain_bases, trim_alleles

Fetch = Callable[[int, int], str]  # 0-based half-open genome slice, upper case

PAST_ANY_END = 1 << 62  # sorts (low, PAST_ANY_END) after every exon starting at low


def hgvs_3prime(transcript: Transcript, pos: int, ref: str, alt: str, fetch: Fetch) -> str:
    """HGVS c. (or n.) of the VCF allele after the 3' rule (see the module doc)."""
    if not plain_bases(ref) or not plain_bases(alt):
        return ""
    return hgvs_3prime_of(transcript, trim_alleles(pos, ref, alt), fetch)


def hgvs_3prime_of(transcript: Transcript, alleles: Alleles, fetch: Fetch) -> str:
    """As ``hgvs_3prime``, for plain-base alleles already trimmed by ``trim_alleles`` (a
    caller with many transcripts for one allele trims it once)."""
    moved = shifted_record(transcript, alleles, fetch)
    return hgvs(transcript, *moved) if moved else hgvs_of_trimmed(transcript, alleles)


def shifted_record(
    transcript: Transcript, alleles: Alleles, fetch: Fetch
) -> tuple[int, str, str] | None:
    """(pos, ref, alt) of a pure insertion or deletion moved 3' on the transcript's strand;
    None for other changes, or one not wholly inside one exon or intron."""
    if bool(alleles.ref) == bool(alleles.alt):
        return None  # a substitution (or no change): nothing to move
    low, high = (alleles.start, alleles.end) if alleles.ref else (alleles.start - 1, alleles.start)
    region = _region(transcript, low, high)
    if region is None:
        return None

    def base(position: int) -> str:
        return fetch(position - 1, position)

    forward = transcript.strand == "+"
    if alleles.ref:
        return _deletion(alleles.start, alleles.end, region, forward, base, fetch)
    return _insertion(alleles.start, alleles.alt, region, forward, base, fetch)


def _deletion(
    start: int,
    end: int,
    region: tuple[int, int],
    forward: bool,
    base: Callable[[int], str],
    fetch: Fetch,
) -> tuple[int, str, str] | None:
    """The deleted bases [start, end] rolled 3' while the base beyond equals the first removed."""
    low, high = region
    if forward:
        while end + 1 <= high and base(end + 1) == base(start):
            start, end = start + 1, end + 1
    else:
        while start - 1 >= low and base(start - 1) == base(end):
            start, end = start - 1, end - 1
    if start < 2:
        return None
    return start - 1, fetch(start - 2, end), base(start - 1)


def _insertion(
    point: int,
    inserted: str,
    region: tuple[int, int],
    forward: bool,
    base: Callable[[int], str],
    fetch: Fetch,
) -> tuple[int, str, str] | None:
    """Bases inserted before ``point`` rolled 3'; written so that a repeat reads as dup.

    anntools.hgvs calls an insertion a dup when the record's leading bases end
    with the inserted ones, i.e. the copy lies on its genomic left. On the
    minus strand the copy 5' of the insertion lies on its right, so the record
    is written after that copy, which names the same duplicated bases.
    """
    low, high = region
    size = len(inserted)
    if forward:
        while point <= high and base(point) == inserted[0]:
            inserted, point = inserted[1:] + inserted[0], point + 1
        before = fetch(point - 1 - size, point - 1) if point - 1 - size >= 0 else ""
        if before == inserted:
            return point - size, before, before + inserted
    else:
        while point - 1 >= low and base(point - 1) == inserted[-1]:
            inserted, point = inserted[-1] + inserted[:-1], point - 1
        after = fetch(point - 1, point - 1 + size)
        if after == inserted:
            return point, after, after + inserted
    if point < 2:
        return None
    anchor = base(point - 1)
    return point - 1, anchor, anchor + inserted


def _region(transcript: Transcript, low: int, high: int) -> tuple[int, int] | None:
    """The exon or intron (1-based closed) holding both ``low`` and ``high``, or None.

    The exons are sorted and disjoint, so the one starting last at or before ``low`` is
    found by bisection: ``low`` lies in it or in the intron after it."""
    exons = transcript.exons
    index = bisect_right(exons, (low, PAST_ANY_END)) - 1
    if index < 0:
        return None  # before the first exon
    start, end = exons[index]
    if low > end:  # in the intron after exons[index], if there is one
        if index + 1 == len(exons):
            return None
        start, end = end + 1, exons[index + 1][0] - 1
    return (start, end) if high <= end else None
