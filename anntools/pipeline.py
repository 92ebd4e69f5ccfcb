"""annotate_file: one VCF in, the four result files out, in one streaming pass."""

from __future__ import annotations

import itertools
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anntools import __version__
from anntools.annotation import (
    AlleleFacts,
    RecordAnnotation,
    entry_from_consequence,
    entry_from_hit,
)
from anntools.assembly import RCRS, AssemblyGuess, detect_assembly, is_mitochondrial
from anntools.bundle import Bundle, default_bundle_dir
from anntools.csq import TranscriptAnnotator
from anntools.errors import AnnotationError
from anntools.lift import Lifter
from anntools.mito import mito_annotator
from anntools.output import (
    PartialFile,
    result_names,
    tsv_header,
    vcf_header,
    write_text_atomically,
)
from anntools.report import Counts, ProblemLog, RunInfo, count_log, summary, to_json
from anntools.runner import ChunkWork, relaxed_gc, run_chunks
from anntools.variant import allele_kind, is_symbolic
from anntools.vcf import (
    ChunkParser,
    Header,
    OrderChecker,
    ProgressCallback,
    RawChunk,
    Record,
    VcfReader,
)

RCRS_FASTA = Path(__file__).parent / "resources" / "rCRS.fa"
PARALLEL_MIN_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Options:
    """How to annotate: ``bundle_dir`` None is the default bundle; ``use_bundle`` off skips it."""

    assembly: str | None = None
    gff3: Path | None = None
    fasta: Path | None = None
    bundle_dir: Path | None = None
    use_bundle: bool = True
    workers: int | None = None  # None: decided by input size and cores


@dataclass(frozen=True, slots=True)
class Result:
    files: dict[str, Path]
    summary: dict[str, Any]


class RecordAnnotator:
    """Annotates records of one input whose assembly is known."""

    def __init__(
        self,
        assembly: AssemblyGuess,
        bundle: Bundle | None,
        transcripts: TranscriptAnnotator | None,
    ) -> None:
        self.assembly = assembly
        self.bundle = bundle
        self.transcripts = transcripts
        self.lifter = Lifter.for_assembly(assembly.assembly) if bundle else None
        self.mito = mito_annotator(bundle.mt_gff3_path, RCRS_FASTA) if bundle else None

    @property
    def sources(self) -> list[str]:
        names = []
        if self.bundle:
            names += [f"bundle {self.bundle.path.name}", "mitochondrial codons (rCRS, code 2)"]
        if self.transcripts:
            names.append("transcripts (GFF3 + FASTA)")
        return names

    def annotate(self, record: Record) -> RecordAnnotation:
        annotation = RecordAnnotation(alleles=allele_facts(record))
        genotypes = record.genotypes
        if genotypes is not None:
            annotation.called, annotation.het = genotypes.called, genotypes.het
            annotation.hom_alt = genotypes.hom_alt
        if record.columns[2].startswith("rs"):
            annotation.rsid, annotation.rsid_source = record.columns[2], "input"
        alts = [alt for alt in record.alts if not is_symbolic(alt)]
        if self.bundle is not None:
            if is_mitochondrial(record.chrom):
                self._annotate_mito(record, alts, annotation)
            else:
                self._annotate_nuclear(record, alts, annotation)
        if self.transcripts is not None:
            entries = annotation.entries
            for alt in alts:
                for csq in self.transcripts.annotate(record.chrom, record.pos, record.ref, alt):
                    entries.append(entry_from_consequence(alt, csq))
        return annotation

    def _annotate_mito(self, record: Record, alts: list[str], annotation: RecordAnnotation) -> None:
        """Codon-level consequences from rCRS, plus the bundle's genes for RNA genes and
        the control region. MT is rCRS in every assembly we read: no liftover."""
        assert self.bundle is not None and self.mito is not None
        annotation.grch38 = ("chrM", record.pos)
        coding_genes = set()
        for alt in alts:
            for csq in self.mito.annotate(record.chrom, record.pos, record.ref, alt):
                annotation.entries.append(entry_from_consequence(alt, csq))
                coding_genes.add(csq.gene)
        hits = self.bundle.gene_hits("chrM", record.pos, record.pos + len(record.ref) - 1)
        other_genes = [hit for hit in hits if hit.gene not in coding_genes]
        for alt in alts:
            annotation.entries.extend(entry_from_hit(alt, hit) for hit in other_genes)
        self._look_up_rsid("chrM", record.pos, record.ref, alts, annotation)

    def _annotate_nuclear(
        self, record: Record, alts: list[str], annotation: RecordAnnotation
    ) -> None:
        assert self.bundle is not None and self.lifter is not None
        if self.assembly.assembly == RCRS:  # a nuclear record in a file settled as MT-only
            annotation.unmapped = True
            return
        lifted = self.lifter.lift(record.chrom, record.pos, record.ref, ",".join(alts or ["."]))
        if lifted is None:
            annotation.unmapped = True
            return
        annotation.grch38 = (lifted.chrom, lifted.pos)
        hits = self.bundle.gene_hits(lifted.chrom, lifted.pos, lifted.pos + len(lifted.ref) - 1)
        for alt in alts:
            annotation.entries.extend(entry_from_hit(alt, hit) for hit in hits)
        if alts:
            self._look_up_rsid(
                lifted.chrom, lifted.pos, lifted.ref, lifted.alt.split(","), annotation
            )

    def _look_up_rsid(
        self, chrom: str, pos: int, ref: str, alts: list[str], annotation: RecordAnnotation
    ) -> None:
        """An exact position + REF + ALT match in the common set, unless the input named one."""
        if annotation.rsid or self.bundle is None:
            return
        for alt in alts:
            rsid = self.bundle.rsid(chrom, pos, ref, alt)
            if rsid:
                annotation.rsid, annotation.rsid_source = rsid, "common"
                return


