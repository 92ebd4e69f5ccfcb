"""What a full bundle says about a record: transcript consequences as VEP writes them.

For each ALT allele, the engine (anntools.csq) calls the consequences on the
bundle's transcripts, one at a time as VEP does; each becomes an entry with
the terms in VEP's spelling, the exon or intron number, HGVS c. (anntools.hgvs
from the exon structure, after the 3' rule of anntools.hgvs_shift) and HGVS p.
(anntools.hgvs_protein, from the sequence), and the allele's ClinVar
significance. The record's rsID comes from the bundle's known variants.
Coordinates are the input's: a full bundle is its own reference, with no liftover.
"""

from __future__ import annotations

from dataclasses import replace

from anntools.annotation import Entry, Site, entry_from_consequence
from anntools.bundle.full import FullBundle
from anntools.csq.engine import ContigIndex, RefMismatch
from anntools.csq.gff3 import Transcript
from anntools.hgvs import Transcript as Structure
from anntools.hgvs import trim_alleles
from anntools.hgvs_protein import protein_hgvs
from anntools.hgvs_shift import hgvs_3prime
from anntools.model import Consequence

# bcftools' terms of a change to the protein: only these get HGVS p.
_PROTEIN_TERMS = frozenset(
    {
        "missense",
        "synonymous",
        "stop_gained",
        "stop_lost",
        "stop_retained",
        "start_lost",
        "frameshift",
        "inframe_insertion",
        "inframe_deletion",
        "inframe_altering",
    }
)


class _Change:
    """One ALT allele of a record, with the bases it changes (1-based closed; an insertion's
    are the two bases either side of it)."""

    __slots__ = ("alt", "clinvar", "high", "low", "pos", "ref")

    def __init__(self, pos: int, ref: str, alt: str, clinvar: str) -> None:
        self.pos, self.ref, self.alt, self.clinvar = pos, ref, alt, clinvar
        alleles = trim_alleles(pos, ref, alt)
        if alleles.ref:
            self.low, self.high = alleles.start, alleles.end
        else:
            self.low, self.high = alleles.start - 1, alleles.start


class FullBundleSites:
    """The record loop's site source for a full bundle (see the module doc)."""

    def __init__(self, bundle: FullBundle) -> None:
        self.bundle = bundle
        self.annotator = bundle.transcripts
        self.known = bundle.known
        self.ref_mismatches = 0  # alleles left without consequences (in this process)
        self._structures: dict[int, Structure | None] = {}  # by id() of the engine's transcript
        self._transcripts: dict[tuple[str, str], Transcript] = {}  # (contig, id) -> transcript
        self._preference: dict[int, tuple[int, int]] = {}  # id() -> (rank, GFF3 order)
        for name in self.annotator.chromosomes:
            contig = self.annotator.contig(name)
            if contig is None:
                continue
            for tr in contig.transcripts:
                self._transcripts[contig.name, tr.id] = tr
                self._preference[id(tr)] = (bundle.rank(tr.id), tr.order)

    def __call__(self, chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool) -> Site:
        site = Site()
        contig = self.annotator.contig(chrom)
        for alt in alts:
            rsid, clinvar = self.known.lookup(chrom, pos, ref, alt) if self.known else (None, None)
            if rsid and look_up_rsid and site.rsid is None:
                site.rsid = rsid
            if contig is None:
                continue
            try:
                found = self.annotator.annotate(chrom, pos, ref, alt)
            except RefMismatch:
                # Not the bundle's reference here: the record is kept without consequences,
                # as the record loop keeps one whose REF differs from a --fasta's.
                self.ref_mismatches += 1
                continue
            site.entries.extend(
                self._entry(contig, csq, pos, ref, alt, clinvar or "") for csq in found
            )
        return site

    def _entry(
        self, contig: ContigIndex, csq: Consequence, pos: int, ref: str, alt: str, clinvar: str
    ) -> Entry:
        entry = entry_from_consequence(alt, csq, True)
        alleles = trim_alleles(pos, ref.upper(), alt.upper())
        low, high = (
            (alleles.start, alleles.end) if alleles.ref else (alleles.start - 1, alleles.start)
        )
        tr = self._transcript(contig, csq, low, high)
        structure = self._structure(tr) if tr is not None else None
        if tr is None or structure is None:
            return replace(entry, clinvar=clinvar) if clinvar else entry
        exon, intron = structure.exon_intron(low, high)
        notation = hgvs_3prime(structure, pos, ref, alt, contig.fetch)
        protein = ""
        if _PROTEIN_TERMS.intersection(csq.terms):
            protein = protein_hgvs(tr, pos, ref, alt, contig.fetch, contig.code) or ""
        return replace(
            entry,
            exon=exon,
            intron=intron,
            hgvsc=f"{self.bundle.versioned(tr.id)}:{notation}" if notation else "",
            hgvsp=f"{self.bundle.protein(tr.id)}:{protein}" if protein else "",
            clinvar=clinvar,
        )

    def _transcript(
        self, contig: ContigIndex, csq: Consequence, low: int, high: int
    ) -> Transcript | None:
        """The consequence's transcript; for a gene's merged intron or non-coding entry (which,
        as bcftools', names none) the gene's first-ranked transcript holding the change."""
        if csq.transcript:
            return self._transcripts.get((contig.name, csq.transcript))
        holding = [
            tr
            for tr in contig.candidates(low - 1, high - 1)
            if tr.gene == csq.gene and tr.beg <= low - 1 and high - 1 <= tr.end
        ]
        return min(holding, key=lambda tr: self._preference[id(tr)], default=None)

    def _structure(self, tr: Transcript) -> Structure | None:
        """The transcript's exon structure for HGVS c. (None when it has no usable exons)."""
        key = id(tr)
        if key not in self._structures:
            self._structures[key] = _structure_of(tr)
        return self._structures[key]


def _structure_of(tr: Transcript) -> Structure | None:
    exons = tuple(sorted((exon.beg + 1, exon.end + 1) for exon in tr.exons))
    coding = [cds for cds in tr.cds if cds.length > 0] if tr.coding and tr.cds_indexed else []
    try:
        return Structure(
            id=tr.id,
            strand="+" if tr.forward else "-",
            exons=exons,
            coding_start=min(cds.beg for cds in coding) + 1 if coding else None,
            coding_end=max(cds.end for cds in coding) + 1 if coding else None,
        )
    except ValueError:  # no exons, or overlapping ones: no HGVS c. for this transcript
        return None
