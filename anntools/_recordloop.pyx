# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The record loop, compiled: raw VCF lines in, annotated VCF and TSV text and counts out.

Python spends about 20 µs on each record's plumbing (splitting, checks,
genotype tallies, formatting, counting); this loop does the same work in C,
about 1 µs, and parses every record with htslib (pysam's build of it, see
anntools.htslib). The rules stay in Python, and the loop defers to them for
anything that is not the plain common case:

- lines its fast checks do not accept go to ``check_line`` (vcf.line_problem),
  which says why they are bad or that they are good after all (breakends...);
- allele classes other than a plain SNV come from variant.allele_kind;
- consequences come from the transcript engine (anntools.csq): the loop only
  reuses the engine's own quiet-stretch plans (see ContigIndex), calling
  ``annotate`` wherever the engine would not use a plan itself;
- gene-level annotation, liftover and rsID lookup come from ``sites``.

Its output is plain bytes, tuples and dicts; anntools.runner gives them types.

Coordinates: POS is VCF's 1-based position; the engine's plans are 0-based.
"""

from libc.stdint cimport int32_t
from libc.stdio cimport snprintf
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy, memset

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8

from anntools.annotation import (
    ENTRY_FIELDS,
    consequence_terms,
    entry_from_consequence,
    entry_info_tail,
    entry_tsv_text,
    info_escape,
)
from anntools.csq.engine import QUIET_MARGIN as _QUIET_MARGIN, RefMismatch
from anntools.model import REGIONS
from anntools.variant import allele_kind

# The TSV columns of an allele without entries: empty, one fewer tab than fields after Allele.
cdef bytes EMPTY_ENTRY = b"\t" * (len(ENTRY_FIELDS) - 2)


cdef extern from "htslib/kstring.h":
    ctypedef struct kstring_t:
        size_t l
        size_t m
        char *s

cdef extern from "htslib/hts_log.h":
    cdef enum htsLogLevel:
        HTS_LOG_OFF
    void hts_set_log_level(htsLogLevel level)
    htsLogLevel hts_get_log_level()

cdef extern from "htslib/vcf.h":
    ctypedef struct bcf_hdr_t:
        pass
    ctypedef struct bcf1_t:
        int errcode
    int BCF_ERR_CTG_UNDEF, BCF_ERR_TAG_UNDEF, BCF_ERR_NCOLS, BCF_ERR_LIMITS
    int BCF_ERR_CHAR, BCF_ERR_CTG_INVALID, BCF_ERR_TAG_INVALID
    int32_t bcf_int32_vector_end, bcf_int32_missing
    bcf_hdr_t *bcf_hdr_init(const char *mode)
    void bcf_hdr_destroy(bcf_hdr_t *h)
    int bcf_hdr_parse(bcf_hdr_t *hdr, char *htxt)
    int bcf_hdr_nsamples(const bcf_hdr_t *hdr)
    bcf1_t *bcf_init()
    void bcf_destroy(bcf1_t *v)
    int vcf_parse(kstring_t *s, const bcf_hdr_t *h, bcf1_t *v)
    int bcf_get_genotypes(const bcf_hdr_t *hdr, bcf1_t *line, int32_t **dst, int *ndst)
    int bcf_get_info_int32(const bcf_hdr_t *hdr, bcf1_t *line, const char *tag, int32_t **dst, int *ndst)
    int bcf_get_info_string(const bcf_hdr_t *hdr, bcf1_t *line, const char *tag, char **dst, int *ndst)
    int bcf_gt_is_missing(int32_t val)
    int bcf_gt_allele(int32_t val)


# ---------------------------------------------------------------- byte tables

cdef bint IS_BASE[256]      # A C G T N, either case: what REF may hold
cdef bint IS_ACGT[256]      # A C G T, either case
cdef char UPPER_ACGT[256]   # A C G T (either case) as upper case, anything else 0
cdef bint IS_SPACE[256]     # what bytes.strip() removes
cdef bint NOT_IN_SYMBOL[256]  # what <ID> alleles may not hold

cdef void _fill_tables():
    cdef int c
    for c in range(256):
        IS_BASE[c] = c in b"ACGTNacgtn"
        IS_ACGT[c] = c in b"ACGTacgt"
        UPPER_ACGT[c] = ord(chr(c).upper()) if c in b"ACGTacgt" else 0
        IS_SPACE[c] = c in b" \t\n\r\x0b\x0c"
        NOT_IN_SYMBOL[c] = c in b"<>,\x1c\x1d\x1e\x1f" or IS_SPACE[c] or c >= 0x80

_fill_tables()

# Ts/Tv of an upper-case base pair: 1 transition, 2 transversion, 0 neither.
cdef int _substitution(char ref, char alt):
    if ref == alt or ref == b'N' or alt == b'N':
        return 0
    if (ref == b'A' and alt == b'G') or (ref == b'G' and alt == b'A'):
        return 1
    if (ref == b'C' and alt == b'T') or (ref == b'T' and alt == b'C'):
        return 1
    return 2


# ---------------------------------------------------------------- output buffers

cdef struct Buffer:
    char *data
    Py_ssize_t length
    Py_ssize_t capacity


cdef int _reserve(Buffer *b, Py_ssize_t extra) except -1:
    cdef Py_ssize_t wanted = b.length + extra
    cdef Py_ssize_t capacity = b.capacity or 1 << 16
    cdef char *data
    if wanted <= b.capacity:
        return 0
    while capacity < wanted:
        capacity *= 2
    data = <char *>realloc(b.data, capacity)
    if data == NULL:
        raise MemoryError()
    b.data, b.capacity = data, capacity
    return 0


cdef inline int _add(Buffer *b, const char *text, Py_ssize_t n) except -1:
    if b.length + n > b.capacity:
        _reserve(b, n)
    memcpy(b.data + b.length, text, n)
    b.length += n
    return 0


cdef inline int _add_char(Buffer *b, char c) except -1:
    if b.length + 1 > b.capacity:
        _reserve(b, 1)
    b.data[b.length] = c
    b.length += 1
    return 0


cdef inline int _add_bytes(Buffer *b, bytes text) except -1:
    return _add(b, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))


cdef int _add_int(Buffer *b, long long value) except -1:
    cdef char digits[24]
    cdef int n = 0
    cdef bint negative = value < 0
    cdef unsigned long long v = -value if negative else value
    while True:
        digits[n] = <char>(48 + v % 10)
        n += 1
        v //= 10
        if v == 0:
            break
    if negative:
        _add_char(b, b'-')
    while n:
        n -= 1
        _add_char(b, digits[n])
    return 0


cdef bytes _take(Buffer *b):
    cdef bytes text = PyBytes_FromStringAndSize(b.data, b.length)
    b.length = 0
    return text


# ---------------------------------------------------------------- tallies

cdef class Tally:
    """Counts by name, with names interned to small ids so that counting is an array add.

    ``add_once`` counts a name at most once per record (``stamp`` = record serial).
    """

    cdef dict ids
    cdef list names
    cdef list encoded  # the names as UTF-8, for output
    cdef long long *counts
    cdef long long *stamps
    cdef Py_ssize_t capacity

    def __cinit__(self):
        self.ids, self.names, self.encoded = {}, [], []
        self.counts = self.stamps = NULL
        self.capacity = 0

    def __dealloc__(self):
        free(self.counts)
        free(self.stamps)

    cdef int id_of(self, str name) except -1:
        cdef object found = self.ids.get(name)
        cdef Py_ssize_t i, capacity
        if found is not None:
            return found
        i = len(self.names)
        if i >= self.capacity:
            capacity = max(64, 2 * self.capacity)
            self.counts = <long long *>realloc(self.counts, capacity * sizeof(long long))
            self.stamps = <long long *>realloc(self.stamps, capacity * sizeof(long long))
            if self.counts == NULL or self.stamps == NULL:
                raise MemoryError()
            memset(self.counts + self.capacity, 0, (capacity - self.capacity) * sizeof(long long))
            memset(self.stamps + self.capacity, 0xff, (capacity - self.capacity) * sizeof(long long))
            self.capacity = capacity
        self.ids[name] = i
        self.names.append(name)
        self.encoded.append(name.encode("utf-8"))
        return i

    cdef inline void add(self, int i):
        self.counts[i] += 1

    cdef inline void add_once(self, int i, long long stamp):
        if self.stamps[i] != stamp:
            self.stamps[i] = stamp
            self.counts[i] += 1

    cdef dict take(self):
        """Non-zero counts by name, in the order names were first seen; then zero them."""
        cdef dict found = {}
        cdef Py_ssize_t i
        for i in range(len(self.names)):
            if self.counts[i]:
                found[self.names[i]] = self.counts[i]
                self.counts[i] = 0
        return found


# ---------------------------------------------------------------- annotation entries

cdef enum:
    MAX_TERMS = 8
cdef int N_REGIONS = len(REGIONS)
cdef long long QUIET_MARGIN = _QUIET_MARGIN
cdef dict REGION_RANK = {region: rank for rank, region in enumerate(REGIONS)}


cdef class Rendered:
    """One annotation entry ready to print and count, its allele aside (entries share it)."""

    cdef bytes info_tail  # "|consequence|gene|...": the INFO item after the allele, escaped
    cdef bytes tsv_tail  # the TSV columns after the allele
    cdef int region_rank  # in REGIONS, or -1
    cdef int gene_id
    cdef bint counts_gene  # intergenic entries name the nearest gene but do not count it
    cdef int n_terms
    cdef int terms[MAX_TERMS]


cdef struct Slot:
    void *rendered  # a Rendered kept alive by RecordLoop.cache or the record's keep list
    const char *allele
    Py_ssize_t allele_length


cdef class StretchPlan:
    """RecordLoop's copy of an engine Plan: coding pairs, and the tail already rendered."""

    cdef bint usable
    cdef tuple coding
    cdef list tail