def allele_facts(record: Record) -> list[AlleleFacts]:
    facts = []
    for index, alt in enumerate(record.alts, start=1):
        variant_class, substitution = allele_kind(record.ref, alt)
        frequency = _allele_frequency(record, index)
        facts.append(AlleleFacts(alt, variant_class, substitution, frequency))
    return facts


def _allele_frequency(record: Record, index: int) -> float | None:
    """INFO AC/AN when present, else computed from the called genotypes."""
    if record.info_ac is not None and record.info_an and len(record.info_ac) >= index:
        return record.info_ac[index - 1] / record.info_an
    genotypes = record.genotypes
    called_alleles = sum(genotypes.allele_counts) if genotypes is not None else 0
    if genotypes is not None and called_alleles:
        return genotypes.allele_counts[index] / called_alleles
    return None


def _load_sources(options: Options) -> tuple[Bundle | None, TranscriptAnnotator | None]:
    bundle = None
    if options.use_bundle:
        bundle = Bundle.load(options.bundle_dir or default_bundle_dir())
    transcripts = None
    if options.gff3 or options.fasta:
        if not (options.gff3 and options.fasta):
            raise AnnotationError("transcript consequences need both --gff and --fasta")
        transcripts = TranscriptAnnotator.from_files(options.gff3, options.fasta)
    return bundle, transcripts


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
    with VcfReader(input_path) as reader, relaxed_gc():
        vcf_out, tsv_out = PartialFile(files["vcf"]), PartialFile(files["tsv"])
        try:
            run = _Run(reader, options, progress)
            annotator = run.stream(bundle, transcripts, vcf_out, tsv_out)
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
        assembly=annotator.assembly.assembly,
        assembly_reason=annotator.assembly.reason,
        sources=annotator.sources,
        engine_version=__version__,
    )
    data = summary(info, run.counts, run.problems)
    write_text_atomically(files["summary"], to_json(data))
    write_text_atomically(files["log"], count_log(data))
    return Result(files=files, summary=data)


