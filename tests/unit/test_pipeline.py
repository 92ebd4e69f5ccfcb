"""annotate_file end to end with a GFF3 + FASTA (no bundle): outputs, chunks, workers, failures."""

from __future__ import annotations

import random
from pathlib import Path

import pysam
import pytest

from anntools.cli import main
from anntools.errors import AnnotationError
from anntools.pipeline import Options, annotate_file
from anntools.vcf import CHUNK_RECORDS
from tests.conftest import PROJECT_ROOT, WriteVcf, read_vcf

CASE = PROJECT_ROOT / "tests" / "data" / "csq" / "ENST00000227471"
GFF = CASE / "ENST00000227471.gff"
FASTA = CASE / "ENST00000227471.fa"
OPTIONS = Options(gff3=GFF, fasta=FASTA, use_bundle=False, workers=1)
HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=11,length=249250621>",
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2",
]


def reference() -> str:
    lines = FASTA.read_text().splitlines()
    return "".join(line for line in lines if not line.startswith(">")).upper()


def random_records(count: int, seed: int = 3) -> list[str]:
    """Sorted SNV records over the case's sequence, REF matching the reference."""
    sequence, rng = reference(), random.Random(seed)
    lines = []
    for pos in sorted(rng.randrange(1, len(sequence) + 1) for _ in range(count)):
        ref = sequence[pos - 1]
        alt = rng.choice([base for base in "ACGT" if base != ref])
        genotypes = "\t".join(rng.choice(("0/0", "0/1", "1/1", "./.")) for _ in range(2))
        lines.append(f"11\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\tGT\t{genotypes}")
    return lines


def test_outputs_are_declared_parsable_and_consistent(write_vcf: WriteVcf, tmp_path: Path) -> None:
    path = write_vcf([*HEADER, *random_records(300)])
    result = annotate_file(path, tmp_path / "out", OPTIONS)
    header, records = read_vcf(result.files["vcf"])
    assert header.info["ANNTOOLS"].number == "."
    assert len(records) == 300
    assert any(entry[2] == "UNC93B1" for r in records for entry in r.entries())
    rows = result.files["tsv"].read_text().splitlines()
    width = len(rows[0].split("\t"))
    assert all(len(row.split("\t")) == width for row in rows)
    assert result.summary["classes"] == {"SNV": 300}
    assert result.summary["ts_tv"]["transitions"] + result.summary["ts_tv"]["transversions"] == 300


def test_worker_processes_give_the_same_results_as_one(write_vcf: WriteVcf, tmp_path: Path) -> None:
    # GIVEN an input spanning several chunks
    path = write_vcf([*HEADER, *random_records(CHUNK_RECORDS * 2 + 500)])
    # WHEN it is annotated in one process and in two
    one = annotate_file(path, tmp_path / "one", OPTIONS)
    two = annotate_file(
        path, tmp_path / "two", Options(gff3=GFF, fasta=FASTA, use_bundle=False, workers=2)
    )
    # THEN every output is identical
    for kind in ("vcf", "tsv", "log", "summary"):
        assert one.files[kind].read_bytes() == two.files[kind].read_bytes(), kind


def test_order_is_checked_across_chunks(write_vcf: WriteVcf, tmp_path: Path) -> None:
    records = random_records(CHUNK_RECORDS + 10)
    late = records.pop(0)  # the smallest position, moved past the first chunk
    records.insert(CHUNK_RECORDS + 5, late)
    path = write_vcf([*HEADER, *records])
    result = annotate_file(path, tmp_path / "out", OPTIONS)
    warnings = result.summary["warnings"]
    assert warnings["total"] >= 1
    assert any("unsorted" in w["reason"] for w in warnings["lines"])
    assert result.summary["records"] == CHUNK_RECORDS + 10


def test_a_flood_of_bad_lines_is_counted_but_listed_briefly(
    write_vcf: WriteVcf, tmp_path: Path
) -> None:
    bad = [f"11\t{pos}\t.\tA\tJ\t.\t.\t.\tGT\t0/1\t0/1" for pos in range(1, 1501)]
    path = write_vcf([*HEADER, *bad, *random_records(5)])
    result = annotate_file(path, tmp_path / "out", OPTIONS)
    skipped = result.summary["skipped_lines"]
    assert skipped["total"] == 1500
    assert len(skipped["lines"]) == 1000
    assert skipped["lines"][0] == {"line": 5, "reason": skipped["lines"][0]["reason"]}
    assert "… and 500 more" in result.files["log"].read_text()


