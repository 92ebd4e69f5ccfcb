# Augmenting declarations: Cython compiles coding.py with these as C types (see setup.py).
# Call and Splice are cimported so that the checks read and write them as C structs.

from anntools.csq.splice cimport Call, Splice


cdef class Node:
    cdef public bint sss
    cdef public long long csq
    cdef public str var
    cdef public str seq
    cdef public long long sbeg
    cdef public long long rlen
    cdef public long long dlen