class _Run:
    """One pass over the input: settles the assembly, then streams chunks through workers."""

    def __init__(self, reader: VcfReader, options: Options, progress: ProgressCallback | None):
        self.reader = reader
        self.options = options
        self.progress = progress
        self.counts = Counts()
        self.problems = ProblemLog()

    def stream(
        self,
        bundle: Bundle | None,
        transcripts: TranscriptAnnotator | None,
        vcf_out: PartialFile,
        tsv_out: PartialFile,
    ) -> RecordAnnotator:
        chunks = self.reader.raw_chunks()
        peeked, first_chrom = _peek_first_chrom(chunks, self.reader.header)
        if first_chrom is None:
            self._collect_problems(peeked)
            raise AnnotationError(_nothing_valid_message(self.problems))
        annotator = RecordAnnotator(self._assembly(first_chrom, bundle), bundle, transcripts)
        vcf_out.handle.write(vcf_header(self.reader.header, _provenance(annotator)))
        tsv_out.handle.write(tsv_header())
        header = self.reader.header

        def make_work(workdir: Path) -> ChunkWork:
            return ChunkWork(header, annotator.annotate, workdir)

        order = OrderChecker()
        workers = self.options.workers or default_workers(self.reader.bytes_total)
        for result in run_chunks(itertools.chain(peeked, chunks), make_work, workers):
            vcf_out.handle.write(result.vcf_text)
            tsv_out.handle.write(result.tsv_text)
            self.counts.merge(result.counts)
            self.problems.add(result.problems)
            self.problems.add(order.merge(result.runs))
            if self.progress is not None:
                self.progress(self.counts.records, result.bytes_read, self.reader.bytes_total)
        self.problems.add(self.reader.stats.problems)  # over-long lines, found while reading
        self.problems.sort()
        if self.counts.records == 0:
            raise AnnotationError(_nothing_valid_message(self.problems))
        return annotator

    def _assembly(self, first_chrom: str, bundle: Bundle | None) -> AssemblyGuess:
        if bundle is None and not self.options.assembly:
            return AssemblyGuess("as given", "no bundle used; coordinates are the GFF3's")
        header = self.reader.header
        return detect_assembly(
            header.meta_lines,
            header.contig_lengths,
            [*header.contig_lengths, first_chrom],
            override=self.options.assembly,
        )

    def _collect_problems(self, chunks: list[RawChunk]) -> None:
        with tempfile.TemporaryDirectory(prefix="anntools-") as tmp:
            parser = ChunkParser(self.reader.header, Path(tmp))
            for chunk in chunks:
                self.problems.add(parser.parse(chunk).problems)
        self.problems.add(self.reader.stats.problems)
        self.problems.sort()


def default_workers(input_bytes: int) -> int:
    """Worker processes: one for small inputs (forking costs more than it saves), else a
    process per core, up to four."""
    if input_bytes < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(4, os.cpu_count() or 1))


def _peek_first_chrom(
    chunks: Iterator[RawChunk], header: Header
) -> tuple[list[RawChunk], str | None]:
    """Read chunks until one holds a valid record line; returns them and its CHROM.

    Only the line checks run here (no htslib): the assembly must be settled
    from the first record before any worker starts.
    """
    peeked: list[RawChunk] = []
    with tempfile.TemporaryDirectory(prefix="anntools-") as tmp:
        parser = ChunkParser(header, Path(tmp))
        for chunk in chunks:
            peeked.append(chunk)
            chrom = parser.first_valid_chrom(chunk)
            if chrom is not None:
                return peeked, chrom
    return peeked, None


def _provenance(annotator: RecordAnnotator) -> list[str]:
    return [
        f"##anntools_version={__version__}",
        f"##anntools_assembly={annotator.assembly.assembly}",
        "##anntools_command=" + shlex.join(sys.argv),
    ]


def _nothing_valid_message(problems: ProblemLog) -> str:
    if not problems.skipped:
        return "the file has a header but no variant records"
    first = problems.skipped[0]
    return (
        f"no valid variant records: all {problems.skipped_total} record lines were rejected; "
        f"the first, line {first.line_no}: {first.reason}"
    )
