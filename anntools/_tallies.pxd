# cython: language_level=3
"""Counts of the record loop: per name, per record, per genotype (see _tallies.pyx)."""

from libc.stdint cimport int32_t

from anntools._parsing cimport Alleles, Line


cdef enum:
    MAX_TERMS = 8


# What one annotation entry adds to the counts.
cdef struct EntryCounts:
    int region_rank  # in model.REGIONS, or -1
    int gene_id
    bint counts_gene  # intergenic entries name the nearest gene but do not count it
    int n_terms
    int terms[MAX_TERMS]


cdef class Tally:
    cdef dict ids
    cdef list names
    cdef list encoded  # the names as UTF-8, for output
    cdef long long *counts
    cdef long long *stamps
    cdef Py_ssize_t capacity

    cdef int id_of(self, str name) except -1
    cdef dict take(self)


cdef inline void tally_add(Tally tally, int i):
    tally.counts[i] += 1


cdef inline void tally_add_once(Tally tally, int i, long long stamp):
    """Count ``i`` at most once per record (``stamp``: the record's serial)."""
    if tally.stamps[i] != stamp:
        tally.stamps[i] = stamp
        tally.counts[i] += 1


cdef int genotype_tallies(
    const int32_t *gt, int n_values, int n_samples, Alleles *alleles, long long *tallies
) except -1


cdef class AlleleClasses:
    cdef Tally tally
    cdef dict kinds  # (ref, alt) -> (class id, substitution)
    cdef int snv

    cdef void classify(self, Line *line, Alleles *alleles) except *


cdef void frequencies(Line *line, Alleles *alleles, object ac, object an, bint has_gt) except *


cdef class RecordCounts:
    cdef long long serial
    cdef long long records, alleles, in_dbsnp, rsid_from_input, rsid_from_common
    cdef long long lifted, unmapped, transitions, transversions
    cdef Tally regions, terms, genes
    cdef AlleleClasses classes
    cdef dict chromosomes  # records per chromosome, but for the current run:
    cdef str run_chrom  # the chromosome of the records counted in run_records
    cdef long long run_records
    cdef int best_region  # of the record being counted

    cdef void count_record(
        self, str chrom, Alleles *alleles, object rsid, bint rsid_from_input, object grch38,
        bint unmapped
    ) except *
    cdef void count_entry(self, EntryCounts *entry)
    cdef void end_record(self)
    cdef void _flush_chromosome(self) except *
    cdef void _reset(self)
    cdef dict take(self)
