"""Turn labelled gene intervals into a flat segmentation of each chromosome.

Every gene contributes intervals labelled with a region code (its CDS, splice
windows, UTRs, exons, whole span as ``intron``, flanks as ``upstream`` /
``downstream``). Cutting the chromosome at every interval boundary gives
segments over which the set of (gene, most specific code) pairs is constant;
a query then needs one binary search. Identical sets are stored once.

Coordinates: intervals come in 1-based closed; segments are described by
their 1-based first base (``seg_start``), each running to the base before the
next segment's start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from anntools.bundle.format import CODE_BITS, INTERGENIC

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LabelledIntervals:
    """Gene intervals on one chromosome: 1-based closed [start, end], gene index, code."""

    start: IntArray
    end: IntArray
    gene: IntArray
    code: IntArray


class SetTable:
    """Distinct annotation sets, each a sorted int32 array of packed (gene, code) entries."""

    def __init__(self) -> None:
        self._ids: dict[bytes, int] = {}
        self._sets: list[npt.NDArray[np.int32]] = []

    def __len__(self) -> int:
        return len(self._sets)

    def add(self, entries: npt.NDArray[np.int32]) -> int:
        """The id of ``entries``, registering it if new."""
        key = entries.tobytes()
        set_id = self._ids.get(key)
        if set_id is None:
            set_id = self._ids[key] = len(self._sets)
            self._sets.append(entries)
        return set_id

    def arrays(self) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """(set_offset, set_entry): set s is set_entry[set_offset[s]:set_offset[s + 1]]."""
        sizes = np.fromiter((len(s) for s in self._sets), dtype=np.int64, count=len(self._sets))
        offset = np.zeros(len(self._sets) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offset[1:])
        entry = np.concatenate(self._sets) if self._sets else np.zeros(0, np.int32)
        return offset.astype(np.int32), entry.astype(np.int32)


def segment_chromosome(
    intervals: LabelledIntervals,
    gene_ids: IntArray,
    gene_start: IntArray,
    gene_end: IntArray,
    sets: SetTable,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Segment one chromosome; returns (seg_start, seg_set), adjacent equal sets merged.

    ``gene_ids``/``gene_start``/``gene_end`` describe the chromosome's genes
    (1-based closed spans), used to name the nearest genes of empty segments.
    """
    breaks = _breakpoints(intervals)
    seg, gene, code = _covering_entries(intervals, breaks)
    packed = (gene << CODE_BITS | code).astype(np.int32)
    first_entry = np.searchsorted(seg, np.arange(len(breaks) + 1))
    left, right = _nearest_genes(breaks, gene_ids, gene_start, gene_end)
    seg_set = np.empty(len(breaks), dtype=np.int32)
    for k in range(len(breaks)):
        lo, hi = first_entry[k], first_entry[k + 1]
        if lo < hi:
            seg_set[k] = sets.add(packed[lo:hi])
        else:
            seg_set[k] = sets.add(_intergenic_entries(left[k], right[k]))
    keep = np.ones(len(breaks), dtype=bool)
    keep[1:] = seg_set[1:] != seg_set[:-1]
    return breaks[keep].astype(np.int32), seg_set[keep]


def _breakpoints(intervals: LabelledIntervals) -> IntArray:
    # Half-open ends (end + 1) are where the next segment starts; 1 opens the first.
    return np.unique(np.concatenate(([1], intervals.start, intervals.end + 1)))


def _covering_entries(
    intervals: LabelledIntervals, breaks: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Per (segment, gene) the smallest code among intervals covering the segment.

    Returned sorted by segment, then gene.
    """
    first = np.searchsorted(breaks, intervals.start)
    count = np.searchsorted(breaks, intervals.end + 1) - first
    owner = np.repeat(np.arange(len(count)), count)
    run_start = np.repeat(np.cumsum(count) - count, count)
    seg = first[owner] + (np.arange(len(owner)) - run_start)
    gene = intervals.gene[owner]
    code = intervals.code[owner]
    key = seg * (int(gene.max(initial=0)) + 1) + gene
    order = np.lexsort((code, key))
    key, seg, gene, code = key[order], seg[order], gene[order], code[order]
    first_of_key = np.ones(len(key), dtype=bool)
    first_of_key[1:] = key[1:] != key[:-1]
    return seg[first_of_key], gene[first_of_key], code[first_of_key]


def _nearest_genes(
    breaks: IntArray, gene_ids: IntArray, gene_start: IntArray, gene_end: IntArray
) -> tuple[IntArray, IntArray]:
    """For each segment, the gene ending last before it and the first starting at/after it.

    -1 where there is none. Only meaningful for segments no gene interval covers.
    """
    if len(gene_ids) == 0:
        none = np.full(len(breaks), -1, dtype=np.int64)
        return none, none
    by_end = np.argsort(gene_end, kind="stable")
    left_rank = np.searchsorted(gene_end[by_end], breaks, side="left") - 1
    left = np.where(left_rank >= 0, gene_ids[by_end][np.maximum(left_rank, 0)], -1)
    by_start = np.argsort(gene_start, kind="stable")
    right_rank = np.searchsorted(gene_start[by_start], breaks, side="left")
    has_right = right_rank < len(gene_start)
    right_ids = gene_ids[by_start][np.minimum(right_rank, len(gene_start) - 1)]
    right = np.where(has_right, right_ids, -1)
    return left, right


def _intergenic_entries(left: int, right: int) -> npt.NDArray[np.int32]:
    genes = sorted({g for g in (int(left), int(right)) if g >= 0})
    return np.array([g << CODE_BITS | INTERGENIC for g in genes], dtype=np.int32)
