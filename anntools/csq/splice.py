# cython: annotation_typing=False
# (splice.pxd gives the methods C signatures; Cython would read the annotations as Python
# types and reject them)
"""Where a variant sits relative to one feature: splice sites, start/stop, UTR edges.

A port of csq.c's ``splice_csq`` family. Given a variant and one feature
(a CDS segment, a UTR, an exon or a whole transcript, ``[ex_beg, ex_end]``
0-based closed) it trims the alleles, sets splice_donor / splice_acceptor /
splice_region / start_lost / stop_lost bits, stages UTR and splice
consequences into the record's Collector, and tells the caller whether the
variant lies inside the feature (so coding consequences are worth computing).

All coordinates are 0-based; ``pos`` is the VCF POS - 1.
"""

from __future__ import annotations

from collections.abc import Callable

from anntools.csq import collector as bits
from anntools.csq.codons import GeneticCode
from anntools.csq.collector import Collector
from anntools.csq.gff3 import Transcript

N_SPLICE_DONOR = 2
N_SPLICE_REGION_EXON = 3
N_SPLICE_REGION_INTRON = 8

VAR_REF = 0  # ALT equals REF once trimmed: not a variant
OUTSIDE = 1  # does not overlap the feature; splice bits (if any) already staged
INSIDE = 2  # overlaps the feature; coding consequences may follow
OVERLAP = 3  # straddles a boundary; bits set but no coding prediction possible


class Call:
    """One ALT allele of one VCF record, with what the checks need to read and write.

    ``pos`` is 0-based; ``fetch(beg, end)`` returns reference bases [beg, end)
    of the record's contig (N outside it). ``shortcuts`` (set only when the
    caller allows them, and never for ALT == REF) lets the checks skip work
    whose outcome is known (see engine); ``snv`` further marks a single-base
    substitution.
    """

    __slots__ = ("allele", "alt", "code", "fetch", "out", "pos", "ref", "shortcuts", "snv")

    def __init__(
        self,
        pos: int,
        ref: str,
        alt: str,
        fetch: Callable[[int, int], str],
        code: GeneticCode,
        out: Collector,
        shortcuts: bool = False,
    ) -> None:
        self.shortcuts = shortcuts and ref != alt
        self.snv = self.shortcuts and len(ref) == 1 and len(alt) == 1
        self.pos = pos
        self.ref = ref
        self.alt = alt
        self.fetch = fetch
        self.code = code
        self.out = out
        self.allele = 1


