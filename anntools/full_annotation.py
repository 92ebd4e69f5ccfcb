"""What a full bundle says about a record: transcript consequences as VEP writes them.

For each ALT allele, the engine (anntools.csq) calls the consequences on the
bundle's transcripts, one at a time as VEP does; each becomes an entry with
the terms in VEP's spelling, the exon or intron number, HGVS c. (anntools.hgvs
from the exon structure, after the 3' rule of anntools.hgvs_shift) and HGVS p.
(anntools.hgvs_protein, from the sequence), and the allele's ClinVar
significance. The record's rsID comes from the bundle's known variants.
Coordinates are the input's: a full bundle is its own reference, with no liftover.

As with ``--gff/--fasta``, calls are haplotype-aware unless ``--local``: the
pipeline runs the chunks through the engine's HaplotypeBuffer, and the swaps it
decides replace the coding calls here as the record loop replaces its own. The
record loop asks its site source about each record without a line number, so
:class:`FullBundleWork` tells the source, chunk by chunk, which line each call is
about: the loop calls it once per valid record, in file order, which are the
records its ``parse`` gives. That line number also names a record whose REF is
not the bundle's in the run's warnings (REF_MISMATCH), as ``--gff/--fasta`` does.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable

from anntools.annotation import Entry, Site, entry_from_consequence
from anntools.bundle.full import FullBundle
from anntools.csq.engine import ContigIndex, RefMismatch
from anntools.csq.gff3 import Transcript
from anntools.csq.haplotype import Swaps, swapped_calls
from anntools.hgvs import Alleles, plain_bases, reverse_complement, trim_alleles
from anntools.hgvs import Transcript as Structure
from anntools.hgvs_protein import protein_hgvs
from anntools.hgvs_shift import PAST_ANY_END, hgvs_3prime_of
from anntools.model import Consequence
from anntools.runner import ChunkResult, ChunkWork, Job
from anntools.variant import is_symbolic
from anntools.vcf import Header, LineProblem

# A record as the site source sees it: its line number and all its ALT alleles.
# One call of a record: the consequence, and whether haplotype-aware calling put it there
# (a combined call's protein change is the haplotype's, not the record's: no HGVS p.).
Call = tuple[Consequence, bool]

# Bins of 64 kb for finding a gene's transcripts holding a change (see _ranked_bins).
_BIN_SHIFT = 16

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


class FullBundleSites:
    """The record loop's site source for a full bundle (see the module doc)."""

    def __init__(self, bundle: FullBundle) -> None:
        self.bundle = bundle
        self.annotator = bundle.transcripts
        self.known = bundle.known
        self._alts: dict[int, list[str]] = {}  # this chunk's ALTs by line, see begin_chunk
        self._overrides: dict[int, Swaps] = {}
        self.mismatches: list[LineProblem] = []  # this chunk's records whose REF is not ours
        self._structures: dict[int, Structure | None] = {}  # by id() of the engine's transcript
        self._transcripts: dict[tuple[str, str], Transcript] = {}  # (contig, id) -> transcript
        # Per contig, bin -> the transcripts overlapping the bin, best-ranked first.
        self._bins: dict[str, dict[int, list[Transcript]]] = {}
        self._spellings: dict[tuple[str, ...], tuple[str, str]] = {}  # terms -> VEP's, region
        for name in self.annotator.chromosomes:
            contig = self.annotator.contig(name)
            if contig is None:
                continue
            for tr in contig.transcripts:
                self._transcripts[contig.name, tr.id] = tr
            self._bins[contig.name] = _ranked_bins(contig.transcripts, bundle.rank)

    def begin_chunk(self, alts: dict[int, list[str]], overrides: dict[int, Swaps]) -> None:
        """The next chunk's ALT alleles (symbolic ones too) and haplotype swaps, by line."""
        self._alts = alts
        self._overrides = overrides
        self.mismatches = []

    def __call__(
        self, chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool, line_no: int = 0
    ) -> Site:
        """``alts`` are the record's ALT alleles with bases; the symbolic ones come from the
        chunk (see begin_chunk) by the record loop's ``line_no``."""
        all_alts = self._alts.get(line_no, alts)
        swaps = self._overrides.get(line_no, {})
        site = Site()
        clinvar = {alt: self._look_up(site, chrom, pos, ref, alt, look_up_rsid) for alt in alts}
        contig = self.annotator.contig(chrom)
        if contig is None:
            return site
        try:
            for number, alt in enumerate(all_alts, 1):
                found = self._calls(contig, pos, ref, alt, swaps.get(number), clinvar.get(alt, ""))
                site.entries.extend(found)
        except RefMismatch as mismatch:
            # Not the bundle's reference here: the record is kept without consequences and
            # reported, as the record loop keeps and reports one whose REF differs from --fasta's.
            site.entries.clear()
            self.mismatches.append(LineProblem(line_no, mismatch.reason, False))
        return site

    def _look_up(
        self, site: Site, chrom: str, pos: int, ref: str, alt: str, look_up_rsid: bool
    ) -> str:
        """The allele's ClinVar significance (or ""); its rsID goes to the site if it has none."""
        if self.known is None:
            return ""
        rsid, clinvar = self.known.lookup(chrom, pos, ref, alt)
        if rsid and look_up_rsid and site.rsid is None:
            site.rsid = rsid
        return clinvar or ""

    def _calls(
        self,
        contig: ContigIndex,
        pos: int,
        ref: str,
        alt: str,
        swaps: dict[str, list[Consequence | None]] | None,
        clinvar: str,
    ) -> list[Entry]:
        """The allele's entries: symbolic <INS> ones as the engine calls them (no HGVS: they
        carry no bases), the others with HGVS and swapped as haplotype-aware calling decided."""
        if is_symbolic(alt):
            if len(alt) > 1 and alt[0] == "<":
                found = self.annotator.annotate(contig.name, pos, ref, alt)
                return [entry_from_consequence(alt, csq, True) for csq in found]
            return []  # *, . and breakends: none, as the record loop gives none
        calls = swapped_calls(self.annotator.annotate(contig.name, pos, ref, alt), swaps)
        # Trimmed once for all the allele's transcripts; None: not plain bases, no HGVS c.
        alleles = trim_alleles(pos, ref, alt) if plain_bases(ref) and plain_bases(alt) else None
        return [
            self._entry(contig, csq, pos, ref, alt, alleles, clinvar, combined)
            for csq, combined in calls
        ]

    def _entry(
        self,
        contig: ContigIndex,
        csq: Consequence,
        pos: int,
        ref: str,
        alt: str,
        alleles: Alleles | None,
        clinvar: str,
        combined: bool = False,
    ) -> Entry:
        consequence, region = self._terms(csq.terms)
        exon = intron = hgvsc = hgvsp = ""
        trimmed = alleles or trim_alleles(pos, ref, alt)
        low, high = (
            (trimmed.start, trimmed.end) if trimmed.ref else (trimmed.start - 1, trimmed.start)
        )
        tr = self._transcript(contig, csq, low, high)
        structure = self._structure(tr) if tr is not None else None
        if tr is not None and structure is not None:
            if alleles is not None and len(alleles.ref) == 1 == len(alleles.alt):
                exon, intron, notation = _snv_notes(structure, alleles)
            else:
                exon, intron = structure.exon_intron(low, high)
                notation = hgvs_3prime_of(structure, alleles, contig.fetch) if alleles else ""
            hgvsc = f"{self.bundle.versioned(tr.id)}:{notation}" if notation else ""
            if not combined and _PROTEIN_TERMS.intersection(csq.terms):
                protein = protein_hgvs(tr, pos, ref, alt, contig.fetch, contig.code)
                hgvsp = f"{self.bundle.protein(tr.id)}:{protein}" if protein else ""
        # Built whole: dataclasses.replace on a finished entry costs more than the rest here.
        return Entry(
            allele=alt,
            consequence=consequence,
            gene=csq.gene,
            transcript=csq.transcript,
            biotype=csq.biotype,
            strand=csq.strand,
            region=region,
            protein_change=csq.aa_change,
            dna_change=csq.dna_change,
            exon=exon,
            intron=intron,
            hgvsc=hgvsc,
            hgvsp=hgvsp,
            clinvar=clinvar,
        )

    def _terms(self, terms: tuple[str, ...]) -> tuple[str, str]:
        """The consequence in VEP's spelling and its gene region, as entry_from_consequence
        gives them, worked out once per distinct set of terms."""
        found = self._spellings.get(terms)
        if found is None:
            entry = entry_from_consequence("", Consequence(terms, "", "", ""), True)
            found = self._spellings[terms] = (entry.consequence, entry.region)
        return found

    def _transcript(
        self, contig: ContigIndex, csq: Consequence, low: int, high: int
    ) -> Transcript | None:
        """The consequence's transcript; for a gene's merged intron or non-coding entry (which,
        as bcftools', names none) the gene's first-ranked transcript holding the change."""
        if csq.transcript:
            return self._transcripts.get((contig.name, csq.transcript))
        # A transcript holding the change holds its first base, so that base's bin lists it.
        ranked = self._bins[contig.name].get((low - 1) >> _BIN_SHIFT, ())
        for tr in ranked:  # a gene name may have many transcripts, far apart
            if tr.gene == csq.gene and tr.beg <= low - 1 and high - 1 <= tr.end:
                return tr
        return None

    def _structure(self, tr: Transcript) -> Structure | None:
        """The transcript's exon structure for HGVS c. (None when it has no usable exons)."""
        key = id(tr)
        if key not in self._structures:
            self._structures[key] = _structure_of(tr)
        return self._structures[key]