cdef class ContigView:
    """A contig of the transcript engine as the loop reads it: loud windows as C arrays."""

    cdef object index
    cdef const long long[::1] starts
    cdef const long long[::1] ends
    cdef Py_ssize_t n
    cdef list plans  # StretchPlan per stretch k at k + 1, None until first needed

    def __init__(self, index):
        self.index = index
        self.starts = index.loud_starts
        self.ends = index.loud_ends
        self.n = len(index.loud_starts)
        self.plans = [None] * (self.n + 1)

    cdef Py_ssize_t stretch(self, long long beg, long long end):
        """The quiet stretch holding [beg, end), or -2 (ContigIndex.stretch, as a bisection)."""
        cdef Py_ssize_t lo = 0, hi = self.n, mid
        while lo < hi:  # bisect_right(starts, beg)
            mid = (lo + hi) >> 1
            if beg < self.starts[mid]:
                hi = mid
            else:
                lo = mid + 1
        lo -= 1
        if lo >= 0 and beg < self.ends[lo]:
            return -2
        if lo + 1 < self.n and end > self.starts[lo + 1]:
            return -2
        return lo


# ---------------------------------------------------------------- the loop

cdef struct Span:
    Py_ssize_t start
    Py_ssize_t length


cdef struct Line:
    const char *text
    Py_ssize_t length
    Py_ssize_t starts[8]  # CHROM to INFO; the rest is copied as it is
    Py_ssize_t ends[8]
    long long pos


# What each of htslib's error bits means, in the order a reason lists them.
_HTSLIB_ERRORS = (
    (BCF_ERR_NCOLS, "wrong number of columns or of FORMAT fields"),
    (BCF_ERR_LIMITS, "a value outside htslib's limits"),
    (BCF_ERR_CHAR, "an invalid character"),
    (BCF_ERR_CTG_INVALID, "an invalid contig name"),
    (BCF_ERR_TAG_INVALID, "an invalid INFO or FORMAT field"),
    (BCF_ERR_TAG_UNDEF, "an undefined INFO or FORMAT field"),
    (BCF_ERR_CTG_UNDEF, "an undefined contig"),
)


cdef str _problem_of_errcode(int errcode):
    reasons = [text for bit, text in _HTSLIB_ERRORS if errcode & bit]
    return "htslib cannot parse it (" + ("; ".join(reasons) or "a malformed field") + ")"


