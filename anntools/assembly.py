"""Which reference assembly a VCF was called against.

The engine annotates on GRCh38, so every input must be placed on an assembly
first: GRCh38 (used as is), GRCh37 or NCBI36 (lifted over), or rCRS (the
mitochondrial reference, which GRCh38's chrM and GRCh37's MT already are).

Evidence, strongest first:

1. an explicit assembly from the caller (``--assembly``);
2. only mitochondrial records: rCRS, whatever the header says;
3. ``##contig`` lengths of the nuclear chromosomes, which differ per assembly;
4. the ``##reference`` line (``human_b36_both.fasta``, ``hg19``, ``GRCh38``...);
5. a reference file named on a tool's command line in the header (GATK's
   ``reference_sequence=.../human_g1k_v37.fasta``, ``--reference``, ``-R``);
6. an assembly name anywhere else in the header (``..._hg19.bed``), if only one.

Chromosome naming (``chr1`` vs ``1``) names no assembly by itself and is used
only to recognise mitochondrial records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from anntools.errors import AnnotationError

GRCH38 = "GRCh38"
GRCH37 = "GRCh37"
NCBI36 = "NCBI36"
RCRS = "rCRS"
ASSEMBLIES = (GRCH38, GRCH37, NCBI36, RCRS)

MITOCHONDRIAL_NAMES = frozenset({"MT", "M", "CHRM", "CHRMT", "NC_012920", "NC_012920.1"})

# Nuclear chromosome lengths (bp), checked against the UCSC chain file headers.
_CHROM_LENGTHS: dict[str, dict[str, int]] = {
    NCBI36: {
        "1": 247249719, "2": 242951149, "3": 199501827, "4": 191273063,
        "5": 180857866, "6": 170899992, "7": 158821424, "8": 146274826,
        "9": 140273252, "10": 135374737, "11": 134452384, "12": 132349534,
        "13": 114142980, "14": 106368585, "15": 100338915, "16": 88827254,
        "17": 78774742, "18": 76117153, "19": 63811651, "20": 62435964,
        "21": 46944323, "22": 49691432, "X": 154913754, "Y": 57772954,
    },
    GRCH37: {
        "1": 249250621, "2": 243199373, "3": 198022430, "4": 191154276,
        "5": 180915260, "6": 171115067, "7": 159138663, "8": 146364022,
        "9": 141213431, "10": 135534747, "11": 135006516, "12": 133851895,
        "13": 115169878, "14": 107349540, "15": 102531392, "16": 90354753,
        "17": 81195210, "18": 78077248, "19": 59128983, "20": 63025520,
        "21": 48129895, "22": 51304566, "X": 155270560, "Y": 59373566,
    },
    GRCH38: {
        "1": 248956422, "2": 242193529, "3": 198295559, "4": 190214555,
        "5": 181538259, "6": 170805979, "7": 159345973, "8": 145138636,
        "9": 138394717, "10": 133797422, "11": 135086622, "12": 133275309,
        "13": 114364328, "14": 107043718, "15": 101991189, "16": 90338345,
        "17": 83257441, "18": 80373285, "19": 58617616, "20": 64444167,
        "21": 46709983, "22": 50818468, "X": 156040895, "Y": 57227415,
    },
}  # fmt: skip

# Names people and tools give each assembly. Matched case-insensitively as
# whole tokens inside a reference name or path (``human_g1k_v37.fasta``).
_NAME_PATTERNS: dict[str, re.Pattern[str]] = {
    GRCH38: re.compile(r"grch38|hg38|\bb38\b|hs38|assembly38|gca_000001405\.(?:1[5-9]|2\d)", re.I),
    GRCH37: re.compile(
        r"grch37|hg19|\bb37\b|hs37|g1k_v37|_v37\b|assembly19|gca_000001405\.1\b", re.I
    ),
    NCBI36: re.compile(r"ncbi[ _-]?36|hg18|\bb36\b|_b36_|build[ _-]?36", re.I),
    RCRS: re.compile(r"rcrs|nc_012920", re.I),
}

# Exact user spellings accepted by normalise_assembly (lower-cased keys).
_ALIASES = {
    "grch38": GRCH38, "hg38": GRCH38, "b38": GRCH38, "hs38": GRCH38, "38": GRCH38,
    "grch37": GRCH37, "hg19": GRCH37, "b37": GRCH37, "hs37d5": GRCH37, "37": GRCH37,
    "ncbi36": NCBI36, "hg18": NCBI36, "b36": NCBI36, "ncbi36.1": NCBI36, "36": NCBI36,
    "rcrs": RCRS, "nc_012920": RCRS, "nc_012920.1": RCRS, "mt": RCRS, "chrm": RCRS,
}  # fmt: skip

_REFERENCE_ARG = re.compile(
    r"(?:reference_sequence|reference|--reference|\s-R|\bref)[=\s]+\"?([^\s,\]>\"]+)",
    re.I,
)
_CONTIG_LINE = re.compile(r"^##contig=<(.*)>\s*$")


class AssemblyError(AnnotationError):
    """The assembly could not be determined, or a given name is not one we know."""


@dataclass(frozen=True, slots=True)
class AssemblyGuess:
    """An assembly (one of ASSEMBLIES) and the evidence that chose it, for the log."""

    assembly: str
    reason: str


def normalise_assembly(name: str) -> str:
    """Map a user-given assembly name (``hg19``, ``b36``, ``GRCh38``...) to ours.

    Raises AssemblyError naming the accepted spellings when the name is unknown.
    """
    canonical = _ALIASES.get(name.strip().lower())
    if canonical is None:
        accepted = ", ".join(sorted(_ALIASES))
        raise AssemblyError(f"unknown assembly {name!r}; use one of: {accepted}")
    return canonical


def is_mitochondrial(chrom: str) -> bool:
    """True for ``MT``, ``chrM``, ``M`` and the rCRS accession."""
    return chrom.upper() in MITOCHONDRIAL_NAMES


def detect_assembly(
    header_lines: list[str],
    contig_lengths: Mapping[str, int],
    chrom_names: Iterable[str],
    override: str | None = None,
) -> AssemblyGuess:
    """Decide the assembly of a VCF from its header and record chromosomes.

    ``header_lines`` are the ``##`` meta lines (with or without line ends);
    ``contig_lengths`` maps contig names to lengths in bp (merged with any
    ``##contig`` lines found in the header); ``chrom_names`` are the CHROM
    values of the records (duplicates are fine). ``override`` is the user's
    explicit choice and wins. Raises AssemblyError asking for ``--assembly``
    when the evidence is missing or contradictory.
    """
    if override:
        return AssemblyGuess(normalise_assembly(override), f"given explicitly ({override})")
    lengths = {**_contig_lengths_from_header(header_lines), **contig_lengths}
    chroms = set(chrom_names)
    if chroms and all(is_mitochondrial(c) for c in chroms):
        return _mitochondrial_guess(chroms, lengths)
    for guess in (
        _guess_from_lengths(lengths),
        _guess_from_reference_line(header_lines),
        _guess_from_command_lines(header_lines),
        _guess_from_any_header_text(header_lines),
    ):
        if guess is not None and guess.assembly != RCRS:
            return guess
    raise AssemblyError(
        "cannot tell which reference assembly this VCF uses (no ##reference, "
        "##contig lengths or reference file name identifies one); "
        "pass it explicitly, e.g. --assembly GRCh37 (accepted: GRCh38/hg38, "
        "GRCh37/hg19/b37, NCBI36/hg18/b36, rCRS)"
    )


def _mitochondrial_guess(chroms: set[str], lengths: Mapping[str, int]) -> AssemblyGuess:
    # UCSC hg18/hg19 chrM is NC_001807 (16,571 bp), not rCRS: refuse to guess.
    for chrom in chroms:
        length = lengths.get(chrom)
        if length is not None and length != 16569:
            raise AssemblyError(
                f"mitochondrial contig {chrom} has length {length}, not rCRS's "
                "16569 (UCSC hg18/hg19 chrM is NC_001807); pass --assembly"
            )
    names = ", ".join(sorted(chroms))
    return AssemblyGuess(RCRS, f"only mitochondrial records ({names}); GRCh38 chrM is rCRS")


def _contig_lengths_from_header(header_lines: list[str]) -> dict[str, int]:
    lengths: dict[str, int] = {}
    for line in header_lines:
        match = _CONTIG_LINE.match(line.strip())
        if not match:
            continue
        fields = dict(part.split("=", 1) for part in match.group(1).split(",") if "=" in part)
        if "ID" in fields and fields.get("length", "").isdigit():
            lengths[fields["ID"]] = int(fields["length"])
    return lengths


def _guess_from_lengths(lengths: Mapping[str, int]) -> AssemblyGuess | None:
    candidates = set(_CHROM_LENGTHS)
    checked = []
    for name, length in lengths.items():
        short = _short_name(name)
        if short not in _CHROM_LENGTHS[GRCH38]:
            continue
        candidates &= {a for a, table in _CHROM_LENGTHS.items() if table[short] == length}
        checked.append(f"{name}={length}")
    if not checked or len(candidates) != 1:
        return None
    (assembly,) = candidates
    shown = ", ".join(checked[:3]) + (" ..." if len(checked) > 3 else "")
    return AssemblyGuess(assembly, f"##contig lengths match {assembly} ({shown})")


def _guess_from_reference_line(header_lines: list[str]) -> AssemblyGuess | None:
    for line in header_lines:
        if line.startswith("##reference="):
            value = line.split("=", 1)[1].strip()
            assembly = _unique_assembly_named_in(value)
            if assembly:
                return AssemblyGuess(assembly, f"##reference={value}")
    return None


def _guess_from_command_lines(header_lines: list[str]) -> AssemblyGuess | None:
    for line in header_lines:
        if line.startswith(("##reference=", "##contig=")):
            continue
        for path in _REFERENCE_ARG.findall(line):
            assembly = _unique_assembly_named_in(path)
            if assembly:
                return AssemblyGuess(assembly, f"reference file named in header: {path}")
    return None


def _guess_from_any_header_text(header_lines: list[str]) -> AssemblyGuess | None:
    text = "\n".join(line for line in header_lines if not line.startswith("##contig="))
    assembly = _unique_assembly_named_in(text)
    if assembly:
        return AssemblyGuess(assembly, f"header mentions only {assembly}-style names")
    return None


def _unique_assembly_named_in(text: str) -> str | None:
    found = [a for a, pattern in _NAME_PATTERNS.items() if pattern.search(text)]
    return found[0] if len(found) == 1 else None


def _short_name(chrom: str) -> str:
    return chrom[3:] if chrom.lower().startswith("chr") else chrom