def test_a_run_that_dies_leaves_no_result_files(write_vcf: WriteVcf, tmp_path: Path) -> None:
    path = write_vcf([*HEADER, *random_records(100)])
    out = tmp_path / "out"

    def die(*_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        annotate_file(path, out, OPTIONS, progress=die)
    assert list(out.iterdir()) == []


def test_only_bad_lines_is_an_error_naming_the_first(write_vcf: WriteVcf, tmp_path: Path) -> None:
    path = write_vcf([*HEADER, "11\t10\t.\tA\tG\t.\t.", "11\t20\t.\tA\t?\t.\t.\t.\tGT\t0/1\t0/1"])
    with pytest.raises(AnnotationError, match=r"no valid variant records: all 2 .* line 5"):
        annotate_file(path, tmp_path / "out", OPTIONS)


def test_gff_without_fasta_is_refused(write_vcf: WriteVcf, tmp_path: Path) -> None:
    path = write_vcf([*HEADER, *random_records(3)])
    with pytest.raises(AnnotationError, match="both --gff and --fasta"):
        annotate_file(path, tmp_path / "out", Options(gff3=GFF, use_bundle=False))


def test_outputs_name_files_without_the_folders_of_the_host(
    write_vcf: WriteVcf, tmp_path: Path
) -> None:
    # GIVEN an input, an output folder and sources all given by absolute paths
    path = write_vcf([*HEADER, *random_records(20)])
    out = tmp_path / "worker-tmp" / "out"
    argv = ["annotate", str(path), "-o", str(out), "--bundle", "none", "--progress", "none"]
    # WHEN the command line annotates it
    assert main([*argv, "--gff", str(GFF), "--fasta", str(FASTA), "--workers", "1"]) == 0
    # THEN no result names a folder of this machine, and the VCF records a command to rerun
    for result in out.iterdir():
        text = result.read_text()
        for folder in (tmp_path, CASE, PROJECT_ROOT):
            assert str(folder) not in text, result.name
    command = "anntools annotate input.vcf --bundle none --gff ENST00000227471.gff"
    assert f"##anntools_command={command} --fasta ENST00000227471.fa\n" in (
        (out / "input.annot.vcf").read_text()
    )


def test_a_vcf_v3_input_is_written_as_vcf_v4(write_vcf: WriteVcf, tmp_path: Path) -> None:
    # GIVEN a VCFv3.3 file: old-style declarations, QUAL -1 for unknown, FILTER 0 for passed
    sequence = reference()
    snv = {
        pos: f"{sequence[pos - 1]}\t{'C' if sequence[pos - 1] == 'A' else 'A'}"
        for pos in (100, 200)
    }
    path = write_vcf(
        [
            "##fileformat=VCFv3.3",
            '##INFO=DP,1,Integer,"Total Depth, all samples"',
            '##INFO=AL,-1,String,"Alleles seen"',
            '##FILTER=q10,"Quality below 10"',
            '##FORMAT=GT,1,String,"Genotype"',
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
            f"11\t100\t.\t{snv[100]}\t-1\t0\tDP=7\tGT\t0/1",
            f"11\t200\trs1\t{snv[200]}\t30\tq10\tDP=2;AL=x,y\tGT\t1/1",
            f"11\t300\t.\t{sequence[299]}\tD1\t-1\t0\tDP=1\tGT\t0/1",
        ]
    )
    # WHEN it is annotated
    result = annotate_file(path, tmp_path / "out", OPTIONS)
    # THEN htslib reads a VCFv4.2 file whose declarations and records mean what the input said
    header, _ = read_vcf(result.files["vcf"])
    assert header.version == "VCFv4.2"
    assert (header.info["DP"].type, header.info["DP"].description) == (
        "Integer",
        "Total Depth, all samples",
    )
    assert header.info["AL"].number == "."
    assert header.filters["q10"].description == "Quality below 10"
    assert header.formats["GT"].type == "String"
    with pysam.VariantFile(str(result.files["vcf"])) as reader:
        records = [(r.qual, list(r.filter), r.info["DP"]) for r in reader]
    assert records == [(None, ["PASS"], 7), (30.0, ["q10"], 2)]
    # and the summary still names the version the input was written in
    assert result.summary["input"]["vcf_version"] == "VCFv3.3"
    # AND a v3.3 indel, which needs the reference to rewrite, is skipped with a reason that says so
    [skipped] = result.summary["skipped_lines"]["lines"]
    assert skipped["line"] == 9 and "VCFv3.3 indel notation" in skipped["reason"]