cdef class RecordLoop:
    """Parses (and annotates) chunks of raw record lines of one VCF; one per process.

    ``header_text`` is the header, meta lines and #CHROM line, each ending in
    a newline. ``check_line(columns)`` says why a split line is no valid
    record, or None. ``sites(chrom, pos, ref, alts, look_up_rsid)`` gives the
    gene-level annotation of a record (entries, rsid, grch38, unmapped), and
    ``transcripts`` is a TranscriptAnnotator; either may be None.
    """

    cdef bcf_hdr_t *hdr
    cdef bcf1_t *rec
    cdef kstring_t scratch
    cdef int32_t *gt
    cdef int n_gt
    cdef int32_t *ints
    cdef int n_ints
    cdef char *text
    cdef int n_text
    cdef int n_samples
    cdef Py_ssize_t n_columns
    cdef bint v3_columns  # a VCFv3.3 input: QUAL and FILTER are rewritten as VCFv4 (see output.py)
    cdef object check_line
    cdef object sites
    cdef object transcripts
    cdef dict contigs  # chrom as written -> ContigView or None
    cdef dict cache  # Entry or Consequence -> Rendered
    cdef dict kinds  # (ref, alt) -> (class id, substitution)
    cdef Buffer vcf
    cdef Buffer tsv
    # AF texts of recent values (a file repeats a few frequencies), by a hash of the value
    cdef double af_values[64]
    cdef char af_texts[64][16]
    cdef int af_lengths[64]
    # per record, grown as needed
    cdef Span *alts
    cdef int *alt_class
    cdef int *alt_substitution
    cdef double *alt_frequency
    cdef bint *alt_has_frequency
    cdef long long *allele_counts
    cdef int alt_capacity
    cdef Slot *slots
    cdef int n_slots
    cdef int slot_capacity
    cdef list keep  # Python objects the record's slots point into
    # counts
    cdef long long serial
    cdef long long records, alleles, in_dbsnp, rsid_from_input, rsid_from_common
    cdef long long lifted, unmapped, transitions, transversions
    cdef Tally regions, terms, classes, genes
    cdef dict chromosomes  # records per chromosome, but for the current run:
    cdef str run_chrom  # the chromosome of the records counted in run_records
    cdef long long run_records
    cdef int class_snv, region_unannotated

    def __cinit__(self):
        self.hdr = NULL
        self.rec = NULL
        self.scratch.l = self.scratch.m = 0
        self.scratch.s = NULL
        self.gt = self.ints = NULL
        self.text = NULL
        self.n_gt = self.n_ints = self.n_text = 0
        memset(&self.vcf, 0, sizeof(Buffer))
        memset(&self.tsv, 0, sizeof(Buffer))
        self.alts = NULL
        self.alt_class = self.alt_substitution = NULL
        self.alt_frequency = NULL
        self.alt_has_frequency = NULL
        self.allele_counts = NULL
        self.slots = NULL
        self.alt_capacity = self.slot_capacity = 0
        cdef int i
        for i in range(64):
            self.af_values[i] = -1.0  # frequencies are never negative

    def __init__(self, str header_text, check_line, sites=None, transcripts=None):
        cdef bytes encoded = header_text.encode("utf-8")
        cdef char *copy = <char *>malloc(len(encoded) + 1)
        if copy == NULL:
            raise MemoryError()
        memcpy(copy, PyBytes_AS_STRING(encoded), len(encoded) + 1)
        cdef htsLogLevel level = hts_get_log_level()
        self.hdr = bcf_hdr_init("r")
        hts_set_log_level(HTS_LOG_OFF)
        try:
            failed = self.hdr == NULL or bcf_hdr_parse(self.hdr, copy) < 0
        finally:
            hts_set_log_level(level)
            free(copy)
        if failed:
            raise ValueError("htslib cannot read the header")
        self.rec = bcf_init()
        self.n_samples = bcf_hdr_nsamples(self.hdr)
        column_line = header_text.rstrip("\n").rpartition("\n")[2]
        self.n_columns = len(column_line.split("\t"))
        self.v3_columns = header_text.startswith("##fileformat=VCFv3")
        self.check_line = check_line
        self.sites = sites
        self.transcripts = transcripts
        self.contigs, self.cache, self.kinds = {}, {}, {}
        self.keep = []
        self.regions, self.terms = Tally(), Tally()
        self.classes, self.genes = Tally(), Tally()
        for region in (*REGIONS, "unannotated"):
            self.regions.id_of(region)
        self.region_unannotated = N_REGIONS
        self.class_snv = -1  # interned on first use: names count in order of appearance
        self.chromosomes = {}
        self.run_chrom, self.run_records = None, 0
        self.serial = 0
        self._reset_counts()

    def __dealloc__(self):
        if self.rec != NULL:
            bcf_destroy(self.rec)
        if self.hdr != NULL:
            bcf_hdr_destroy(self.hdr)
        free(self.scratch.s)
        free(self.gt)
        free(self.ints)
        free(self.text)
        free(self.vcf.data)
        free(self.tsv.data)
        free(self.alts)
        free(self.alt_class)
        free(self.alt_substitution)
        free(self.alt_frequency)
        free(self.alt_has_frequency)
        free(self.allele_counts)
        free(self.slots)

    cdef void _reset_counts(self):
        self.records = self.alleles = self.in_dbsnp = 0
        self.rsid_from_input = self.rsid_from_common = 0
        self.lifted = self.unmapped = self.transitions = self.transversions = 0

    # ------------------------------------------------------------ public

    def annotate(self, list lines, Py_ssize_t first_line_no, dict overrides=None):
        """(vcf bytes, tsv bytes, counts dict, problems, runs) of one chunk of lines.

        ``lines[i]`` is line ``first_line_no + i`` of the file, without its newline.
        Problems are (line_no, reason, skipped); runs (chrom, first_line_no, first_pos, max_pos).
        ``overrides`` maps a line number to the swaps haplotype-aware calling decided for
        its alleles: {ALT number (1-based): {transcript id: [Consequence or None]}}, what
        replaces the allele's coding call on that transcript (None: the call itself).
        """
        return self._run(lines, first_line_no, True, overrides)

    def parse(self, list lines, Py_ssize_t first_line_no):
        """(records, problems, runs) of one chunk; a record is (line_no, columns, chrom, pos,
        ref, alts, info_ac, info_an, genotypes), genotypes (called, het, hom_alt, counts)."""
        return self._run(lines, first_line_no, False, None)

    # ------------------------------------------------------------ the loop itself

    cdef tuple _run(self, list lines, Py_ssize_t first_line_no, bint annotate, dict overrides):
        cdef Py_ssize_t i, n = PyList_GET_SIZE(lines)
        cdef object raw
        cdef Line line
        cdef list problems = [], runs = [], records = []
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
                if _blank(&line):
                    continue
                reason = self._check(&line, raw)
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
                    run_chrom = _decode(line.text, line.ends[0])
                    run_max = line.pos
                    runs.append((run_chrom, line_no, line.pos, line.pos))
                if not self._htslib(&line):
                    problems.append((line_no, _problem_of_errcode(self.rec.errcode), True))
                    continue
                if annotate:
                    reason = self._annotate(
                        &line, run_chrom, overrides.get(line_no) if overrides else None
                    )
                    if reason is not None:
                        problems.append((line_no, reason, False))
                else:
                    records.append(self._record(&line, raw, line_no, run_chrom))
        finally:
            hts_set_log_level(level)
        if run_chrom is not None:
            _close_run(runs, run_max)
        if not annotate:
            return records, problems, runs
        return _take(&self.vcf), _take(&self.tsv), self._take_counts(), problems, runs

    cdef str _check(self, Line *line, object raw):
        """None if the line is a valid record line (columns split into ``line``), else why."""
        cdef str text
        cdef bint split = _split(line, self.n_columns)
        if split and _plain_record(line):
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "not UTF-8 text"
        reason = self.check_line(text.split("\t"))
        if reason is not None:
            return reason
        if not split or not _read_pos(line):
            return "POS is not a number htslib can hold"
        return None

    cdef bint _htslib(self, Line *line) except -1:
        """Parse the line with htslib into self.rec (vcf_parse writes into its input: a copy)."""
        cdef size_t needed = line.length + 1
        cdef char *grown
        if self.scratch.m < needed:
            grown = <char *>realloc(self.scratch.s, needed)
            if grown == NULL:
                raise MemoryError()
            self.scratch.s, self.scratch.m = grown, needed
        memcpy(self.scratch.s, line.text, line.length)
        self.scratch.s[line.length] = 0
        self.scratch.l = line.length
        self.rec.errcode = 0
        return vcf_parse(&self.scratch, self.hdr, self.rec) == 0

    # ------------------------------------------------------------ per-record facts

    cdef int _alleles(self, Line *line) except -1:
        """Split ALT into self.alts; returns their number; grows per-allele arrays."""
        cdef Py_ssize_t start = line.starts[4], end = line.ends[4], cut
        cdef int n = 0
        while True:
            if n + 1 >= self.alt_capacity:
                self._grow_alts(2 * (n + 1) + 8)
            cut = start
            while cut < end and line.text[cut] != b',':
                cut += 1
            self.alts[n].start, self.alts[n].length = start, cut - start
            n += 1
            if cut >= end:
                return n
            start = cut + 1

    cdef int _grow_alts(self, int capacity) except -1:
        self.alts = <Span *>realloc(self.alts, capacity * sizeof(Span))
        self.alt_class = <int *>realloc(self.alt_class, capacity * sizeof(int))
        self.alt_substitution = <int *>realloc(self.alt_substitution, capacity * sizeof(int))
        self.alt_frequency = <double *>realloc(self.alt_frequency, capacity * sizeof(double))
        self.alt_has_frequency = <bint *>realloc(self.alt_has_frequency, capacity * sizeof(bint))
        self.allele_counts = <long long *>realloc(self.allele_counts, (capacity + 1) * sizeof(long long))
        if not (self.alts and self.alt_class and self.alt_substitution and self.alt_frequency
                and self.alt_has_frequency and self.allele_counts):
            raise MemoryError()
        self.alt_capacity = capacity
        return 0

    cdef int _genotypes(self, int n_alleles, long long *tallies) except -1:
        """called, het, hom_alt into tallies[0..2] and allele counts; 0 when no GT.

        A sample is called when its GT has at least one allele and none is
        missing; it is het when its alleles differ, hom-alt when they are one
        ALT. Allele counts are over called samples.
        """
        cdef int n, ploidy, s, k, first, allele, present
        cdef int32_t value
        cdef bint missing, mixed
        memset(self.allele_counts, 0, n_alleles * sizeof(long long))
        if self.n_samples == 0:
            return 0
        n = bcf_get_genotypes(self.hdr, self.rec, &self.gt, &self.n_gt)
        if n <= 0:
            return 0
        ploidy = n // self.n_samples
        tallies[0] = tallies[1] = tallies[2] = 0
        for s in range(self.n_samples):
            missing, mixed, present, first = False, False, 0, -1
            for k in range(ploidy):
                value = self.gt[s * ploidy + k]
                if value == bcf_int32_vector_end:
                    break
                present += 1
                if bcf_gt_is_missing(value):
                    missing = True
                    break
                allele = bcf_gt_allele(value)
                if k == 0:
                    first = allele
                elif allele != first:
                    mixed = True
            if missing or present == 0:
                continue
            tallies[0] += 1
            if mixed:
                tallies[1] += 1
            elif first > 0:
                tallies[2] += 1
            for k in range(present):
                allele = bcf_gt_allele(self.gt[s * ploidy + k])
                if allele < n_alleles:
                    self.allele_counts[allele] += 1
        return 1

    cdef object _info_ints(self, Line *line, const char *key):
        """INFO ``key`` as a list of ints (htslib's Integer values, or a String of them), else None."""
        cdef int n, i
        cdef list values
        n = bcf_get_info_int32(self.hdr, self.rec, key, &self.ints, &self.n_ints)
        if n > 0:
            values = []
            for i in range(n):
                if self.ints[i] == bcf_int32_vector_end:
                    break
                if self.ints[i] == bcf_int32_missing:
                    return None
                values.append(self.ints[i])
            return values or None
        if n != -2:  # -2: declared as another type; old files declare AC/AN as strings
            return None
        n = bcf_get_info_string(self.hdr, self.rec, key, &self.text, &self.n_text)
        if n <= 0:
            return None
        try:
            return [int(x) for x in self.text[:n].decode("utf-8", "replace").split(",") if x]
        except ValueError:
            return None

    cdef tuple _counts_from_info(self, Line *line):
        """(AC list, AN) from INFO, each None when absent or unusable."""
        cdef const char *info = line.text + line.starts[7]
        cdef Py_ssize_t length = line.ends[7] - line.starts[7]
        if not (_contains(info, length, b"AC=") or _contains(info, length, b"AN=")):
            return None, None
        ac = self._info_ints(line, b"AC")
        an = self._info_ints(line, b"AN")
        return ac, (an[0] if an else None)

    cdef void _kinds(self, Line *line, int n_alts) except *:
        """Class and Ts/Tv of each ALT: plain SNVs here, the rest by variant.allele_kind."""
        cdef Py_ssize_t ref_start = line.starts[3], ref_length = line.ends[3] - line.starts[3]
        cdef int j
        cdef char r, a
        cdef Span alt
        for j in range(n_alts):
            alt = self.alts[j]
            if ref_length == 1 and alt.length == 1:
                r = UPPER_ACGT[<unsigned char>line.text[ref_start]] or _upper_n(line.text[ref_start])
                a = UPPER_ACGT[<unsigned char>line.text[alt.start]] or _upper_n(line.text[alt.start])
                if r and a:
                    if self.class_snv < 0:
                        self.class_snv = self.classes.id_of("SNV")
                    self.alt_class[j] = self.class_snv
                    self.alt_substitution[j] = _substitution(r, a)
                    continue
            if (ref_length == 1) != (alt.length == 1) and _all_in(
                IS_BASE, line.text + ref_start, ref_length
            ) and _all_in(IS_BASE, line.text + alt.start, alt.length):
                # variant.classify of an indel with one single-base side: nothing to trim
                if (line.text[ref_start] | 0x20) != (line.text[alt.start] | 0x20):
                    self.alt_class[j] = self.classes.id_of("complex")
                elif alt.length > ref_length:
                    self.alt_class[j] = self.classes.id_of("insertion")
                else:
                    self.alt_class[j] = self.classes.id_of("deletion")
                self.alt_substitution[j] = 0
                continue
            key = (
                PyBytes_FromStringAndSize(line.text + ref_start, ref_length),
                PyBytes_FromStringAndSize(line.text + alt.start, alt.length),
            )
            kind = self.kinds.get(key)
            if kind is None:
                variant_class, substitution = allele_kind(key[0].decode(), key[1].decode())
                kind = self.kinds[key] = (
                    self.classes.id_of(variant_class),
                    {"Ts": 1, "Tv": 2}.get(substitution, 0),
                )
            self.alt_class[j], self.alt_substitution[j] = kind

    cdef void _frequencies(self, Line *line, int n_alts, object ac, object an, bint has_gt) except *:
        """AF per ALT: INFO AC/AN when both are there, else from the called genotypes.

        The missing allele ``.`` has none: it stands for no ALT at all.
        """
        cdef long long called_alleles = 0
        cdef int j
        if has_gt:
            for j in range(n_alts + 1):
                called_alleles += self.allele_counts[j]
        for j in range(n_alts):
            self.alt_has_frequency[j] = True
            if self.alts[j].length == 1 and line.text[self.alts[j].start] == b'.':
                self.alt_has_frequency[j] = False
            elif ac is not None and an and len(ac) >= j + 1:
                self.alt_frequency[j] = ac[j] / an
            elif has_gt and called_alleles:
                self.alt_frequency[j] = self.allele_counts[j + 1] / <double>called_alleles
            else:
                self.alt_has_frequency[j] = False

    # ------------------------------------------------------------ annotation

    cdef str _annotate(self, Line *line, str chrom, dict calls):
        """Annotates and writes one record; returns why its transcript calls were left out
        (a REF that is not the reference's), or None. ``calls``: see ``annotate``."""
        cdef int n_alts = self._alleles(line), j
        cdef long long tallies[3]
        cdef bint has_gt = self._genotypes(n_alts + 1, tallies)
        cdef object ac, an, site, rsid = None
        cdef str reason = None
        cdef bint rsid_from_input, unmapped = False
        cdef object grch38 = None
        ac, an = self._counts_from_info(line)
        self._kinds(line, n_alts)
        self._frequencies(line, n_alts, ac, an, has_gt)
        self.n_slots = 0
        if PyList_GET_SIZE(self.keep):
            self.keep.clear()
        if len(self.cache) >= 1 << 16:  # only between records: slots point into it
            self.cache.clear()
        rsid_from_input = (
            line.ends[2] - line.starts[2] >= 2
            and line.text[line.starts[2]] == b'r'
            and line.text[line.starts[2] + 1] == b's'
        )
        if self.sites is not None:
            site = self.sites(
                chrom, line.pos, _decode(line.text + line.starts[3], line.ends[3] - line.starts[3]),
                [self._alt_text(line, j) for j in range(n_alts) if not self._symbolic(line, j)],
                not rsid_from_input,
            )
            for entry in site.entries:
                allele = entry.allele.encode("utf-8")
                self.keep.append(allele)
                self._push(self._rendered(entry), PyBytes_AS_STRING(allele), len(allele))
            rsid, grch38, unmapped = site.rsid, site.grch38, site.unmapped
        if self.transcripts is not None:
            reason = self._transcript_calls(line, chrom, n_alts, calls)
        if rsid_from_input:
            rsid = _decode(line.text + line.starts[2], line.ends[2] - line.starts[2])
        self._write_vcf(line, n_alts, rsid if not rsid_from_input else None, grch38, unmapped)
        self._write_tsv(line, n_alts, rsid, grch38, unmapped, has_gt, tallies)
        self._count(chrom, n_alts, rsid, rsid_from_input, grch38, unmapped)
        return reason

    cdef str _transcript_calls(self, Line *line, str chrom, int n_alts, dict calls):
        """Pushes the transcript calls of every ALT; on a REF mismatch pushes none, says why."""
        cdef int j, mark = self.n_slots
        cdef Span alt
        try:
            for j in range(n_alts):
                alt = self.alts[j]
                if self._symbolic(line, j):
                    if alt.length > 1 and line.text[alt.start] == b'<':  # <INS...>: the engine's
                        self._push_all(self._general(line, chrom, j), line.text + alt.start, alt.length)
                else:
                    self._consequences(line, chrom, j, calls.get(j + 1) if calls else None)
        except RefMismatch as exc:
            self.n_slots = mark
            return exc.reason
        return None

    cdef bint _symbolic(self, Line *line, int j):
        """variant.is_symbolic: *, ., <ID>, breakends."""
        cdef Span alt = self.alts[j]
        cdef const char *text = line.text + alt.start
        if alt.length == 1 and (text[0] == b'*' or text[0] == b'.'):
            return True
        if alt.length and text[0] == b'<':
            return True
        return memchr(text, b'[', alt.length) != NULL or memchr(text, b']', alt.length) != NULL

    cdef str _alt_text(self, Line *line, int j):
        return _decode(line.text + self.alts[j].start, self.alts[j].length)

    cdef int _push(self, Rendered rendered, const char *allele, Py_ssize_t length) except -1:
        if self.n_slots >= self.slot_capacity:
            self.slot_capacity = 2 * self.slot_capacity + 8
            self.slots = <Slot *>realloc(self.slots, self.slot_capacity * sizeof(Slot))
            if self.slots == NULL:
                raise MemoryError()
        self.slots[self.n_slots].rendered = <void *>rendered
        self.slots[self.n_slots].allele = allele
        self.slots[self.n_slots].allele_length = length
        self.n_slots += 1
        return 0

    cdef Rendered _rendered(self, object entry):
        """The Rendered form of an annotation.Entry (cached: files repeat a few entries)."""
        cdef Rendered found = self.cache.get(entry)
        cdef int i
        if found is not None:
            return found
        found = Rendered()
        found.info_tail = entry_info_tail(entry).encode("utf-8")
        found.tsv_tail = entry_tsv_text(entry).encode("utf-8")
        found.region_rank = REGION_RANK.get(entry.region, -1)
        found.gene_id = self.genes.id_of(entry.gene)
        found.counts_gene = entry.region != "intergenic"
        # "@POS" (see the record at POS, haplotype-aware calling) names no term to count
        terms = [term for term in consequence_terms(entry.consequence) if term[:1] != "@"]
        if len(terms) > MAX_TERMS:
            raise ValueError(f"more than {MAX_TERMS} consequence terms in one entry")
        found.n_terms = len(terms)
        for i, term in enumerate(terms):
            found.terms[i] = self.terms.id_of(term)
        self.cache[entry] = found
        return found

    cdef Rendered _rendered_consequence(self, object csq):
        cdef Rendered found = self.cache.get(csq)
        if found is None:
            found = self._rendered(entry_from_consequence("", csq))
            self.cache[csq] = found
        return found

    cdef ContigView _contig(self, str chrom):
        try:
            return self.contigs[chrom]
        except KeyError:
            index = self.transcripts.contig(chrom)
            view = self.contigs[chrom] = None if index is None else ContigView(index)
            return view

    cdef void _consequences(self, Line *line, str chrom, int j, dict swaps) except *:
        """Transcript consequences of ALT j: the engine's plans where it would use them;
        ``swaps`` (or None): see ``annotate``."""
        cdef ContigView contig = self._contig(chrom)
        cdef Span alt = self.alts[j]
        cdef const char *allele = line.text + alt.start
        cdef const char *ref = line.text + line.starts[3]
        cdef Py_ssize_t ref_length = line.ends[3] - line.starts[3], k
        cdef long long beg = line.pos - 1
        cdef char a, r
        cdef StretchPlan plan
        cdef Rendered rendered
        if contig is None:
            return
        k = -2  # no plan: the engine's general path
        if ref_length == 1 and alt.length == 1:
            a = UPPER_ACGT[<unsigned char>allele[0]]
            r = UPPER_ACGT[<unsigned char>ref[0]] or _upper_n(ref[0])
            if a and r != a:
                k = contig.stretch(beg, beg + 1)
        elif _all_in(IS_ACGT, ref, ref_length) and _all_in(IS_ACGT, allele, alt.length) and not _same_bases(
            ref, ref_length, allele, alt.length
        ):
            k = contig.stretch(beg - QUIET_MARGIN, beg + ref_length + QUIET_MARGIN)
        plan = self._plan(contig, k, beg) if k != -2 else None
        if plan is not None and (ref_length == 1 and alt.length == 1 or not plan.coding):
            if swaps is None:
                for tr, cds in plan.coding:
                    rendered = self._rendered_consequence(contig.index.coding_snv(
                        tr, cds, beg, _upper(ref, 1), _upper(allele, 1)))
                    self._push(rendered, allele, alt.length)
            else:
                self._push_swapped([
                    contig.index.coding_snv(tr, cds, beg, _upper(ref, 1), _upper(allele, 1))
                    for tr, cds in plan.coding
                ], swaps, allele, alt.length)
            for rendered in plan.tail:
                self._push(rendered, allele, alt.length)
            return
        if swaps is None:
            self._push_all(self._general(line, chrom, j), allele, alt.length)
        else:
            self._push_swapped(self._general(line, chrom, j), swaps, allele, alt.length)

    cdef int _push_swapped(
        self, list found, dict swaps, const char *allele, Py_ssize_t length
    ) except -1:
        """The calls, each coding one on a transcript in ``swaps`` replaced by its swap."""
        cdef set done = set()
        for csq in found:
            swap = swaps.get(csq.transcript) if csq.dna_change else None
            if swap is None:
                self._push(self._rendered_consequence(csq), allele, length)
                continue
            done.add(csq.transcript)
            for item in swap:
                self._push(self._rendered_consequence(item if item is not None else csq), allele, length)
        for transcript, swap in swaps.items():
            if transcript not in done:
                self._push_all([item for item in swap if item is not None], allele, length)
        return 0

    cdef list _general(self, Line *line, str chrom, int j):
        """The engine's general path for ALT j."""
        cdef Span alt = self.alts[j]
        return self.transcripts.annotate(
            chrom,
            line.pos,
            _decode(line.text + line.starts[3], line.ends[3] - line.starts[3]),
            _decode(line.text + alt.start, alt.length),
        )

    cdef int _push_all(self, list found, const char *allele, Py_ssize_t length) except -1:
        for csq in found:
            self._push(self._rendered_consequence(csq), allele, length)
        return 0

    cdef StretchPlan _plan(self, ContigView contig, Py_ssize_t k, long long beg):
        cdef StretchPlan plan = contig.plans[k + 1]
        if plan is None:
            plan = StretchPlan()
            found = contig.index.plan(k, beg)
            plan.usable = found is not None
            if plan.usable:
                plan.coding = found.coding
                plan.tail = [self._rendered_consequence(csq) for csq in found.tail]
            contig.plans[k + 1] = plan
        return plan if plan.usable else None

    # ------------------------------------------------------------ output

    cdef int _write_allele(self, Buffer *b, const char *allele, Py_ssize_t length) except -1:
        """An allele in an INFO item: characters INFO values may not hold replaced."""
        cdef Py_ssize_t i
        for i in range(length):
            if allele[i] in b" ;=,":
                _add_bytes(b, info_escape(_decode(allele, length)).encode("utf-8"))
                return 0
        return _add(b, allele, length)

    cdef int _write_vcf(
        self, Line *line, int n_alts, object common_rsid, object grch38, bint unmapped
    ) except -1:
        """The input line, ID filled from the common set if it was empty, INFO extended."""
        cdef Buffer *b = &self.vcf
        cdef Py_ssize_t id_length = line.ends[2] - line.starts[2]
        cdef Py_ssize_t info_length = line.ends[7] - line.starts[7]
        cdef const char *info = line.text + line.starts[7]
        cdef int i
        cdef Rendered rendered
        _add(b, line.text, line.starts[2])
        if common_rsid is not None and (id_length == 0 or (id_length == 1 and line.text[line.starts[2]] == b'.')):
            _add_bytes(b, common_rsid.encode("utf-8"))
        else:
            _add(b, line.text + line.starts[2], id_length)
        if self.v3_columns:
            self._write_v4_qual_filter(line)
        else:
            _add(b, line.text + line.ends[2], line.starts[7] - line.ends[2])
        if not (info_length == 0 or (info_length == 1 and info[0] == b'.')):
            _add(b, info, info_length)
            _add_char(b, b';')
        if self.n_slots:
            _add(b, b"ANNTOOLS=", 9)
            for i in range(self.n_slots):
                rendered = <Rendered>self.slots[i].rendered
                if i:
                    _add_char(b, b',')
                self._write_allele(b, self.slots[i].allele, self.slots[i].allele_length)
                _add_bytes(b, rendered.info_tail)
            _add_char(b, b';')
        _add(b, b"VC=", 3)
        for i in range(n_alts):
            if i:
                _add_char(b, b',')
            _add_bytes(b, self.classes.encoded[self.alt_class[i]])
        if grch38 is not None:
            _add(b, b";GRCH38=", 8)
            _add_bytes(b, f"{grch38[0]}:{grch38[1]}".encode("utf-8"))
        if unmapped:
            _add(b, b";UNMAPPED", 9)
        _add(b, line.text + line.ends[7], line.length - line.ends[7])
        _add_char(b, b'\n')
        return 0

    cdef int _write_v4_qual_filter(self, Line *line) except -1:
        """REF to FILTER of a VCFv3.3 line as VCFv4 writes them: QUAL -1 (unknown) becomes
        '.', FILTER 0 (passed) becomes PASS; the output header says VCFv4."""
        cdef Buffer *b = &self.vcf
        _add(b, line.text + line.ends[2], line.starts[5] - line.ends[2])
        if line.ends[5] - line.starts[5] == 2 and memcmp(line.text + line.starts[5], b"-1", 2) == 0:
            _add_char(b, b'.')
        else:
            _add(b, line.text + line.starts[5], line.ends[5] - line.starts[5])
        _add_char(b, b'\t')
        if line.ends[6] - line.starts[6] == 1 and line.text[line.starts[6]] == b'0':
            _add(b, b"PASS", 4)
        else:
            _add(b, line.text + line.starts[6], line.ends[6] - line.starts[6])
        _add_char(b, b'\t')
        return 0

    cdef int _write_tsv(
        self, Line *line, int n_alts, object rsid, object grch38, bint unmapped,
        bint has_gt, long long *tallies
    ) except -1:
        """One row per ALT allele and entry of that allele (one row when it has none)."""
        cdef Buffer *b = &self.tsv
        cdef int j, i, rows
        cdef Span alt
        cdef Rendered rendered
        cdef char af[32]
        cdef int af_length
        cdef bytes known = b"\t\t"
        if unmapped or grch38 is not None or rsid:
            placed = "unmapped" if unmapped else (f"{grch38[0]}:{grch38[1]}" if grch38 else "")
            known = f"{placed}\t{rsid or ''}\t".encode("utf-8")
        for j in range(n_alts):
            alt = self.alts[j]
            af_length = 0
            if self.alt_has_frequency[j]:
                af_length = self._frequency_text(self.alt_frequency[j], af)
            rows = 0
            for i in range(self.n_slots + 1):
                if i < self.n_slots:
                    if not (self.slots[i].allele_length == alt.length and memcmp(
                            self.slots[i].allele, line.text + alt.start, alt.length) == 0):
                        continue
                elif rows:
                    break
                rows += 1
                _add(b, line.text, line.ends[3])  # CHROM POS ID REF
                _add_char(b, b'\t')
                _add(b, line.text + alt.start, alt.length)
                _add_char(b, b'\t')
                _add_bytes(b, self.classes.encoded[self.alt_class[j]])
                _add_char(b, b'\t')
                if self.alt_substitution[j]:
                    _add(b, b"Ts" if self.alt_substitution[j] == 1 else b"Tv", 2)
                _add_char(b, b'\t')
                _add_bytes(b, known)
                if i < self.n_slots:
                    _add_bytes(b, (<Rendered>self.slots[i].rendered).tsv_tail)
                else:
                    _add_bytes(b, EMPTY_ENTRY)
                _add_char(b, b'\t')
                if has_gt:
                    _add_int(b, tallies[0])
                    _add_char(b, b'\t')
                    _add_int(b, tallies[1])
                    _add_char(b, b'\t')
                    _add_int(b, tallies[2])
                    _add_char(b, b'\t')
                else:
                    _add(b, b"\t\t\t", 3)
                _add(b, af, af_length)
                _add_char(b, b'\n')
        return 0

    cdef int _frequency_text(self, double value, char *out):
        """The AF column, as Python's ``f"{value:.4g}"`` writes it (both round correctly)."""
        cdef unsigned long long bits
        memcpy(&bits, &value, sizeof(double))
        cdef int slot = (bits ^ (bits >> 29) ^ (bits >> 47)) & 63
        if self.af_values[slot] != value:
            self.af_lengths[slot] = snprintf(self.af_texts[slot], 16, "%.4g", value)
            self.af_values[slot] = value
        memcpy(out, self.af_texts[slot], self.af_lengths[slot])
        return self.af_lengths[slot]

    # ------------------------------------------------------------ counts

    cdef void _count(
        self, str chrom, int n_alts, object rsid, bint rsid_from_input, object grch38,
        bint unmapped
    ) except *:
        cdef int i, t, best = N_REGIONS
        cdef Rendered rendered
        self.serial += 1
        self.records += 1
        if chrom is not self.run_chrom:
            self._flush_chromosome()
            self.run_chrom = chrom
        self.run_records += 1
        for i in range(n_alts):
            self.alleles += 1
            self.classes.add(self.alt_class[i])
            if self.alt_substitution[i] == 1:
                self.transitions += 1
            elif self.alt_substitution[i] == 2:
                self.transversions += 1
        if rsid:
            self.in_dbsnp += 1
            if rsid_from_input:
                self.rsid_from_input += 1
            else:
                self.rsid_from_common += 1
        if unmapped:
            self.unmapped += 1
        elif grch38 is not None:
            self.lifted += 1
        if not self.n_slots:
            self.regions.add(self.region_unannotated)
            return
        for i in range(self.n_slots):
            rendered = <Rendered>self.slots[i].rendered
            if 0 <= rendered.region_rank < best:
                best = rendered.region_rank
            for t in range(rendered.n_terms):
                self.terms.add_once(rendered.terms[t], self.serial)
            if rendered.counts_gene:
                self.genes.add_once(rendered.gene_id, self.serial)
        self.regions.add(best)

    cdef void _flush_chromosome(self) except *:
        if self.run_records:
            self.chromosomes[self.run_chrom] = (
                self.chromosomes.get(self.run_chrom, 0) + self.run_records
            )
        self.run_chrom, self.run_records = None, 0

    cdef dict _take_counts(self):
        self._flush_chromosome()
        chromosomes, self.chromosomes = self.chromosomes, {}
        counts = {
            "records": self.records,
            "alleles": self.alleles,
            "in_dbsnp": self.in_dbsnp,
            "rsid_from_input": self.rsid_from_input,
            "rsid_from_common": self.rsid_from_common,
            "lifted": self.lifted,
            "unmapped": self.unmapped,
            "transitions": self.transitions,
            "transversions": self.transversions,
            "regions": self.regions.take(),
            "consequences": self.terms.take(),
            "classes": self.classes.take(),
            "chromosomes": chromosomes,
            "genes": self.genes.take(),
        }
        self._reset_counts()
        return counts

    # ------------------------------------------------------------ parse-only records

    cdef tuple _record(self, Line *line, object raw, long long line_no, str chrom):
        cdef int n_alts = self._alleles(line), j
        cdef long long tallies[3]
        cdef bint has_gt = self._genotypes(n_alts + 1, tallies)
        ac, an = self._counts_from_info(line)
        genotypes = None
        if has_gt:
            genotypes = (
                tallies[0], tallies[1], tallies[2],
                [self.allele_counts[j] for j in range(n_alts + 1)],
            )
        columns = raw.decode("utf-8").split("\t")
        return (
            line_no, columns, chrom, line.pos, columns[3], columns[4].split(","),
            ac, an, genotypes,
        )


