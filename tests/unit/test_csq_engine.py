"""Focused behaviour of TranscriptAnnotator on bcftools' toy gene models.

tests/data/csq_toy.{gff3,fa} are bcftools' test/csq.gff3 and test/csq.fa (MIT):
XYZ (+ strand, chr 1), ABC (- strand, chr 2), QWRTY (- strand, chr 3) and a
lincRNA (chr 3). Expected strings are bcftools 1.16 ``csq -l`` output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from anntools.csq import TranscriptAnnotator
from anntools.csq.engine import RefMismatch
from anntools.model import Consequence

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def toy() -> TranscriptAnnotator:
    return TranscriptAnnotator.from_files(DATA / "csq_toy.gff3", DATA / "csq_toy.fa")


def bcsq(found: list[Consequence]) -> str:
    """The consequences written as bcftools writes INFO/BCSQ."""
    parts = []
    for c in found:
        fields = [c.term, c.gene, c.transcript, c.biotype]
        if c.strand:
            fields.append(c.strand)
        if c.aa_change or c.dna_change:
            fields += [c.aa_change, c.dna_change]
        parts.append("|".join(fields))
    return ",".join(parts) or "."


@pytest.mark.parametrize(
    ("chrom", "pos", "ref", "alt", "expected"),
    [
        # SNVs, + strand
        ("1", 103, "G", "A", "missense|XYZ|ENST00000000001|protein_coding|+|2V>2I|103G>A"),
        ("1", 102, "C", "T", "synonymous|XYZ|ENST00000000001|protein_coding|+|1Y|102C>T"),
        ("1", 102, "C", "A", "stop_gained|XYZ|ENST00000000001|protein_coding|+|1Y>1*|102C>A"),
        # SNVs, - strand
        ("2", 164, "T", "G", "missense|ABC|ENST00000000002|protein_coding|-|3T>3P|164T>G"),
        ("2", 165, "A", "C", "synonymous|ABC|ENST00000000002|protein_coding|-|2R|165A>C"),
        ("2", 123, "G", "C", "stop_gained|ABC|ENST00000000002|protein_coding|-|10Y>10*|123G>C"),
        # MNP creating a stop
        ("1", 145, "AC", "TA", "stop_gained|XYZ|ENST00000000001|protein_coding|+|10T>10*|145AC>TA"),
    ],
)
def test_coding_snvs_and_mnps(
    toy: TranscriptAnnotator, chrom: str, pos: int, ref: str, alt: str, expected: str
) -> None:
    # GIVEN a substitution in a CDS WHEN annotated THEN the codon change reads as bcftools prints it
    assert bcsq(toy.annotate(chrom, pos, ref, alt)) == expected


def test_frameshift_reads_through_to_the_new_stop(toy: TranscriptAnnotator) -> None:
    # GIVEN a 1 bp deletion in the XYZ CDS WHEN annotated THEN frameshift, read-through peptide
    found = toy.annotate("1", 124, "TA", "T")
    assert (
        bcsq(found)
        == "frameshift|XYZ|ENST00000000001|protein_coding|+|6YVLRTYYVRT>6SYYVRTTYV|124TA>T"
    )


def test_frameshift_on_minus_strand_that_creates_a_stop(toy: TranscriptAnnotator) -> None:
    found = toy.annotate("2", 126, "C", "CTT")
    assert (
        bcsq(found)
        == "stop_gained&frameshift|ABC|ENST00000000002|protein_coding|-|9TYVVRTY>9TST*|126C>CTT"
    )


@pytest.mark.parametrize(
    ("chrom", "pos", "ref", "alt", "expected"),
    [
        (
            "1",
            100,
            "TACG",
            "T",
            "inframe_deletion|XYZ|ENST00000000001|protein_coding|+|1YV>1L|100TACG>T",
        ),
        (
            "2",
            100,
            "TACG",
            "T",
            "inframe_deletion|ABC|ENST00000000002|protein_coding|-|14TY>14N|100TACG>T",
        ),
    ],
)
def test_inframe_deletion(
    toy: TranscriptAnnotator, chrom: str, pos: int, ref: str, alt: str, expected: str
) -> None:
    assert bcsq(toy.annotate(chrom, pos, ref, alt)) == expected


@pytest.mark.parametrize(
    ("chrom", "pos", "ref", "alt", "expected"),
    [
        ("3", 159, "G", "A", "splice_donor|QWRTY|ENST00000000003|protein_coding"),
        ("3", 109, "ACGTACGT", "A", "splice_acceptor|QWRTY|ENST00000000003|protein_coding"),
        ("3", 113, "A", "T", "splice_region|QWRTY|ENST00000000003|protein_coding"),
        ("3", 152, "T", "A", "splice_region|QWRTY|ENST00000000003|protein_coding"),
    ],
)
def test_splice_sites(
    toy: TranscriptAnnotator, chrom: str, pos: int, ref: str, alt: str, expected: str
) -> None:
    # GIVEN a variant at the intron ends (donor/acceptor: 2 bp, region: 3-8 bp) THEN the splice term
    assert bcsq(toy.annotate(chrom, pos, ref, alt)) == expected


def test_coding_change_next_to_an_exon_end_also_reports_splice_region(
    toy: TranscriptAnnotator,
) -> None:
    found = toy.annotate("1", 129, "A", "C")
    assert bcsq(found) == (
        "splice_region|XYZ|ENST00000000001|protein_coding,"
        "synonymous|XYZ|ENST00000000001|protein_coding|+|7V|129A>C"
    )


@pytest.mark.parametrize(
    ("chrom", "pos", "expected"),
    [
        ("1", 90, "5_prime_utr|XYZ|ENST00000000001|protein_coding"),
        ("1", 190, "3_prime_utr|XYZ|ENST00000000001|protein_coding"),
        ("2", 199, "5_prime_utr|ABC|ENST00000000002|protein_coding"),
        ("2", 97, "3_prime_utr|ABC|ENST00000000002|protein_coding"),
    ],
)
def test_utrs_on_both_strands(
    toy: TranscriptAnnotator, chrom: str, pos: int, expected: str
) -> None:
    ref = "C" if (chrom, pos) in {("1", 90), ("1", 190)} else {"199": "G", "97": "A"}[str(pos)]
    assert bcsq(toy.annotate(chrom, pos, ref, "T" if ref != "T" else "A")) == expected


def test_intron_prints_no_transcript(toy: TranscriptAnnotator) -> None:
    # GIVEN a deep intronic SNV WHEN annotated THEN intron, transcript left empty as bcftools does
    assert bcsq(toy.annotate("3", 120, "T", "A")) == "intron|QWRTY||protein_coding"


def test_non_coding_transcript(toy: TranscriptAnnotator) -> None:
    assert bcsq(toy.annotate("3", 20, "T", "A")) == "non_coding|mir-007||lincRNA"


def test_intergenic_gives_nothing(toy: TranscriptAnnotator) -> None:
    assert toy.annotate("1", 20, "A", "C") == []
    assert toy.annotate("7", 100, "A", "C") == []


@pytest.mark.parametrize("alt", ["<DUP>", "<INV>", "*", ".", "<*>", "<NON_REF>"])
def test_symbolic_and_missing_alleles_are_ignored(toy: TranscriptAnnotator, alt: str) -> None:
    # GIVEN an allele that is not a sequence WHEN annotated THEN [] and no error
    assert toy.annotate("1", 103, "G", alt) == []


def test_symbolic_insertion_is_a_feature_elongation(toy: TranscriptAnnotator) -> None:
    found = toy.annotate("1", 104, "T", "<INS:ME:ALU>")
    assert [c.terms for c in found] == [("coding_sequence", "feature_elongation")]


@pytest.mark.parametrize(
    ("chrom", "pos", "expected"),
    [
        ("1", 104, "coding_sequence&feature_truncation|XYZ|ENST00000000001|protein_coding"),
        ("1", 94, "5_prime_utr&feature_truncation|XYZ|ENST00000000001|protein_coding"),
        (
            "1",
            109,
            "splice_region&coding_sequence&feature_truncation|XYZ|ENST00000000001|protein_coding",
        ),
        ("3", 119, "intron&feature_truncation|QWRTY|ENST00000000003|protein_coding"),
    ],
)
def test_symbolic_deletion_is_a_feature_truncation(
    toy: TranscriptAnnotator, chrom: str, pos: int, expected: str
) -> None:
    # GIVEN <DEL> (bcftools reads only the base after the anchor, not END or SVLEN)
    found = toy.annotate(chrom, pos, "A", "<DEL>")
    # THEN what that base is in, with feature_truncation, on the transcript
    assert bcsq(found) == expected


def test_ref_equal_to_alt_is_not_a_variant(toy: TranscriptAnnotator) -> None:
    assert toy.annotate("1", 103, "G", "G") == []


def test_untrimmed_alleles_give_the_same_call(toy: TranscriptAnnotator) -> None:
    # GIVEN the same 1 bp deletion written with an extra shared base on the right
    plain = toy.annotate("1", 124, "TA", "T")
    padded = toy.annotate("1", 124, "TAC", "TC")
    # THEN the consequence terms and protein change agree
    assert [(c.terms, c.aa_change) for c in padded] == [(c.terms, c.aa_change) for c in plain]


def test_lower_case_alleles(toy: TranscriptAnnotator) -> None:
    assert toy.annotate("1", 103, "g", "a") == toy.annotate("1", 103, "G", "A")


@pytest.mark.parametrize("vcf_name", ["chr1", "CHR1", "1"])
def test_chromosome_names_with_or_without_chr(toy: TranscriptAnnotator, vcf_name: str) -> None:
    # GIVEN a GFF3/FASTA naming the contig "1" WHEN the VCF says chr1 THEN it still matches
    assert bcsq(toy.annotate(vcf_name, 103, "G", "A")).startswith("missense|XYZ")
    assert toy.has_chromosome(vcf_name)


def test_gff_with_chr_prefix_and_fasta_without() -> None:
    # GIVEN a GFF3 saying chr1 and a FASTA saying 1 WHEN annotating "1" THEN the same answer
    ann = TranscriptAnnotator.from_files(DATA / "csq_toy_chr.gff3", DATA / "csq_toy.fa")
    assert ann.chromosomes == {"chr1", "chr2", "chr3"}
    assert (
        bcsq(ann.annotate("1", 103, "G", "A"))
        == "missense|XYZ|ENST00000000001|protein_coding|+|2V>2I|103G>A"
    )


def test_chromosomes_lists_contigs_with_transcripts(toy: TranscriptAnnotator) -> None:
    assert toy.chromosomes == {"1", "2", "3"}


def test_fasta_index_is_never_written(tmp_path: Path) -> None:
    # GIVEN a FASTA without .fai in its folder WHEN loaded THEN the index lives in memory only
    fasta = tmp_path / "ref.fa"
    fasta.write_text((DATA / "csq_toy.fa").read_text())
    gff = tmp_path / "genes.gff3"
    gff.write_text((DATA / "csq_toy.gff3").read_text())
    ann = TranscriptAnnotator.from_files(gff, fasta)
    assert ann.annotate("1", 103, "G", "A")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genes.gff3", "ref.fa"]


# deep inside a CDS (the plan path) and next to an exon edge (the general path), both strands
@pytest.mark.parametrize(
    ("chrom", "pos", "ref", "found"),
    [("1", 145, "C", "A"), ("2", 125, "C", "A"), ("1", 103, "T", "G"), ("2", 164, "G", "T")],
)
@pytest.mark.parametrize("fast_paths", [True, False])
def test_a_wrong_ref_in_a_coding_snv_names_the_reference_base(
    chrom: str, pos: int, ref: str, found: str, fast_paths: bool
) -> None:
    annotator = TranscriptAnnotator.from_files(
        DATA / "csq_toy.gff3", DATA / "csq_toy.fa", fast_paths=fast_paths
    )
    with pytest.raises(RefMismatch) as raised:
        annotator.annotate(chrom, pos, ref, "A" if ref != "A" else "C")
    assert f"{ref} where it has {found} at {chrom}:{pos}" in raised.value.reason
