# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The record loop's counts: names interned to small ids so that counting is an array add.

Also what is counted per record before it is written: genotype tallies, the
class and Ts/Tv of each ALT (plain SNVs and simple indels here, the rest by
variant.allele_kind) and each ALT's frequency.
"""

from libc.stdlib cimport free, realloc
from libc.string cimport memset

from cpython.bytes cimport PyBytes_FromStringAndSize

from anntools._parsing cimport Span, all_bases, upper_acgt, upper_n

from anntools.model import REGIONS
from anntools.variant import allele_kind


cdef extern from "htslib/vcf.h":
    int32_t bcf_int32_vector_end
    int bcf_gt_is_missing(int32_t val)
    int bcf_gt_allele(int32_t val)


cdef int N_REGIONS = len(REGIONS)


cdef class Tally:
    """Counts by name, in the order names were first seen."""

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

    cdef dict take(self):
        """Non-zero counts by name, in the order names were first seen; then zero them."""
        cdef dict found = {}
        cdef Py_ssize_t i
        for i in range(len(self.names)):
            if self.counts[i]:
                found[self.names[i]] = self.counts[i]
                self.counts[i] = 0
        return found


cdef int genotype_tallies(
    const int32_t *gt, int n_values, int n_samples, Alleles *alleles, long long *tallies
) except -1:
    """called, het, hom_alt into tallies[0..2] and ``alleles.counts``; 0 when no GT.

    A sample is called when its GT has at least one allele and none is
    missing; it is het when its alleles differ, hom-alt when they are one
    ALT. Allele counts are over called samples.
    """
    cdef int n_alleles = alleles.n + 1, ploidy, s, k, first, allele, present
    cdef int32_t value
    cdef bint missing, mixed
    memset(alleles.counts, 0, n_alleles * sizeof(long long))
    if n_values <= 0:
        return 0
    ploidy = n_values // n_samples
    tallies[0] = tallies[1] = tallies[2] = 0
    for s in range(n_samples):
        missing, mixed, present, first = False, False, 0, -1
        for k in range(ploidy):
            value = gt[s * ploidy + k]
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
            allele = bcf_gt_allele(gt[s * ploidy + k])
            if allele < n_alleles:
                alleles.counts[allele] += 1
    return 1


# Ts/Tv of an upper-case base pair: 1 transition, 2 transversion, 0 neither.
cdef int _substitution(char ref, char alt):
    if ref == alt or ref == b'N' or alt == b'N':
        return 0
    if (ref == b'A' and alt == b'G') or (ref == b'G' and alt == b'A'):
        return 1
    if (ref == b'C' and alt == b'T') or (ref == b'T' and alt == b'C'):
        return 1
    return 2


cdef class AlleleClasses:
    """The class (SNV, insertion...) and Ts/Tv of ALT alleles; classes counted by name."""

    def __cinit__(self):
        self.tally = Tally()
        self.kinds = {}
        self.snv = -1  # interned on first use: names count in order of appearance

    cdef void classify(self, Line *line, Alleles *alleles) except *:
        """``alleles.kind`` and ``.substitution`` of each ALT."""
        cdef Py_ssize_t ref_start = line.starts[3], ref_length = line.ends[3] - line.starts[3]
        cdef int j
        cdef char r, a
        cdef Span alt
        for j in range(alleles.n):
            alt = alleles.spans[j]
            if ref_length == 1 and alt.length == 1:
                r = upper_acgt(line.text[ref_start]) or upper_n(line.text[ref_start])
                a = upper_acgt(line.text[alt.start]) or upper_n(line.text[alt.start])
                if r and a:
                    if self.snv < 0:
                        self.snv = self.tally.id_of("SNV")
                    alleles.kind[j] = self.snv
                    alleles.substitution[j] = _substitution(r, a)
                    continue
            if (ref_length == 1) != (alt.length == 1) and all_bases(
                line.text + ref_start, ref_length
            ) and all_bases(line.text + alt.start, alt.length):
                # variant.classify of an indel with one single-base side: nothing to trim
                if (line.text[ref_start] | 0x20) != (line.text[alt.start] | 0x20):
                    alleles.kind[j] = self.tally.id_of("complex")
                elif alt.length > ref_length:
                    alleles.kind[j] = self.tally.id_of("insertion")
                else:
                    alleles.kind[j] = self.tally.id_of("deletion")
                alleles.substitution[j] = 0
                continue
            key = (
                PyBytes_FromStringAndSize(line.text + ref_start, ref_length),
                PyBytes_FromStringAndSize(line.text + alt.start, alt.length),
            )
            kind = self.kinds.get(key)
            if kind is None:
                variant_class, substitution = allele_kind(key[0].decode(), key[1].decode())
                kind = self.kinds[key] = (
                    self.tally.id_of(variant_class),
                    {"Ts": 1, "Tv": 2}.get(substitution, 0),
                )
            alleles.kind[j], alleles.substitution[j] = kind


cdef void frequencies(Line *line, Alleles *alleles, object ac, object an, bint has_gt) except *:
    """AF per ALT: INFO AC/AN when both are there, else from the called genotypes.

    The missing allele ``.`` has none: it stands for no ALT at all.
    """
    cdef long long called_alleles = 0
    cdef int j
    if has_gt:
        for j in range(alleles.n + 1):
            called_alleles += alleles.counts[j]
    for j in range(alleles.n):
        alleles.has_frequency[j] = True
        if alleles.spans[j].length == 1 and line.text[alleles.spans[j].start] == b'.':
            alleles.has_frequency[j] = False
        elif ac is not None and an and len(ac) >= j + 1:
            alleles.frequency[j] = ac[j] / an
        elif has_gt and called_alleles:
            alleles.frequency[j] = alleles.counts[j + 1] / <double>called_alleles
        else:
            alleles.has_frequency[j] = False


cdef class RecordCounts:
    """What a run of records adds to the summary, taken (and zeroed) once per chunk."""

    def __cinit__(self):
        self.regions, self.terms, self.genes = Tally(), Tally(), Tally()
        self.classes = AlleleClasses()
        for region in (*REGIONS, "unannotated"):
            self.regions.id_of(region)
        self.chromosomes = {}
        self.run_chrom, self.run_records = None, 0
        self.serial = 0
        self._reset()

    cdef void _reset(self):
        self.records = self.alleles = self.in_dbsnp = 0
        self.rsid_from_input = self.rsid_from_common = 0
        self.lifted = self.unmapped = self.transitions = self.transversions = 0

    cdef void count_record(
        self, str chrom, Alleles *alleles, object rsid, bint rsid_from_input, object grch38,
        bint unmapped
    ) except *:
        """Counts a record (its entries follow, by count_entry, then end_record)."""
        cdef int i
        self.serial += 1
        self.records += 1
        self.best_region = N_REGIONS  # "unannotated" when no entry names a region
        if chrom is not self.run_chrom:
            self._flush_chromosome()
            self.run_chrom = chrom
        self.run_records += 1
        for i in range(alleles.n):
            self.alleles += 1
            tally_add(self.classes.tally, alleles.kind[i])
            if alleles.substitution[i] == 1:
                self.transitions += 1
            elif alleles.substitution[i] == 2:
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

    cdef void count_entry(self, EntryCounts *entry):
        cdef int t
        if 0 <= entry.region_rank < self.best_region:
            self.best_region = entry.region_rank
        for t in range(entry.n_terms):
            tally_add_once(self.terms, entry.terms[t], self.serial)
        if entry.counts_gene:
            tally_add_once(self.genes, entry.gene_id, self.serial)

    cdef void end_record(self):
        """The record's region: the best-ranked of its entries'."""
        tally_add(self.regions, self.best_region)

    cdef void _flush_chromosome(self) except *:
        if self.run_records:
            self.chromosomes[self.run_chrom] = (
                self.chromosomes.get(self.run_chrom, 0) + self.run_records
            )
        self.run_chrom, self.run_records = None, 0

    cdef dict take(self):
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
            "classes": self.classes.tally.take(),
            "chromosomes": chromosomes,
            "genes": self.genes.take(),
        }
        self._reset()
        return counts