# ---------------------------------------------------------------- small helpers

cdef void _close_run(list runs, long long max_pos) except *:
    """Record the highest POS of the chunk's last chromosome run."""
    last = runs[len(runs) - 1]
    runs[len(runs) - 1] = (last[0], last[1], last[2], max_pos)


cdef inline str _decode(const char *text, Py_ssize_t length):
    return PyUnicode_DecodeUTF8(text, length, "replace")


cdef inline char _upper_n(char c):
    return b'N' if c == b'N' or c == b'n' else 0


cdef str _upper(const char *text, Py_ssize_t length):
    return PyUnicode_DecodeASCII(text, length, "replace").upper()


cdef bint _all_in(const bint *table, const char *text, Py_ssize_t length):
    """Whether ``text`` is not empty and every byte of it is in ``table``."""
    cdef Py_ssize_t i
    for i in range(length):
        if not table[<unsigned char>text[i]]:
            return False
    return length > 0


cdef bint _same_bases(const char *a, Py_ssize_t a_length, const char *b, Py_ssize_t b_length):
    """Whether two alleles of A, C, G, T are the same bases, ignoring case."""
    cdef Py_ssize_t i
    if a_length != b_length:
        return False
    for i in range(a_length):
        if UPPER_ACGT[<unsigned char>a[i]] != UPPER_ACGT[<unsigned char>b[i]]:
            return False
    return True


