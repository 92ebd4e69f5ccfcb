"""Allele-level facts: variant class and transition/transversion.

Positions are VCF's 1-based coordinates. ``trim`` removes the bases REF and
ALT share (suffix first, then prefix, as VCF normalisation does) and returns
the 1-based position of the first remaining REF base.
"""

from __future__ import annotations

from functools import lru_cache

CLASSES = ("SNV", "MNV", "insertion", "deletion", "complex", "symbolic", "no_alt")
_TRANSITIONS = frozenset({("A", "G"), ("G", "A"), ("C", "T"), ("T", "C")})


def is_symbolic(alt: str) -> bool:
    """True for alleles that carry no bases: <DEL>, *, ., breakends."""
    return alt in ("*", ".") or alt.startswith("<") or "[" in alt or "]" in alt


def trim(pos: int, ref: str, alt: str) -> tuple[int, str, str]:
    """Strip the shared suffix, then the shared prefix; returns (pos, ref, alt)."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def classify(ref: str, alt: str) -> str:
    """One of CLASSES for one ALT allele."""
    if alt == ".":
        return "no_alt"
    if is_symbolic(alt):
        return "symbolic"
    _, ref, alt = trim(0, ref.upper(), alt.upper())
    if len(ref) == len(alt):
        return "SNV" if len(ref) == 1 else "MNV"
    if ref[0] == alt[0] and (len(ref) == 1 or len(alt) == 1):
        return "insertion" if len(alt) > len(ref) else "deletion"
    return "complex"


def substitution_kind(ref: str, alt: str) -> str | None:
    """'Ts' or 'Tv' for a single-base substitution, None for anything else."""
    if len(ref) != 1 or len(alt) != 1:
        return None
    pair = (ref.upper(), alt.upper())
    if pair[0] == pair[1] or "N" in pair:
        return None
    return "Ts" if pair in _TRANSITIONS else "Tv"


@lru_cache(maxsize=1 << 16)
def allele_kind(ref: str, alt: str) -> tuple[str, str | None]:
    """(class, "Ts"/"Tv"/None) of one ALT allele; cached, as inputs repeat few allele pairs."""
    if is_symbolic(alt):
        return classify(ref, alt), None
    _, trimmed_ref, trimmed_alt = trim(0, ref, alt)
    return classify(ref, alt), substitution_kind(trimmed_ref, trimmed_alt)
