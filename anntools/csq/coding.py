"""Coding consequences of one variant in one CDS segment (bcftools csq ``-l``, local mode).

Port of csq.c's ``hap_init``, ``cds_translate`` and ``test_cds_local``: the
variant is applied to the spliced CDS, the affected codons of the reference
and of the alternate sequence are translated (to the end of the CDS, or the
first stop, for frameshifts), and the two peptides are compared.

Coordinates: genomic ones are 0-based; ``sbeg`` is a 0-based offset in the
spliced CDS (the first coding base of the transcript on the + strand is 0).
The spliced reference ``sref`` carries ``PAD`` flanking bases on each side,
exactly as bcftools builds it.
"""

from __future__ import annotations

from collections.abc import Callable

from anntools.csq import collector as bits
from anntools.csq.codons import GeneticCode
from anntools.csq.collector import Change
from anntools.csq.gff3 import Cds, Transcript
from anntools.csq.snv_codon import PAD, codon_change
from anntools.csq.splice import INSIDE, N_SPLICE_REGION_EXON, VAR_REF, Call, Splice
from anntools.model import Consequence


class TranslationError(RuntimeError):
    """The variant cannot be placed on the reverse-strand reading frame (bcftools asserts here)."""


class Node:
    """The variant placed on the CDS (csq.c's ``hap_node_t`` for one record)."""

    __slots__ = ("csq", "dlen", "rlen", "sbeg", "seq", "sss", "var")

    def __init__(self, sss: bool, csq: int, var: str) -> None:
        self.sss = sss  # start/stop/splice only: no coding prediction
        self.csq = csq
        self.var = var
        self.seq = ""
        self.sbeg = self.rlen = self.dlen = 0


def _c_div(a: int, b: int) -> int:
    """Integer division truncating toward zero, like C."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _c_mod(a: int, b: int) -> int:
    """Remainder with the sign of the dividend, like C."""
    return a - b * _c_div(a, b)


def spliced_reference(tr: Transcript, fetch: Callable[[int, int], str]) -> str:
    """The spliced CDS of ``tr`` with PAD flanking bases, cached on the transcript.

    As in bcftools, the left flank is the PAD bases before the first CDS and the
    right flank the first PAD bases of the last CDS segment.
    """
    cached = tr.cache.get("sref")
    if isinstance(cached, str):
        return cached
    first, last = tr.cds[0], tr.cds[-1]
    parts = [fetch(first.beg - PAD, first.beg)]
    parts.extend(fetch(cds.beg, cds.beg + cds.length) for cds in tr.cds)
    parts.append(fetch(last.beg, last.beg + PAD))
    sref = "".join(parts)
    tr.cache["sref"] = sref
    return sref


class Frames:
    """Peptides of the spliced CDS read in each of the three frames, for fast read-through.

    ``forward[f]`` translates the codons starting at CDS offsets f, f+3, ...
    (coding order of a + strand transcript); ``reverse[f]`` the reverse
    complements of the triplets starting at offsets congruent to f, from the
    highest offset down (coding order of a - strand transcript).
    """

    __slots__ = ("core", "forward", "reverse")

    def __init__(self, sref: str, code: GeneticCode) -> None:
        core = sref[PAD : len(sref) - PAD]
        self.core = len(core)
        triplets = [core[i : i + 3] for i in range(self.core - 2)]
        aa, aa_rev = code.aa, code.aa_rev
        self.forward = ["".join(aa(t) for t in triplets[f::3]) for f in range(3)]
        self.reverse = ["".join(aa_rev(t) for t in reversed(triplets[f::3])) for f in range(3)]

    def read_forward(self, offset: int) -> str:
        """Peptide from the codon at CDS ``offset`` to the end, cut after the first stop."""
        return _up_to_stop(self.forward[offset % 3], offset // 3)

    def read_reverse(self, offset: int) -> str:
        """Peptide from the triplet at CDS ``offset`` down to offset 0, cut after the first stop."""
        if offset < 0 or offset > self.core - 3:
            return ""
        frame = offset % 3
        top = frame + 3 * ((self.core - 3 - frame) // 3)
        return _up_to_stop(self.reverse[frame], (top - offset) // 3)


def _up_to_stop(peptide: str, start: int) -> str:
    """``_until_stop(peptide[start:])`` without copying the (possibly long) rest of the frame."""
    stop = peptide.find("*", start)
    return peptide[start:] if stop < 0 else peptide[start : stop + 1]


def frames_of(tr: Transcript, sref: str, code: GeneticCode) -> Frames:
    """The transcript's cached Frames."""
    cached = tr.cache.get("frames")
    if isinstance(cached, Frames):
        return cached
    frames = Frames(sref, code)
    tr.cache["frames"] = frames
    return frames


