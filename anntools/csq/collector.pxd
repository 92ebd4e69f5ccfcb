# Augmenting declarations: Cython compiles collector.py with these as C types (see setup.py).

cdef class _Entry:
    cdef public long long bits
    cdef public object transcript
    cdef public long long allele
    cdef public object change


cdef class Collector:
    cdef public list entries
