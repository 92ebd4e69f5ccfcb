"""Building blocks of anntools.csq: genetic codes, FASTA, GFF3 reading, the SNV fast path."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from anntools.csq import TranscriptAnnotator, normalize_chrom
from anntools.csq.codons import genetic_code, reverse_complement
from anntools.csq.engine import QUIET_MARGIN
from anntools.csq.fasta import FastaReader
from anntools.csq.gff3 import parse_biotype, read_gff3

DATA = Path(__file__).resolve().parents[1] / "data"


def test_standard_and_mitochondrial_codes_differ_where_they_should() -> None:
    standard, mito = genetic_code(1), genetic_code(2)
    assert [standard.aa(c) for c in ("ATG", "TGA", "AGA", "AGG", "ATA")] == [
        "M",
        "*",
        "R",
        "R",
        "I",
    ]
    assert [mito.aa(c) for c in ("ATG", "TGA", "AGA", "AGG", "ATA")] == ["M", "W", "*", "*", "M"]
    assert standard.aa("ANG") == "X"


def test_reverse_table_translates_the_reverse_complement() -> None:
    code = genetic_code(1)
    assert reverse_complement("CAT") == "ATG"
    assert code.aa_rev("CAT") == "M"


def test_unknown_genetic_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported genetic code"):
        genetic_code(99)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("chr1", "1"), ("1", "1"), ("chrM", "MT"), ("M", "MT"), ("chrMT", "MT"), ("MT", "MT")],
)
def test_contig_names_are_normalised(name: str, canonical: str) -> None:
    assert normalize_chrom(name) == canonical


def test_fasta_slices_are_0_based_half_open_and_n_padded(tmp_path: Path) -> None:
    # GIVEN a FASTA with short lines and no index
    fasta = tmp_path / "x.fa"
    fasta.write_text(">a desc\nACGTA\ncgtac\nGG\n>b\nTTTT\n")
    reader = FastaReader(fasta)
    # THEN slices cross line breaks, are upper-cased, and read N outside the contig
    assert reader.names == ["a", "b"]
    assert reader.length("a") == 12
    assert reader.fetch("a", 3, 8) == "TACGT"
    assert reader.fetch("a", -2, 2) == "NNAC"
    assert reader.fetch("a", 10, 14) == "GGNN"
    assert reader.fetch("b", 5, 7) == "NN"


def test_gff3_phase_and_incomplete_codons_are_trimmed_like_bcftools() -> None:
    # GIVEN the toy XYZ transcript whose first CDS has phase 1
    transcripts = {tr.id: tr for tr in read_gff3(DATA / "csq_toy.gff3")}
    xyz = transcripts["ENST00000000001"]
    # THEN the first coding base moves by one (0-based 99 = GFF 100) and the CDS is whole codons
    assert xyz.trim5 and xyz.cds[0].beg == 99
    assert sum(cds.length for cds in xyz.cds) % 3 == 0
    assert (xyz.gene, xyz.biotype, xyz.forward) == ("XYZ", "protein_coding", True)
    assert transcripts["ENSG00000000004"].biotype == "lincRNA"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("protein_coding", ("protein_coding", True)),
        ("nonsense_mediated_decay", ("NMD", True)),
        ("IG_V_gene", ("IG_V", True)),
        ("lincRNA", ("lincRNA", False)),
        ("mRNA", ("protein_coding", True)),
        ("TEC", None),
    ],
)
def test_biotypes_are_read_by_prefix(text: str, expected: tuple[str, bool] | None) -> None:
    assert parse_biotype(text) == expected


def test_snv_fast_path_matches_the_general_path() -> None:
    # GIVEN two annotators, one forced onto the general path everywhere
    fast = TranscriptAnnotator.from_files(DATA / "csq_toy.gff3", DATA / "csq_toy.fa")
    general = TranscriptAnnotator.from_files(
        DATA / "csq_toy.gff3", DATA / "csq_toy.fa", fast_paths=False
    )
    reader = FastaReader(DATA / "csq_toy.fa")
    rng = random.Random(3)
    # WHEN every SNV of the three contigs is annotated THEN both agree
    for chrom in ("1", "2", "3"):
        for pos in range(1, reader.length(chrom) + 1):
            ref = reader.fetch(chrom, pos - 1, pos)
            alt = rng.choice([b for b in "ACGT" if b != ref])
            assert fast.annotate(chrom, pos, ref, alt) == general.annotate(chrom, pos, ref, alt), (
                chrom,
                pos,
            )


def _edges(ann: TranscriptAnnotator) -> list[int]:
    """0-based first and last bases of every exon and CDS segment the annotator knows."""
    edges: set[int] = set()
    for contig in ann._contigs.values():
        for tr in contig.transcripts:
            edges.update(edge for exon in tr.exons for edge in (exon.beg, exon.end))
            edges.update(edge for cds in tr.cds for edge in (cds.beg, cds.end))
    return sorted(edges)


@pytest.mark.parametrize("case", ["ENST00000341065", "ENST00000000000", "ENST00000379416"])
def test_shortcuts_match_the_general_path_on_real_transcripts(case: str) -> None:
    # GIVEN a real case annotated with and without the SNV fast path and the splice shortcuts
    folder = DATA / "csq" / case
    gff, fasta = folder / f"{case}.gff", folder / f"{case}.fa"
    fast = TranscriptAnnotator.from_files(gff, fasta)
    general = TranscriptAnnotator.from_files(gff, fasta, fast_paths=False)
    reader = FastaReader(fasta)
    (chrom,) = reader.names
    sequence = reader.fetch(chrom, 0, reader.length(chrom))
    spans = [tr for contig in fast._contigs.values() for tr in contig.transcripts]
    lo = max(min(tr.beg for tr in spans) - 20, 0)
    hi = min(max(tr.end for tr in spans) + 20, len(sequence) - 20)
    edges = _edges(fast)
    near_edge = {p for edge in edges for p in range(edge - 12, edge + 13)}
    # WHEN every SNV of the transcribed region is annotated (every ALT near feature edges)
    for beg in range(lo, hi):
        ref = sequence[beg]
        alts = [b for b in "ACGT" if b != ref]
        for alt in alts if beg in near_edge else alts[beg % len(alts) :][:1]:
            args = (chrom, beg + 1, ref, alt)
            assert fast.annotate(*args) == general.annotate(*args), args
    # AND small indels and MNPs, mostly at feature edges
    rng = random.Random(case)
    for _ in range(3000):
        beg = (
            rng.choice(edges) + rng.randint(-12, 12)
            if rng.random() < 0.7
            else rng.randrange(lo, hi)
        )
        beg = min(max(beg, 1), len(sequence) - 20)
        size = rng.randint(1, 9)
        roll = rng.random()
        if roll < 0.4:
            ref, alt = sequence[beg : beg + 1 + size], sequence[beg]
        elif roll < 0.8:
            ref, alt = sequence[beg], sequence[beg] + "".join(rng.choices("ACGT", k=size))
        else:
            ref = sequence[beg : beg + rng.randint(2, 4)]
            alt = "".join(rng.choices("ACGT", k=rng.randint(1, 5)))
        args = (chrom, beg + 1, ref, alt)
        # THEN both paths agree exactly
        assert fast.annotate(*args) == general.annotate(*args), args


def _case_files(folder: Path) -> tuple[Path, Path] | None:
    gffs = sorted(p for p in folder.iterdir() if p.suffix in (".gff", ".gff3"))
    fastas = sorted(p for p in folder.iterdir() if p.suffix == ".fa")
    return (gffs[0], fastas[0]) if len(gffs) == 1 and len(fastas) == 1 else None


QUIET_CASES = [
    folder.name
    for folder in sorted((DATA / "csq").iterdir())
    if folder.is_dir() and _case_files(folder) is not None
]


@pytest.mark.parametrize("case", QUIET_CASES)
def test_indels_in_quiet_stretches_match_the_general_path(case: str) -> None:
    # GIVEN a real case with and without the quiet-stretch plans
    gff, fasta = _case_files(DATA / "csq" / case) or (Path(), Path())
    fast = TranscriptAnnotator.from_files(gff, fasta)
    general = TranscriptAnnotator.from_files(gff, fasta, fast_paths=False)
    reader = FastaReader(fasta)
    rng = random.Random(case)
    for contig in fast._contigs.values():
        name = next(n for n in reader.names if normalize_chrom(n) == contig.name)
        length = reader.length(name)
        # WHEN indels and MNVs of every size up to 12 start at every position within a few
        # bases of the margin around each loud window (where the plan starts and stops applying)
        margin = QUIET_MARGIN + 13
        starts = [
            beg
            for lo, hi in zip(contig.loud_starts, contig.loud_ends, strict=True)
            for beg in (
                *range(lo - margin - 3, lo - QUIET_MARGIN + 3),
                *range(hi + QUIET_MARGIN - 3, hi + margin),
            )
        ]
        if length > 40:
            starts += [rng.randrange(1, length - 20) for _ in range(300)]  # and anywhere
        for beg in (b for b in starts if 1 <= b < length - 20):
            sequence = reader.fetch(name, beg, beg + 14)
            size = rng.randint(1, 12)
            for ref, alt in (
                (sequence[: 1 + size], sequence[0]),
                (sequence[0], sequence[0] + "".join(rng.choices("ACGT", k=size))),
                (sequence[:2], "".join(rng.choices("ACGT", k=2))),
            ):
                args = (name, beg + 1, ref, alt)
                # THEN both paths agree exactly
                assert fast.annotate(*args) == general.annotate(*args), args
