# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The record loop's output: each annotation entry rendered once, then copied per record.

A record's entries are Slots (a Rendered entry and the allele it belongs to)
collected in Entries; Writer appends the record's VCF line and TSV rows to
growing byte buffers, taken once per chunk.
"""

cimport cython
from libc.stdio cimport snprintf
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp, memcpy, memset

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_Size
from cpython.list cimport PyList_GET_SIZE
from cpython.long cimport PyLong_FromVoidPtr
from cpython.unicode cimport PyUnicode_AsUTF8AndSize

from anntools._parsing cimport Span, decode
from anntools._tallies cimport MAX_TERMS

from anntools.annotation import (
    ENTRY_FIELDS,
    consequence_terms,
    entry_from_consequence,
    entry_info_tail,
    entry_tsv_text,
    info_escape,
)
from anntools.csq.haplotype import swapped_calls
from anntools.model import REGIONS

# The TSV columns of an allele without entries: empty, one fewer tab than fields after Allele.
cdef bytes EMPTY_ENTRY = b"\t" * (len(ENTRY_FIELDS) - 2)
cdef dict REGION_RANK = {region: rank for rank, region in enumerate(REGIONS)}
cdef int CACHE_LIMIT = 1 << 16


# ---------------------------------------------------------------- output buffers

cdef int reserve(Buffer *b, Py_ssize_t extra) except -1:
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


cdef int add_digits(Buffer *b, long long value) except -1:
    cdef char digits[DIGITS_SIZE]
    cdef int n = decimal_digits(digits, value)
    return add(b, digits + n, DIGITS_SIZE - n)


cdef bytes take(Buffer *b):
    cdef bytes text = PyBytes_FromStringAndSize(b.data, b.length)
    b.length = 0
    return text


# ---------------------------------------------------------------- entries

cdef class Rendered:
    """One annotation entry ready to print and count, its allele aside (entries share it)."""


# Stand-ins for the protein and DNA changes in a ChangeTemplate: characters no field holds
# and info_escape leaves alone.
cdef str AA_MARK = "\x1e"
cdef str DNA_MARK = "\x1f"


cdef class ChangeTemplate:
    """A coding SNV's entry with its protein and DNA changes left out.

    Every other field (terms, gene, transcript, biotype, strand, region) depends on the
    transcript and the consequence alone, so the texts around the changes are made once
    and each SNV only fills in its two changes (which hold nothing info_escape changes).
    """

    cdef Rendered filled(self, str aa_change, str dna_change):
        cdef Rendered found = Rendered.__new__(Rendered)
        cdef Py_ssize_t aa_length, dna_length
        cdef const char *aa = PyUnicode_AsUTF8AndSize(aa_change, &aa_length)
        cdef const char *dna = PyUnicode_AsUTF8AndSize(dna_change, &dna_length)
        found.info_tail = _joined(
            self.info_head, aa, aa_length, self.info_middle, dna, dna_length, self.info_end
        )
        found.tsv_tail = _joined(
            self.tsv_head, aa, aa_length, self.tsv_middle, dna, dna_length, self.tsv_end
        )
        found.counts = self.counts
        return found


cdef bytes _joined(
    bytes head, const char *aa, Py_ssize_t aa_length, bytes middle,
    const char *dna, Py_ssize_t dna_length, bytes end
):
    """head + aa + middle + dna + end, made in place (one allocation)."""
    cdef Py_ssize_t n_head = PyBytes_GET_SIZE(head), n_middle = PyBytes_GET_SIZE(middle)
    cdef Py_ssize_t n_end = PyBytes_GET_SIZE(end)
    cdef bytes text = PyBytes_FromStringAndSize(
        NULL, n_head + aa_length + n_middle + dna_length + n_end
    )
    cdef char *out = PyBytes_AS_STRING(text)
    memcpy(out, PyBytes_AS_STRING(head), n_head)
    out += n_head
    memcpy(out, aa, aa_length)
    out += aa_length
    memcpy(out, PyBytes_AS_STRING(middle), n_middle)
    out += n_middle
    memcpy(out, dna, dna_length)
    out += dna_length
    memcpy(out, PyBytes_AS_STRING(end), n_end)
    return text


cdef ChangeTemplate change_template(Entries entries, object csq):
    """The ChangeTemplate of transcript engine Consequence ``csq`` (any changes), or None
    when a field other than the changes happens to hold a stand-in."""
    cdef Rendered marked = entries.rendered_consequence(
        csq._replace(aa_change=AA_MARK, dna_change=DNA_MARK)
    )
    cdef ChangeTemplate template = ChangeTemplate.__new__(ChangeTemplate)
    info = _split_at_marks(marked.info_tail)
    tsv = _split_at_marks(marked.tsv_tail)
    if info is None or tsv is None:
        return None
    template.info_head, template.info_middle, template.info_end = info
    template.tsv_head, template.tsv_middle, template.tsv_end = tsv
    template.counts = marked.counts
    return template


cdef tuple _split_at_marks(bytes text):
    """(before the protein change, between the changes, after the DNA change), or None."""
    aa_mark, dna_mark = AA_MARK.encode("ascii"), DNA_MARK.encode("ascii")
    if text.count(aa_mark) != 1 or text.count(dna_mark) != 1:
        return None
    head, rest = text.split(aa_mark)
    middle, end = rest.split(dna_mark) if dna_mark in rest else (None, None)
    if middle is None:
        return None
    return head, middle, end


@cython.no_gc  # refers to bytes and an annotation.Entry only: never in a cycle
cdef class RenderedEntry(Rendered):
    """An entry already rendered by its source (the default bundle's, anntools._bundlesites,
    whose entries mostly differ in one field: a distance or an HGVS c.), with its allele;
    its counts are those of ``counted``, filled in when pushed. One is made per record and
    entry, so it is kept out of the cyclic garbage collector's lists."""

    def __init__(self, bytes allele, bytes info_tail, bytes tsv_tail, object counted):
        self.allele, self.info_tail, self.tsv_tail, self.counted = (
            allele, info_tail, tsv_tail, counted
        )

    @property
    def texts(self):
        """(INFO item after the allele, TSV columns after the allele), as annotation's
        entry_info_tail and entry_tsv_text write them."""
        return self.info_tail.decode("utf-8"), self.tsv_tail.decode("utf-8")


