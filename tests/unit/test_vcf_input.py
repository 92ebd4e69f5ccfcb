"""Input handling: every kind of bad input gets a clear message naming the line."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anntools.errors import AnnotationError
from anntools.pipeline import Options, annotate_file
from anntools.vcf import ProgressCallback
from tests.conftest import SAMPLES, WriteVcf

HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=1,length=248956422>",
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2",
]


@dataclass(frozen=True)
class Annotated:
    """What a user gets back from one input: TSV rows, VCF record lines and the summary."""

    rows: list[dict[str, str]]
    vcf_records: list[list[str]]
    summary: dict[str, Any]

    @property
    def positions(self) -> list[int]:
        return [int(columns[1]) for columns in self.vcf_records]

    @property
    def skipped(self) -> dict[int, str]:
        return {p["line"]: p["reason"] for p in self.summary["skipped_lines"]["lines"]}

    @property
    def warnings(self) -> dict[int, str]:
        return {p["line"]: p["reason"] for p in self.summary["warnings"]["lines"]}


def read_all(path: Path, progress: ProgressCallback | None = None) -> Annotated:
    """Annotate without any source: the records as the record loop reads and checks them."""
    result = annotate_file(path, path.parent / "out", Options(use_bundle=False), progress)
    with result.files["tsv"].open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    lines = result.files["vcf"].read_text().splitlines()
    records = [line.split("\t") for line in lines if not line.startswith("#")]
    return Annotated(rows, records, result.summary)


def test_good_records_come_back_with_their_genotypes_and_counts(write_vcf: WriteVcf) -> None:
    path = write_vcf(
        [
            *HEADER,
            "1\t10\t.\tA\tG\t.\t.\t.\tGT\t0/1\t1/1",
            "1\t20\trs1\tAT\tA,ATT\t.\t.\tAC=1,1;AN=4\tGT\t1/2\t0/0",
        ]
    )
    found = read_all(path)
    assert found.positions == [10, 20]
    assert [columns[4] for columns in found.vcf_records] == ["G", "A,ATT"]
    tallies = [(r["ALT"], r["Called"], r["Het"], r["Hom_alt"], r["AF"]) for r in found.rows]
    assert tallies == [
        ("G", "2", "1", "1", "0.75"),  # AF from the genotypes: 3 of 4 alleles
        ("A", "2", "1", "0", "0.25"),  # AF from INFO AC/AN
        ("ATT", "2", "1", "0", "0.25"),
    ]
    assert found.summary["records"] == 2 and found.summary["alleles"] == 3
    assert found.skipped == {} and found.warnings == {}


def test_bad_records_are_skipped_with_line_and_reason(write_vcf: WriteVcf) -> None:
    # GIVEN one good record among a short line, an illegal allele and a bad POS
    path = write_vcf(
        [
            *HEADER,
            "1\t10\t.\tA\tG\t.\t.",
            "1\t11\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0",
            "1\t12\t.\tA\tX1\t.\t.\t.\tGT\t0/1\t0/0",
            "1\t13\t.\tQ\tA\t.\t.\t.\tGT\t0/1\t0/0",
            "1\tabc\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0",
        ]
    )
    # WHEN it is read
    found = read_all(path)
    # THEN the good one survives and each bad one is named
    assert found.positions == [11]
    reasons = found.skipped
    assert set(reasons) == {5, 7, 8, 9}
    assert "7 tab-separated columns, expected 11" in reasons[5]
    assert "ALT allele 'X1'" in reasons[7]
    assert "REF 'Q'" in reasons[8]
    assert "POS 'abc'" in reasons[9]


def test_unsorted_records_are_kept_with_a_warning(write_vcf: WriteVcf) -> None:
    path = write_vcf(
        [*HEADER, "1\t50\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0", "1\t40\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0"]
    )
    found = read_all(path)
    assert found.positions == [50, 40]
    assert found.skipped == {}
    assert list(found.warnings) == [6] and "unsorted" in found.warnings[6]


def test_symbolic_star_and_missing_alleles_are_records(write_vcf: WriteVcf) -> None:
    path = write_vcf(
        [
            *HEADER,
            "1\t50\t.\tA\t<DEL>,*\t.\t.\tSVTYPE=DEL\tGT\t0/1\t1/2",
            "1\t60\t.\tA\t.\t.\t.\t.\tGT\t0/0\t0/0",
        ]
    )
    found = read_all(path)
    assert [columns[4] for columns in found.vcf_records] == ["<DEL>,*", "."]
    assert [r["ALT"] for r in found.rows] == ["<DEL>", "*", "."]
    assert found.skipped == {} and found.warnings == {}


def test_a_10_megabyte_line_is_skipped_without_holding_it(write_vcf: WriteVcf) -> None:
    huge = "1\t70\t.\tA\tG\t.\t.\tX=" + "A" * (10 * 1024 * 1024) + "\tGT\t0/1\t0/0"
    path = write_vcf(
        [
            *HEADER,
            "1\t60\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0",
            huge,
            "1\t80\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0",
        ]
    )
    found = read_all(path)
    assert found.positions == [60, 80]
    assert list(found.skipped) == [6] and "longer than the limit" in found.skipped[6]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["this is not a vcf"], "line 1: not a VCF file"),
        (["##fileformat=VCFv4.2", "##source=x"], "ends before the '#CHROM' header line"),
        (["##fileformat=VCFv4.2", "1\t10\t.\tA\tG\t.\t.\t."], "line 2: expected the '#CHROM'"),
        (["##fileformat=VCFv4.2", "#CHROM POS ID REF ALT QUAL FILTER INFO"], "line 2:"),
    ],
)
def test_unusable_files_raise_a_clear_error(
    write_vcf: WriteVcf, lines: list[str], message: str
) -> None:
    with pytest.raises(AnnotationError, match=message.replace("(", r"\(")):
        read_all(write_vcf(lines))


def test_gzip_input_is_read(tmp_path: Path) -> None:
    path = tmp_path / "in.vcf.gz"
    path.write_bytes(
        gzip.compress(
            ("\n".join([*HEADER, "1\t10\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0"]) + "\n").encode()
        )
    )
    assert read_all(path).positions == [10]


def test_bgzip_sample_is_read(tmp_path: Path) -> None:
    path = tmp_path / "premium_3.vcf.gz"
    path.write_bytes((SAMPLES / "premium_3.vcf.gz").read_bytes())
    found = read_all(path)
    assert found.summary["input"]["vcf_version"] == "VCFv3.3"
    assert found.summary["records"] == len(found.vcf_records) == 3431
    assert found.summary["input"]["samples"] == 107


def test_truncated_gzip_names_the_last_good_line(tmp_path: Path) -> None:
    data = gzip.compress((SAMPLES / "free_1.vcf").read_bytes())
    path = tmp_path / "cut.vcf.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AnnotationError, match=r"ends early, after line \d+: it is truncated"):
        read_all(path)


def test_progress_reports_records_and_bytes(tmp_path: Path) -> None:
    seen: list[tuple[int, int, int]] = []
    path = tmp_path / "free_1.vcf"
    path.write_bytes((SAMPLES / "free_1.vcf").read_bytes())
    read_all(path, progress=lambda *a: seen.append(a))
    records, bytes_read, total = seen[-1]
    assert records == 1141
    assert bytes_read == total == (SAMPLES / "free_1.vcf").stat().st_size


def test_cli_reports_bad_input_without_a_traceback(write_vcf: WriteVcf, tmp_path: Path) -> None:
    path = write_vcf(
        ["##fileformat=VCFv4.2", *HEADER[1:], "1\t10\t.\tA\tZZ\t.\t.\t.\tGT\t0/1\t0/0"]
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "anntools",
            "annotate",
            str(path),
            "-o",
            str(tmp_path / "out"),
            "--bundle",
            "none",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no valid variant records" in done.stderr and "line 5" in done.stderr
    assert not list((tmp_path / "out").glob("*.annot.vcf"))


def test_cli_json_progress_for_a_supervising_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "anntools",
            "annotate",
            str(SAMPLES / "free_1.vcf"),
            "-o",
            str(tmp_path),
            "--bundle",
            "none",
            "--progress",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    last = json.loads(done.stderr.strip().splitlines()[-1])
    size = (SAMPLES / "free_1.vcf").stat().st_size
    assert last == {"records": 1141, "bytes_read": size, "bytes_total": size}
    assert "1141 variants annotated" in done.stdout


def test_a_sample_named_twice_is_refused_naming_the_header_line(write_vcf: WriteVcf) -> None:
    lines = [*HEADER[:-1], "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS1"]
    with pytest.raises(AnnotationError, match=r"line 4: sample name 'S1' appears more than once"):
        read_all(write_vcf([*lines, "1\t10\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0/0"]))
