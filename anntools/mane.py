"""Transcript-level annotation from the bundle's MANE Select transcripts, without sequence.

Each variant near a MANE Select transcript gets that transcript (ENST and
RefSeq NM), its exon or intron number, HGVS c. (anntools.hgvs) and the
consequences that the exon structure alone decides, as Sequence Ontology
terms spelled as Ensembl VEP spells them:

* splice_donor_variant / splice_acceptor_variant (intron bases 1-2),
  splice_region_variant (exon bases 1-3 and intron bases 3-8 from a splice site);
* frameshift_variant, inframe_insertion, inframe_deletion inside the coding range;
* start_lost for any change to the start codon's bases (when REF shows the
  ATG's base there); stop_lost or stop_retained_variant for a substitution in
  the stop codon when REF and ALT decide it (TGA>TAA is retained, a change of
  its T is lost; TAA>TGA needs the third base, so it is undecided);
* 5_prime_UTR_variant, 3_prime_UTR_variant, intron_variant,
  upstream_gene_variant, downstream_gene_variant (within 5 kb).

Whether a coding substitution changes the amino acid needs the genome
sequence: such a variant reads ``coding_sequence_variant``, and HGVSp stays
empty (a full bundle with sequence gives both).
"""

from __future__ import annotations

from dataclasses import dataclass

from anntools.annotation import Entry, entry_from_hit
from anntools.bundle.format import FLANK_BP
from anntools.bundle.reader import ManeTranscript
from anntools.hgvs import (
    Alleles,
    Transcript,
    hgvs_of_trimmed,
    plain_bases,
    reverse_complement,
    trim_alleles,
)
from anntools.model import GeneHit

SPLICE_SITE_BP = 2  # intron bases of the donor and acceptor sites
SPLICE_EXONIC_BP = 3  # exon bases of the splice region
SPLICE_INTRONIC_BP = 8  # intron bases of the splice region (sites included)
START_CODON = "ATG"
MANE_BIOTYPE = "protein_coding"  # MANE Select covers protein-coding genes only
_PLAIN_BASES = frozenset("ACGTN")

# Ensembl VEP's order of severity, for the terms this module gives.
SEVERITY = (
    "splice_acceptor_variant",
    "splice_donor_variant",
    "frameshift_variant",
    "stop_lost",
    "start_lost",
    "inframe_insertion",
    "inframe_deletion",
    "splice_region_variant",
    "stop_retained_variant",
    "coding_sequence_variant",
    "5_prime_UTR_variant",
    "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant",
    "intron_variant",
    "upstream_gene_variant",
    "downstream_gene_variant",
)
_RANK = {term: rank for rank, term in enumerate(SEVERITY)}
_CODING_TERMS = frozenset(SEVERITY[2:7]) | {"stop_retained_variant", "coding_sequence_variant"}
# The gene-level region (model.REGIONS) a transcript's terms imply; the first match wins.
_REGION_OF_TERM = (
    ("splice_acceptor_variant", "splice_region"),
    ("splice_donor_variant", "splice_region"),
    ("splice_region_variant", "splice_region"),
    ("5_prime_UTR_variant", "5_prime_UTR"),
    ("3_prime_UTR_variant", "3_prime_UTR"),
    ("non_coding_transcript_exon_variant", "noncoding_exon"),
    ("intron_variant", "intron"),
    ("upstream_gene_variant", "upstream"),
    ("downstream_gene_variant", "downstream"),
)


def mane_entry(allele: str, mane: ManeTranscript, pos: int, ref: str, alt: str) -> Entry | None:
    """The entry of VCF allele ``alt`` (written as ``allele``) for one MANE transcript.

    None when the change lies more than 5 kb from the transcript, or when REF
    and ALT do not differ.
    """
    if len(ref) == 1 and len(alt) == 1:
        deep = _deep_intron_substitution(allele, mane, pos, ref.upper(), alt.upper())
        if deep is not None:
            return deep
    alleles = trim_alleles(pos, ref, alt)
    if not alleles.ref and not alleles.alt:
        return None
    plain = plain_bases(ref + alt)
    return _short_path_entry(allele, mane, alleles, plain) or _general_entry(
        allele, mane, alleles, plain
    )


