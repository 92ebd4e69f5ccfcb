"""Result files: annotated VCF and TSV, written as records stream through.

Files are written under a temporary name and renamed when complete, so a
killed run never leaves a half-written result that looks finished.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from anntools.annotation import ENTRY_FIELDS, RecordAnnotation, entry_info_text, entry_tsv_text
from anntools.vcf import Header, Record

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


def result_names(input_name: str) -> dict[str, str]:
    """The course's result file names for an input file name."""
    stem = input_name
    for suffix in (".gz", ".bgz", ".vcf"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    return {
        "vcf": f"{stem}.annot.vcf",
        "log": f"{stem}.vcf.count.log",
        "tsv": f"{stem}.annot.tsv",
        "summary": f"{stem}.summary.json",
    }


class PartialFile:
    """A text file written as ``<path>.part`` and renamed on ``commit``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._part = path.with_name(path.name + ".part")
        self.handle: IO[str] = open(self._part, "w", encoding="utf-8", newline="\n")  # noqa: SIM115

    def commit(self) -> None:
        self.handle.close()
        os.replace(self._part, self.path)

    def discard(self) -> None:
        self.handle.close()
        self._part.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    part = PartialFile(path)
    part.handle.write(text)
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


def vcf_line(record: Record, annotation: RecordAnnotation) -> str:
    """The input line with rsID filled in and the engine's INFO fields appended."""
    columns = record.columns
    record_id = columns[2]
    if annotation.rsid and annotation.rsid_source == "common" and record_id in (".", ""):
        record_id = annotation.rsid
    added = _info_additions(annotation)
    info = columns[7]
    if added:
        info = added if info in (".", "") else f"{info};{added}"
    return "\t".join([*columns[:2], record_id, *columns[3:7], info, *columns[8:]]) + "\n"


def _info_additions(annotation: RecordAnnotation) -> str:
    parts = []
    if annotation.entries:
        parts.append(f"{INFO_KEY}=" + ",".join(map(entry_info_text, annotation.entries)))
    parts.append("VC=" + ",".join(a.variant_class for a in annotation.alleles))
    if annotation.grch38 is not None:
        parts.append(f"GRCH38={annotation.grch38[0]}:{annotation.grch38[1]}")
    if annotation.unmapped:
        parts.append("UNMAPPED")
    return ";".join(parts)


def tsv_header() -> str:
    return "\t".join(TSV_COLUMNS) + "\n"


def tsv_lines(record: Record, annotation: RecordAnnotation) -> str:
    """One row per ALT allele and annotation entry (one row when nothing hit)."""
    columns = record.columns
    grch38 = f"{annotation.grch38[0]}:{annotation.grch38[1]}" if annotation.grch38 else ""
    if annotation.unmapped:
        grch38 = "unmapped"
    site = f"{columns[0]}\t{columns[1]}\t{columns[2]}\t{columns[3]}\t"
    known = f"{grch38}\t{annotation.rsid or ''}\t"
    counts = f"\t{_text(annotation.called)}\t{_text(annotation.het)}\t{_text(annotation.hom_alt)}\t"
    rows = []
    for allele in annotation.alleles:
        facts = f"{allele.allele}\t{allele.variant_class}\t{allele.substitution or ''}\t"
        af = "" if allele.allele_frequency is None else f"{allele.allele_frequency:.4g}"
        described = [entry_tsv_text(e) for e in annotation.entries if e.allele == allele.allele]
        for entry in described or [_NO_ENTRY]:
            rows.append(f"{site}{facts}{known}{entry}{counts}{af}\n")
    return "".join(rows)


_NO_ENTRY = "\t" * (len(ENTRY_FIELDS) - 2)


def _text(value: int | None) -> str:
    return "" if value is None else str(value)