cdef bint _contains(const char *text, Py_ssize_t length, const char *needle):
    cdef Py_ssize_t i
    for i in range(length - 2):
        if text[i] == needle[0] and text[i + 1] == needle[1] and text[i + 2] == needle[2]:
            return True
    return False


cdef bint _blank(Line *line):
    cdef Py_ssize_t i
    for i in range(line.length):
        if not IS_SPACE[<unsigned char>line.text[i]]:
            return False
    return True


cdef bint _split(Line *line, Py_ssize_t n_columns):
    """Find the tabs of CHROM to INFO and count the columns; True if the count is right."""
    cdef Py_ssize_t start = 0, column = 0
    cdef const char *tab
    while True:
        tab = <const char *>memchr(line.text + start, b'\t', line.length - start)
        if column < 8:
            line.starts[column] = start
            line.ends[column] = (tab - line.text) if tab != NULL else line.length
        column += 1
        if tab == NULL:
            break
        start = tab - line.text + 1
    return column == n_columns and column >= 8


cdef bint _read_pos(Line *line):
    """POS as a number; False when it is not digits or too large for htslib."""
    cdef Py_ssize_t i
    cdef long long pos = 0
    cdef Py_ssize_t start = line.starts[1], end = line.ends[1]
    if end - start < 1 or end - start > 12:
        return False
    for i in range(start, end):
        if line.text[i] < b'0' or line.text[i] > b'9':
            return False
        pos = pos * 10 + (line.text[i] - 48)
    line.pos = pos
    return pos >= 1