class Splice:
    """The state csq.c keeps in ``splice_t`` while testing one variant against one feature."""

    __slots__ = (
        "alen",
        "alt",
        "call",
        "check_acceptor",
        "check_donor",
        "check_region_beg",
        "check_region_end",
        "check_start",
        "check_stop",
        "check_utr",
        "csq",
        "kalt",
        "kref",
        "pos",
        "ref",
        "ref_beg",
        "ref_end",
        "rlen",
        "set_refalt",
        "tbeg",
        "tend",
        "tr",
    )

    def __init__(self, call: Call, tr: Transcript, csq: int = 0) -> None:
        self.call = call
        self.tr = tr
        self.pos = call.pos
        self.ref = call.ref
        self.alt = call.alt
        self.rlen = len(call.ref)
        self.alen = len(call.alt)
        self.tbeg = self.tend = self.ref_beg = self.ref_end = 0
        self.csq = csq
        self.kref = self.kalt = ""
        self.check_acceptor = self.check_donor = False
        self.check_start = self.check_stop = False
        self.check_region_beg = self.check_region_end = False
        self.check_utr = self.set_refalt = False

    # ----------------------------------------------------------------- entry
    def run(self, ex_beg: int, ex_end: int) -> int:
        """Test the variant against [ex_beg, ex_end]: VAR_REF, OUTSIDE, INSIDE or OVERLAP."""
        self._trim()
        if self.rlen == self.alen:
            return self._mnp(ex_beg, ex_end)
        if self.rlen < self.alen:
            return self._ins(ex_beg, ex_end)
        return self._del(ex_beg, ex_end)

    def _trim(self) -> None:
        """Count bases shared at the right end (tend), then at the left end (tbeg)."""
        ref, alt = self.ref, self.alt
        self.alen = len(alt)
        rlen1, alen1 = self.rlen - 1, self.alen - 1
        i = 0
        while i <= rlen1 and i <= alen1 and ref[rlen1 - i] == alt[alen1 - i]:
            i += 1
        self.tend = i
        rlen1 -= i
        alen1 -= i
        i = 0
        while i <= rlen1 and i <= alen1 and ref[i] == alt[i]:
            i += 1
        self.tbeg = i

    # --------------------------------------------------------------- staging
    def _stage(self) -> None:
        if self.csq:
            self.call.out.push(self.csq, self.tr, self.call.allele)

    def _stage_utr(self, beg: int, end: int) -> int:
        """Report the UTR of this transcript overlapping [beg, end], carrying the bits so far."""
        utr = self.tr.utr_index.first_overlapping(beg, end)
        if utr is None:
            return 0
        kind = (bits.UTR5 if utr.five_prime else bits.UTR3) | self.csq
        self.call.out.push(kind, self.tr, self.call.allele)
        return kind

    def _strand_site(self, after_exon: bool) -> None:
        """Donor or acceptor, depending on strand and on which side of the exon the intron is."""
        donor_side = after_exon == self.tr.forward
        if donor_side and self.check_donor:
            self.csq |= bits.SPLICE_DONOR
        if not donor_side and self.check_acceptor:
            self.csq |= bits.SPLICE_ACCEPTOR

    def _start_stop_at(self, five_prime_end_on_plus: bool) -> None:
        """start_lost/stop_lost when the variant touches the first or last codon's exon end."""
        if five_prime_end_on_plus == self.tr.forward:
            if self.check_start:
                self.csq |= bits.START_LOST
        elif self.check_stop:
            self.csq |= bits.STOP_LOST

    # ---------------------------------------------------------- haplotype
    def _build_hap(self, beg: int, length: int) -> None:
        """Reference (kref) and alternate (kalt) sequence of ``length`` bases from ``beg``.

        Port of splice_build_hap: positive length fills from ``beg`` rightwards.
        """
        fetch, pos = self.call.fetch, self.pos
        rbeg = abeg = beg
        rlen = alen = length
        kref = fetch(rbeg, pos) if rbeg < pos else ""
        roff = 0 if rbeg < pos else rbeg - pos
        if roff < self.rlen and len(kref) < rlen:
            take = min(self.rlen - roff, rlen - len(kref))
            kref += self.ref[roff : roff + take]
        end = pos + self.rlen
        if len(kref) < rlen:
            overshoot = end + rlen - len(kref) - 1 - self.tr.end
            if overshoot > 0:
                rlen -= overshoot
            if len(kref) < rlen:
                kref += fetch(end, end + rlen - len(kref))
        kalt = fetch(abeg, pos) if abeg < pos else ""
        aoff = 0 if abeg < pos else abeg - pos
        if aoff < self.alen and len(kalt) < alen:
            take = min(self.alen - aoff, alen - len(kalt))
            kalt += self.alt[aoff : aoff + take]
            aoff -= take
        aoff = 0 if aoff < 0 else aoff - 1
        if len(kalt) < alen:
            overshoot = end + alen + aoff - len(kalt) - 1 - self.tr.end
            if overshoot > 0:
                alen -= overshoot
            if alen > 0 and alen > len(kalt):
                kalt += fetch(end + aoff, end + aoff + alen - len(kalt))
        self.kref, self.kalt = kref, kalt

    def _intron_side_synonymous(self, whole_region: bool) -> bool:
        """True when the intronic bases just built are unchanged (a shifted indel)."""
        if not self.set_refalt:
            return False
        if whole_region:
            return self.kref[:N_SPLICE_REGION_INTRON] == self.kalt[:N_SPLICE_REGION_INTRON]
        lo = N_SPLICE_REGION_INTRON - N_SPLICE_DONOR
        return self.kref[lo:N_SPLICE_REGION_INTRON] == self.kalt[lo:N_SPLICE_REGION_INTRON]

    # ------------------------------------------------------------------ SNV/MNP
    def _mnp(self, ex_beg: int, ex_end: int) -> int:
        if self.tbeg + self.tend == self.rlen:
            return VAR_REF
        self.ref_beg = self.pos + self.tbeg
        self.ref_end = self.pos + self.rlen - self.tend - 1
        if self.ref_beg < ex_beg:
            if self.check_region_beg and not (
                self.check_utr and self._stage_utr(self.ref_beg, ex_beg - 1)
            ):
                if (
                    self.ref_end >= ex_beg - N_SPLICE_REGION_INTRON
                    and self.ref_beg < ex_beg - N_SPLICE_DONOR
                ):
                    self.csq |= bits.SPLICE_REGION
                if self.ref_end >= ex_beg - N_SPLICE_DONOR:
                    self._strand_site(after_exon=False)
            if self.ref_end >= ex_beg:
                self.tbeg = self.ref_beg - self.pos  # as csq.c: recomputed from the untrimmed start
                self.ref_beg = ex_beg
        if ex_end < self.ref_end:
            if self.check_region_end and not (
                self.check_utr and self._stage_utr(ex_end + 1, self.ref_end)
            ):
                if (
                    self.ref_beg <= ex_end + N_SPLICE_REGION_INTRON
                    and self.ref_end > ex_end + N_SPLICE_DONOR
                ):
                    self.csq |= bits.SPLICE_REGION
                if self.ref_beg <= ex_end + N_SPLICE_DONOR:
                    self._strand_site(after_exon=True)
            if self.ref_beg <= ex_end:
                self.tend = self.rlen - (self.ref_end - self.pos + 1)
                self.ref_end = ex_end
        if self.ref_end < ex_beg or self.ref_beg > ex_end:
            self._stage()
            return OUTSIDE
        self._exon_edges(ex_beg, ex_end, self.ref_beg < ex_beg + N_SPLICE_REGION_EXON)
        if self.set_refalt:
            self.rlen -= self.tbeg + self.tend
            self.kref = self.ref[self.tbeg : self.tbeg + self.rlen]
            self.kalt = self.alt[self.tbeg : self.tbeg + self.rlen]
        self._stage()
        return INSIDE

    def _exon_edges(self, ex_beg: int, ex_end: int, near_beg: bool) -> None:
        """splice_region in the exon's outer 3 bases; start/stop when at the CDS ends."""
        if near_beg:
            if self.check_region_beg:
                self.csq |= bits.SPLICE_REGION
            self._start_stop_at(five_prime_end_on_plus=True)
        if self.ref_end > ex_end - N_SPLICE_REGION_EXON:
            if self.check_region_end:
                self.csq |= bits.SPLICE_REGION
            self._start_stop_at(five_prime_end_on_plus=False)

    # -------------------------------------------------------------- insertion
    def _ins(self, ex_beg: int, ex_end: int) -> int:
        # the bases flanking the inserted sequence are what matter
        if self.tbeg or self.ref[0] != self.alt[0]:
            self.ref_beg = self.pos + self.tbeg - 1
            self.ref_end = self.pos + self.rlen - self.tend
        else:
            if self.tend:
                self.tend -= 1
            self.ref_beg = self.pos
            self.ref_end = self.pos + self.rlen - self.tend
        if self.ref_beg >= ex_end:
            return self._ins_after(ex_end)
        if self.ref_end < ex_beg or (self.ref_end == ex_beg and not self.check_region_beg):
            return self._ins_before(ex_beg)
        if self.ref_beg <= ex_beg + 2:
            if self.check_region_beg:
                self.csq |= bits.SPLICE_REGION
            self._start_stop_at(five_prime_end_on_plus=True)
        if self.ref_end > ex_end - 2:
            if self.check_region_end:
                self.csq |= bits.SPLICE_REGION
            self._start_stop_at(five_prime_end_on_plus=False)
        if self.set_refalt:
            self._ins_refalt(ex_beg)
        self._stage()
        return INSIDE

    def _ins_refalt(self, ex_beg: int) -> None:
        if self.ref_beg < self.pos:  # too much trimmed from the right
            shift = self.pos - self.ref_beg
            self.tbeg += shift
            if self.tbeg + self.tend == self.rlen:
                self.tend -= shift
            self.ref_beg = self.pos
        if self.ref_end == ex_beg:
            self.tend -= 1  # keep a non-empty ref allele
        self._build_hap(self.ref_beg, self.alen - self.tend - self.tbeg + 1)
        self.rlen -= self.tbeg + self.tend - 1
        if 0 <= self.rlen < len(self.kref):
            self.kref = self.kref[: self.rlen]

    def _ins_after(self, ex_end: int) -> int:
        if self.check_utr and self._stage_utr(self.ref_beg + 1, self.ref_beg + 1):
            return OUTSIDE
        if not self.check_region_end:
            return OUTSIDE
        if self.set_refalt:
            self._build_hap(ex_end + 1, N_SPLICE_REGION_INTRON)
        if (
            self.ref_beg < ex_end + N_SPLICE_REGION_INTRON
            and self.ref_end > ex_end + N_SPLICE_DONOR
        ):
            self.csq |= bits.SPLICE_REGION
            if self._intron_side_synonymous(True):
                self.csq |= bits.SYNONYMOUS
        if self.ref_beg < ex_end + N_SPLICE_DONOR:
            self._strand_site(after_exon=True)
            if self.set_refalt and self.kref[:N_SPLICE_DONOR] == self.kalt[:N_SPLICE_DONOR]:
                self.csq |= bits.SYNONYMOUS
        self._stage()
        return OUTSIDE

    def _ins_before(self, ex_beg: int) -> int:
        if self.check_utr and self._stage_utr(self.ref_end - 1, self.ref_end - 1):
            return OUTSIDE
        if not self.check_region_beg:
            return OUTSIDE
        if self.set_refalt:
            self._build_hap(ex_beg - N_SPLICE_REGION_INTRON, N_SPLICE_REGION_INTRON)
        if (
            self.ref_end > ex_beg - N_SPLICE_REGION_INTRON
            and self.ref_beg < ex_beg - N_SPLICE_DONOR
        ):
            self.csq |= bits.SPLICE_REGION
            if self._intron_side_synonymous(True):
                self.csq |= bits.SYNONYMOUS
        if self.ref_end > ex_beg - N_SPLICE_DONOR:
            self._strand_site(after_exon=False)
            if self._intron_side_synonymous(False):
                self.csq |= bits.SYNONYMOUS
        self._stage()
        return OUTSIDE

    # --------------------------------------------------------------- deletion
    def _del(self, ex_beg: int, ex_end: int) -> int:
        if self.check_start and self._shifted_del_synonymous(ex_beg, ex_end):
            self.csq |= bits.START_RETAINED
            return OVERLAP
        self.ref_beg = self.pos + self.tbeg - 1  # the base before the deleted ones
        self.ref_end = self.pos + self.rlen - self.tend - 1  # the last deleted base
        if self.ref_beg + 1 < ex_beg:
            if self.check_region_beg:
                self._del_intron_before(ex_beg)
            if self.ref_end >= ex_beg:
                self.tbeg = self.ref_beg - self.pos + 1
                self.ref_beg = ex_beg - 1
                if self.tbeg + self.tend == self.alen:
                    # overlaps the exon start and cannot be realigned to the right
                    if not self.tend:
                        self.csq |= bits.CODING_SEQUENCE
                        return OVERLAP
                    self.tend -= 1
        if ex_end < self.ref_end:
            if self.check_region_end:
                self._del_intron_after(ex_end)
            if self.ref_beg < ex_end:
                self.tend = self.rlen - (self.ref_end - self.pos + 1)
                self.ref_end = ex_end
        if self.ref_end < ex_beg or self.ref_beg >= ex_end:
            self._stage()
            return OUTSIDE
        if self.ref_beg < ex_beg + 2:
            if self.check_region_beg:
                self.csq |= bits.SPLICE_REGION
            self._start_stop_at(five_prime_end_on_plus=True)
        if self.ref_end > ex_end - 3:
            if self.check_region_end:
                self.csq |= bits.SPLICE_REGION
            self._start_stop_at(five_prime_end_on_plus=False)
        if self.set_refalt and self._del_refalt(ex_beg, ex_end):
            return OVERLAP
        self._stage()
        return INSIDE

    def _del_refalt(self, ex_beg: int, ex_end: int) -> bool:
        """Trimmed alleles for the coding prediction; True when the deletion straddles an edge."""
        if self.tbeg > 0:
            self.tbeg -= 1
        trimmed = self.tbeg + self.tend
        if self.rlen > trimmed and self.alen > trimmed:
            self.rlen -= trimmed
            self.alen -= trimmed
        self.kref = self.ref[self.tbeg : self.tbeg + self.rlen]
        self.kalt = self.alt[self.tbeg : self.tbeg + self.alen]
        straddles = (self.ref_beg + 1 < ex_beg and self.ref_end >= ex_beg) or (
            self.ref_beg + 1 < ex_end and self.ref_end >= ex_end
        )
        if straddles:
            deleted = self.ref_end - self.ref_beg
            self.csq |= bits.FRAMESHIFT if deleted % 3 else bits.INFRAME_DELETION
        return straddles

    def _del_intron_before(self, ex_beg: int) -> None:
        if self.check_utr and self._stage_utr(self.ref_beg, ex_beg - 1):
            return
        if self.set_refalt:
            # filled from the right, see bcftools test ENST00000341065/frame3.vcf
            self._build_hap(ex_beg - N_SPLICE_REGION_INTRON, N_SPLICE_REGION_INTRON)
        if (
            self.ref_end >= ex_beg - N_SPLICE_REGION_INTRON
            and self.ref_beg < ex_beg - N_SPLICE_DONOR
        ):
            self.csq |= bits.SPLICE_REGION
            if self._intron_side_synonymous(True):
                self.csq |= bits.SYNONYMOUS
        if self.ref_end >= ex_beg - N_SPLICE_DONOR:
            self._strand_site(after_exon=False)
            if self._intron_side_synonymous(False):
                self.csq |= bits.SYNONYMOUS

    def _del_intron_after(self, ex_end: int) -> None:
        if self.check_utr and self._stage_utr(ex_end + 1, self.ref_end):
            return
        if self.set_refalt:
            self._build_hap(ex_end + 1, N_SPLICE_REGION_INTRON)
        if (
            self.ref_beg < ex_end + N_SPLICE_REGION_INTRON
            and self.ref_end > ex_end + N_SPLICE_DONOR
        ):
            self.csq |= bits.SPLICE_REGION
            if self._intron_side_synonymous(True):
                self.csq |= bits.SYNONYMOUS
        if self.ref_beg < ex_end + N_SPLICE_DONOR:
            self._strand_site(after_exon=True)
            if self._intron_side_synonymous(False):
                self.csq |= bits.SYNONYMOUS

    def _shifted_del_synonymous(self, ex_beg: int, ex_end: int) -> bool:
        """Whether a deletion at the start codon can be realigned so that the start survives."""
        if not self.tr.forward and self.pos + self.rlen + 2 <= ex_end:
            return False
        if self.tr.forward and self.pos >= ex_beg + 3:
            return False
        ndel = len(self.ref) - len(self.alt)
        deleted = self.ref[len(self.alt) :]
        if not self.tr.forward:
            ref_end = self.pos + len(self.ref) - 1
            if ref_end + ndel > self.tr.end + 10:  # beyond bcftools' cached padding
                return False
            return self.call.fetch(ref_end + 1, ref_end + 1 + len(deleted)) == deleted
        block_beg = self.pos + len(self.ref) - 2 * ndel
        if block_beg < 0 or 10 + block_beg < ex_beg:
            return False
        return self.call.fetch(block_beg, block_beg + len(deleted)) == deleted