def _starts_with_methionine(tr: Transcript, cds: Cds, call: Call) -> bool:
    key = "start_m"
    cached = tr.cache.get(key)
    if isinstance(cached, bool):
        return cached
    if tr.forward:
        is_met = call.code.aa(call.fetch(cds.beg, cds.beg + 3)) == "M"
    else:
        end = cds.beg + cds.length
        is_met = call.code.aa_rev(call.fetch(end - 3, end)) == "M"
    tr.cache[key] = is_met
    return is_met


def _segment_checks(tr: Transcript, cds: Cds, call: Call) -> tuple[bool, bool, bool, bool]:
    """(check_start, check_stop, check_region_beg, check_region_end) of one CDS segment.

    They depend on the segment alone, so they are worked out once per
    transcript and kept in its cache (indexed by the segment's rank).
    """
    cached = tr.cache.get("segment_checks")
    if not isinstance(cached, dict):
        cached = tr.cache["segment_checks"] = {}
    checks: tuple[bool, bool, bool, bool] | None = cached.get(cds.icds)
    if checks is not None:
        return checks
    last = tr.ncds - 1
    check_start = check_stop = False
    if not tr.trim5:
        check_start = cds.icds == (0 if tr.forward else last)
    if not tr.trim3:
        check_stop = cds.icds == (last if tr.forward else 0)
    if check_start and not _starts_with_methionine(tr, cds, call):
        check_start = False  # incomplete CDS: no start to lose
    checks = cached[cds.icds] = (check_start, check_stop, cds.icds != 0, cds.icds != last)
    return checks


def place_variant(call: Call, tr: Transcript, cds: Cds) -> Node | None:
    """Port of hap_init: splice checks, then the variant's position and bases on the CDS.

    Returns None when the CDS segment is not affected (ALT == REF, or fully intronic).
    """
    splice = Splice(call, tr)
    splice.check_acceptor = splice.check_donor = splice.set_refalt = splice.check_utr = True
    (
        splice.check_start,
        splice.check_stop,
        splice.check_region_beg,
        splice.check_region_end,
    ) = _segment_checks(tr, cds, call)
    ret = splice.run(cds.beg, cds.end)
    if ret == VAR_REF:
        return None
    var = f"{call.ref}>{call.alt}"
    if ret != INSIDE or splice.csq == bits.START_LOST:  # OUTSIDE or OVERLAP: splice-level only
        return Node(True, splice.csq, var) if splice.csq else None
    node = Node(False, splice.csq & ~bits.SYNONYMOUS, var)
    ref_beg, kref_len, dbeg = splice.ref_beg, len(splice.kref), 0
    if ref_beg < cds.beg:  # the record overlaps the exon start but the variant fits inside
        dbeg = cds.beg - ref_beg
        kref_len -= dbeg
        ref_beg = cds.beg
    node.seq = splice.kalt[dbeg:]
    node.sbeg = cds.pos + (ref_beg - cds.beg)
    node.rlen = kref_len
    node.dlen = len(call.alt) - len(call.ref)
    if ref_beg + kref_len > cds.beg + cds.length:  # the whole CDS segment is modified
        node.sss = True
        if not node.csq:
            node.csq = bits.CODING_SEQUENCE
    return node


