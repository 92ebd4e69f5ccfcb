"""annotate_file: one VCF in, the four result files out, in one streaming pass."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from anntools import __version__
from anntools.annotation import Site, entry_from_consequence, entry_from_hit
from anntools.assembly import RCRS, AssemblyGuess, detect_assembly, is_mitochondrial
from anntools.csq import TranscriptAnnotator
from anntools.csq.engine import REF_MISMATCH
from anntools.csq.stream import HaplotypeBuffer
from anntools.errors import AnnotationError, LimitExceeded
from anntools.output import (
    PartialFile,
    result_names,
    tsv_header,
    vcf_header,
    write_text_atomically,
)
from anntools.report import Counts, ProblemLog, RunInfo, count_log, summary, to_json
from anntools.runner import ChunkWork, PendingJob, WorkerPool, relaxed_gc
from anntools.vcf import (
    LineProblem,
    OrderChecker,
    ProgressCallback,
    RawChunk,
    VcfReader,
    first_valid_chrom,
    record_loop,
)

# The bundles, liftover, MANE and MT code (and numpy under them) are imported where a run
# uses them: a --gff/--fasta run never does, and starts faster without them.
if TYPE_CHECKING:
    from anntools._recordloop import SiteSource
    from anntools.bundle import Bundle
    from anntools.bundle.full import FullBundle
    from anntools.full_annotation import FullBundleSites

RCRS_FASTA = Path(__file__).parent / "resources" / "rCRS.fa"
PROTEIN_NOTE = "amino-acid changes and HGVS p. need the full bundle with genome sequence"
PARALLEL_MIN_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Options:
    """How to annotate: ``bundle_dir`` None is the default bundle; ``use_bundle`` off skips it.

    With ``gff3`` and ``fasta`` (a custom reference) the default bundle, assembly
    detection and liftover are skipped unless ``assembly`` or ``bundle_dir`` asks
    for them, and transcript calls are haplotype-aware unless ``local``.
    """

    assembly: str | None = None
    gff3: Path | None = None
    fasta: Path | None = None
    bundle_dir: Path | None = None
    use_bundle: bool = True
    workers: int | None = None  # None: decided by input size and cores
    max_bytes: int | None = None  # of decompressed input; None: no limit
    max_records: int | None = None  # valid records; None: no limit
    local: bool = False  # per-record transcript calls, as bcftools csq -l

    @property
    def custom_reference(self) -> bool:
        return self.gff3 is not None or self.fasta is not None

    @property
    def wants_bundle(self) -> bool:
        asked = self.bundle_dir is not None or self.assembly is not None
        return self.use_bundle and (asked or not self.custom_reference)


@dataclass(frozen=True, slots=True)
class Result:
    files: dict[str, Path]
    summary: dict[str, Any]
    ref_mismatches: int = 0  # records whose REF is not the reference FASTA's (not annotated)


class Sources:
    """What annotates the records of one input whose assembly is known.

    The record loop asks ``sites`` (None without a bundle) for the gene-level
    part of each record and runs ``transcripts`` itself.
    """

    def __init__(
        self,
        assembly: AssemblyGuess,
        bundle: Bundle | FullBundle | None,
        transcripts: TranscriptAnnotator | None,
    ) -> None:
        self.assembly = assembly
        self.transcripts = transcripts
        self.full = _full_bundle(bundle)
        self.sites: GeneLevelSites | FullBundleSites | None = None
        if self.full is not None:
            from anntools.full_annotation import FullBundleSites

            self.sites = FullBundleSites(self.full)
        elif bundle is not None:
            # With --gff/--fasta the output keeps bcftools csq's spelling (BCSQ-compatible).
            bcsq_compatible = transcripts is not None
            default = cast("Bundle", bundle)  # not a full bundle, as _full_bundle said
            self.sites = GeneLevelSites(assembly, default, bcsq_compatible)

    @property
    def record_source(self) -> SiteSource | None:
        """What the record loop asks for each record's gene-level part."""
        if isinstance(self.sites, GeneLevelSites):
            return self.sites.record_source
        return self.sites

    @property
    def names(self) -> list[str]:
        if self.full:
            known = self.full.manifest["known_variants"]["count"]
            return [
                f"full bundle {self.full.path.name} (transcripts, sequence, {known} known alleles)"
            ]
        names = []
        if isinstance(self.sites, GeneLevelSites):
            names += [
                f"bundle {self.sites.bundle.path.name}",
                "mitochondrial codons (rCRS, code 2)",
            ]
            if self.sites.vep_spelling:
                names.append(f"MANE Select transcripts (HGVS c.; {PROTEIN_NOTE})")
        if self.transcripts:
            names.append("transcripts (GFF3 + FASTA)")
        return names


