"""Hostile inputs cost work in proportion to their size and stop at the caller's limits."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from anntools.errors import AnnotationError, LimitExceeded
from anntools.pipeline import Options, annotate_file
from anntools.vcf import MAX_HEADER_LINES, VcfReader, first_repeated

HEADER = "##fileformat=VCFv4.2\n##contig=<ID=1,length=248956422>\n"
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
NO_BUNDLE = Options(use_bundle=False)


def record(pos: int) -> str:
    return f"1\t{pos}\t.\tA\tG\t.\t.\t.\n"


def write_gzip(path: Path, *parts: bytes) -> Path:
    with gzip.open(path, "wb", compresslevel=1) as out:
        for part in parts:
            out.write(part)
    return path


def anntools(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "anntools", "annotate", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_first_repeated_sample_name_is_named() -> None:
    assert first_repeated(["S1", "S2", "S3"]) is None
    assert first_repeated(["B", "A", "C", "B", "A"]) == "B"
    assert first_repeated(["x"] * 200_000) == "x"


def test_a_repeated_sample_name_among_many_is_refused(tmp_path: Path) -> None:
    names = [f"s{i}" for i in range(50_000)] + ["s17"]
    path = tmp_path / "many.vcf"
    path.write_text(HEADER + COLUMNS.rstrip("\n") + "\tFORMAT\t" + "\t".join(names) + "\n")
    with pytest.raises(AnnotationError, match=r"line 3: sample name 's17' appears more than once"):
        VcfReader(path)


def test_blank_lines_before_the_first_record_are_counted_not_kept(tmp_path: Path) -> None:
    # GIVEN 16 MiB of newlines between the header and a bad line and a record
    blank = 16 * 2**20
    path = write_gzip(
        tmp_path / "bomb.vcf.gz",
        (HEADER + COLUMNS).encode(),
        b"\n" * blank,
        b"not a record\n",
        record(100).encode(),
    )
    # WHEN it is annotated, its memory traced
    tracemalloc.start()
    try:
        result = annotate_file(path, tmp_path / "out", NO_BUNDLE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # THEN the record is annotated, the bad line named by its true line number, and the
    # blank lines never held (a list of 16M of them alone takes 128 MiB)
    assert result.summary["records"] == 1
    [problem] = result.summary["skipped_lines"]["lines"]
    assert problem["line"] == 3 + blank + 1
    assert peak < 32 * 2**20


def test_blank_lines_between_records_keep_line_numbers(tmp_path: Path) -> None:
    path = write_gzip(
        tmp_path / "gaps.vcf.gz",
        (HEADER + COLUMNS + record(100)).encode(),
        b"\n" * (3 * 2**20),
        b" \t\n" * 1000,
        b"1\t200\t.\tQ\tG\t.\t.\t.\n",
        record(300).encode(),
    )
    result = annotate_file(path, tmp_path / "out", NO_BUNDLE)
    assert result.summary["records"] == 2
    [problem] = result.summary["skipped_lines"]["lines"]
    assert problem["line"] == 4 + 3 * 2**20 + 1000 + 1


def test_a_header_past_its_bound_is_refused(tmp_path: Path) -> None:
    path = write_gzip(tmp_path / "header.vcf.gz", HEADER.encode(), b"##x\n" * MAX_HEADER_LINES)
    with pytest.raises(AnnotationError, match=r"more than 200,000 '##' lines"):
        VcfReader(path)


def test_max_bytes_counts_decompressed_bytes(tmp_path: Path) -> None:
    # GIVEN a small gzip whose records expand to about 2 MiB
    path = write_gzip(
        tmp_path / "big.vcf.gz",
        (HEADER + COLUMNS + "".join(record(pos) for pos in range(1, 100_001))).encode(),
    )
    assert path.stat().st_size < 2**20
    # WHEN it is annotated with a limit of 1 MiB
    with pytest.raises(LimitExceeded) as raised:
        annotate_file(path, tmp_path / "out", Options(use_bundle=False, max_bytes=2**20))
    # THEN the run stops, naming the limit, and leaves no results
    assert (raised.value.limit, raised.value.value) == ("max_bytes", 2**20)
    assert "larger than the limit of 1,048,576 bytes" in str(raised.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_max_records_is_a_bound_not_a_target(tmp_path: Path) -> None:
    path = tmp_path / "ten.vcf"
    path.write_text(HEADER + COLUMNS + "".join(record(pos) for pos in range(1, 11)))
    done = annotate_file(path, tmp_path / "ok", Options(use_bundle=False, max_records=10))
    assert done.summary["records"] == 10
    with pytest.raises(LimitExceeded, match=r"more than 9 variant records") as raised:
        annotate_file(path, tmp_path / "over", Options(use_bundle=False, max_records=9))
    assert raised.value.limit == "max_records"


def test_the_command_exits_3_and_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "ten.vcf"
    path.write_text(HEADER + COLUMNS + "".join(record(pos) for pos in range(1, 11)))
    args = (path, "-o", tmp_path / "out", "--bundle", "none", "--progress", "json")
    ran = anntools(*args, "--max-records", "5")
    assert ran.returncode == 3
    lines = ran.stderr.splitlines()
    assert json.loads(lines[-2]) == {"limit": "max_records", "value": 5}
    assert lines[-1] == "anntools: ten.vcf: the input has more than 5 variant records (the limit)"
    assert anntools(*args, "--max-bytes", "1000000").returncode == 0


def test_a_limit_must_be_positive(tmp_path: Path) -> None:
    ran = anntools(tmp_path / "x.vcf", "-o", tmp_path, "--max-bytes", "0")
    assert ran.returncode == 2
    assert "expected a positive whole number, not '0'" in ran.stderr
