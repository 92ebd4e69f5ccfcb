"""Result files: names, headers and atomic writing (the record loop writes the rows).

Files are written under a temporary name and renamed when complete, so a
killed run never leaves a half-written result that looks finished.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from anntools.annotation import ENTRY_FIELDS
from anntools.vcf import Header

INFO_KEY = "ANNTOOLS"
TSV_COLUMNS = (
    "CHROM",
    "POS",
    "ID",
    "REF",
    "ALT",
    "Variant_class",
    "Ts_Tv",
    "GRCh38",
    "rsID",
    *ENTRY_FIELDS[1:],
    "Called",
    "Het",
    "Hom_alt",
    "AF",
)

# (ID, Number, Type, Description) of the INFO fields the engine adds.
_INFO_FIELDS = (
    (
        INFO_KEY,
        ".",
        "String",
        "Annotation by anntools, one entry per allele and gene or "
        "transcript. Format: " + "|".join(ENTRY_FIELDS),
    ),
    (
        "VC",
        "A",
        "String",
        "Variant class per ALT allele: SNV, MNV, insertion, deletion, complex, symbolic",
    ),
    ("GRCH38", "1", "String", "Position on GRCh38 after liftover, as chrom:pos (1-based)"),
    (
        "UNMAPPED",
        "0",
        "Flag",
        "The site could not be lifted to GRCh38; gene-level annotation is missing",
    ),
)


# Result file names: the input's name without these suffixes (stripped in this order), plus
# one suffix per result kind. The service names its result objects the same way.
INPUT_SUFFIXES = (".gz", ".bgz", ".vcf")
RESULT_SUFFIXES = {
    "vcf": ".annot.vcf",
    "log": ".vcf.count.log",
    "tsv": ".annot.tsv",
    "summary": ".summary.json",
}


def result_stem(input_name: str) -> str:
    """The input file name without its VCF and compression suffixes."""
    stem = input_name
    for suffix in INPUT_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem


def result_names(input_name: str) -> dict[str, str]:
    """The course's result file names for an input file name."""
    stem = result_stem(input_name)
    return {kind: stem + suffix for kind, suffix in RESULT_SUFFIXES.items()}


class PartialFile:
    """A file written as ``<path>.part`` (UTF-8 bytes) and renamed on ``commit``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._part = path.with_name(path.name + ".part")
        self.handle: IO[bytes] = open(self._part, "wb")  # noqa: SIM115 - closed in commit/discard

    def write_text(self, text: str) -> None:
        self.handle.write(text.encode("utf-8"))

    def commit(self) -> None:
        self.handle.close()
        os.replace(self._part, self.path)

    def discard(self) -> None:
        self.handle.close()
        self._part.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    part = PartialFile(path)
    part.write_text(text)
    part.commit()


def vcf_header(header: Header, extra_meta: list[str]) -> str:
    """The input header with the engine's INFO declarations, before the #CHROM line."""
    old_style = header.version.startswith("VCFv3")
    declared = [_info_line(f, old_style) for f in _INFO_FIELDS if not _declared(header, f[0])]
    return "\n".join([*header.meta_lines, *declared, *extra_meta, header.column_line]) + "\n"


def _declared(header: Header, key: str) -> bool:
    return any(
        line.startswith((f"##INFO=<ID={key},", f"##INFO={key},")) for line in header.meta_lines
    )


def _info_line(spec: tuple[str, str, str, str], old_style: bool) -> str:
    key, number, kind, description = spec
    if old_style:  # VCFv3.3 writes INFO declarations without angle brackets
        return f'##INFO={key},{number},{kind},"{description}"'
    return f'##INFO=<ID={key},Number={number},Type={kind},Description="{description}">'


def tsv_header() -> str:
    return "\t".join(TSV_COLUMNS) + "\n"