# Benchmarks only (scripts/bench_mane.py): "1" skips the MANE Select step, to measure its cost.
SKIP_MANE_ENV = "ANNTOOLS_BENCH_SKIP_MANE"


class GeneLevelSites:
    """The bundle's view of a record: genes and regions on GRCh38 (lifted), rsIDs, MT codons,
    and MANE Select transcripts.

    ``bcsq_compatible`` keeps bcftools csq's spelling and leaves out the MANE
    transcripts (the GFF3's transcripts give the transcript-level part then).
    """

    def __init__(self, assembly: AssemblyGuess, bundle: Bundle, bcsq_compatible: bool = False):
        self.assembly = assembly
        self.bundle = bundle
        self.vep_spelling = not bcsq_compatible
        self.mane = os.environ.get(SKIP_MANE_ENV) != "1"
        from anntools import recordloop  # noqa: F401 - loads htslib, which _bundlesites needs
        from anntools._bundlesites import GrchSites
        from anntools.lift import Lifter
        from anntools.mito import mito_annotator

        self.lifter = Lifter.for_assembly(assembly.assembly)
        self.mito = mito_annotator(bundle.mt_gff3_path, RCRS_FASTA)
        # The lookups of records placed on GRCh38, compiled. As the record loop's source of
        # sites it answers records on GRCh38 chromosomes itself and passes the others
        # (chrM, lifted) back to this object.
        self.grch38 = GrchSites(bundle, self.mane, self._grch38_name, self)

    @property
    def record_source(self) -> SiteSource:
        """What the record loop calls per record: the same answers as calling this object."""
        return self.grch38 if self.vep_spelling else self

    def __call__(
        self, chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool, line_no: int = 0
    ) -> Site:
        """``alts`` are the record's ALT alleles with bases (no symbolic ones); 1-based ``pos``.
        ``line_no`` (the record loop's) is not needed here."""
        site = Site()
        if is_mitochondrial(chrom):
            self._mito(chrom, pos, ref, alts, look_up_rsid, site)
        else:
            self._nuclear(chrom, pos, ref, alts, look_up_rsid, site)
        return site

    def _grch38_name(self, chrom: str) -> str | None:
        """The GRCh38 name of a chromosome whose records need no liftover, else None."""
        if is_mitochondrial(chrom) or not self.lifter.is_identity or self.assembly.assembly == RCRS:
            return None
        from anntools.lift import ucsc_name

        return ucsc_name(chrom)

    def _mito(
        self, chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool, site: Site
    ) -> None:
        """Codon-level consequences from rCRS, plus the bundle's genes for RNA genes and
        the control region. MT is rCRS in every assembly we read: no liftover."""
        site.grch38 = ("chrM", pos)
        coding_genes = set()
        for alt in alts:
            for csq in self.mito.annotate(chrom, pos, ref, alt):
                site.entries.append(entry_from_consequence(alt, csq, self.vep_spelling))
                coding_genes.add(csq.gene)
        hits = self.bundle.gene_hits("chrM", pos, pos + len(ref) - 1)
        other_genes = [hit for hit in hits if hit.gene not in coding_genes]
        for alt in alts:
            site.entries.extend(entry_from_hit(alt, hit, self.vep_spelling) for hit in other_genes)
        if look_up_rsid:
            site.rsid = self._rsid("chrM", pos, ref, alts)

    def _nuclear(
        self, chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool, site: Site
    ) -> None:
        if self.assembly.assembly == RCRS:  # a nuclear record in a file settled as MT-only
            site.unmapped = True
            return
        lifted = self.lifter.lift(chrom, pos, ref, ",".join(alts or ["."]))
        if lifted is None:
            site.unmapped = True
            return
        lifted_alts = lifted.alt.split(",")
        self._on_grch38(lifted.chrom, lifted.pos, lifted.ref, alts, lifted_alts, look_up_rsid, site)

    def _on_grch38(
        self,
        chrom: str,
        pos: int,
        ref: str,
        alts: list[str],
        lifted_alts: list[str],
        look_up_rsid: bool,
        site: Site,
    ) -> None:
        """The entries of a record placed on GRCh38 at ``chrom``:``pos`` with ``ref`` and
        ``lifted_alts``; ``alts`` are its own ALTs, which the entries name."""
        site.grch38 = (chrom, pos)
        if self.vep_spelling:
            # Only transcripts the record meets: the gene-level entries say what is up- or
            # downstream, and cost far less than an entry per transcript.
            site.entries = self.grch38.rendered_entries(
                chrom, pos, ref, alts, lifted_alts, self.mane
            )
            if alts and look_up_rsid:
                site.rsid = self.grch38.rsid(chrom, pos, ref, lifted_alts)
            return
        hits = self.bundle.gene_hits(chrom, pos, pos + len(ref) - 1)
        for alt in alts:
            site.entries.extend(entry_from_hit(alt, hit) for hit in hits)
        if alts and look_up_rsid:
            site.rsid = self._rsid(chrom, pos, ref, lifted_alts)

    def _rsid(self, chrom: str, pos: int, ref: str, alts: list[str]) -> str | None:
        """An exact position + REF + ALT match in the common set."""
        for alt in alts:
            rsid = self.bundle.rsid(chrom, pos, ref, alt)
            if rsid:
                return rsid
        return None


