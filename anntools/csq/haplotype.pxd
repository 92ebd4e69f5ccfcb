# Types for the compiled haplotype.py (Cython pure-Python mode): the .py stays the
# mypy-checked reference and runs as plain Python; these declarations make the
# per-held-record objects C structs with typed fields and type the hot helpers' locals.
import cython


cdef class PhasedRecord:
    cdef public str chrom
    cdef public Py_ssize_t pos
    cdef public str ref
    cdef public tuple alts
    cdef public tuple haplotypes


cdef class _Edit:
    cdef public Py_ssize_t record, pos, tbeg, tend
    cdef public str ref, alt, talt


cdef class HeldGroup:
    cdef public object annotator
    cdef public dict carried
    cdef public list records
    cdef public dict transcripts
    cdef public dict placed
    cdef dict _walked
    cdef dict _walks
    cdef Py_ssize_t _shifted
    cdef bint _samples


@cython.locals(beg=Py_ssize_t)
cpdef tuple _trimmed(str ref, str alt, Py_ssize_t beg)

@cython.locals(beg=Py_ssize_t, end=Py_ssize_t, gbeg=Py_ssize_t, gend=Py_ssize_t,
               total=Py_ssize_t, core_ref=str, core_alt=str)
cpdef _Edit _place(object tr, Py_ssize_t index, Py_ssize_t pos, str ref, str alt)

@cython.locals(record=PhasedRecord, alt=str, edit=_Edit)
cpdef object _placed(object tr, str cds_seq, object code, object records, Py_ssize_t i,
                     Py_ssize_t allele)

cpdef Py_ssize_t _dlen(_Edit edit)

@cython.locals(i=Py_ssize_t, allele=Py_ssize_t, last_end=Py_ssize_t, genomic_beg=Py_ssize_t,
               genomic_end=Py_ssize_t, shift=Py_ssize_t, edit=_Edit, lead=_Edit,
               edits=list, known=dict)
cpdef dict _replacements(object annotator, object records, object alleles, dict transcripts,
                         object placed=*, object shifts=*)

cpdef dict haplotype_overrides(object annotator, object records, object transcripts=*,
                               object shifts=*, object placed=*)