cdef bint _plain_record(Line *line):
    """Whether the split line is certainly valid: ASCII, POS digits, plain REF and ALTs.

    A plain ALT is bases, ``*``, ``.`` or ``<ID>``; anything else (breakends,
    non-ASCII text, errors) is left to check_line.
    """
    cdef Py_ssize_t i, start, end, cut
    for i in range(line.length):
        if <unsigned char>line.text[i] >= 0x80:
            return False
    if not _read_pos(line):
        return False
    if not _all_in(IS_BASE, line.text + line.starts[3], line.ends[3] - line.starts[3]):
        return False
    start, end = line.starts[4], line.ends[4]
    while True:
        cut = start
        while cut < end and line.text[cut] != b',':
            cut += 1
        if not _plain_alt(line.text + start, cut - start):
            return False
        if cut >= end:
            return True
        start = cut + 1


cdef bint _plain_alt(const char *alt, Py_ssize_t length):
    cdef Py_ssize_t i
    if length == 1 and (alt[0] == b'*' or alt[0] == b'.'):
        return True
    if length >= 3 and alt[0] == b'<' and alt[length - 1] == b'>':
        for i in range(1, length - 1):
            if NOT_IN_SYMBOL[<unsigned char>alt[i]]:
                return False
        return True
    return _all_in(IS_BASE, alt, length)


