"""Result files: names, headers and atomic writing (the record loop writes the rows).

Files are written under a temporary name and renamed when complete, so a
killed run never leaves a half-written result that looks finished.
"""

from __future__ import annotations

import csv
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


OUTPUT_V4_VERSION = "VCFv4.2"  # what a VCFv3.3 input is written as
# The fields of a v3.3 declaration, in order: INFO=DP,1,Integer,"Total Depth"
_V3_DECLARATIONS = {
    "INFO": ("ID", "Number", "Type", "Description"),
    "FORMAT": ("ID", "Number", "Type", "Description"),
    "FILTER": ("ID", "Description"),
}


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
    """The input header with the engine's INFO declarations, before the #CHROM line.

    A VCFv3.3 header is written as VCFv4 (the record loop rewrites its records' QUAL and
    FILTER to match), so that tools which read only VCFv4 read the output.
    """
    meta = header.meta_lines
    if header.version.startswith("VCFv3"):
        meta = v4_meta_lines(meta)
    declared = [_info_line(f) for f in _INFO_FIELDS if not _declared(header, f[0])]
    return "\n".join([*meta, *declared, *extra_meta, header.column_line]) + "\n"


def v4_meta_lines(meta_lines: list[str]) -> list[str]:
    """VCFv3.3 meta lines as VCFv4.2: the version, and INFO, FORMAT and FILTER declarations
    in the ``<ID=...>`` form. A line that is not a well-formed v3.3 declaration is kept."""
    converted = []
    for line in meta_lines:
        key, _, value = line[2:].partition("=")
        if key == "fileformat":
            line = f"##fileformat={OUTPUT_V4_VERSION}"
        elif key in _V3_DECLARATIONS and not value.startswith("<"):
            line = _v4_declaration(key, value) or line
        converted.append(line)
    return converted


def _v4_declaration(key: str, value: str) -> str | None:
    fields = _V3_DECLARATIONS[key]
    values = next(csv.reader([value], skipinitialspace=True))
    if len(values) != len(fields) or not values[0]:
        return None
    found = dict(zip(fields, values, strict=True))
    if found.get("Number") == "-1":  # v3.3's "varies"
        found["Number"] = "."
    parts = [f"{name}={found[name]}" for name in fields if name != "Description"]
    description = found["Description"].replace("\\", "\\\\").replace('"', '\\"')
    return f'##{key}=<{",".join(parts)},Description="{description}">'


def _declared(header: Header, key: str) -> bool:
    return any(
        line.startswith((f"##INFO=<ID={key},", f"##INFO={key},")) for line in header.meta_lines
    )


def _info_line(spec: tuple[str, str, str, str]) -> str:
    key, number, kind, description = spec
    return f'##INFO=<ID={key},Number={number},Type={kind},Description="{description}">'


def tsv_header() -> str:
    return "\t".join(TSV_COLUMNS) + "\n"
