"""HGVS p. notation from the genome sequence, as Ensembl VEP writes it (``p.Val600Glu``).

``protein_hgvs`` places a VCF allele in a transcript's coding sequence (the
engine's gene model, anntools.csq), translates the reference and the changed
sequence, and compares the two peptides:

* substitution ``p.Val600Glu``, nonsense ``p.Arg213Ter``, synonymous ``p.Leu3=``;
* start codon changed ``p.Met1?``; stop lost ``p.Ter394ArgextTer12`` (``extTer?``
  when no new stop is in reach);
* frameshift ``p.Arg97GlyfsTer23``;
* in-frame ``p.Lys5del``, ``p.Lys5_Gly7del``, ``p.Lys5_Gly6insArgSer``, ``p.Lys5dup``,
  ``p.Lys5_Gly7dup``, ``p.Lys5delinsArgSer``, ``p.Lys5_Gly7delinsTrp``.

Changes are written at their most C-terminal place (HGVS' 3' rule: the
peptides are compared from the N-terminus first). An allele that reaches
outside the coding exons (across a splice site, into a UTR) gets no p.
notation (None), as in VEP.
"""

from __future__ import annotations

from collections.abc import Callable

from anntools.csq.codons import GeneticCode, reverse_complement
from anntools.csq.gff3 import Transcript

THREE_LETTER = {
    "A": "Ala",
    "R": "Arg",
    "N": "Asn",
    "D": "Asp",
    "C": "Cys",
    "Q": "Gln",
    "E": "Glu",
    "G": "Gly",
    "H": "His",
    "I": "Ile",
    "L": "Leu",
    "K": "Lys",
    "M": "Met",
    "F": "Phe",
    "P": "Pro",
    "S": "Ser",
    "T": "Thr",
    "W": "Trp",
    "Y": "Tyr",
    "V": "Val",
    "U": "Sec",
    "*": "Ter",
    "X": "Xaa",
}
# Bases read past the coding sequence (3' UTR exons, then the genome) when a
# frameshift or a lost stop runs on: VEP's "Ter?" beyond this.
READ_THROUGH_BASES = 3000

Fetch = Callable[[int, int], str]  # 0-based half-open genome slice, upper case


def three_letter(peptide: str) -> str:
    return "".join(THREE_LETTER.get(aa, "Xaa") for aa in peptide)


def protein_hgvs(
    tr: Transcript, pos: int, ref: str, alt: str, fetch: Fetch, code: GeneticCode
) -> str | None:
    """The p. notation of one ALT allele (1-based VCF ``pos``) on ``tr``, or None.

    None when the transcript has no usable coding sequence or the allele
    does not lie wholly within coding exons.
    """
    if not (tr.coding and tr.cds_indexed and tr.cds):
        return None
    start, ref, alt = _trim(pos - 1, ref.upper(), alt.upper())
    cds = _coding_sequence(tr, fetch)
    place = _cds_offset(tr, start, len(ref), len(cds))
    if place is None:
        return None
    if not tr.forward:
        ref, alt = reverse_complement(ref), reverse_complement(alt)
    if cds[place : place + len(ref)] != ref:
        return None  # the VCF's REF is not the genome's
    reference = _reference_peptide(tr, cds, code)
    if not reference:
        return None  # a coding sequence shorter than a codon
    codons = _codons(place, len(ref))
    changed = cds[codons.start * 3 : place] + alt + cds[place + len(ref) :]
    variant = reference[: codons.start] + _changed_peptide(
        reference, changed, codons, ref, alt, code
    )
    if reference.endswith("*") and not variant.endswith("*"):
        # the stop was lost or shifted: read on into the 3' UTR for the new one
        variant = reference[: codons.start] + _translate(changed + _read_through(tr, fetch), code)
    return "p." + describe(reference, variant, codons, len(alt) - len(ref))


def _changed_peptide(
    reference: str, changed: str, codons: range, ref: str, alt: str, code: GeneticCode
) -> str:
    """The peptide from the first changed codon on. Codons before it are the reference's;
    so are those after a change of as many bases as it replaces, which is translated alone."""
    if len(ref) != len(alt) or not codons:
        return _translate(changed, code)
    middle = _translate(changed[: 3 * len(codons)], code)
    return middle if middle.endswith("*") else middle + reference[codons.stop :]


def _reference_peptide(tr: Transcript, cds: str, code: GeneticCode) -> str:
    cached = tr.cache.get("hgvs_peptide")
    if isinstance(cached, str):
        return cached
    peptide = _translate(cds, code)
    tr.cache["hgvs_peptide"] = peptide
    return peptide