def translate_forward(
    sref: str, seq: str, sbeg: int, rbeg: int, rend: int, fill: Frames | None, code: GeneticCode
) -> str:
    """Peptide of ``seq`` placed at CDS offset ``sbeg``, codons completed from ``sref``.

    ``rbeg``/``rend`` delimit (half-open, CDS offsets) the reference bases ``seq``
    replaces; with ``fill`` (frameshifts) translation reads on to the end of the
    CDS, up to the first stop codon (the caller discards anything after it).
    """
    if not seq:
        return "?"
    table = code.forward
    npad = sbeg % 3
    head = sref[PAD + rbeg - npad : PAD + rbeg] + seq[: 3 - npad]
    out: list[str] = []
    if len(head) == 3:
        out.append(table.get(head, "X"))
        rest = seq[3 - npad :]
        full = len(rest) - len(rest) % 3
        out += [table.get(rest[k : k + 3], "X") for k in range(0, full, 3)]
        head = rest[full:]
    cursor = PAD + rend
    if head:
        need = 3 - len(head)
        out.append(table.get(head + sref[cursor : cursor + need], "X"))
        cursor += need
    if fill is not None and "*" not in out:
        out.append(fill.read_forward(cursor - PAD))
    return "".join(out)


def translate_reverse(
    sref: str,
    seq: str,
    total: int,
    sbeg: int,
    rbeg: int,
    rend: int,
    fill: Frames | None,
    code: GeneticCode,
) -> str:
    """As translate_forward for a - strand transcript; ``total``: CDS length after the change.

    Codons are read from the high coordinates downwards; the peptide is in
    coding order.
    """
    if not seq:
        return "?"
    npad = _c_mod(total - (sbeg + len(seq)), 3)
    if npad < 0 or sbeg + len(seq) + npad > total:
        raise TranslationError("variant beyond the reverse-strand reading frame")
    aa = code.aa_rev
    right = sref[PAD + rend : PAD + rend + npad]
    take = 3 - npad
    tail = seq[max(len(seq) - take, 0) :]
    out: list[str] = []
    leftover = ""
    if len(tail) == take:
        out.append(aa(tail + right))
        body = seq[: len(seq) - take]
        remainder = len(body) % 3
        for k in range(len(body) - 3, remainder - 1, -3):
            out.append(aa(body[k : k + 3]))
        leftover = body[:remainder]
    else:
        leftover = tail + right
    cursor = PAD + rbeg
    if leftover:
        need = 3 - len(leftover)
        out.append(aa(sref[cursor - need : cursor] + leftover))
        cursor -= need
    if fill is not None and "*" not in out:
        out.append(fill.read_reverse(cursor - 3 - PAD))
    return "".join(out)


def _until_stop(peptide: str) -> str:
    stop = peptide.find("*")
    return peptide if stop < 0 else peptide[: stop + 1]


def _classify(node: Node, tref: str, tseq: str) -> int:
    """Port of test_cds_local's comparison of the reference and alternate peptides."""
    csq = node.csq
    if csq & bits.STOP_LOST:
        if tref[-1] == "*" and tref[-1] == tseq[-1]:
            csq = (csq & ~bits.STOP_LOST) | bits.STOP_RETAINED
        elif tref[-1] != "*":
            # incomplete 3' CDS: there was no stop to lose
            if tseq[-1] == "*":
                csq = (csq & ~bits.STOP_GAINED) | bits.STOP_RETAINED
            else:
                csq |= bits.INCOMPLETE_CDS
    if csq & bits.START_LOST and tref[0] != "M":
        csq &= ~bits.START_LOST
    if node.dlen:
        if node.dlen % 3:
            csq |= bits.FRAMESHIFT
        else:
            csq |= bits.INFRAME_DELETION if node.dlen < 0 else bits.INFRAME_INSERTION
        if tref[-1] != "*" and tseq[-1] == "*":
            csq |= bits.STOP_GAINED
        return csq
    changed = False
    for j, ref_aa in enumerate(tref):
        alt_aa = tseq[j] if j < len(tseq) else ""
        if ref_aa == alt_aa:
            continue
        changed = True
        if ref_aa == "*":
            csq |= bits.STOP_LOST
        elif alt_aa == "*":
            csq |= bits.STOP_GAINED
        else:
            csq |= bits.MISSENSE
    return csq if changed else csq | bits.SYNONYMOUS