def _ranked_bins(
    transcripts: Iterable[Transcript], rank: Callable[[str], int]
) -> dict[int, list[Transcript]]:
    """Bin -> the transcripts overlapping it (0-based bins of 2**_BIN_SHIFT bases), in the
    order of preference for a gene's merged entry: the bundle's rank, then GFF3 order."""
    bins: dict[int, list[Transcript]] = {}
    for tr in sorted(transcripts, key=lambda tr: (rank(tr.id), tr.order)):
        for number in range(tr.beg >> _BIN_SHIFT, (tr.end >> _BIN_SHIFT) + 1):
            bins.setdefault(number, []).append(tr)
    return bins


def _snv_notes(structure: Structure, snv: Alleles) -> tuple[str, str, str]:
    """Exon, intron and HGVS c. of a one-base substitution, as ``exon_intron`` and
    ``hgvs_of_trimmed`` give them, from one bisection: most changes are these, and the
    general path (any span, the 3' rule) costs several times more."""
    pos, exons = snv.start, structure.exons
    index = bisect_right(exons, (pos, PAST_ANY_END)) - 1
    exon = intron = ""
    if index >= 0 and pos <= exons[index][1]:
        exon = f"{structure.exon_number(index)}/{len(exons)}"
    elif 0 <= index < len(exons) - 1:
        intron = f"{structure.intron_number(index)}/{len(exons) - 1}"
    place = structure.position(pos)
    if place is None:
        return exon, intron, ""
    ref, alt = snv.ref, snv.alt
    if structure.strand == "-":
        ref, alt = reverse_complement(ref), reverse_complement(alt)
    return exon, intron, f"{structure.prefix}{place}{ref}>{alt}"


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


class FullBundleWork(ChunkWork):
    """ChunkWork for a full bundle: tells its site source which lines each chunk's calls are
    about, and adds the records whose REF is not the bundle's to the chunk's problems."""

    def __init__(self, header: Header, sites: FullBundleSites) -> None:
        super().__init__(header, sites, None)
        self._sites = sites

    def __call__(self, job: Job) -> ChunkResult:
        chunk, overrides = job
        self._sites.begin_chunk(_alts_by_line(chunk.lines, chunk.first_line_no), overrides or {})
        result = super().__call__((chunk, None))
        if self._sites.mismatches:
            result.problems.extend(self._sites.mismatches)
            result.problems.sort(key=lambda problem: problem.line_no)
        return result


def _alts_by_line(lines: list[bytes], first_line_no: int) -> dict[int, list[str]]:
    """The ALT column of every line with one, split, by line number (the record loop's own
    checks decide which of these are records)."""
    found = {}
    for i, line in enumerate(lines):
        columns = line.split(b"\t", 5)
        if len(columns) > 4:
            found[first_line_no + i] = columns[4].decode(errors="replace").strip().split(",")
    return found