def _codons(place: int, length: int) -> range:
    """The reference codons (0-based) whose bases the change replaces; an insertion between
    two codons replaces none, one inside a codon replaces that codon."""
    if length:
        return range(place // 3, (place + length - 1) // 3 + 1)
    return range(place // 3, place // 3 + (1 if place % 3 else 0))


def describe(reference: str, variant: str, codons: range, shift: int) -> str:
    """The p. description (without ``p.``) of ``variant`` against ``reference``.

    Both peptides start at residue 1 and run to their first stop (``*``) or
    as far as translated. ``codons`` are the reference codons the DNA change
    replaces (its first is the synonymous position); ``shift`` is the change
    in length, in bases (ALT minus REF).
    """
    same = _common_prefix(reference, variant)
    if same >= len(reference):
        codon = min(codons.start, len(reference) - 1)
        return f"{three_letter(reference[codon])}{codon + 1}="
    if same == 0 and reference[0] == "M":
        return "Met1?"
    here = f"{three_letter(reference[same])}{same + 1}"
    if reference[same] == "*":
        return f"{here}{three_letter(variant[same : same + 1])}ext{_ter(variant, same, 0)}"
    if same < len(variant) and variant[same] == "*":
        return f"{here}Ter"
    if shift % 3:
        return f"{here}{three_letter(variant[same : same + 1])}fs{_ter(variant, same, 1)}"
    return _in_frame(reference, variant, same, codons, shift // 3)


def _ter(peptide: str, start: int, first: int) -> str:
    """``Ter<n>``: the new stop's place counted from ``start`` (numbered ``first``), or ``Ter?``."""
    stop = peptide.find("*", start)
    return "Ter?" if stop < 0 else f"Ter{stop - start + first}"


def _in_frame(reference: str, variant: str, same: int, codons: range, residues: int) -> str:
    """Deletion, insertion, duplication or delins between residues that stay the same.

    A variant that stops early (shorter than the ``residues`` gained or lost
    explain) shares no C-terminus with the reference: what it replaces is then
    the reference residues of the changed codons.
    """
    if variant.endswith("*") and len(variant) < len(reference) + residues:
        removed = reference[same : max(same, codons.stop)]
        added = variant[same:]
    else:
        tail = _common_suffix(reference[same:], variant[same:])
        removed = reference[same : len(reference) - tail]
        added = variant[same : len(variant) - tail]
    if len(removed) == 1 and len(added) == 1:
        return f"{three_letter(removed)}{same + 1}{three_letter(added)}"
    span = _span(reference, same, len(removed))
    if not added:
        return f"{span}del"
    if not removed:
        return _insertion(reference, same, added)
    return f"{span}delins{three_letter(added)}"


def _insertion(reference: str, same: int, added: str) -> str:
    """Residues ``added`` between residues ``same`` and ``same + 1`` (1-based): ins or dup."""
    size = len(added)
    if same >= size and reference[same - size : same] == added:
        return f"{_span(reference, same - size, size)}dup"
    before = f"{three_letter(reference[same - 1])}{same}"
    after = f"{three_letter(reference[same])}{same + 1}"
    return f"{before}_{after}ins{three_letter(added)}"


def _span(reference: str, first: int, count: int) -> str:
    """``Lys5`` or ``Lys5_Gly7``: residues ``first`` (0-based) to ``first + count - 1``."""
    start = f"{three_letter(reference[first])}{first + 1}"
    if count <= 1:
        return start
    last = first + count - 1
    return f"{start}_{three_letter(reference[last])}{last + 1}"


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _common_suffix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return n


def _trim(start: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Drop the bases REF and ALT share (first at the end, then at the start)."""
    while ref and alt and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt, start = ref[1:], alt[1:], start + 1
    return start, ref, alt


def _coding_sequence(tr: Transcript, fetch: Fetch) -> str:
    """The spliced coding sequence in coding orientation, cached on the transcript."""
    cached = tr.cache.get("hgvs_cds")
    if isinstance(cached, str):
        return cached
    forward = "".join(fetch(cds.beg, cds.beg + cds.length) for cds in tr.cds)
    sequence = forward if tr.forward else reverse_complement(forward)
    tr.cache["hgvs_cds"] = sequence
    return sequence


def _cds_offset(tr: Transcript, start: int, length: int, total: int) -> int | None:
    """Offset in the coding-oriented CDS of the genome bases [start, start + length).

    For an insertion (``length`` 0) the point between ``start - 1`` and ``start``,
    both coding bases of one segment. None when any base is outside the CDS.
    """
    first, last = (start - 1, start) if length == 0 else (start, start + length - 1)
    for cds in tr.cds:
        if cds.beg <= first and last <= cds.end:
            genomic = cds.pos + first - cds.beg  # offset of ``first`` in genome order
            if tr.forward:
                return genomic + 1 if length == 0 else genomic
            return total - 1 - genomic if length == 0 else total - genomic - length
    return None


def _read_through(tr: Transcript, fetch: Fetch) -> str:
    """Bases after the coding sequence, in coding orientation: the rest of the transcript's
    exons, then the genome, READ_THROUGH_BASES in all."""
    cached = tr.cache.get("hgvs_tail")
    if isinstance(cached, str):
        return cached
    parts: list[str] = []
    if tr.forward:
        end = tr.cds[-1].end
        for exon in sorted(tr.exons, key=lambda e: e.beg):
            if exon.end > end:
                parts.append(fetch(max(exon.beg, end + 1), exon.end + 1))
        parts.append(fetch(tr.end + 1, tr.end + 1 + READ_THROUGH_BASES))
        tail = "".join(parts)
    else:
        beg = tr.cds[0].beg
        for exon in sorted(tr.exons, key=lambda e: e.beg):
            if exon.beg < beg:
                parts.append(fetch(exon.beg, min(exon.end + 1, beg)))
        tail = reverse_complement(
            fetch(max(tr.beg - READ_THROUGH_BASES, 0), tr.beg) + "".join(parts)
        )
    tail = tail[:READ_THROUGH_BASES]
    tr.cache["hgvs_tail"] = tail
    return tail


def _translate(sequence: str, code: GeneticCode) -> str:
    """Codons from the start to the first stop (included), or to the end of the sequence."""
    table = code.forward
    peptide = []
    for i in range(0, len(sequence) - 2, 3):
        aa = table.get(sequence[i : i + 3], "X")
        peptide.append(aa)
        if aa == "*":
            break
    return "".join(peptide)