def annotate_cds(call: Call, tr: Transcript, cds: Cds) -> None:
    """Stage the consequences of ``call`` on the CDS segment ``cds`` of ``tr``."""
    pos = call.pos
    if call.snv and cds.beg + N_SPLICE_REGION_EXON <= pos <= cds.end - N_SPLICE_REGION_EXON:
        # no splice, start or stop check can fire this far inside: only the codon matters
        kind, change = snv_change(tr, cds, pos, call.ref, call.alt, call.fetch, call.code)
        call.out.push(kind, tr, call.allele, change)
        return
    node = place_variant(call, tr, cds)
    if node is None:
        return
    if node.sss:
        call.out.push(node.csq, tr, call.allele)
        return
    sref = spliced_reference(tr, call.fetch)
    fill = frames_of(tr, sref, call.code) if node.dlen % 3 and node.seq else None
    try:
        tref, tseq, aa_ref_pos, aa_alt_pos = _translate_both(call, tr, node, sref, fill)
    except TranslationError:
        call.out.push(node.csq | bits.CODING_SEQUENCE, tr, call.allele)
        return
    tref, tseq = _until_stop(tref), _until_stop(tseq)
    csq = _classify(node, tref, tseq)
    if csq & bits.COMPOUND:
        aa_change = f"{aa_ref_pos}{tref}"
        if not csq & bits.SYNONYMOUS:
            aa_change += f">{aa_alt_pos}{tseq}"
        change = (aa_change, f"{call.pos + 1}{node.var}")
        call.out.push(csq & bits.COMPOUND, tr, call.allele, change)
    if csq & ~bits.COMPOUND:
        call.out.push(csq & ~bits.COMPOUND, tr, call.allele)


def _translate_both(
    call: Call, tr: Transcript, node: Node, sref: str, fill: Frames | None
) -> tuple[str, str, int, int]:
    """(reference peptide, alternate peptide, their 1-based first residue numbers)."""
    core = len(sref) - 2 * PAD
    sbeg, rlen, alen = node.sbeg, node.rlen, len(node.seq)
    ref_seq = sref[PAD + sbeg : PAD + sbeg + rlen]
    if tr.forward:
        tseq = translate_forward(sref, node.seq, sbeg, sbeg, sbeg + rlen, fill, call.code)
        tref = translate_forward(sref, ref_seq, sbeg, sbeg, sbeg + rlen, fill, call.code)
        aa_ref_pos = aa_alt_pos = sbeg // 3 + 1
    else:
        tseq = translate_reverse(
            sref, node.seq, core + node.dlen, sbeg, sbeg, sbeg + rlen, fill, call.code
        )
        tref = translate_reverse(sref, ref_seq, core, sbeg, sbeg, sbeg + rlen, fill, call.code)
        aa_ref_pos = _c_div(core - sbeg - rlen, 3) + 1
        aa_alt_pos = _c_div(core + node.dlen - sbeg - alen, 3) + 1
    return tref, tseq, aa_ref_pos, aa_alt_pos


def snv_change(
    tr: Transcript,
    cds: Cds,
    beg: int,
    ref: str,
    alt: str,
    fetch: Callable[[int, int], str],
    code: GeneticCode,
) -> tuple[int, Change]:
    """Consequence bit and change of an SNV at 0-based ``beg`` >= 3 bases inside ``cds``.

    What annotate_cds finds for such an SNV, without the splice checks (none
    can fire there) or the general translation: exactly one codon changes.
    """
    return codon_change(tr, cds, beg, ref, alt, spliced_reference(tr, fetch), code)


_SNV_TERMS = {
    bits.SYNONYMOUS: ("synonymous",),
    bits.MISSENSE: ("missense",),
    bits.STOP_GAINED: ("stop_gained",),
    bits.STOP_LOST: ("stop_lost",),
}


def coding_snv(
    tr: Transcript,
    cds: Cds,
    beg: int,
    ref: str,
    alt: str,
    fetch: Callable[[int, int], str],
    code: GeneticCode,
) -> Consequence:
    """The Consequence of an SNV well inside ``cds`` that nothing else touches (see snv_change)."""
    return snv_consequence(tr, *snv_change(tr, cds, beg, ref, alt, fetch, code))


def snv_consequence(tr: Transcript, kind: int, change: Change) -> Consequence:
    """The Consequence of a coding SNV on ``tr`` from its bit and change (see snv_change)."""
    strand = "+" if tr.forward else "-"
    return Consequence(_SNV_TERMS[kind], tr.gene, tr.id, tr.biotype, strand, *change)
