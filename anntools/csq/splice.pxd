# Augmenting declarations: Cython compiles splice.py with these as C types (see setup.py).
# Splice's methods are C methods (run also callable from Python): a check calls several.

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

    cpdef long long run(self, long long ex_beg, long long ex_end) except? -1
    cdef void _trim(self)
    cdef void _stage(self) except *
    cdef long long _stage_utr(self, long long beg, long long end) except? -1
    cdef void _strand_site(self, bint after_exon)
    cdef void _start_stop_at(self, bint five_prime_end_on_plus)
    cdef void _build_hap(self, long long beg, long long length) except *
    cdef bint _intron_side_synonymous(self, bint whole_region) except? -1
    cdef long long _mnp(self, long long ex_beg, long long ex_end) except? -1
    cdef void _exon_edges(self, long long ex_beg, long long ex_end, bint near_beg)
    cdef long long _ins(self, long long ex_beg, long long ex_end) except? -1
    cdef void _ins_refalt(self, long long ex_beg) except *
    cdef long long _ins_after(self, long long ex_end) except? -1
    cdef long long _ins_before(self, long long ex_beg) except? -1
    cdef long long _del(self, long long ex_beg, long long ex_end) except? -1
    cdef bint _del_refalt(self, long long ex_beg, long long ex_end) except? -1
    cdef void _del_intron_before(self, long long ex_beg) except *
    cdef void _del_intron_after(self, long long ex_end) except *
    cdef bint _shifted_del_synonymous(self, long long ex_beg, long long ex_end) except? -1
