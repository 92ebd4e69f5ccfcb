"""A custom reference (--gff + --fasta): no assembly needed, REF checked against the FASTA,
and haplotype-aware transcript calls by default, streamed chunk by chunk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from anntools.cli import main
from anntools.csq import TranscriptAnnotator
from anntools.csq.stream import HaplotypeBuffer
from anntools.output import INFO_KEY
from anntools.pipeline import annotate_with_reference
from anntools.runner import PendingJob, resolved
from anntools.vcf import RawChunk
from tests.conftest import WriteVcf, read_vcf

TOY = Path(__file__).resolve().parents[1] / "data" / "csq" / "_toplevel"
GFF, FASTA = TOY / "csq.gff3", TOY / "csq.fa"
HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=1,length=600>",
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tA\tB",
]


def record(pos: int, ref: str, alt: str, *genotypes: str) -> str:
    return f"1\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\tGT\t" + "\t".join(genotypes)


def annotate(write_vcf: WriteVcf, lines: list[str], *extra: str) -> dict[int, str]:
    """ANNTOOLS of each record, by POS, through the CLI with only --gff and --fasta."""
    path = write_vcf(HEADER + lines)
    out = path.parent / "out"
    args = ["annotate", str(path), "-o", str(out), "--gff", str(GFF), "--fasta", str(FASTA)]
    assert main([*args, "--progress", "none", *extra]) == 0
    _, records = read_vcf(out / "input.annot.vcf")
    return {r.pos: ",".join(r.info.get(INFO_KEY, ())) for r in records}


def test_a_custom_reference_needs_no_assembly_and_names_the_fasta(write_vcf: WriteVcf) -> None:
    # GIVEN a VCF with no assembly hint WHEN annotated with --gff and --fasta only
    path = write_vcf([*HEADER, record(107, "G", "A", "0|1", "0|0")])
    result = annotate_with_reference(path, path.parent / "out", GFF, FASTA)
    # THEN it runs, the assembly is the FASTA's and no bundle (liftover, rsIDs) is used
    summary = json.loads(result.files["summary"].read_text())
    assert summary["input"]["assembly"] == "csq.fa"
    _, records = read_vcf(result.files["vcf"])
    assert "GRCH38" not in records[0].info
    assert records[0].info[INFO_KEY][0].split("|")[1] == "missense"


def test_a_ref_that_is_not_the_fastas_is_counted_and_left_unannotated(
    write_vcf: WriteVcf, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a coding record whose REF (C) is not the reference base (G), and a good one
    found = annotate(
        write_vcf, [record(107, "C", "A", "0|1", "0|0"), record(110, "C", "A", "0|1", "0|0")]
    )
    # THEN the bad record is kept without transcript calls and reported; the good one is called
    assert found[107] == ""
    assert "missense" in found[110]
    assert "1 records have a REF that does not match the reference FASTA" in capsys.readouterr().err


def test_phased_variants_sharing_a_codon_are_called_together(write_vcf: WriteVcf) -> None:
    # GIVEN two SNVs of codon 3 of XYZ on the same haplotype of sample A
    lines = [record(107, "G", "A", "0|1", "0|0"), record(108, "T", "A", "0|1", "0|0")]
    found = annotate(write_vcf, lines)
    # THEN the first carries the compound change and the second refers to it
    assert "missense|XYZ|ENST00000000001|protein_coding|+|CDS|3R>3Q|107G>A+108T>A" in found[107]
    assert "|@107|XYZ|ENST00000000001|" in found[108]
    # AND with --local each is called on its own
    local = annotate(write_vcf, lines, "--local")
    assert "|3R>3H|107G>A|" in local[107]
    assert "|3R>3R|108T>A|" not in local[108] and "@107" not in local[108]
    assert "108T>A|" in local[108]


def test_variants_on_different_haplotypes_or_samples_stay_apart(write_vcf: WriteVcf) -> None:
    # GIVEN the same SNVs on opposite haplotypes of A, and on different samples
    for genotypes in ((("1|0", "0|0"), ("0|1", "0|0")), (("0|1", "0|0"), ("0|0", "0|1"))):
        lines = [record(107, "G", "A", *genotypes[0]), record(108, "T", "A", *genotypes[1])]
        found = annotate(write_vcf, lines)
        # THEN each keeps its local call
        assert "|3R>3H|107G>A|" in found[107] and "@107" not in found[108]


def test_the_buffer_releases_every_line_once_in_order_whatever_the_chunking() -> None:
    # GIVEN records in and past XYZ (ends at 200), in one chunk or one line a chunk
    annotator = TranscriptAnnotator.from_files(GFF, FASTA)
    lines = [
        record(101, "A", "T", "1|0", "0|0").encode(),
        record(107, "G", "A", "0|1", "0|0").encode(),
        record(108, "T", "A", "0|1", "0|0").encode(),
        record(500, "A", "C", "0|1", "0|0").encode(),
        record(501, "A", "C", "0|1", "0|0").encode(),
    ]
    whole = list(_run(HaplotypeBuffer(annotator), [RawChunk(10, lines, 0)]))
    buffer = HaplotypeBuffer(annotator)
    released = []
    for n, line in enumerate(lines):
        released.append(list(buffer.feed(RawChunk(10 + n, [line], 0))))
    released.append(list(buffer.finish()))
    # THEN the lines come back once each, in order, with the same overrides
    flat = [item for batch in released for item in batch]
    assert [line for chunk, _ in flat for line in chunk.lines] == lines
    assert _overrides(flat) == _overrides(whole)
    assert set(_overrides(whole)) == {11, 12}
    # AND (XYZ is on the + strand) 101 goes once 107, in a later codon, is read; 107 and
    # 108 share a codon, so they go once a record past the transcript's end is read
    assert [c.first_line_no for c, _ in released[1]] == [10]
    assert [c.first_line_no for c, _ in released[3]] == [11, 12, 13]


def _run(buffer: HaplotypeBuffer, chunks: list[RawChunk]) -> list[PendingJob]:
    out: list[PendingJob] = [item for chunk in chunks for item in buffer.feed(chunk)]
    return out + list(buffer.finish())


def _overrides(released: Sequence[PendingJob]) -> dict:
    """Line number -> swaps, merged as the chunks' workers merge them."""
    merged = [resolved(job)[1] or {} for job in released]
    return {line_no: calls for found in merged for line_no, calls in found.items()}


def test_the_buffer_passes_malformed_lines_to_the_record_loop_untouched() -> None:
    # GIVEN lines the record loop will reject (too few columns, bad POS, bad genotypes)
    annotator = TranscriptAnnotator.from_files(GFF, FASTA)
    lines = [
        b"1\t107\t.\tG\tA",
        b"1\tx07\t.\tG\tA\t.\t.\t.",
        record(107, "G", "A", "0|z", "0|0").encode(),
        record(108, "T", "A", "0|1", "0|0").encode(),
    ]
    # THEN they come back, in order, and nothing fails
    released = _run(HaplotypeBuffer(annotator), [RawChunk(1, lines, 0)])
    assert [line for chunk, _ in released for line in chunk.lines] == lines