cdef class Entries:
    """The annotation entries of the record being written, as Slots into rendered entries.

    Entries render once and are cached (files repeat a few); their terms and genes
    are interned in the tallies that count them.
    """

    def __cinit__(self, Tally terms, Tally genes):
        self.terms, self.genes = terms, genes
        self.cache, self.keep, self.by_identity = {}, [], {}
        self.slots = NULL
        self.n = self.capacity = 0

    def __dealloc__(self):
        free(self.slots)

    cdef void clear(self):
        """Start a record (slots of the last one point into the cache: clear it only here)."""
        self.n = 0
        if PyList_GET_SIZE(self.keep):
            self.keep.clear()
        if PyDict_Size(self.cache) >= CACHE_LIMIT:
            self.cache.clear()

    cdef Rendered rendered(self, object entry):
        """The Rendered form of an annotation.Entry."""
        cdef Rendered found = self.cache.get(entry)
        cdef int i
        if found is not None:
            return found
        found = Rendered()
        found.info_tail = entry_info_tail(entry).encode("utf-8")
        found.tsv_tail = entry_tsv_text(entry).encode("utf-8")
        found.counts.region_rank = REGION_RANK.get(entry.region, -1)
        found.counts.gene_id = self.genes.id_of(entry.gene)
        found.counts.counts_gene = entry.region != "intergenic"
        # "@POS" (see the record at POS, haplotype-aware calling) names no term to count
        terms = [term for term in consequence_terms(entry.consequence) if term[:1] != "@"]
        if len(terms) > MAX_TERMS:
            raise ValueError(f"more than {MAX_TERMS} consequence terms in one entry")
        found.counts.n_terms = len(terms)
        for i, term in enumerate(terms):
            found.counts.terms[i] = self.terms.id_of(term)
        self.cache[entry] = found
        return found

    cdef Rendered _counted(self, object counted):
        """The Rendered form of a RenderedEntry's ``counted`` Entry, found by identity: its
        source shares one per (consequence, gene, region), and an Entry's hash and equality
        are Python calls (so is id(): its address is taken in C). The value holds the Entry,
        so its address is not reused while kept."""
        cdef tuple found = self.by_identity.get(PyLong_FromVoidPtr(<void *>counted))
        if found is not None:
            return <Rendered>found[1]
        if PyDict_Size(self.by_identity) >= CACHE_LIMIT:
            self.by_identity.clear()
        rendered = self.rendered(counted)
        self.by_identity[PyLong_FromVoidPtr(<void *>counted)] = (counted, rendered)
        return rendered

    cdef Rendered rendered_consequence(self, object csq):
        """The Rendered form of a transcript engine's Consequence."""
        cdef Rendered found = self.cache.get(csq)
        if found is None:
            found = self.rendered(entry_from_consequence("", csq))
            self.cache[csq] = found
        return found

    cdef int push(self, Rendered rendered, const char *allele, Py_ssize_t length) except -1:
        if self.n >= self.capacity:
            self.capacity = 2 * self.capacity + 8
            self.slots = <Slot *>realloc(self.slots, self.capacity * sizeof(Slot))
            if self.slots == NULL:
                raise MemoryError()
        self.slots[self.n].rendered = <void *>rendered
        self.slots[self.n].allele = allele
        self.slots[self.n].allele_length = length
        self.n += 1
        return 0

    cdef int push_made(self, Rendered rendered, const char *allele, Py_ssize_t length) except -1:
        """A Rendered made for this record alone (see ChangeTemplate), kept until the next."""
        self.keep.append(rendered)
        return self.push(rendered, allele, length)

    cdef int push_entry(self, object entry) except -1:
        """An annotation.Entry or a RenderedEntry, which name their allele."""
        cdef RenderedEntry made
        if type(entry) is RenderedEntry:
            made = <RenderedEntry>entry
            made.counts = self._counted(made.counted).counts
            self.keep.append(made)
            return self.push(made, made.allele, len(made.allele))
        allele = entry.allele.encode("utf-8")
        self.keep.append(allele)
        return self.push(self.rendered(entry), allele, len(allele))

    cdef int push_all(self, list found, const char *allele, Py_ssize_t length) except -1:
        for csq in found:
            self.push(self.rendered_consequence(csq), allele, length)
        return 0

    cdef int push_swapped(
        self, list found, dict swaps, const char *allele, Py_ssize_t length
    ) except -1:
        """The calls, each coding one on a transcript in ``swaps`` replaced by its swap."""
        for csq, _ in swapped_calls(found, swaps):
            self.push(self.rendered_consequence(csq), allele, length)
        return 0


