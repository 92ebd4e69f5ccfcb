# cython: annotation_typing=False
# (snv_codon.pxd gives codon_change a C signature and C locals; Cython would read the
# annotations as Python types and reject them)
"""The codon change of a coding SNV: the engine's most frequent coding call.

An SNV at least 3 bases inside a CDS segment changes exactly one codon and
nothing else (see coding.snv_change), so its call is two table lookups and two
short texts. Compiled with C integers (snv_codon.pxd), as it runs once per
coding SNV.
"""

from __future__ import annotations

from anntools.csq import collector as bits
from anntools.csq.codons import GeneticCode
from anntools.csq.collector import Change
from anntools.csq.gff3 import Cds, Transcript

PAD = 10  # bcftools' N_REF_PAD: flanking bases around the spliced CDS (coding.spliced_reference)


def codon_change(
    tr: Transcript, cds: Cds, beg: int, ref: str, alt: str, sref: str, code: GeneticCode
) -> tuple[int, Change]:
    """Consequence bit and (protein change, DNA change) of an SNV at 0-based ``beg`` >= 3
    bases inside ``cds``, given the transcript's spliced reference ``sref``."""
    sbeg = cds.pos + beg - cds.beg
    table: dict[str, str]
    if tr.forward:
        start = sbeg - sbeg % 3
        aa_pos = sbeg // 3 + 1
        table = code.forward
    else:
        core = len(sref) - 2 * PAD
        codon_index = (core - 1 - sbeg) // 3
        start = core - 3 - 3 * codon_index
        aa_pos = codon_index + 1
        table = code.reverse
    triplet = sref[PAD + start : PAD + start + 3]
    k = sbeg - start
    ref_aa = table.get(triplet, "X")
    alt_aa = table.get(triplet[:k] + alt + triplet[k + 1 :], "X")
    dna_change = f"{beg + 1}{ref}>{alt}"
    if ref_aa == alt_aa:
        return bits.SYNONYMOUS, (f"{aa_pos}{ref_aa}", dna_change)
    kind = bits.MISSENSE
    if ref_aa == "*":
        kind = bits.STOP_LOST
    elif alt_aa == "*":
        kind = bits.STOP_GAINED
    return kind, (f"{aa_pos}{ref_aa}>{aa_pos}{alt_aa}", dna_change)
