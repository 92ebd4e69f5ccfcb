"""The compiled record loop: what it reads from each record, how it writes it, and that its
reuse of the engine's plans gives exactly the engine's own answers."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from anntools.annotation import Site, entry_from_consequence
from anntools.csq import TranscriptAnnotator
from anntools.csq.fasta import FastaReader
from anntools.pipeline import Options, annotate_file
from anntools.recordloop import RecordLoop
from anntools.variant import is_symbolic
from tests.conftest import WriteVcf, read_vcf

CASES = Path(__file__).resolve().parents[1] / "data" / "csq"
BIG_CASE = CASES / "ENST00000542803"
NO_BUNDLE = Options(use_bundle=False, assembly="GRCh38")

HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=1,length=1000000>",
    '##INFO=<ID=AC,Number=A,Type=Integer,Description="Allele count">',
    '##INFO=<ID=AN,Number=1,Type=Integer,Description="Allele number">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
]


def tsv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def annotate_lines(write_vcf: WriteVcf, lines: list[str], options: Options = NO_BUNDLE) -> Path:
    path = write_vcf(lines)
    return annotate_file(path, path.parent / "out", options).files["tsv"]


# A called sample has at least one allele and none missing; het means its alleles differ,
# hom-alt that they are one ALT. Allele counts are over called samples.
GENOTYPES = {
    "0/0": (True, False, False, {0: 2}),
    "0/1": (True, True, False, {0: 1, 1: 1}),
    "1/1": (True, False, True, {1: 2}),
    "./.": (False, False, False, {}),
    "0/.": (False, False, False, {}),
    ".": (False, False, False, {}),
    "1": (True, False, True, {1: 1}),
    "2": (True, False, True, {2: 1}),
    "1|2": (True, True, False, {1: 1, 2: 1}),
    "0/1/1": (True, True, False, {0: 1, 1: 2}),
    "1|1": (True, False, True, {1: 2}),
}


def test_genotypes_are_tallied_per_sample_and_allele(write_vcf: WriteVcf) -> None:
    # GIVEN one record with two ALTs and every kind of genotype
    samples = list(GENOTYPES)
    lines = [
        *HEADER,
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"])
        + "\t"
        + "\t".join(f"S{i}" for i in range(len(samples))),
        "\t".join(["1", "100", ".", "A", "G,T", ".", ".", ".", "GT", *samples]),
    ]
    # WHEN it is annotated and read back
    rows = tsv_rows(annotate_lines(write_vcf, lines))
    # THEN the tallies are the hand-computed ones
    called = [facts for facts in GENOTYPES.values() if facts[0]]
    counts = [sum(facts[3].get(allele, 0) for facts in called) for allele in range(3)]
    expected = (len(called), sum(f[1] for f in called), sum(f[2] for f in called))
    assert expected == (8, 3, 4) and counts == [4, 9, 2]
    assert [(r["Called"], r["Het"], r["Hom_alt"]) for r in rows] == [("8", "3", "4")] * 2
    # AF from the allele counts: ALT copies over all called alleles
    assert [r["AF"] for r in rows] == [f"{9 / 15:.4g}", f"{2 / 15:.4g}"] == ["0.6", "0.1333"]


@pytest.mark.parametrize(
    ("info_lines", "info", "expected"),
    [
        ([], "AC=1,3;AN=8", ["0.125", "0.375"]),  # INFO AC/AN win over the genotypes
        (['##INFO=<ID=XC,Number=1,Type=Float,Description="x">'], "AC=.;AN=8", ["0.25", "0.25"]),
        ([], "AC=1,3;AN=0", ["0.25", "0.25"]),  # AN 0: from the genotypes
        ([], "AC=1,3", ["0.25", "0.25"]),  # AC without AN: from the genotypes
    ],
)
def test_allele_frequency_comes_from_ac_and_an_else_from_genotypes(
    write_vcf: WriteVcf, info_lines: list[str], info: str, expected: list[str]
) -> None:
    lines = [
        *HEADER,
        *info_lines,
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2",
        f"1\t100\t.\tA\tG,T\t.\t.\t{info}\tGT\t0/1\t0/2",
    ]
    assert [r["AF"] for r in tsv_rows(annotate_lines(write_vcf, lines))] == expected


def test_allele_counts_declared_as_strings_are_read_and_floats_are_not(
    write_vcf: WriteVcf,
) -> None:
    # GIVEN an old-style header declaring AC as a String, and another declaring it as a Float
    for kind, expected in (("String", "0.75"), ("Float", "0.5")):
        lines = [
            "##fileformat=VCFv4.1",
            f'##INFO=<ID=AC,Number=A,Type={kind},Description="x">',
            '##INFO=<ID=AN,Number=1,Type=Integer,Description="x">',
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
            "1\t100\t.\tA\tG\t.\t.\tAC=3;AN=4\tGT\t0/1",
        ]
        # THEN a String AC counts, a Float one falls back to the genotypes
        assert [r["AF"] for r in tsv_rows(annotate_lines(write_vcf, lines))] == [expected]


def test_the_missing_allele_has_no_frequency(write_vcf: WriteVcf) -> None:
    lines = [
        *HEADER,
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
        "1\t100\t.\tA\t.\t.\t.\tAC=1;AN=2\tGT\t0/0",
    ]
    [row] = tsv_rows(annotate_lines(write_vcf, lines))
    assert (row["Variant_class"], row["AF"], row["Called"]) == ("no_alt", "", "1")


def test_frequencies_are_written_as_python_writes_them(write_vcf: WriteVcf) -> None:
    # GIVEN records whose AC/AN give fractions of every kind (small, large, repeating)
    rng = random.Random(5)
    pairs = [(ac, an) for an in (1, 3, 7, 9, 10, 12, 1000, 99999) for ac in (0, 1, an // 3, an)]
    pairs += [(rng.randrange(1, 10**6), 10**6 + rng.randrange(10**6)) for _ in range(300)]
    pairs += [(1, 10**7), (7, 3 * 10**6), (2, 2)]
    body = [f"1\t{100 + i}\t.\tA\tG\t.\t.\tAC={ac};AN={an}" for i, (ac, an) in enumerate(pairs)]
    lines = [*HEADER, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO", *body]
    # THEN every AF reads exactly as f"{ac / an:.4g}"
    afs = [row["AF"] for row in tsv_rows(annotate_lines(write_vcf, lines))]
    assert afs == [f"{ac / an:.4g}" for ac, an in pairs]


def test_lines_only_python_rules_accept_are_kept(write_vcf: WriteVcf, tmp_path: Path) -> None:
    # GIVEN a breakend, a record with non-ASCII INFO text, CRLF line ends and bad lines
    lines = [
        *HEADER,
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
        "1\t100\t.\tA\tA]1:500]\t.\t.\t.\tGT\t0/1",
        "1\t101\t.\tA\tG\t.\t.\tNOTE=café\tGT\t0/1",
        "1\t102\t.\tA\tG\t.\t.\t.\tGT\t0/1:7",
        "1\t103\t.\tA\tG\t.\t.\t.\tGT\t0/1",
    ]
    path = tmp_path / "crlf.vcf"
    path.write_bytes(
        ("\r\n".join(lines) + "\r\n").encode() + b"1\t104\t.\tA\tG\t.\t.\t\xff\tGT\t0/1\r\n"
    )
    # WHEN it is annotated
    result = annotate_file(path, tmp_path / "out", NO_BUNDLE)
    # THEN the valid records are there, the others named with their reasons
    _, records = read_vcf(result.files["vcf"])
    assert [r.pos for r in records] == [100, 101, 103]
    assert records[1].info["NOTE"] == "café"
    skipped = {p["line"]: p["reason"] for p in result.summary["skipped_lines"]["lines"]}
    assert skipped == {
        9: "htslib cannot parse it (wrong number of columns or of FORMAT fields)",
        11: "not UTF-8 text",
    }
    assert "\r" not in result.files["vcf"].read_text()


def test_each_records_placement_and_rsid_are_written_as_its_source_gives_them() -> None:
    # GIVEN a site source that places records on GRCh38 (on two chromosomes), names the
    # common rsID of one, and cannot place another
    def sites(
        chrom: str, pos: int, ref: str, alts: list[str], look_up_rsid: bool, line_no: int = 0
    ) -> Site:
        if pos == 300:
            return Site(unmapped=True)
        return Site(
            rsid="rs42" if pos == 100 and look_up_rsid else None,
            grch38=(f"chr{chrom}" if pos < 400 else "chrX", pos + 1000),
        )

    header = "\n".join([*HEADER, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]) + "\n"
    loop = RecordLoop(header, lambda columns: None, sites)
    lines = [
        f"1\t{pos}\t{rsid}\tA\tG,T\t.\t.\t."
        for pos, rsid in ((100, "."), (200, "."), (300, "."), (400, "rs7"), (500, "."))
    ]
    # WHEN they are annotated
    vcf_text, tsv_text, counts, problems, _ = loop.annotate([line.encode() for line in lines], 1)
    # THEN the VCF names the placement and fills an empty ID; the TSV has both columns, on
    # every row of every ALT
    vcf_info = [line.split("\t")[7] for line in vcf_text.decode().splitlines()]
    assert vcf_info == [
        "VC=SNV,SNV;GRCH38=chr1:1100",
        "VC=SNV,SNV;GRCH38=chr1:1200",
        "VC=SNV,SNV;UNMAPPED",
        "VC=SNV,SNV;GRCH38=chrX:1400",
        "VC=SNV,SNV;GRCH38=chrX:1500",
    ]
    assert [line.split("\t")[2] for line in vcf_text.decode().splitlines()] == [
        "rs42",
        ".",
        ".",
        "rs7",
        ".",
    ]
    known = [tuple(row.split("\t")[7:9]) for row in tsv_text.decode().splitlines()]
    assert known == [
        *[("chr1:1100", "rs42")] * 2,
        *[("chr1:1200", "")] * 2,
        *[("unmapped", "")] * 2,
        *[("chrX:1400", "rs7")] * 2,
        *[("chrX:1500", "")] * 2,
    ]
    assert (counts["lifted"], counts["unmapped"], counts["in_dbsnp"]) == (4, 1, 2)
    assert problems == []


def _case_inputs() -> list[tuple[Path, Path, Path]]:
    found = []
    for folder in sorted(p for p in CASES.iterdir() if p.is_dir()):
        gffs = sorted(p for p in folder.iterdir() if p.suffix in (".gff", ".gff3"))
        fastas = sorted(folder.glob("*.fa"))
        if len(gffs) == 1 and len(fastas) == 1:
            found += [(vcf, gffs[0], fastas[0]) for vcf in sorted(folder.glob("*.vcf"))]
    return found


def _synthetic(path: Path, fasta: Path, count: int, seed: int, shuffled: bool = False) -> Path:
    """SNVs, MNVs and indels over a case's sequence, many at feature edges; sorted unless
    ``shuffled``."""
    reader = FastaReader(fasta)
    (chrom,) = reader.names
    sequence = reader.fetch(chrom, 0, reader.length(chrom)).upper()
    rng = random.Random(seed)
    rows = []
    for pos in sorted(rng.randrange(2, len(sequence) - 20) for _ in range(count)):
        ref = sequence[pos - 1 : pos + rng.choice((0, 0, 0, 1, 5))]
        alt = rng.choice(
            [
                rng.choice([b for b in "ACGT" if b != ref[0]]) + ref[1:],
                ref[0],
                ref + "".join(rng.choices("ACGT", k=rng.randint(1, 6))),
                "".join(rng.choices("ACGT", k=len(ref))),
            ]
        )
        rows.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.")
    if shuffled:
        rng.shuffle(rows)
    header = [f"##fileformat=VCFv4.2\n##contig=<ID={chrom},length={len(sequence)}>"]
    path.write_text("\n".join([*header, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO", *rows]))
    return path


def _assert_engine_answers(vcf: Path, gff: Path, fasta: Path, out: Path) -> int:
    """Every record's entries are the engine's general-path answers; returns records seen.

    Local calling (each record on its own) is what the engine's ``annotate`` answers."""
    options = Options(use_bundle=False, gff3=gff, fasta=fasta, local=True)
    result = annotate_file(vcf, out, options)
    general = TranscriptAnnotator.from_files(gff, fasta, fast_paths=False)
    _, records = read_vcf(result.files["vcf"])
    for record in records:
        expected = [
            list(entry_from_consequence(alt, csq).fields())
            for alt in record.alts
            if not is_symbolic(alt) or alt.startswith("<")  # the engine's <INS...> calls
            for csq in general.annotate(record.chrom, record.pos, record.ref, alt)
        ]
        assert record.entries() == expected, (vcf.name, record.pos, record.ref, record.alts)
    return len(records)