def mane_and_gene_entries(
    allele: str,
    hits: list[GeneHit],
    transcripts: list[ManeTranscript],
    pos: int,
    ref: str,
    alt: str,
) -> list[Entry]:
    """One entry per MANE transcript the allele meets, then gene-level entries for the genes
    that have none (non-coding genes, genes the allele is up- or downstream of).

    The default mode runs the compiled form of this, in anntools._bundlesites; this one is
    the reference it is tested against (tests/unit/test_bundlesites.py).
    """
    if not transcripts:  # most records: no MANE transcript within reach
        return [entry_from_hit(allele, hit, True) for hit in hits]
    entries = [mane_entry(allele, mane, pos, ref, alt) for mane in transcripts]
    found = [entry for entry in entries if entry is not None]
    covered = {entry.gene for entry in found}
    genes = [entry_from_hit(allele, hit, True) for hit in hits if hit.gene not in covered]
    if found and genes and genes[0].region == "intergenic":
        genes = []  # the transcripts say where the variant is
    return found + genes


def any_change_entry(
    allele: str, mane: ManeTranscript, pos: int, ref: str, alt: str
) -> Entry | None:
    """``mane_entry`` by the general path alone, which handles any change."""
    alleles = trim_alleles(pos, ref, alt)
    if not alleles.ref and not alleles.alt:
        return None
    return _general_entry(allele, mane, alleles, plain_bases(ref + alt))


def _general_entry(
    allele: str, mane: ManeTranscript, alleles: Alleles, plain: bool
) -> Entry | None:
    transcript = mane.transcript
    low, high = alleles.changed_span()
    outside = _outside(transcript, low, high)
    if outside is not None:
        term, distance = outside
        if distance > FLANK_BP:
            return None
        return _entry(allele, mane, (term,), distance=distance)
    terms = effect_terms(transcript, alleles)
    exon, intron = transcript.exon_intron(low, high)
    notation = hgvs_of_trimmed(transcript, alleles) if plain else ""
    return _entry(allele, mane, terms, exon, intron, notation)


def _deep_intron_substitution(
    allele: str, mane: ManeTranscript, pos: int, ref: str, alt: str
) -> Entry | None:
    """The entry of a one-base substitution (upper-case bases) in an intron away from its
    splice region, else None: most variants near a transcript are these, and they need
    neither trimming nor the general checks."""
    transcript = mane.transcript
    if ref == alt or ref not in _PLAIN_BASES or alt not in _PLAIN_BASES:
        return None
    if not transcript.start < pos < transcript.end:
        return None
    index, in_exon = transcript.locate(pos)
    if in_exon:
        return None
    intron = intron_of(mane, index)
    if pos - intron.left <= SPLICE_INTRONIC_BP or intron.right - pos <= SPLICE_INTRONIC_BP:
        return None
    hgvsc = intron.substitution(transcript, pos, ref, alt)
    return _entry(allele, mane, ("intron_variant",), "", intron.label, hgvsc, region="intron")


