"""Records shared by the engine's parts.

Coordinates: every ``pos`` here is 1-based, as in VCF; intervals given as
``start``/``end`` are 1-based and closed unless a docstring says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Consequence(NamedTuple):
    """One transcript-level consequence of one ALT allele, in the spirit of bcftools csq's BCSQ.

    ``terms`` are bcftools csq's abbreviated Sequence Ontology names, most
    severe first (``missense``, ``splice_region``, ``3_prime_utr``, ...).
    ``aa_change`` reads like bcftools' (``2V>2I``, ``3L`` for synonymous,
    empty when not protein-altering); ``dna_change`` likewise (``103G>A``).

    A named tuple rather than a frozen dataclass: the engine makes one per call
    and the record loop looks each up in a dict, and a tuple is built, hashed
    and compared in C (a frozen dataclass sets each field through
    object.__setattr__ and hashes in Python, about ten times the cost).
    """

    terms: tuple[str, ...]
    gene: str
    transcript: str
    biotype: str
    strand: str = ""
    aa_change: str = ""
    dna_change: str = ""

    @property
    def term(self) -> str:
        """The terms joined as bcftools writes them (``missense&splice_region``)."""
        return "&".join(self.terms)


@dataclass(frozen=True, slots=True)
class GeneHit:
    """Where a variant falls relative to one gene of the annotation bundle.

    ``region`` is one of REGIONS. ``distance`` is in base pairs, 0 inside the
    gene, the gap to the gene for upstream/downstream/intergenic.
    """

    gene: str
    biotype: str
    strand: str
    region: str
    distance: int = 0


# Gene-level regions, most specific first; a variant gets the first that applies.
REGIONS = (
    "CDS",
    "splice_region",
    "5_prime_UTR",
    "3_prime_UTR",
    "noncoding_exon",
    "intron",
    "upstream",
    "downstream",
    "intergenic",
)