# ---------------------------------------------------------------- lines

cdef int _write_allele(Buffer *b, const char *allele, Py_ssize_t length) except -1:
    """An allele in an INFO item: characters INFO values may not hold replaced."""
    cdef Py_ssize_t i
    for i in range(length):
        if allele[i] in b" ;=,":
            add_bytes(b, info_escape(decode(allele, length)).encode("utf-8"))
            return 0
    return add(b, allele, length)


cdef class Writer:
    """The annotated VCF lines and TSV rows of records, taken once per chunk."""

    def __cinit__(self, bint v3_columns, list class_names):
        memset(&self.vcf, 0, sizeof(Buffer))
        memset(&self.tsv, 0, sizeof(Buffer))
        self.v3_columns = v3_columns
        self.class_names = class_names
        cdef int i
        for i in range(64):
            self.af_values[i] = -1.0  # frequencies are never negative

    def __dealloc__(self):
        free(self.vcf.data)
        free(self.tsv.data)

    cdef tuple take(self):
        """(VCF text, TSV text) written since the last take."""
        return take(&self.vcf), take(&self.tsv)

    cdef int write_vcf(
        self, Line *line, Alleles *alleles, Entries entries, object common_rsid, object grch38,
        bint unmapped
    ) except -1:
        """The input line, ID filled from the common set if it was empty, INFO extended."""
        cdef Buffer *b = &self.vcf
        cdef Py_ssize_t id_length = line.ends[2] - line.starts[2]
        cdef Py_ssize_t info_length = line.ends[7] - line.starts[7]
        cdef const char *info = line.text + line.starts[7]
        cdef int i
        cdef Rendered rendered
        add(b, line.text, line.starts[2])
        if common_rsid is not None and (id_length == 0 or (id_length == 1 and line.text[line.starts[2]] == b'.')):
            add_bytes(b, common_rsid.encode("utf-8"))
        else:
            add(b, line.text + line.starts[2], id_length)
        if self.v3_columns:
            self._write_v4_qual_filter(line)
        else:
            add(b, line.text + line.ends[2], line.starts[7] - line.ends[2])
        if not (info_length == 0 or (info_length == 1 and info[0] == b'.')):
            add(b, info, info_length)
            add_char(b, b';')
        if entries.n:
            add(b, b"ANNTOOLS=", 9)
            for i in range(entries.n):
                rendered = <Rendered>entries.slots[i].rendered
                if i:
                    add_char(b, b',')
                _write_allele(b, entries.slots[i].allele, entries.slots[i].allele_length)
                add_bytes(b, rendered.info_tail)
            add_char(b, b';')
        add(b, b"VC=", 3)
        for i in range(alleles.n):
            if i:
                add_char(b, b',')
            add_bytes(b, self.class_names[alleles.kind[i]])
        if grch38 is not None:
            add(b, b";GRCH38=", 8)
            self._write_place(b, grch38)
        if unmapped:
            add(b, b";UNMAPPED", 9)
        add(b, line.text + line.ends[7], line.length - line.ends[7])
        add_char(b, b'\n')
        return 0

    cdef int _write_place(self, Buffer *b, tuple grch38) except -1:
        """``chrom:pos`` of a (chrom, pos) placement on GRCh38; the chromosome's UTF-8 is
        kept from the record before (records come sorted)."""
        cdef str chrom = grch38[0]
        if chrom is not self.place_chrom:
            self.place_chrom, self.place_chrom_text = chrom, chrom.encode("utf-8")
        add_bytes(b, self.place_chrom_text)
        add_char(b, b':')
        return add_digits(b, grch38[1])

    cdef int _write_known(self, Buffer *b, object rsid, tuple grch38, bint unmapped) except -1:
        """The TSV's GRCh38 placement ("unmapped" when it has none) and rsID columns."""
        if unmapped:
            add(b, b"unmapped", 8)
        elif grch38 is not None:
            self._write_place(b, grch38)
        add_char(b, b'\t')
        if rsid:
            add_bytes(b, rsid.encode("utf-8"))
        return add_char(b, b'\t')

    cdef int _write_v4_qual_filter(self, Line *line) except -1:
        """REF to FILTER of a VCFv3.3 line as VCFv4 writes them: QUAL -1 (unknown) becomes
        '.', FILTER 0 (passed) becomes PASS; the output header says VCFv4."""
        cdef Buffer *b = &self.vcf
        add(b, line.text + line.ends[2], line.starts[5] - line.ends[2])
        if line.ends[5] - line.starts[5] == 2 and memcmp(line.text + line.starts[5], b"-1", 2) == 0:
            add_char(b, b'.')
        else:
            add(b, line.text + line.starts[5], line.ends[5] - line.starts[5])
        add_char(b, b'\t')
        if line.ends[6] - line.starts[6] == 1 and line.text[line.starts[6]] == b'0':
            add(b, b"PASS", 4)
        else:
            add(b, line.text + line.starts[6], line.ends[6] - line.starts[6])
        add_char(b, b'\t')
        return 0

    cdef int write_tsv(
        self, Line *line, Alleles *alleles, Entries entries, object rsid, object grch38,
        bint unmapped, bint has_gt, long long *tallies
    ) except -1:
        """One row per ALT allele and entry of that allele (one row when it has none)."""
        cdef Buffer *b = &self.tsv
        cdef int j, i, rows
        cdef Span alt
        cdef char af[32]
        cdef int af_length
        for j in range(alleles.n):
            alt = alleles.spans[j]
            af_length = 0
            if alleles.has_frequency[j]:
                af_length = self._frequency_text(alleles.frequency[j], af)
            rows = 0
            for i in range(entries.n + 1):
                if i < entries.n:
                    if not (entries.slots[i].allele_length == alt.length and memcmp(
                            entries.slots[i].allele, line.text + alt.start, alt.length) == 0):
                        continue
                elif rows:
                    break
                rows += 1
                add(b, line.text, line.ends[3])  # CHROM POS ID REF
                add_char(b, b'\t')
                add(b, line.text + alt.start, alt.length)
                add_char(b, b'\t')
                add_bytes(b, self.class_names[alleles.kind[j]])
                add_char(b, b'\t')
                if alleles.substitution[j]:
                    add(b, b"Ts" if alleles.substitution[j] == 1 else b"Tv", 2)
                add_char(b, b'\t')
                self._write_known(b, rsid, grch38, unmapped)
                if i < entries.n:
                    add_bytes(b, (<Rendered>entries.slots[i].rendered).tsv_tail)
                else:
                    add_bytes(b, EMPTY_ENTRY)
                add_char(b, b'\t')
                if has_gt:
                    add_int(b, tallies[0])
                    add_char(b, b'\t')
                    add_int(b, tallies[1])
                    add_char(b, b'\t')
                    add_int(b, tallies[2])
                    add_char(b, b'\t')
                else:
                    add(b, b"\t\t\t", 3)
                add(b, af, af_length)
                add_char(b, b'\n')
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
