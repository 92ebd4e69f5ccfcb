"""Genetic codes (NCBI translation tables) as codon -> amino-acid lookups.

Codons are upper-case DNA triplets read 5'->3' on the coding strand; anything
that is not a plain A/C/G/T triplet translates to ``X``.
"""

from __future__ import annotations

from dataclasses import dataclass

_BASES = "TCAG"  # NCBI order of the 64-letter amino-acid strings below
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")

# NCBI translation tables, https://www.ncbi.nlm.nih.gov/Taxonomy/Utils/wprintgc.cgi
NCBI_TABLES: dict[int, str] = {
    1: "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
    2: "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG",
    11: "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
}
STANDARD = 1
VERTEBRATE_MITOCHONDRIAL = 2


def reverse_complement(seq: str) -> str:
    """Reverse complement of an upper-case DNA string."""
    return seq.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True, slots=True)
class GeneticCode:
    """One translation table, ready for the forward and the reverse strand.

    ``forward[codon]`` translates a codon read on the given strand;
    ``reverse[triplet]`` translates the reverse complement of a triplet read on
    the reference (+) strand, i.e. a codon of a minus-strand transcript.
    """

    table_id: int
    forward: dict[str, str]
    reverse: dict[str, str]

    def aa(self, codon: str) -> str:
        """Amino acid of a coding-strand codon (``X`` when not A/C/G/T)."""
        return self.forward.get(codon, "X")

    def aa_rev(self, triplet: str) -> str:
        """Amino acid of the reverse complement of a + strand triplet."""
        return self.reverse.get(triplet, "X")


def genetic_code(table_id: int) -> GeneticCode:
    """The NCBI translation table ``table_id`` (1 standard, 2 vertebrate mitochondrial, 11)."""
    try:
        letters = NCBI_TABLES[table_id]
    except KeyError:
        raise ValueError(
            f"unsupported genetic code {table_id}; known: {sorted(NCBI_TABLES)}"
        ) from None
    forward: dict[str, str] = {}
    index = 0
    for first in _BASES:
        for second in _BASES:
            for third in _BASES:
                forward[first + second + third] = letters[index]
                index += 1
    reverse = {reverse_complement(codon): aa for codon, aa in forward.items()}
    return GeneticCode(table_id, forward, reverse)
