# cython: language_level=3
"""Raw record lines: split, checked, and parsed by htslib (see _parsing.pyx)."""

from libc.stdint cimport int32_t


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


cdef struct Span:
    Py_ssize_t start
    Py_ssize_t length


cdef struct Line:
    const char *text
    Py_ssize_t length
    Py_ssize_t starts[8]  # CHROM to INFO; the rest is copied as it is
    Py_ssize_t ends[8]
    long long pos


# The ALT alleles of one record and what is known of each, grown as needed.
cdef struct Alleles:
    int n
    int capacity
    Span *spans  # in the line's text
    int *kind  # variant class, as an id of the loop's class tally
    int *substitution  # 1 transition, 2 transversion, 0 neither
    double *frequency
    bint *has_frequency
    long long *counts  # called alleles per allele, REF first (capacity + 1 of them)


# ---------------------------------------------------------------- bytes

cdef inline bint is_base(char c):
    """A C G T N, either case: what REF may hold."""
    return c in b"ACGTNacgtn"


cdef inline bint is_acgt(char c):
    return c in b"ACGTacgt"


cdef inline char upper_acgt(char c):
    """A C G T (either case) as upper case, anything else 0."""
    if c in b"ACGT":
        return c
    if c in b"acgt":
        return <char>(c - 32)
    return 0


cdef inline char upper_n(char c):
    return b'N' if c == b'N' or c == b'n' else 0


cdef inline bint is_space(char c):
    """What bytes.strip() removes."""
    return c in b" \t\n\r\x0b\x0c"


cdef inline bint all_bases(const char *text, Py_ssize_t length):
    """Whether ``text`` is not empty and all A, C, G, T, N (either case)."""
    cdef Py_ssize_t i
    for i in range(length):
        if not is_base(text[i]):
            return False
    return length > 0


cdef inline bint all_acgt(const char *text, Py_ssize_t length):
    """Whether ``text`` is not empty and all A, C, G, T (either case)."""
    cdef Py_ssize_t i
    for i in range(length):
        if not is_acgt(text[i]):
            return False
    return length > 0


cdef inline bint same_bases(const char *a, Py_ssize_t a_length, const char *b, Py_ssize_t b_length):
    """Whether two alleles of A, C, G, T are the same bases, ignoring case."""
    cdef Py_ssize_t i
    if a_length != b_length:
        return False
    for i in range(a_length):
        if upper_acgt(a[i]) != upper_acgt(b[i]):
            return False
    return True


cdef str decode(const char *text, Py_ssize_t length)
cdef str upper_text(const char *text, Py_ssize_t length)


# ---------------------------------------------------------------- lines

cdef bint blank(Line *line)
cdef bint read_pos(Line *line)
cdef bint symbolic(const char *alt, Py_ssize_t length)
cdef int split_alts(Line *line, Alleles *alleles) except -1
cdef void free_alleles(Alleles *alleles)


cdef class RecordParser:
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
    cdef object check_line

    cdef str check(self, Line *line, object raw)
    cdef bint parse(self, Line *line) except -1
    cdef str problem(self)
    cdef int genotypes(self, const int32_t **values) except -1
    cdef tuple counts_from_info(self, Line *line)
    cdef object _info_ints(self, const char *key)