def _full_bundle(bundle: Bundle | FullBundle | None) -> FullBundle | None:
    """``bundle`` if it is a full bundle (whose module is imported only when one is used)."""
    if bundle is None:
        return None
    from anntools.bundle.full import FullBundle

    return bundle if isinstance(bundle, FullBundle) else None


def _load_sources(
    options: Options,
) -> tuple[Bundle | FullBundle | None, TranscriptAnnotator | None]:
    if not options.wants_bundle:
        return None, _transcripts(options)
    from anntools.bundle import Bundle, default_bundle_dir
    from anntools.bundle.full import FullBundle, is_full_bundle

    bundle_dir = options.bundle_dir or default_bundle_dir()
    if is_full_bundle(bundle_dir):
        if options.custom_reference:
            raise AnnotationError(
                f"{bundle_dir} is a full bundle with its own transcripts: drop --gff/--fasta"
            )
        full = FullBundle.load(bundle_dir)
        return full, None  # its transcripts are called by FullBundleSites
    return Bundle.load(bundle_dir), _transcripts(options)


def _transcripts(options: Options) -> TranscriptAnnotator | None:
    """The transcript engine of --gff and --fasta, or None without them."""
    if not (options.gff3 or options.fasta):
        return None
    if not (options.gff3 and options.fasta):
        raise AnnotationError("transcript consequences need both --gff and --fasta")
    return TranscriptAnnotator.from_files(options.gff3, options.fasta)