@pytest.mark.parametrize(
    ("vcf", "gff", "fasta"), _case_inputs(), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_every_case_record_gets_the_engines_own_answer(
    vcf: Path, gff: Path, fasta: Path, tmp_path: Path
) -> None:
    assert _assert_engine_answers(vcf, gff, fasta, tmp_path) > 0


def test_plans_reused_across_a_whole_transcript_give_the_engines_answers(tmp_path: Path) -> None:
    # GIVEN 20,000 random variants over the largest case (most fall in quiet stretches)
    gff, fasta = BIG_CASE / "ENST00000542803.gff", BIG_CASE / "ENST00000542803.fa"
    vcf = _synthetic(tmp_path / "random.vcf", fasta, 20_000, seed=11)
    # THEN each one gets exactly what the engine's general path says
    assert _assert_engine_answers(vcf, gff, fasta, tmp_path / "out") == 20_000


def test_records_out_of_order_get_the_engines_answers(tmp_path: Path) -> None:
    # GIVEN random variants in random order: each record may land in another quiet stretch
    # than the one before, behind it or ahead (the loop keeps only the last stretch found)
    gff, fasta = BIG_CASE / "ENST00000542803.gff", BIG_CASE / "ENST00000542803.fa"
    vcf = _synthetic(tmp_path / "shuffled.vcf", fasta, 5_000, seed=12, shuffled=True)
    # THEN each one still gets exactly what the engine's general path says
    assert _assert_engine_answers(vcf, gff, fasta, tmp_path / "out") == 5_000


@pytest.mark.parametrize("local", [True, False], ids=["local", "haplotype-aware"])
def test_a_symbolic_deletion_over_a_transcript_is_a_feature_truncation(
    write_vcf: WriteVcf, local: bool
) -> None:
    # GIVEN bcftools' <DEL> case (END past the CDS's last base) and one whose first deleted
    # base is in the CDS, given as SVLEN only, beside an SNV: through --gff/--fasta
    case = CASES / "ENST00000263103-INS"
    lines = [
        "##fileformat=VCFv4.2",
        '##INFO=<ID=END,Number=1,Type=Integer,Description="End">',
        '##INFO=<ID=SVLEN,Number=.,Type=Integer,Description="Length">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1",
        "10\t315700\t.\tG\t<DEL>\t.\t.\tSVLEN=-30\tGT\t0|1",
        "10\t315772\t.\tG\t<DEL>\t.\t.\tEND=315775\tGT\t0|1",
    ]
    options = Options(
        use_bundle=False,
        gff3=case / "ENST00000263103-INS.gff",
        fasta=case / "ENST00000263103-INS.fa",
        local=local,
    )
    rows = tsv_rows(annotate_lines(write_vcf, lines, options))
    # THEN each is feature_truncation on the transcript, with what its first deleted base is in
    assert [(r["POS"], r["Consequence"], r["Transcript"]) for r in rows] == [
        ("315700", "coding_sequence&feature_truncation", "ENST00000373886"),
        ("315772", "feature_truncation", "ENST00000373886"),  # bcftools' own EXP
    ]


def test_coding_snvs_of_a_gene_whose_name_needs_escaping_get_the_engines_answers(
    tmp_path: Path,
) -> None:
    # GIVEN a coding transcript whose gene name holds characters an INFO value may not hold
    # (a space, an equals sign, commas), and SNVs deep inside its CDS, where the loop fills
    # in a per-transcript template instead of rendering the engine's answer each time
    rng = random.Random(5)
    sequence = "".join(rng.choices("ACGT", k=3000))
    fasta = tmp_path / "g.fa"
    fasta.write_text(">1\n" + sequence + "\n")
    features = [
        ("gene", 901, 2000, ".", "ID=gene:G1;Name=MY GENE=1,2;biotype=protein_coding"),
        ("mRNA", 901, 2000, ".", "ID=transcript:T1;Parent=gene:G1;biotype=protein_coding"),
        ("exon", 901, 2000, ".", "Parent=transcript:T1"),
        ("five_prime_UTR", 901, 1000, ".", "Parent=transcript:T1"),
        ("CDS", 1001, 1900, "0", "Parent=transcript:T1"),
        ("three_prime_UTR", 1901, 2000, ".", "Parent=transcript:T1"),
    ]
    gff = tmp_path / "g.gff3"
    gff.write_text(
        "".join(
            f"1\t.\t{kind}\t{a}\t{b}\t.\t+\t{phase}\t{attrs}\n"
            for kind, a, b, phase, attrs in features
        )
    )
    rows = [
        f"1\t{pos}\t.\t{sequence[pos - 1]}\t{'C' if sequence[pos - 1] == 'A' else 'A'}\t.\t.\t."
        for pos in range(1010, 1891, 7)
    ]
    vcf = tmp_path / "snvs.vcf"
    header = "##fileformat=VCFv4.2\n##contig=<ID=1,length=3000>\n"
    vcf.write_text(header + "\n".join(["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO", *rows]))
    result = annotate_file(vcf, tmp_path / "out", Options(use_bundle=False, gff3=gff, fasta=fasta))
    # THEN each TSV row holds the engine's general-path answer, the gene name as it is
    general = TranscriptAnnotator.from_files(gff, fasta, fast_paths=False)
    found = tsv_rows(result.files["tsv"])
    assert len(found) == len(rows)
    for row in found:
        (csq,) = general.annotate(row["CHROM"], int(row["POS"]), row["REF"], row["ALT"])
        assert row["Gene"] == "MY GENE=1,2"
        shown = (row["Consequence"], row["Protein_change"], row["DNA_change"], row["Transcript"])
        assert shown == ("&".join(csq.terms), csq.aa_change, csq.dna_change, csq.transcript)
    # AND the VCF's INFO items spell the gene name with INFO's replacements
    lines = [line for line in result.files["vcf"].read_text().splitlines() if line[:1] != "#"]
    assert len(lines) == len(rows)
    assert all("|MY_GENE:1:2|T1|protein_coding|+|CDS|" in line for line in lines)
