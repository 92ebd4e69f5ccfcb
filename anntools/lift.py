"""Lift VCF sites from GRCh37 or NCBI36 to GRCh38 with the bundled UCSC chains.

Coordinates: ``pos`` in and out is 1-based, as in VCF. The ``liftover``
package is built with ``one_based=True`` so it converts 1-based positions
both ways (it shifts to 0-based internally, and for a minus-strand block maps
0-based ``p`` to ``size - p - 1``). Output chromosomes use UCSC names
(``chr1``, ``chrM``), the naming of the GRCh38 annotation bundle.

The mitochondrion is never lifted: GRCh37's MT and GRCh38's chrM are both
rCRS, and NCBI36 VCFs from the 1000 Genomes pilot call MT against rCRS too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from anntools.assembly import (
    GRCH37,
    GRCH38,
    NCBI36,
    RCRS,
    is_mitochondrial,
    normalise_assembly,
)

# The liftover package (which imports an HTTP client for its downloads: about 0.2 s of CPU)
# is imported only when a chain is read; GRCh38 input, every web job's usual case, needs none.
if TYPE_CHECKING:
    from liftover import ChainFile

_CHAIN_FILES = {
    GRCH37: "hg19ToHg38.over.chain.gz",
    NCBI36: "hg18ToHg38.over.chain.gz",
}
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


@dataclass(frozen=True, slots=True)
class LiftedSite:
    """A site on GRCh38: UCSC chromosome name, 1-based ``pos``, alleles on the + strand.

    ``strand`` is ``-`` when the source maps to the reverse strand; the alleles
    are then already reverse-complemented, and ``pos`` is where the last base
    of the source REF landed (the new first base). Indels lifted that way keep
    their shared base at the end rather than the start, as no GRCh38 sequence
    is at hand to re-anchor them.
    """

    chrom: str
    pos: int
    ref: str
    alt: str
    strand: str = "+"


class _Target(Protocol):
    def __getitem__(self, pos: int) -> list[tuple[str, int, str]]: ...


class Lifter:
    """Lifts sites from one source assembly to GRCh38; use ``Lifter.for_assembly``."""

    def __init__(self, source_assembly: str, chain: ChainFile | None) -> None:
        self.source_assembly = source_assembly
        self._chain = chain
        self._targets: dict[str, _Target | None] = {}

    @classmethod
    def for_assembly(cls, source_assembly: str) -> Lifter:
        """A lifter from ``source_assembly`` (a name from anntools.assembly) to GRCh38.

        GRCh38 and rCRS need no chain: their lifter only renames chromosomes.
        Aliases such as ``hg19`` are accepted.
        """
        source_assembly = normalise_assembly(source_assembly)
        if source_assembly in (GRCH38, RCRS):
            return cls(source_assembly, None)
        if source_assembly not in _CHAIN_FILES:
            raise ValueError(f"no liftover chain from {source_assembly!r} to GRCh38")
        from liftover import ChainFile

        return cls(source_assembly, ChainFile(_chain_path(source_assembly), one_based=True))

    @property
    def is_identity(self) -> bool:
        """True when positions are kept as they are (source is GRCh38 or rCRS)."""
        return self._chain is None

    def lift(self, chrom: str, pos: int, ref: str, alt: str) -> LiftedSite | None:
        """Lift one VCF site (1-based ``pos``; ``alt`` may be a comma-joined list).

        Returns None when the site does not map, or when the REF span does not
        map to one contiguous, same-length stretch (it straddles a chain gap).
        """
        if self._chain is None or is_mitochondrial(chrom):
            return LiftedSite(ucsc_name(chrom), pos, ref, alt)
        first = self._lift_position(chrom, pos)
        if first is None:
            return None
        if len(ref) > 1 and not _same_block(
            first, self._lift_position(chrom, pos + len(ref) - 1), len(ref)
        ):
            return None
        target_chrom, target_pos, strand = first
        if strand == "+":
            return LiftedSite(target_chrom, target_pos, ref, alt)
        return LiftedSite(
            target_chrom,
            target_pos - len(ref) + 1,
            reverse_complement(ref),
            ",".join(_reverse_complement_allele(a) for a in alt.split(",")),
            "-",
        )

    def _lift_position(self, chrom: str, pos: int) -> tuple[str, int, str] | None:
        target = self._target(chrom)
        if target is None:
            return None
        matches = target[pos]
        if not matches:
            return None
        # Prefer a primary chromosome over alt/random contigs when a site maps twice.
        return min(matches, key=lambda m: "_" in m[0])

    def _target(self, chrom: str) -> _Target | None:
        try:
            return self._targets[chrom]
        except KeyError:
            assert self._chain is not None
            # ChainFile answers an unknown contig with an empty target (no matches).
            found: _Target = self._chain[chrom]
            self._targets[chrom] = found
            return found


def _same_block(
    first: tuple[str, int, str], last: tuple[str, int, str] | None, ref_length: int
) -> bool:
    if last is None or last[0] != first[0] or last[2] != first[2]:
        return False
    return abs(last[1] - first[1]) == ref_length - 1


def ucsc_name(chrom: str) -> str:
    """``1``/``chr1`` → ``chr1``; any mitochondrial name → ``chrM``."""
    if is_mitochondrial(chrom):
        return "chrM"
    return chrom if chrom.startswith("chr") else f"chr{chrom}"


def reverse_complement(sequence: str) -> str:
    """The reverse complement of a nucleotide string (IUPAC N kept as N)."""
    return sequence.translate(_COMPLEMENT)[::-1]


def _reverse_complement_allele(allele: str) -> str:
    # Missing, spanning-deletion and symbolic alleles have no sequence to flip.
    if allele in (".", "*") or allele.startswith("<") or "[" in allele or "]" in allele:
        return allele
    return reverse_complement(allele)


def _chain_path(source_assembly: str) -> str:
    return str(Path(__file__).parent / "resources" / "chains" / _CHAIN_FILES[source_assembly])