def _short_path_entry(
    allele: str, mane: ManeTranscript, alleles: Alleles, plain: bool
) -> Entry | None:
    """The entry of the commonest changes, else None: any change wholly inside one intron
    away from its splice region, or a substitution in an exon away from splice sites and
    codons.

    It gives the same entry as the general path (tests/unit/test_mane_effects.py
    compares them at every base) for a fraction of the work.
    """
    transcript = mane.transcript
    low, high = alleles.changed_span()
    if not plain or low < transcript.start or high > transcript.end:
        return None
    count = len(transcript.exons)
    index, in_exon = transcript.locate(low)
    if not in_exon:
        found = intron_of(mane, index)
        if low - found.left <= SPLICE_INTRONIC_BP or found.right - high <= SPLICE_INTRONIC_BP:
            return None
        if len(alleles.ref) == 1 and len(alleles.alt) == 1:
            hgvsc = found.substitution(transcript, alleles.start, alleles.ref, alleles.alt)
        else:
            hgvsc = hgvs_of_trimmed(transcript, alleles)
        return _entry(allele, mane, ("intron_variant",), "", found.label, hgvsc, region="intron")
    else:
        if len(alleles.ref) != 1 or len(alleles.alt) != 1:
            return None
        start, end = transcript.exons[index]
        if (index > 0 and low - start < SPLICE_EXONIC_BP) or (
            index < count - 1 and end - low < SPLICE_EXONIC_BP
        ):
            return None
        term, region = _exonic_term(transcript, low)
        if not term:
            return None
        exon, intron = f"{transcript.exon_number(index)}/{count}", ""
    hgvsc = hgvs_of_trimmed(transcript, alleles)
    return _entry(allele, mane, (term,), exon, intron, hgvsc, region=region)


@dataclass(frozen=True, slots=True)
class _Intron:
    """What every change deep in one intron shares: its ends, number, and the HGVS
    positions of the exon bases either side."""

    left: int  # last base of the exon before it (genomic order)
    right: int  # first base of the exon after it
    label: str  # "13/17"
    left_position: str  # "1695" or "-5" or "*12"
    right_position: str

    def substitution(self, transcript: Transcript, pos: int, ref: str, alt: str) -> str:
        """HGVS of a one-base substitution in the intron, as hgvs_of_trimmed writes it."""
        from_left, from_right = pos - self.left, self.right - pos
        if transcript.strand == "+":
            if from_left <= from_right:
                place = f"{self.left_position}+{from_left}"
            else:
                place = f"{self.right_position}-{from_right}"
        else:
            ref, alt = reverse_complement(ref), reverse_complement(alt)
            if from_right <= from_left:
                place = f"{self.right_position}+{from_right}"
            else:
                place = f"{self.left_position}-{from_left}"
        return f"{transcript.prefix}{place}{ref}>{alt}"


def intron_of(mane: ManeTranscript, index: int) -> _Intron:
    """The intron after ``exons[index]``, worked out once: introns hold most variants."""
    found: _Intron | None = mane.introns.get(index)
    if found is None:
        transcript = mane.transcript
        left, right = transcript.exons[index][1], transcript.exons[index + 1][0]
        label = f"{transcript.intron_number(index)}/{len(transcript.exons) - 1}"
        found = mane.introns[index] = _Intron(
            left, right, label, str(transcript.position(left)), str(transcript.position(right))
        )
    return found


def _exonic_term(transcript: Transcript, pos: int) -> tuple[str, str]:
    """(term, region) of an exonic base; ("", "") in a start or stop codon."""
    if transcript.coding_start is None or transcript.coding_end is None:
        return "non_coding_transcript_exon_variant", "noncoding_exon"
    if transcript.coding_start <= pos <= transcript.coding_end:
        position = transcript.position(pos)
        assert position is not None
        if position.number <= 3 or position.number > _codons(transcript) - 3:
            return "", ""
        return "coding_sequence_variant", "CDS"
    if (pos < transcript.coding_start) == (transcript.strand == "+"):
        return "5_prime_UTR_variant", "5_prime_UTR"
    return "3_prime_UTR_variant", "3_prime_UTR"


