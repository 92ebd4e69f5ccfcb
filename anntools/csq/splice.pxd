# Augmenting declarations: Cython compiles splice.py with these as C types (see setup.py).

from anntools.csq.collector cimport Collector


cdef class Call:
    cdef public long long pos
    cdef public str ref
    cdef public str alt
    cdef public object fetch
    cdef public object code
    cdef public Collector out
    cdef public bint shortcuts
    cdef public bint snv
    cdef public long long allele


cdef class Splice:
    cdef public Call call
    cdef public object tr
    cdef public long long pos
    cdef public str ref
    cdef public str alt
    cdef public long long rlen
    cdef public long long alen
    cdef public long long tbeg
    cdef public long long tend
    cdef public long long ref_beg
    cdef public long long ref_end
    cdef public long long csq
    cdef public str kref
    cdef public str kalt
    cdef public bint check_acceptor
    cdef public bint check_donor
    cdef public bint check_region_beg
    cdef public bint check_region_end
    cdef public bint check_start
    cdef public bint check_stop
    cdef public bint check_utr
    cdef public bint set_refalt
