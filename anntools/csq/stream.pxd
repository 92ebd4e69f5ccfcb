# Types for the compiled stream.py (Cython pure-Python mode; the .py stays the reference):
# the buffer's state in typed fields and the per-record hold with typed locals.
import cython

from anntools.csq.haplotype cimport HeldGroup, PhasedRecord


cdef class HaplotypeBuffer:
    cdef public object annotator
    cdef list _pending
    cdef list _held
    cdef bytes _chrom
    cdef long long _reach
    cdef object _called
    cdef object _pool
    cdef dict _coding
    cdef dict _spans
    cdef dict _names
    cdef dict _genotypes
    cdef long long _held_end
    cdef dict _shifts
    cdef dict _shift_ends
    cdef HeldGroup _group
    cdef object _window_contig
    cdef Py_ssize_t _window_beg
    cdef str _window

    @cython.locals(beg=Py_ssize_t, end=Py_ssize_t, name=str, ref=str, alts=str,
                   reached=list, record=PhasedRecord)
    cdef _hold(self, Py_ssize_t line_no, bytes chrom, list columns, list segments)

    @cython.locals(end=Py_ssize_t, offset=Py_ssize_t)
    cdef bint _ref_matches(self, object contig, Py_ssize_t beg, str ref) except -1


@cython.locals(seg_beg=Py_ssize_t, seg_end=Py_ssize_t, reached=list)
cpdef list _reached(list segments, Py_ssize_t beg, Py_ssize_t end)
