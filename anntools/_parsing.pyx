# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Raw record lines, for the record loop: split at their tabs, checked, parsed by htslib.

The fast checks here accept the plain common case (ASCII, POS digits, REF
bases, ALTs of bases, ``*``, ``.`` or ``<ID>``); any other line goes to
``check_line`` (vcf.line_problem), which says why it is bad or that it is good
after all (breakends...). htslib (pysam's build of it, see anntools.recordloop)
then parses every line that passed, for genotypes and INFO values.
"""

from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcmp, memcpy

from cpython cimport array
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8


cdef extern from "htslib/vcf.h":
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


# ---------------------------------------------------------------- bytes

cdef str decode(const char *text, Py_ssize_t length):
    return PyUnicode_DecodeUTF8(text, length, "replace")


cdef str upper_text(const char *text, Py_ssize_t length):
    return PyUnicode_DecodeASCII(text, length, "replace").upper()


cdef inline bint _not_in_symbol(char c):
    """What <ID> alleles may not hold."""
    return c in b"<>,\x1c\x1d\x1e\x1f" or is_space(c) or <unsigned char>c >= 0x80


cdef bint _contains(const char *text, Py_ssize_t length, const char *needle):
    cdef Py_ssize_t i
    for i in range(length - 2):
        if text[i] == needle[0] and text[i + 1] == needle[1] and text[i + 2] == needle[2]:
            return True
    return False


# ---------------------------------------------------------------- lines

cdef bint blank(Line *line):
    cdef Py_ssize_t i
    for i in range(line.length):
        if not is_space(line.text[i]):
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


cdef bint read_pos(Line *line):
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
    if not read_pos(line):
        return False
    if not all_bases(line.text + line.starts[3], line.ends[3] - line.starts[3]):
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
            if _not_in_symbol(alt[i]):
                return False
        return True
    return all_bases(alt, length)


cdef bint symbolic(const char *alt, Py_ssize_t length):
    """variant.is_symbolic: *, ., <ID>, breakends."""
    if length == 1 and (alt[0] == b'*' or alt[0] == b'.'):
        return True
    if length and alt[0] == b'<':
        return True
    return memchr(alt, b'[', length) != NULL or memchr(alt, b']', length) != NULL


cdef int split_alts(Line *line, Alleles *alleles) except -1:
    """Split ALT into ``alleles.spans``, setting ``alleles.n``; grows the per-allele arrays."""
    cdef Py_ssize_t start = line.starts[4], end = line.ends[4], cut
    cdef int n = 0
    while True:
        if n + 1 >= alleles.capacity:
            _grow(alleles, 2 * (n + 1) + 8)
        cut = start
        while cut < end and line.text[cut] != b',':
            cut += 1
        alleles.spans[n].start, alleles.spans[n].length = start, cut - start
        n += 1
        if cut >= end:
            alleles.n = n
            return n
        start = cut + 1


cdef int _grow(Alleles *a, int capacity) except -1:
    a.spans = <Span *>realloc(a.spans, capacity * sizeof(Span))
    a.kind = <int *>realloc(a.kind, capacity * sizeof(int))
    a.substitution = <int *>realloc(a.substitution, capacity * sizeof(int))
    a.frequency = <double *>realloc(a.frequency, capacity * sizeof(double))
    a.has_frequency = <bint *>realloc(a.has_frequency, capacity * sizeof(bint))
    a.counts = <long long *>realloc(a.counts, (capacity + 1) * sizeof(long long))
    if not (a.spans and a.kind and a.substitution and a.frequency and a.has_frequency
            and a.counts):
        raise MemoryError()
    a.capacity = capacity
    return 0


cdef void free_alleles(Alleles *a):
    free(a.spans)
    free(a.kind)
    free(a.substitution)
    free(a.frequency)
    free(a.has_frequency)
    free(a.counts)


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


cdef class RecordParser:
    """Checks record lines of one VCF and parses them with htslib, one line at a time.

    ``header_text`` is the header, meta lines and #CHROM line, each ending in a
    newline. ``check_line(columns)`` says why a split line is no valid record, or None.
    """

    def __cinit__(self):
        self.hdr = NULL
        self.rec = NULL
        self.scratch.l = self.scratch.m = 0
        self.scratch.s = NULL
        self.gt = self.ints = NULL
        self.text = NULL
        self.n_gt = self.n_ints = self.n_text = 0

    def __init__(self, str header_text, check_line):
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
        self.check_line = check_line

    def __dealloc__(self):
        if self.rec != NULL:
            bcf_destroy(self.rec)
        if self.hdr != NULL:
            bcf_hdr_destroy(self.hdr)
        free(self.scratch.s)
        free(self.gt)
        free(self.ints)
        free(self.text)

    cdef str check(self, Line *line, object raw):
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
        if not split or not read_pos(line):
            return "POS is not a number htslib can hold"
        return None

    cdef bint parse(self, Line *line) except -1:
        """Parse the line with htslib into self.rec (vcf_parse writes into its input: a copy).

        The caller silences htslib's log: its own checks name the line.
        """
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

    cdef str problem(self):
        """Why htslib could not parse the last line."""
        reasons = [text for bit, text in _HTSLIB_ERRORS if self.rec.errcode & bit]
        return "htslib cannot parse it (" + ("; ".join(reasons) or "a malformed field") + ")"

    cdef int genotypes(self, const int32_t **values) except -1:
        """The parsed record's GT values (htslib's encoding) into ``values``; their
        number (samples times ploidy), 0 when there are none."""
        cdef int n
        if self.n_samples == 0:
            return 0
        n = bcf_get_genotypes(self.hdr, self.rec, &self.gt, &self.n_gt)
        if n <= 0:
            return 0
        values[0] = self.gt
        return n

    cdef object _info_ints(self, const char *key):
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

    cdef tuple counts_from_info(self, Line *line):
        """(AC list, AN) from INFO, each None when absent or unusable."""
        cdef const char *info = line.text + line.starts[7]
        cdef Py_ssize_t length = line.ends[7] - line.starts[7]
        if not (_contains(info, length, b"AC=") or _contains(info, length, b"AN=")):
            return None, None
        ac = self._info_ints(b"AC")
        an = self._info_ints(b"AN")
        return ac, (an[0] if an else None)


# ---------------------------------------------------------------- the haplotype buffer's scan

def next_event(
    list lines, Py_ssize_t start, dict spans, object spans_of, bytes held_chrom, long long reach
):
    """The haplotype buffer's next line of interest from ``start``: (index, CHROM bytes,
    0-based POS, the index of the coding span REF touches or -1), or None when the chunk
    has none.

    A line is of interest when its REF touches a coding span, or, while records are
    held (``held_chrom`` not None), when it is on another CHROM or starts past
    ``reach``. ``spans`` maps CHROM to (starts, ends), array("q")s of merged, sorted, closed
    0-based coding spans (or None), filled by ``spans_of(chrom)`` for a CHROM not
    seen yet. Lines that do not look like records are skipped (the loop checks
    them). The buffer reads every line of the file, so this stays in C.
    """
    cdef Py_ssize_t i, n = PyList_GET_SIZE(lines), length, k, tab1, tab2, tab3, tab4, span
    cdef const char *text
    cdef long long pos, beg, end
    cdef object raw, found
    cdef bytes chrom = None
    # the spans' arrays read through their buffers: no memoryview set up per call (the
    # buffer calls this once per held record)
    cdef array.array starts_array, ends_array
    cdef const long long *starts = NULL
    cdef const long long *ends = NULL
    cdef Py_ssize_t n_spans = 0
    cdef bint have_spans = False, other_chrom
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
                starts_array, ends_array = found
                starts, ends = starts_array.data.as_longlongs, ends_array.data.as_longlongs
                n_spans = len(starts_array)
        beg = pos - 1
        end = beg + (tab4 - tab3 - 1)
        span = -1
        if have_spans:
            k = _last_at_most(starts, n_spans, end)
            if k >= 0 and ends[k] >= beg:
                span = k
        other_chrom = held_chrom is not None and chrom != held_chrom
        if span >= 0 or other_chrom or (held_chrom is not None and beg > reach):
            return i, chrom, beg, span
    return None


cdef inline Py_ssize_t _next_tab(const char *text, Py_ssize_t start, Py_ssize_t length):
    cdef const char *found
    if start >= length:
        return length
    found = <const char *>memchr(text + start, b'\t', length - start)
    return length if found == NULL else found - text


cdef Py_ssize_t _last_at_most(const long long *starts, Py_ssize_t n, long long value):
    """The index of the last of ``n`` sorted starts <= value, or -1."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if starts[mid] <= value:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1
