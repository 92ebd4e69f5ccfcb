"""What the engine says about one record: the output row shape and how sources map to it.

Two kinds of source fill it: the gene-level annotation bundle (GeneHit, on
GRCh38 after liftover) and the transcript-level consequence engine
(Consequence, on the input's own coordinates, or on rCRS for MT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from anntools.model import REGIONS, Consequence, GeneHit

ENTRY_FIELDS = (
    "Allele",
    "Consequence",
    "Gene",
    "Transcript",
    "Biotype",
    "Strand",
    "Region",
    "Protein_change",
    "DNA_change",
    "Distance",
)

# Gene-level regions as Sequence Ontology-style consequence names (bcftools' spelling).
_REGION_TERMS = {
    "CDS": "coding_sequence",
    "splice_region": "splice_region",
    "5_prime_UTR": "5_prime_utr",
    "3_prime_UTR": "3_prime_utr",
    "noncoding_exon": "non_coding",
    "intron": "intron",
    "upstream": "upstream",
    "downstream": "downstream",
    "intergenic": "intergenic",
}

# The region a transcript-level term implies; the first matching term wins.
_TERM_REGIONS = {
    "splice_acceptor": "splice_region",
    "splice_donor": "splice_region",
    "splice_region": "splice_region",
    "5_prime_utr": "5_prime_UTR",
    "3_prime_utr": "3_prime_UTR",
    "non_coding": "noncoding_exon",
    "intron": "intron",
}
_REGION_RANK = {region: rank for rank, region in enumerate(REGIONS)}


@dataclass(frozen=True, slots=True)
class Entry:
    """One allele and gene (or transcript) line of the annotation."""

    allele: str
    consequence: str
    gene: str
    transcript: str
    biotype: str
    strand: str
    region: str
    protein_change: str = ""
    dna_change: str = ""
    distance: int | None = None

    def fields(self) -> tuple[str, ...]:
        return (
            self.allele,
            self.consequence,
            self.gene,
            self.transcript,
            self.biotype,
            self.strand,
            self.region,
            self.protein_change,
            self.dna_change,
            "" if self.distance is None else str(self.distance),
        )


@dataclass(slots=True)
class AlleleFacts:
    """Per-ALT facts that do not depend on any annotation source."""

    allele: str
    variant_class: str
    substitution: str | None  # "Ts", "Tv" or None
    allele_frequency: float | None


@dataclass(slots=True)
class RecordAnnotation:
    """Everything the engine adds to one VCF record."""

    alleles: list[AlleleFacts]
    entries: list[Entry] = field(default_factory=list)
    rsid: str | None = None
    rsid_source: str | None = None  # "input" or "common"
    grch38: tuple[str, int] | None = None  # lifted (chrom, 1-based pos)
    unmapped: bool = False
    called: int | None = None
    het: int | None = None
    hom_alt: int | None = None

    @property
    def region(self) -> str | None:
        """The most specific region over all entries."""
        regions = [e.region for e in self.entries if e.region in _REGION_RANK]
        return min(regions, key=_REGION_RANK.__getitem__) if regions else None


# The entry builders and formatters are cached: a file repeats the same few
# (allele, gene hit) and (allele, consequence) pairs many times over.
_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=_CACHE_SIZE)
def entry_from_hit(allele: str, hit: GeneHit) -> Entry:
    return Entry(
        allele=allele,
        consequence=_REGION_TERMS.get(hit.region, hit.region),
        gene=hit.gene,
        transcript="",
        biotype=hit.biotype,
        strand=hit.strand,
        region=hit.region,
        distance=hit.distance if hit.region in ("upstream", "downstream", "intergenic") else None,
    )


@lru_cache(maxsize=_CACHE_SIZE)
def entry_from_consequence(allele: str, csq: Consequence) -> Entry:
    return Entry(
        allele=allele,
        consequence=csq.term,
        gene=csq.gene,
        transcript=csq.transcript,
        biotype=csq.biotype,
        strand=csq.strand,
        region=region_of_terms(csq.terms),
        protein_change=csq.aa_change,
        dna_change=csq.dna_change,
    )


def region_of_terms(terms: tuple[str, ...]) -> str:
    """The gene region implied by transcript-level terms: coding terms mean CDS."""
    for term in terms:
        if term in _TERM_REGIONS:
            if term.startswith("splice") and any(_is_coding(t) for t in terms):
                return "CDS"
            return _TERM_REGIONS[term]
    return "CDS" if any(_is_coding(t) for t in terms) else "intron"


def _is_coding(term: str) -> bool:
    return term not in _TERM_REGIONS


@lru_cache(maxsize=_CACHE_SIZE)
def entry_info_text(entry: Entry) -> str:
    """The entry as one INFO list item: fields joined by "|", with characters INFO
    values may not hold (space, semicolon, equals, comma) replaced."""
    text = "|".join(entry.fields())
    return text.replace(" ", "_").replace(";", ":").replace("=", ":").replace(",", ":")


@lru_cache(maxsize=_CACHE_SIZE)
def entry_tsv_text(entry: Entry) -> str:
    """The entry's TSV columns after the allele, tab-joined."""
    return "\t".join(entry.fields()[1:])


@lru_cache(maxsize=_CACHE_SIZE)
def consequence_terms(consequence: str) -> tuple[str, ...]:
    return tuple(consequence.split("&"))
