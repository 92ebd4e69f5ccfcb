# cython: language_level=3
"""The record loop's output: entries rendered once, VCF and TSV lines (see _rendering.pyx)."""

from libc.string cimport memcpy

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

from anntools._parsing cimport Alleles, Line
from anntools._tallies cimport EntryCounts, Tally


# ---------------------------------------------------------------- output buffers

cdef struct Buffer:
    char *data
    Py_ssize_t length
    Py_ssize_t capacity


cdef int reserve(Buffer *b, Py_ssize_t extra) except -1
cdef bytes take(Buffer *b)
cdef int add_digits(Buffer *b, long long value) except -1


cdef enum:
    DIGITS_SIZE = 24  # chars that hold any long long in decimal, with its sign


cdef inline int decimal_digits(char *digits, long long value) noexcept:
    """Writes ``value`` in decimal at the end of ``digits`` (DIGITS_SIZE chars); returns the
    index of its first char."""
    cdef int n = DIGITS_SIZE
    cdef unsigned long long rest = -value if value < 0 else value
    while True:
        n -= 1
        digits[n] = <char>(48 + rest % 10)
        rest //= 10
        if rest == 0:
            break
    if value < 0:
        n -= 1
        digits[n] = b'-'
    return n


cdef inline int add(Buffer *b, const char *text, Py_ssize_t n) except -1:
    if b.length + n > b.capacity:
        reserve(b, n)
    memcpy(b.data + b.length, text, n)
    b.length += n
    return 0


cdef inline int add_char(Buffer *b, char c) except -1:
    if b.length + 1 > b.capacity:
        reserve(b, 1)
    b.data[b.length] = c
    b.length += 1
    return 0


cdef inline int add_int(Buffer *b, long long value) except -1:
    if 0 <= value < 10:  # most tallies: one digit
        return add_char(b, <char>(48 + value))
    return add_digits(b, value)


cdef inline int add_bytes(Buffer *b, bytes text) except -1:
    return add(b, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text))


# ---------------------------------------------------------------- entries

cdef class Rendered:
    cdef bytes info_tail  # "|consequence|gene|...": the INFO item after the allele, escaped
    cdef bytes tsv_tail  # the TSV columns after the allele
    cdef EntryCounts counts


cdef class RenderedEntry(Rendered):
    cdef readonly bytes allele  # UTF-8
    cdef readonly object counted  # an annotation.Entry with this entry's consequence, gene, region


cdef class ChangeTemplate:
    cdef EntryCounts counts
    cdef bytes info_head, info_middle, info_end  # the INFO item around the two changes
    cdef bytes tsv_head, tsv_middle, tsv_end  # the TSV columns around them

    cdef Rendered filled(self, str aa_change, str dna_change)


cdef ChangeTemplate change_template(Entries entries, object csq)


cdef struct Slot:
    void *rendered  # a Rendered kept alive by Entries.cache or Entries.keep
    const char *allele
    Py_ssize_t allele_length


cdef class Entries:
    cdef Tally terms
    cdef Tally genes
    cdef dict cache  # Entry or Consequence -> Rendered
    cdef Slot *slots
    cdef int n
    cdef int capacity
    cdef list keep  # Python objects the record's slots point into
    cdef dict by_identity  # id(counted Entry) -> (that Entry, its Rendered): see _counted

    cdef void clear(self)
    cdef Rendered rendered(self, object entry)
    cdef Rendered _counted(self, object counted)
    cdef Rendered rendered_consequence(self, object csq)
    cdef int push(self, Rendered rendered, const char *allele, Py_ssize_t length) except -1
    cdef int push_made(self, Rendered rendered, const char *allele, Py_ssize_t length) except -1
    cdef int push_entry(self, object entry) except -1
    cdef int push_all(self, list found, const char *allele, Py_ssize_t length) except -1
    cdef int push_swapped(
        self, list found, dict swaps, const char *allele, Py_ssize_t length
    ) except -1


cdef class Writer:
    cdef Buffer vcf
    cdef Buffer tsv
    cdef bint v3_columns  # a VCFv3.3 input: QUAL and FILTER are rewritten as VCFv4 (see output.py)
    cdef list class_names  # UTF-8, by class id
    cdef str place_chrom  # the last GRCh38 chromosome written, and its UTF-8
    cdef bytes place_chrom_text
    # AF texts of recent values (a file repeats a few frequencies), by a hash of the value
    cdef double af_values[64]
    cdef char af_texts[64][16]
    cdef int af_lengths[64]

    cdef int write_vcf(
        self, Line *line, Alleles *alleles, Entries entries, object common_rsid, object grch38,
        bint unmapped
    ) except -1
    cdef int write_tsv(
        self, Line *line, Alleles *alleles, Entries entries, object rsid, object grch38,
        bint unmapped, bint has_gt, long long *tallies
    ) except -1
    cdef tuple take(self)
    cdef int _write_place(self, Buffer *b, tuple grch38) except -1
    cdef int _write_known(self, Buffer *b, object rsid, tuple grch38, bint unmapped) except -1
    cdef int _write_v4_qual_filter(self, Line *line) except -1
    cdef int _frequency_text(self, double value, char *out)