def _entry(
    allele: str,
    mane: ManeTranscript,
    terms: tuple[str, ...],
    exon: str = "",
    intron: str = "",
    hgvsc: str = "",
    distance: int | None = None,
    region: str = "",
) -> Entry:
    transcript = mane.transcript
    return Entry(
        allele=allele,
        consequence="&".join(terms),
        gene=mane.gene,
        transcript=transcript.id,
        biotype=MANE_BIOTYPE,
        strand=transcript.strand,
        region=region or region_of(terms),
        distance=distance,
        mane_select=mane.refseq,
        exon=exon,
        intron=intron,
        hgvsc=f"{transcript.id}:{hgvsc}" if hgvsc else "",
    )


def region_of(terms: tuple[str, ...]) -> str:
    """The gene-level region the terms imply: coding terms mean CDS, then the first match."""
    if any(term in _CODING_TERMS for term in terms):
        return "CDS"
    for term, region in _REGION_OF_TERM:
        if term in terms:
            return region
    return "intron"


def _outside(transcript: Transcript, low: int, high: int) -> tuple[str, int] | None:
    """(upstream/downstream term, distance) when the change misses the transcript."""
    if high < transcript.start:
        before, distance = True, transcript.start - high
    elif low > transcript.end:
        before, distance = False, low - transcript.end
    else:
        return None
    upstream = before == (transcript.strand == "+")
    return ("upstream_gene_variant" if upstream else "downstream_gene_variant"), distance


def effect_terms(transcript: Transcript, alleles: Alleles) -> tuple[str, ...]:
    """The consequence terms of a change that meets the transcript, most severe first."""
    terms = _splice_and_intron_terms(transcript, alleles)
    terms |= _exon_terms(transcript, alleles)
    return tuple(sorted(terms, key=_RANK.__getitem__))


def _touches(start: int, end: int, alleles: Alleles) -> bool:
    """The change alters bases [start, end]; an insertion must lie between two of them."""
    if start > end:
        return False
    if not alleles.ref:
        return start <= alleles.start - 1 and alleles.start <= end
    return start <= alleles.end and alleles.start <= end


def _meets(start: int, end: int, alleles: Alleles) -> bool:
    """The change alters or borders bases [start, end] (an insertion beside them counts)."""
    low, high = alleles.changed_span()
    return start <= end and start <= high and low <= end


def _splice_and_intron_terms(transcript: Transcript, alleles: Alleles) -> set[str]:
    terms = set()
    exons = transcript.exons
    low, high = alleles.changed_span()
    near = transcript.exons_overlapping(low - SPLICE_INTRONIC_BP, high + SPLICE_INTRONIC_BP)
    # The introns beside those exons (or the one intron holding the whole change).
    for index in range(max(near.start - 1, 0), min(near.stop, len(exons) - 1)):
        left, right = exons[index][1], exons[index + 1][0]
        first, last = left + 1, right - 1  # the intron's bases
        # As VEP: the donor and acceptor sites are not intron_variant.
        if _touches(first + SPLICE_SITE_BP, last - SPLICE_SITE_BP, alleles):
            terms.add("intron_variant")
        left_site = (first, min(first + SPLICE_SITE_BP - 1, last))
        right_site = (max(last - SPLICE_SITE_BP + 1, first), last)
        donor, acceptor = (
            (left_site, right_site) if transcript.strand == "+" else (right_site, left_site)
        )
        if _touches(*donor, alleles):
            terms.add("splice_donor_variant")
        if _touches(*acceptor, alleles):
            terms.add("splice_acceptor_variant")
        region = (
            (left - SPLICE_EXONIC_BP + 1, left),
            (first + SPLICE_SITE_BP, min(left + SPLICE_INTRONIC_BP, last)),
            (max(right - SPLICE_INTRONIC_BP, first), last - SPLICE_SITE_BP),
            (right, right + SPLICE_EXONIC_BP - 1),
        )
        if any(_meets(start, end, alleles) for start, end in region):
            terms.add("splice_region_variant")
    return terms