# ------------------------------------------------------------ haplotype buffer's scan

def next_event(
    list lines, Py_ssize_t start, dict spans, object spans_of, bytes held_chrom, long long reach
):
    """The haplotype buffer's next line of interest from ``start``: (index, CHROM bytes,
    0-based POS, whether REF touches a coding span), or None when the chunk has none.

    A line is of interest when its REF touches a coding span, or, while records are
    held (``held_chrom`` not None), when it is on another CHROM or starts past
    ``reach``. ``spans`` maps CHROM to (starts, ends) of merged, sorted, closed
    0-based coding spans (or None), filled by ``spans_of(chrom)`` for a CHROM not
    seen yet. Lines that do not look like records are skipped (the loop checks
    them). The buffer reads every line of the file, so this stays in C.
    """
    cdef Py_ssize_t i, n = PyList_GET_SIZE(lines), length, k, tab1, tab2, tab3, tab4
    cdef const char *text
    cdef long long pos, beg, end
    cdef object raw, found
    cdef bytes chrom = None
    cdef const long long[::1] starts
    cdef const long long[::1] ends
    cdef bint have_spans = False, coding, other_chrom
    for i in range(start, n):
        raw = <object>PyList_GET_ITEM(lines, i)
        text = PyBytes_AS_STRING(raw)
        length = PyBytes_GET_SIZE(raw)
        if length == 0 or text[0] == b'#':
            continue
        tab1 = _next_tab(text, 0, length)
        tab2 = _next_tab(text, tab1 + 1, length)
        tab3 = _next_tab(text, tab2 + 1, length)
        tab4 = _next_tab(text, tab3 + 1, length)
        if tab4 >= length or tab2 == tab1 + 1:
            continue
        pos = 0
        for k in range(tab1 + 1, tab2):
            if text[k] < b'0' or text[k] > b'9' or pos > 1 << 40:
                pos = -1
                break
            pos = pos * 10 + (text[k] - 48)  # the digit's value
        if pos < 0:
            continue
        if chrom is None or tab1 != len(chrom) or memcmp(text, PyBytes_AS_STRING(chrom), tab1) != 0:
            chrom = PyBytes_FromStringAndSize(text, tab1)
            if chrom not in spans:
                spans[chrom] = spans_of(chrom)
            found = spans[chrom]
            have_spans = found is not None
            if have_spans:
                starts, ends = found
        beg = pos - 1
        end = beg + (tab4 - tab3 - 1)
        coding = False
        if have_spans:
            k = _last_at_most(starts, end)
            coding = k >= 0 and ends[k] >= beg
        other_chrom = held_chrom is not None and chrom != held_chrom
        if coding or other_chrom or (held_chrom is not None and beg > reach):
            return i, chrom, beg, coding
    return None


cdef inline Py_ssize_t _next_tab(const char *text, Py_ssize_t start, Py_ssize_t length):
    cdef const char *found
    if start >= length:
        return length
    found = <const char *>memchr(text + start, b'\t', length - start)
    return length if found == NULL else found - text


cdef Py_ssize_t _last_at_most(const long long[::1] starts, long long value):
    """The index of the last start <= value, or -1."""
    cdef Py_ssize_t lo = 0, hi = starts.shape[0], mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if starts[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1
