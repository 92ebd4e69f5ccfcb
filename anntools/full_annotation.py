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

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import NamedTuple

from anntools.annotation import Entry, Site, entry_from_consequence
from anntools.bundle.full import FullBundle
from anntools.bundle.known import KnownVariants
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
from anntools.vcf import Header, LineProblem, RawChunk

# A record as the site source sees it: its line number and all its ALT alleles.
# One call of a record: the consequence, and whether haplotype-aware calling put it there
# (a combined call's protein change is the haplotype's, not the record's: no HGVS p.).
Call = tuple[Consequence, bool]

# A byte of a symbolic ALT (<DEL>, *, breakends): a line without any has only the ALTs the
# record loop passes. (A lone "." ALT has no entries either way.)
_MAYBE_SYMBOLIC = re.compile(rb"[<*\[\]]")

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
        self._lines: list[bytes] = []  # this chunk's lines, see begin_chunk
        self._first_line_no = 0
        self._overrides: dict[int, Swaps] = {}
        self.mismatches: list[LineProblem] = []  # this chunk's records whose REF is not ours
        self._targets: dict[int, _Target] = {}  # by id() of the engine's transcript
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

    def begin_chunk(self, chunk: RawChunk, overrides: dict[int, Swaps]) -> None:
        """The next chunk (its lines name the symbolic ALTs the loop leaves out) and its
        haplotype swaps, by line."""
        self._lines, self._first_line_no = chunk.lines, chunk.first_line_no
        self._overrides = overrides
        self.mismatches = []

    def __call__(
        self, chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool, line_no: int = 0
    ) -> Site:
        """``alts`` are the record's ALT alleles with bases; the symbolic ones come from the
        chunk's line (see begin_chunk) by the record loop's ``line_no``."""
        swaps = self._overrides.get(line_no) if self._overrides else None
        site = Site()
        known = self.known
        clinvar = (
            {alt: self._look_up(known, site, chrom, pos, ref, alt, look_up_rsid) for alt in alts}
            if known is not None
            else None
        )
        contig = self.annotator.contig(chrom)
        if contig is None:
            return site
        all_alts = self._all_alts(line_no, alts)
        try:
            for number, alt in enumerate(all_alts, 1):
                swapped = swaps.get(number) if swaps else None
                significance = clinvar.get(alt, "") if clinvar else ""
                if all_alts is not alts and is_symbolic(alt):
                    site.entries.extend(self._symbolic_calls(contig, pos, ref, alt))
                else:
                    site.entries.extend(self._calls(contig, pos, ref, alt, swapped, significance))
        except RefMismatch as mismatch:
            # Not the bundle's reference here: the record is kept without consequences and
            # reported, as the record loop keeps and reports one whose REF differs from --fasta's.
            site.entries.clear()
            self.mismatches.append(LineProblem(line_no, mismatch.reason, False))
        return site

    def _all_alts(self, line_no: int, alts: list[str]) -> list[str]:
        """The record's ALT column, symbolic alleles included (so that an allele's number is
        its place there, as haplotype swaps count it); ``alts`` when the line can hold no
        symbolic allele, as most cannot."""
        index = line_no - self._first_line_no
        if not 0 <= index < len(self._lines):
            return alts
        line = self._lines[index]
        if not _MAYBE_SYMBOLIC.search(line):
            return alts
        columns = line.split(b"\t", 5)
        if len(columns) < 5:
            return alts
        return columns[4].decode(errors="replace").strip().split(",")

    @staticmethod
    def _look_up(
        known: KnownVariants,
        site: Site,
        chrom: str,
        pos: int,
        ref: str,
        alt: str,
        look_up_rsid: bool,
    ) -> str:
        """The allele's ClinVar significance (or ""); its rsID goes to the site if it has none."""
        rsid, clinvar = known.lookup(chrom, pos, ref, alt)
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
        """The entries of an allele of bases, with HGVS, swapped as haplotype-aware calling
        decided."""
        found = self.annotator.annotate(contig.name, pos, ref, alt)
        # Trimmed once for all the allele's transcripts; None: not plain bases, no HGVS c.
        alleles = trim_alleles(pos, ref, alt) if plain_bases(ref) and plain_bases(alt) else None
        if not swaps:  # most records: no call of theirs was combined with another's
            return [self._entry(contig, csq, pos, ref, alt, alleles, clinvar) for csq in found]
        return [
            self._entry(contig, csq, pos, ref, alt, alleles, clinvar, combined)
            for csq, combined in swapped_calls(found, swaps)
        ]

    def _symbolic_calls(self, contig: ContigIndex, pos: int, ref: str, alt: str) -> list[Entry]:
        """A symbolic allele's entries: <INS> ones as the engine calls them (no HGVS: they
        carry no bases); *, . and breakends none, as the record loop gives none."""
        if len(alt) > 1 and alt[0] == "<":
            found = self.annotator.annotate(contig.name, pos, ref, alt)
            return [entry_from_consequence(alt, csq, True) for csq in found]
        return []

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
        target = self._target(contig, csq, pos, ref, alt, alleles)
        if target is not None and target.structure is not None:
            structure = target.structure
            if alleles is not None and len(alleles.ref) == 1 == len(alleles.alt):
                exon, intron, notation = _snv_notes(structure, alleles)
            else:
                low, high = (alleles or trim_alleles(pos, ref, alt)).changed_span()
                exon, intron = structure.exon_intron(low, high)
                notation = hgvs_3prime_of(structure, alleles, contig.fetch) if alleles else ""
            hgvsc = target.hgvsc_prefix + notation if notation else ""
            if not combined and not _PROTEIN_TERMS.isdisjoint(csq.terms):
                protein = protein_hgvs(target.tr, pos, ref, alt, contig.fetch, contig.code)
                hgvsp = target.hgvsp_prefix + protein if protein else ""
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

    def _target(
        self,
        contig: ContigIndex,
        csq: Consequence,
        pos: int,
        ref: str,
        alt: str,
        alleles: Alleles | None,
    ) -> _Target | None:
        """The transcript an entry's notes are about (see _transcript), prepared once."""
        if csq.transcript:
            tr = self._transcripts.get((contig.name, csq.transcript))
        else:
            tr = self._transcript(
                contig, csq.gene, *(alleles or trim_alleles(pos, ref, alt)).changed_span()
            )
        if tr is None:
            return None
        target = self._targets.get(id(tr))
        if target is None:
            target = self._targets[id(tr)] = _Target(
                tr,
                _structure_of(tr),
                f"{self.bundle.versioned(tr.id)}:",
                f"{self.bundle.protein(tr.id)}:",
            )
        return target

    def _transcript(self, contig: ContigIndex, gene: str, low: int, high: int) -> Transcript | None:
        """For a gene's merged intron or non-coding entry (which, as bcftools', names no
        transcript) the gene's first-ranked transcript holding the change."""
        # A transcript holding the change holds its first base, so that base's bin lists it.
        ranked = self._bins[contig.name].get((low - 1) >> _BIN_SHIFT, ())
        for tr in ranked:  # a gene name may have many transcripts, far apart
            if tr.gene == gene and tr.beg <= low - 1 and high - 1 <= tr.end:
                return tr
        return None


class _Target(NamedTuple):
    """A transcript as entries name it, prepared once: the engine's transcript, its exon
    structure for HGVS c. (None when it has no usable exons) and the prefixes of its
    HGVS c. and p. texts (versioned transcript ID, protein ID)."""

    tr: Transcript
    structure: Structure | None
    hgvsc_prefix: str
    hgvsp_prefix: str


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
        self._sites.begin_chunk(chunk, overrides or {})
        result = super().__call__((chunk, None))
        if self._sites.mismatches:
            result.problems.extend(self._sites.mismatches)
            result.problems.sort(key=lambda problem: problem.line_no)
        return result