def _exon_terms(transcript: Transcript, alleles: Alleles) -> set[str]:
    low, high = alleles.changed_span()
    nearby = transcript.exons_overlapping(low, high)
    touched = [transcript.exons[i] for i in nearby if _touches(*transcript.exons[i], alleles)]
    if not touched:
        return set()
    if transcript.coding_start is None or transcript.coding_end is None:
        return {"non_coding_transcript_exon_variant"}
    low_utr, high_utr = "5_prime_UTR_variant", "3_prime_UTR_variant"
    if transcript.strand == "-":
        low_utr, high_utr = high_utr, low_utr
    terms = set()
    for start, end in touched:
        if _touches(start, min(end, transcript.coding_start - 1), alleles):
            terms.add(low_utr)
        if _touches(max(start, transcript.coding_end + 1), end, alleles):
            terms.add(high_utr)
        if _touches(max(start, transcript.coding_start), min(end, transcript.coding_end), alleles):
            terms |= _coding_terms(transcript, alleles)
    return terms


def _coding_terms(transcript: Transcript, alleles: Alleles) -> set[str]:
    """Terms of a change that alters coding bases."""
    low, high = alleles.changed_span()
    assert transcript.coding_start is not None and transcript.coding_end is not None
    index = transcript.exon_index(low)
    inside = (
        index is not None
        and index == transcript.exon_index(high)
        and transcript.coding_start <= low
        and high <= transcript.coding_end
    )
    if not inside:  # reaches into an intron or UTR: the effect on the frame is unclear
        return {"coding_sequence_variant"}
    first, last = sorted(_codon_number(transcript, p) for p in (low, high))
    codons = _codons(transcript)
    in_start = last <= 3 if not alleles.ref else first <= 3
    in_stop = first >= codons - 2 if not alleles.ref else last >= codons - 2
    change = len(alleles.alt) - len(alleles.ref)
    if change % 3:
        terms = {"frameshift_variant"}
        if in_stop:
            terms.add("stop_lost")
    elif change:
        terms = {"inframe_insertion" if change > 0 else "inframe_deletion"}
    elif len(alleles.ref) == 1:
        return {_substitution_term(transcript, alleles, first, codons)}
    else:
        terms = {"coding_sequence_variant"}
    if in_start:
        terms.add("start_lost")
    return terms


def _codon_number(transcript: Transcript, pos: int) -> int:
    position = transcript.position(pos)
    assert position is not None and not position.offset and not position.after_stop
    return position.number


def _codons(transcript: Transcript) -> int:
    """The number of coding bases (c. number of the stop codon's last base)."""
    bounds = transcript.coding_bounds()
    assert bounds is not None
    return bounds[1] - bounds[0] + 1


def _substitution_term(transcript: Transcript, alleles: Alleles, number: int, last: int) -> str:
    ref, alt = alleles.ref, alleles.alt
    if transcript.strand == "-":
        ref, alt = reverse_complement(ref), reverse_complement(alt)
    if number <= 3:
        return "start_lost" if START_CODON[number - 1] == ref else "coding_sequence_variant"
    if number >= last - 2:
        return _stop_codon_change(number - (last - 3), ref, alt)
    return "coding_sequence_variant"


def _stop_codon_change(place: int, ref: str, alt: str) -> str:
    """A substitution at base ``place`` (1-3) of a TAA/TAG/TGA stop codon, if REF/ALT decide it.

    Base 1 is always T. Base 2 is A (TAA, TAG) or G (TGA); base 3 is A (TAA, TGA)
    or G (TAG). Only A<->G keeps a purine there, and only G>A always keeps a stop
    (TGA>TAA, TAG>TAA); A>G gives TGA or TGG, TAG or TGG, by the other base.
    """
    if place == 1:
        return "stop_lost" if ref == "T" else "coding_sequence_variant"
    if ref not in "AG":
        return "coding_sequence_variant"  # REF is not a stop codon's base
    if alt in "CT":
        return "stop_lost"
    return "stop_retained_variant" if ref == "G" else "coding_sequence_variant"
