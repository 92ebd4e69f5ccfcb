# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The record loop, compiled: raw VCF lines in, annotated VCF and TSV text and counts out.

Python spends about 20 µs on each record's plumbing (splitting, checks,
genotype tallies, formatting, counting); this loop does the same work in C,
about 1 µs. It is a short driver over three modules:

- _parsing: lines split, checked (the plain common case in C, the rest by
  ``check_line``, vcf.line_problem) and parsed by htslib;
- _tallies: genotype tallies, allele classes and frequencies, the counts;
- _rendering: annotation entries rendered once, VCF and TSV output.

The rules stay in Python, and the loop defers to them for anything that is not
the plain common case: allele classes other than plain SNVs and simple indels
come from variant.allele_kind; consequences come from the transcript engine
(anntools.csq), whose quiet-stretch plans the loop reuses where the engine
itself would (ContigIndex.snv_plan and quiet_plan); gene-level annotation,
liftover and rsID lookup come from ``sites``.

Its output is plain bytes, tuples and dicts; anntools.runner gives them types.

Coordinates: POS is VCF's 1-based position; the engine's plans are 0-based.
"""

from libc.stdint cimport int32_t
from libc.string cimport memcmp, memset

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE

from anntools._parsing cimport (
    Alleles,
    Line,
    RecordParser,
    Span,
    all_acgt,
    blank,
    decode,
    free_alleles,
    hts_get_log_level,
    hts_set_log_level,
    HTS_LOG_OFF,
    htsLogLevel,
    same_bases,
    split_alts,
    symbolic,
    upper_acgt,
    upper_n,
    upper_text,
)
from anntools._rendering cimport ChangeTemplate, Entries, Rendered, Writer, change_template
from anntools._tallies cimport RecordCounts, frequencies, genotype_tallies

from anntools.csq.coding import snv_consequence
from anntools.csq.engine import QUIET_MARGIN as _QUIET_MARGIN, RefMismatch

cdef long long QUIET_MARGIN = _QUIET_MARGIN
cdef long long NO_BOUND = 1LL << 62


cdef class StretchPlan:
    """An engine Plan as the loop uses it: coding pairs, and the tail already rendered."""

    cdef bint usable
    cdef tuple coding
    cdef list tail

    def __init__(self, found, Entries entries):
        self.usable = found is not None
        if self.usable:
            self.coding = found.coding
            self.tail = [entries.rendered_consequence(csq) for csq in found.tail]


cdef class ContigView:
    """A contig of the transcript engine, with the quiet stretch last found and its plan.

    Records come sorted, so most fall in the stretch of the record before: that is
    one comparison here, and the engine (ContigIndex.stretch) is asked otherwise.
    """

    cdef object index
    cdef dict plans  # stretch number -> StretchPlan
    cdef StretchPlan current  # of the stretch [lo, hi), None until one is found
    cdef long long lo
    cdef long long hi
    cdef dict templates  # (transcript, consequence bit) -> ChangeTemplate of its coding SNVs

    def __init__(self, index):
        self.index = index
        self.plans = {}
        self.current = None
        self.templates = {}

    cdef ChangeTemplate snv_template(self, object tr, int kind, Entries entries):
        """The ChangeTemplate of coding SNVs of bit ``kind`` on ``tr`` (None: render each)."""
        key = (tr, kind)
        try:
            return self.templates[key]
        except KeyError:
            template = change_template(entries, snv_consequence(tr, kind, ("", "")))
            self.templates[key] = template
            return template

    cdef StretchPlan plan(self, long long beg, long long end, long long at, Entries entries):
        """The plan of the quiet stretch holding all of [beg, end) (and ``at``, the
        record's first base), or None."""
        if self.current is None or beg < self.lo or end > self.hi:
            k = self.index.stretch(beg, end)
            if k is None:
                return None
            lo, hi = self.index.stretch_span(k)
            self.lo = -NO_BOUND if lo is None else lo
            self.hi = NO_BOUND if hi is None else hi
            self.current = self.plans.get(k)
            if self.current is None:
                self.current = self.plans[k] = StretchPlan(self.index.plan(k, at), entries)
        return self.current if self.current.usable else None


cdef class RecordLoop:
    """Checks, parses and annotates chunks of raw record lines of one VCF; one per process.

    ``header_text`` is the header, meta lines and #CHROM line, each ending in
    a newline. ``check_line(columns)`` says why a split line is no valid
    record, or None. ``sites(chrom, pos, ref, alts, look_up_rsid, line_no)`` gives
    the gene-level annotation of a record (entries, rsid, grch38, unmapped), and
    ``transcripts`` is a TranscriptAnnotator; either may be None.
    """

    cdef RecordParser parser
    cdef object sites
    cdef object transcripts
    cdef dict contigs  # chrom as written -> ContigView or None
    cdef Alleles alleles
    cdef Entries entries
    cdef Writer writer
    cdef RecordCounts counts

    def __cinit__(self):
        memset(&self.alleles, 0, sizeof(Alleles))

    def __init__(self, str header_text, check_line, sites=None, transcripts=None):
        self.parser = RecordParser(header_text, check_line)
        self.sites = sites
        self.transcripts = transcripts
        self.contigs = {}
        self.counts = RecordCounts()
        self.entries = Entries(self.counts.terms, self.counts.genes)
        self.writer = Writer(
            header_text.startswith("##fileformat=VCFv3"), self.counts.classes.tally.encoded
        )

    def __dealloc__(self):
        free_alleles(&self.alleles)

    # ------------------------------------------------------------ public

    def annotate(self, list lines, Py_ssize_t first_line_no, dict overrides=None):
        """(vcf bytes, tsv bytes, counts dict, problems, runs) of one chunk of lines.

        ``lines[i]`` is line ``first_line_no + i`` of the file, without its newline.
        Problems are (line_no, reason, skipped); runs (chrom, first_line_no, first_pos, max_pos).
        ``overrides`` maps a line number to the swaps haplotype-aware calling decided for
        its alleles: {ALT number (1-based): {transcript id: [Consequence or None]}}, what
        replaces the allele's coding call on that transcript (None: the call itself).
        """
        return self._run(lines, first_line_no, overrides)

    # ------------------------------------------------------------ the loop itself

    cdef tuple _run(self, list lines, Py_ssize_t first_line_no, dict overrides):
        cdef Py_ssize_t i, n = PyList_GET_SIZE(lines)
        cdef object raw
        cdef Line line
        cdef list problems = [], runs = []
        cdef str run_chrom = None
        cdef bytes run_chrom_bytes = b""
        cdef long long run_max = 0, line_no
        cdef str reason
        cdef htsLogLevel level = hts_get_log_level()
        hts_set_log_level(HTS_LOG_OFF)  # our own checks name the line; htslib's chatter is noise
        try:
            for i in range(n):
                raw = <object>PyList_GET_ITEM(lines, i)
                line_no = first_line_no + i
                line.text = PyBytes_AS_STRING(raw)
                line.length = PyBytes_GET_SIZE(raw)
                if blank(&line):
                    continue
                reason = self.parser.check(&line, raw)
                if reason is not None:
                    problems.append((line_no, reason, True))
                    continue
                # Order is tracked for every line that passes the checks, as before htslib.
                if (
                    run_chrom is not None
                    and line.ends[0] - line.starts[0] == len(run_chrom_bytes)
                    and memcmp(line.text, PyBytes_AS_STRING(run_chrom_bytes), line.ends[0]) == 0
                ):
                    if line.pos < run_max:
                        problems.append((line_no, f"unsorted: {run_chrom}:{line.pos} comes after "
                                         f"{run_chrom}:{run_max} (kept)", False))
                    else:
                        run_max = line.pos
                else:
                    if run_chrom is not None:
                        _close_run(runs, run_max)
                    run_chrom_bytes = PyBytes_FromStringAndSize(line.text, line.ends[0])
                    run_chrom = decode(line.text, line.ends[0])
                    run_max = line.pos
                    runs.append((run_chrom, line_no, line.pos, line.pos))
                if not self.parser.parse(&line):
                    problems.append((line_no, self.parser.problem(), True))
                    continue
                reason = self._annotate(
                    &line, line_no, run_chrom, overrides.get(line_no) if overrides else None
                )
                if reason is not None:
                    problems.append((line_no, reason, False))
        finally:
            hts_set_log_level(level)
        if run_chrom is not None:
            _close_run(runs, run_max)
        vcf_text, tsv_text = self.writer.take()
        return vcf_text, tsv_text, self.counts.take(), problems, runs

    cdef bint _genotypes(self, long long *tallies) except -1:
        """Genotype tallies and allele counts of the parsed record; False when it has no GT."""
        cdef const int32_t *gt = NULL
        cdef int n_values = self.parser.genotypes(&gt)
        return genotype_tallies(gt, n_values, self.parser.n_samples, &self.alleles, tallies)

    cdef str _annotate(self, Line *line, long long line_no, str chrom, dict calls):
        """Annotates and writes one record; returns why its transcript calls were left out
        (a REF that is not the reference's), or None. ``calls``: see ``annotate``."""
        cdef Alleles *alleles = &self.alleles
        cdef long long tallies[3]
        cdef int i
        cdef object ac, an, site, rsid = None, grch38 = None
        cdef str reason = None
        cdef bint rsid_from_input, unmapped = False
        split_alts(line, alleles)
        cdef bint has_gt = self._genotypes(tallies)
        ac, an = self.parser.counts_from_info(line)
        self.counts.classes.classify(line, alleles)
        frequencies(line, alleles, ac, an, has_gt)
        self.entries.clear()
        rsid_from_input = (
            line.ends[2] - line.starts[2] >= 2
            and line.text[line.starts[2]] == b'r'
            and line.text[line.starts[2] + 1] == b's'
        )
        if self.sites is not None:
            site = self.sites(
                chrom, line.pos, decode(line.text + line.starts[3], line.ends[3] - line.starts[3]),
                [self._alt_text(line, j) for j in range(alleles.n) if not self._symbolic(line, j)],
                not rsid_from_input, line_no,
            )
            for entry in site.entries:
                self.entries.push_entry(entry)
            rsid, grch38, unmapped = site.rsid, site.grch38, site.unmapped
        if self.transcripts is not None:
            reason = self._transcript_calls(line, chrom, calls)
        if rsid_from_input:
            rsid = decode(line.text + line.starts[2], line.ends[2] - line.starts[2])
        self.writer.write_vcf(
            line, alleles, self.entries, rsid if not rsid_from_input else None, grch38, unmapped
        )
        self.writer.write_tsv(line, alleles, self.entries, rsid, grch38, unmapped, has_gt, tallies)
        self.counts.count_record(chrom, alleles, rsid, rsid_from_input, grch38, unmapped)
        for i in range(self.entries.n):
            self.counts.count_entry(&(<Rendered>self.entries.slots[i].rendered).counts)
        self.counts.end_record()
        return reason

    cdef bint _symbolic(self, Line *line, int j):
        return symbolic(line.text + self.alleles.spans[j].start, self.alleles.spans[j].length)

    cdef str _alt_text(self, Line *line, int j):
        return decode(line.text + self.alleles.spans[j].start, self.alleles.spans[j].length)

    # ------------------------------------------------------------ transcript calls

    cdef str _transcript_calls(self, Line *line, str chrom, dict calls):
        """Pushes the transcript calls of every ALT; on a REF mismatch pushes none, says why."""
        cdef int j, mark = self.entries.n
        cdef Span alt
        try:
            for j in range(self.alleles.n):
                alt = self.alleles.spans[j]
                if self._symbolic(line, j):
                    if alt.length > 1 and line.text[alt.start] == b'<':  # <INS...>: the engine's
                        self.entries.push_all(
                            self._general(line, chrom, j), line.text + alt.start, alt.length
                        )
                else:
                    self._consequences(line, chrom, j, calls.get(j + 1) if calls else None)
        except RefMismatch as exc:
            self.entries.n = mark
            return exc.reason
        return None

    cdef ContigView _contig(self, str chrom):
        try:
            return self.contigs[chrom]
        except KeyError:
            index = self.transcripts.contig(chrom)
            view = self.contigs[chrom] = None if index is None else ContigView(index)
            return view

    cdef StretchPlan _quiet_plan(self, ContigView contig, Line *line, Span alt):
        """The plan the engine would use for this allele (see TranscriptAnnotator._planned),
        or None: an SNV's wherever one is; another allele of plain bases only QUIET_MARGIN
        bases clear of every loud window, and only outside coding sequence."""
        cdef const char *allele = line.text + alt.start
        cdef const char *ref = line.text + line.starts[3]
        cdef Py_ssize_t ref_length = line.ends[3] - line.starts[3]
        cdef long long beg = line.pos - 1
        cdef StretchPlan plan
        if ref_length == 1 and alt.length == 1:
            if upper_acgt(allele[0]) and (upper_acgt(ref[0]) or upper_n(ref[0])) != upper_acgt(allele[0]):
                return contig.plan(beg, beg + 1, beg, self.entries)
            return None
        if not all_acgt(ref, ref_length) or not all_acgt(allele, alt.length):
            return None
        if same_bases(ref, ref_length, allele, alt.length):
            return None
        plan = contig.plan(
            beg - QUIET_MARGIN, beg + ref_length + QUIET_MARGIN, beg, self.entries
        )
        return plan if plan is not None and not plan.coding else None

    cdef void _consequences(self, Line *line, str chrom, int j, dict swaps) except *:
        """Transcript consequences of ALT j: the engine's plans where it would use them;
        ``swaps`` (or None): see ``annotate``."""
        cdef ContigView contig = self._contig(chrom)
        cdef Span alt = self.alleles.spans[j]
        cdef const char *allele = line.text + alt.start
        cdef long long beg = line.pos - 1
        cdef StretchPlan plan
        cdef Rendered rendered
        if contig is None:
            return
        plan = self._quiet_plan(contig, line, alt)
        if plan is None:
            if swaps is None:
                self.entries.push_all(self._general(line, chrom, j), allele, alt.length)
            else:
                self.entries.push_swapped(self._general(line, chrom, j), swaps, allele, alt.length)
            return
        if plan.coding:
            ref, upper_allele = upper_text(line.text + line.starts[3], 1), upper_text(allele, 1)
            if swaps is None:
                self._coding_snv(contig, plan.coding, beg, ref, upper_allele, allele, alt.length)
            else:
                coding = [
                    contig.index.coding_snv(tr, cds, beg, ref, upper_allele)
                    for tr, cds in plan.coding
                ]
                self.entries.push_swapped(coding, swaps, allele, alt.length)
        elif swaps is not None:
            self.entries.push_swapped([], swaps, allele, alt.length)
        for rendered in plan.tail:
            self.entries.push(rendered, allele, alt.length)

    cdef void _coding_snv(
        self, ContigView contig, tuple coding, long long beg, str ref, str alt,
        const char *allele, Py_ssize_t length
    ) except *:
        """Pushes the calls of an SNV on a plan's coding (transcript, CDS) pairs: each its
        ChangeTemplate filled in, which saves making and rendering a Consequence per SNV."""
        cdef ChangeTemplate template
        for tr, cds in coding:
            kind, change = contig.index.snv_change(tr, cds, beg, ref, alt)
            template = contig.snv_template(tr, kind, self.entries)
            if template is None:
                self.entries.push(
                    self.entries.rendered_consequence(snv_consequence(tr, kind, change)),
                    allele,
                    length,
                )
            else:
                self.entries.push_made(template.filled(change[0], change[1]), allele, length)

    cdef list _general(self, Line *line, str chrom, int j):
        """The engine's general path for ALT j."""
        cdef Span alt = self.alleles.spans[j]
        return self.transcripts.annotate(
            chrom,
            line.pos,
            decode(line.text + line.starts[3], line.ends[3] - line.starts[3]),
            decode(line.text + alt.start, alt.length),
        )


cdef void _close_run(list runs, long long max_pos) except *:
    """Record the highest POS of the chunk's last chromosome run."""
    last = runs[len(runs) - 1]
    runs[len(runs) - 1] = (last[0], last[1], last[2], max_pos)
