"""What the engine says about one record: the output row shape and how sources map to it.

Two kinds of source fill it: the gene-level annotation bundle (GeneHit, on
GRCh38 after liftover) and the transcript-level consequence engine
(Consequence, on the input's own coordinates, or on rCRS for MT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from anntools.model import Consequence, GeneHit

if TYPE_CHECKING:
    from anntools._rendering import RenderedEntry

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
    "MANE_SELECT",
    "Exon",
    "Intron",
    "HGVSc",
    "HGVSp",
    "ClinVar",
)

# Gene-level regions as Sequence Ontology terms, spelled as Ensembl VEP spells them.
_REGION_TERMS_VEP = {
    "CDS": "coding_sequence_variant",
    "splice_region": "splice_region_variant",
    "5_prime_UTR": "5_prime_UTR_variant",
    "3_prime_UTR": "3_prime_UTR_variant",
    "noncoding_exon": "non_coding_transcript_exon_variant",
    "intron": "intron_variant",
    "upstream": "upstream_gene_variant",
    "downstream": "downstream_gene_variant",
    "intergenic": "intergenic_variant",
}

# bcftools csq's abbreviated terms -> Ensembl VEP's spelling of the same SO terms.
VEP_SPELLING = {
    "missense": "missense_variant",
    "synonymous": "synonymous_variant",
    "stop_gained": "stop_gained",
    "stop_lost": "stop_lost",
    "start_lost": "start_lost",
    "start_retained": "start_retained_variant",
    "stop_retained": "stop_retained_variant",
    "frameshift": "frameshift_variant",
    "inframe_insertion": "inframe_insertion",
    "inframe_deletion": "inframe_deletion",
    "inframe_altering": "protein_altering_variant",
    "splice_acceptor": "splice_acceptor_variant",
    "splice_donor": "splice_donor_variant",
    "splice_region": "splice_region_variant",
    "5_prime_utr": "5_prime_UTR_variant",
    "3_prime_utr": "3_prime_UTR_variant",
    "non_coding": "non_coding_transcript_exon_variant",
    "intron": "intron_variant",
    "coding_sequence": "coding_sequence_variant",
    "feature_elongation": "feature_elongation",
    "intergenic": "intergenic_variant",
}

# Gene-level regions as Sequence Ontology-style consequence names (bcftools' spelling,
# for the BCSQ-compatible mode of --gff/--fasta).
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


@dataclass(slots=True)
class Entry:
    """One allele and gene (or transcript) line of the annotation.

    Treat it as immutable (entries are cached and shared; use dataclasses.replace).
    It is not frozen only because a frozen dataclass's __init__ sets each of its
    16 fields through object.__setattr__, several times slower: the default
    bundle makes an entry or two per record. Its hash is kept once computed, as
    the record loop looks each entry up by it.
    """

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
    mane_select: str = ""  # RefSeq NM of a MANE Select transcript
    exon: str = ""  # "15/18"
    intron: str = ""
    hgvsc: str = ""  # "ENST00000646891.2:c.1799T>A"
    hgvsp: str = ""  # needs the genome sequence: empty from the default bundle
    clinvar: str = ""
    _hash: int | None = field(default=None, init=False, repr=False, compare=False)
    _tsv: str | None = field(default=None, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.fields())
        return self._hash

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
            self.mane_select,
            self.exon,
            self.intron,
            self.hgvsc,
            self.hgvsp,
            self.clinvar,
        )


@dataclass(slots=True)
class Site:
    """What the gene-level sources say about one record (the record loop adds the rest)."""

    # RenderedEntry: the default bundle's entries as the record loop takes them
    entries: list[Entry | RenderedEntry] = field(default_factory=list)
    rsid: str | None = None  # from the common set
    grch38: tuple[str, int] | None = None  # lifted (chrom, 1-based pos)
    unmapped: bool = False


_TAIL_SEPARATORS = len(ENTRY_FIELDS) - 2  # between the fields after the allele
_DISTANCE_REGIONS = frozenset(("upstream", "downstream", "intergenic"))

# The entry builders are cached: a file repeats the same few (allele, gene hit) and
# (allele, consequence) pairs many times over. The record loop keeps each entry's
# formatted text itself, so the formatters below run once per distinct entry.
_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=_CACHE_SIZE)
def entry_from_hit(allele: str, hit: GeneHit, vep_spelling: bool = False) -> Entry:
    return entry_of_gene(
        allele, hit.gene, hit.biotype, hit.strand, hit.region, hit.distance, vep_spelling
    )


def entry_of_gene(
    allele: str,
    gene: str,
    biotype: str,
    strand: str,
    region: str,
    distance: int,
    vep_spelling: bool = False,
) -> Entry:
    """entry_from_hit of a GeneHit given by its fields (uncached)."""
    terms = _REGION_TERMS_VEP if vep_spelling else _REGION_TERMS
    return Entry(
        allele,
        terms.get(region, region),
        gene,
        "",
        biotype,
        strand,
        region,
        distance=distance if region in _DISTANCE_REGIONS else None,
    )


@lru_cache(maxsize=_CACHE_SIZE)
def entry_from_consequence(allele: str, csq: Consequence, vep_spelling: bool = False) -> Entry:
    terms = [VEP_SPELLING.get(t, t) for t in csq.terms] if vep_spelling else csq.terms
    return Entry(
        allele=allele,
        consequence="&".join(terms),
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


def info_escape(text: str) -> str:
    """Text as an INFO list item holds it: space, semicolon, equals and comma replaced."""
    return text.replace(" ", "_").replace(";", ":").replace("=", ":").replace(",", ":")


def entry_info_tail(entry: Entry) -> str:
    """The INFO item after the allele (``|consequence|gene|...``), escaped."""
    columns = entry_tsv_text(entry)
    if columns.count("\t") == _TAIL_SEPARATORS:  # no field holds a tab: one join serves both
        return info_escape("|" + columns.replace("\t", "|"))
    return info_escape("|" + "|".join(entry.fields()[1:]))


def entry_tsv_text(entry: Entry) -> str:
    """The entry's TSV columns after the allele, tab-joined (kept on the entry: the record
    loop writes both texts of each distinct entry)."""
    if entry._tsv is None:
        entry._tsv = "\t".join(entry.fields()[1:])
    return entry._tsv


def consequence_terms(consequence: str) -> tuple[str, ...]:
    return tuple(consequence.split("&"))
