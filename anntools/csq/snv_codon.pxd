# Augmenting declarations: Cython compiles snv_codon.py with these as C types (see setup.py).

cimport cython


@cython.locals(
    sbeg=cython.longlong,
    start=cython.longlong,
    aa_pos=cython.longlong,
    core=cython.longlong,
    codon_index=cython.longlong,
    k=cython.longlong,
    table=dict,
    triplet=str,
    ref_aa=str,
    alt_aa=str,
    kind=cython.longlong,
)
cpdef tuple codon_change(object tr, object cds, long long beg, str ref, str alt, str sref, object code)