def annotate_file(
    input_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    options: Options | None = None,
    progress: ProgressCallback | None = None,
) -> Result:
    """Annotate one VCF (plain, gzip or bgzip) into out_dir; returns the files and the summary.

    Raises AnnotationError with a clear message when the input cannot be used.
    """
    options = options or Options()
    input_path, out_dir = Path(input_path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {kind: out_dir / name for kind, name in result_names(input_path.name).items()}
    bundle, transcripts = _load_sources(options)
    with VcfReader(input_path, max_bytes=options.max_bytes) as reader, relaxed_gc():
        vcf_out, tsv_out = PartialFile(files["vcf"]), PartialFile(files["tsv"])
        try:
            run = _Run(reader, options, progress)
            sources = run.stream(bundle, transcripts, vcf_out, tsv_out)
        except BaseException:
            vcf_out.discard()
            tsv_out.discard()
            raise
        vcf_out.commit()
        tsv_out.commit()
    info = RunInfo(
        input_name=input_path.name,
        vcf_version=reader.header.version,
        samples=len(reader.header.samples),
        assembly=sources.assembly.assembly,
        assembly_reason=sources.assembly.reason,
        sources=sources.names,
        engine_version=__version__,
    )
    data = summary(info, run.counts, run.problems)
    write_text_atomically(files["summary"], to_json(data))
    write_text_atomically(files["log"], count_log(data))
    return Result(files=files, summary=data, ref_mismatches=run.ref_mismatches)


def annotate_with_reference(
    input_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    gff3: Path,
    fasta: Path,
    local: bool = False,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Result:
    """Annotate one VCF with a GFF3 gene model and its FASTA only (no bundle, no liftover):
    transcript consequences as bcftools csq gives them, haplotype-aware unless ``local``."""
    options = Options(gff3=gff3, fasta=fasta, use_bundle=False, workers=workers, local=local)
    return annotate_file(input_path, out_dir, options, progress)


class _Run:
    """One pass over the input: settles the assembly, then streams chunks through workers."""

    def __init__(self, reader: VcfReader, options: Options, progress: ProgressCallback | None):
        self.reader = reader
        self.options = options
        self.progress = progress
        self.counts = Counts()
        self.problems = ProblemLog()
        self.ref_mismatches = 0

    def stream(
        self,
        bundle: Bundle | FullBundle | None,
        transcripts: TranscriptAnnotator | None,
        vcf_out: PartialFile,
        tsv_out: PartialFile,
    ) -> Sources:
        chunks = self.reader.raw_chunks()
        first, first_chrom = self._first_record_chunk(chunks)
        if first is None or first_chrom is None:
            self._finish_problems()
            raise AnnotationError(_nothing_valid_message(self.problems))
        sources = Sources(self._assembly(first_chrom, bundle), bundle, transcripts)
        provenance = _provenance(sources, command_line(self.reader.path.name, self.options))
        vcf_out.write_text(vcf_header(self.reader.header, provenance))
        tsv_out.write_text(tsv_header())
        header = self.reader.header

        def make_work() -> ChunkWork:
            if sources.full is not None:
                from anntools.full_annotation import FullBundleSites, FullBundleWork

                return FullBundleWork(header, cast(FullBundleSites, sources.sites))
            return ChunkWork(header, sources.record_source, sources.transcripts)

        order = OrderChecker()
        workers = self.options.workers or default_workers(self.reader.bytes_total)
        calling = sources.full.transcripts if sources.full else transcripts
        with WorkerPool(make_work, workers, calling) as pool:
            jobs = _jobs(_chain(first, chunks), calling, self.options.local, pool)
            for result in pool.results(jobs):
                vcf_out.handle.write(result.vcf_text)
                tsv_out.handle.write(result.tsv_text)
                self.counts.merge(result.counts)
                self._check_records()
                self.problems.add(result.problems)
                self.ref_mismatches += sum(
                    p.reason.startswith(REF_MISMATCH) for p in result.problems
                )
                self.problems.add(order.merge(result.runs))
                if self.progress is not None:
                    self.progress(self.counts.records, result.bytes_read, self.reader.bytes_total)
        self._finish_problems()
        if self.counts.records == 0:
            raise AnnotationError(_nothing_valid_message(self.problems))
        return sources

    def _assembly(self, first_chrom: str, bundle: Bundle | FullBundle | None) -> AssemblyGuess:
        full = _full_bundle(bundle)
        if full is not None:
            return AssemblyGuess(
                "as the bundle", f"the full bundle {full.path.name}'s own reference"
            )
        if bundle is None and not self.options.assembly:
            if self.options.fasta is not None:
                return AssemblyGuess(
                    self.options.fasta.name, "the reference is the FASTA given; no liftover"
                )
            return AssemblyGuess("as given", "no bundle used; coordinates are the GFF3's")
        header = self.reader.header
        return detect_assembly(
            header.meta_lines,
            header.contig_lengths,
            [*header.contig_lengths, first_chrom],
            override=self.options.assembly,
        )

    def _check_records(self) -> None:
        limit = self.options.max_records
        if limit is not None and self.counts.records > limit:
            raise LimitExceeded(
                "max_records",
                limit,
                f"the input has more than {limit:,} variant records (the limit)",
            )

    def _first_record_chunk(self, chunks: Iterator[RawChunk]) -> tuple[RawChunk | None, str | None]:
        """The first chunk that holds a valid record line, and that line's CHROM.

        Only the line checks run here (no htslib): the assembly must be settled
        from the first record before any worker starts. The chunks before it
        hold no record: their problems are counted and the chunks dropped, so
        lines before the first record (blank or not) cost no memory.
        """
        loop = None
        for chunk in chunks:
            chrom = first_valid_chrom(chunk.lines, self.reader.header.n_columns)
            if chrom is not None:
                return chunk, chrom
            loop = loop or record_loop(self.reader.header)
            problems = loop.annotate(chunk.lines, chunk.first_line_no)[3]  # no record: no output
            self.problems.add(LineProblem(*problem) for problem in problems)
        return None, None

    def _finish_problems(self) -> None:
        self.problems.add(self.reader.stats.problems)  # over-long lines, found while reading
        self.problems.sort()


def _jobs(
    chunks: Iterator[RawChunk],
    transcripts: TranscriptAnnotator | None,
    local: bool,
    pool: WorkerPool | None = None,
) -> Iterator[PendingJob]:
    """The chunks to annotate, through the haplotype buffer unless calls are local; the
    pool's workers call the buffer's big groups."""
    if transcripts is None or local:
        yield from ((chunk, None) for chunk in chunks)
        return
    buffer = HaplotypeBuffer(transcripts, pool)
    for chunk in chunks:
        yield from buffer.feed(chunk)
    yield from buffer.finish()


def default_workers(input_bytes: int) -> int:
    """Worker processes: one for small inputs (forking costs more than it saves), else a
    process per core, up to four."""
    if input_bytes < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _chain(first: RawChunk, rest: Iterator[RawChunk]) -> Iterator[RawChunk]:
    yield first
    yield from rest


def _provenance(sources: Sources, command: str) -> list[str]:
    lines = [
        f"##anntools_version={__version__}",
        f"##anntools_assembly={sources.assembly.assembly}",
        f"##anntools_command={command}",
    ]
    if isinstance(sources.sites, GeneLevelSites) and sources.sites.vep_spelling:
        lines.append(
            "##anntools_protein_changes=not computed: the default bundle has no genome "
            f"sequence, so coding substitutions read coding_sequence_variant; {PROTEIN_NOTE}"
        )
    return lines


def command_line(input_name: str, options: Options) -> str:
    """The command that gives these results, its files named without their folders.

    Written into the output from the options, not from sys.argv: the folders
    a run used (a worker's temporary ones) mean nothing to the reader and
    reveal the host's layout. Workers and progress do not change the results.
    """
    argv = ["anntools", "annotate", input_name]
    if options.assembly:
        argv += ["--assembly", options.assembly]
    if not options.use_bundle:
        argv += ["--bundle", "none"]
    elif options.bundle_dir:
        argv += ["--bundle", options.bundle_dir.name]
    for flag, path in (("--gff", options.gff3), ("--fasta", options.fasta)):
        if path:
            argv += [flag, path.name]
    return shlex.join(argv)


def _nothing_valid_message(problems: ProblemLog) -> str:
    if not problems.skipped:
        return "the file has a header but no variant records"
    first = problems.skipped[0]
    return (
        f"no valid variant records: all {problems.skipped_total} record lines were rejected; "
        f"the first, line {first.line_no}: {first.reason}"
    )
