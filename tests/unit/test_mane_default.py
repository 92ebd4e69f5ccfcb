"""Well-known GRCh38 variants through the default bundle, with no options (as web jobs run).

Each expected HGVS c. is the published one (ClinVar, the literature) for the
MANE Select transcript; none is computed from the bundle. HBB's positions
are placed from its published structure: c.20 (E6V, rs334) at 5227002, exon 1
ends at c.92 (IVS-I-1 is c.92+1G>A, IVS-I-5 c.92+5G>C), intron 1 is 130 bp
(IVS-I-110 is c.93-21G>A), the 5' UTR is 50 bases. BRAF exon 15 is c.1742-c.1860.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from anntools.pipeline import SKIP_MANE_ENV, Options, Result, annotate_file
from tests.conftest import WriteVcf

HEADER = [
    "##fileformat=VCFv4.2",
    "##reference=GRCh38",
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
]

# ID, CHROM, POS, REF, ALT, gene, RefSeq, exon, intron ("-": none), HGVS c., consequence.
# BRCA1_5382insC is published as c.5266dup: the duplicated C lies 5' of the insertion,
# which the left-aligned VCF record does not show, so without sequence it is an insertion.
KNOWN_TABLE = """
BRAF_V600E chr7 140753336 A T BRAF NM_004333.6 15/18 - c.1799T>A coding_sequence_variant
TP53_R175H chr17 7675088 C T TP53 NM_000546.6 5/11 - c.524G>A coding_sequence_variant
HBB_E6V chr11 5227002 T A HBB NM_000518.5 1/3 - c.20A>T coding_sequence_variant
KRAS_G12D chr12 25245350 C T KRAS NM_004985.5 2/5 - c.35G>A coding_sequence_variant
EGFR_L858R chr7 55191822 T G EGFR NM_005228.5 21/28 - c.2573T>G coding_sequence_variant
APOE_e4 chr19 44908684 T C APOE NM_000041.4 4/4 - c.388T>C coding_sequence_variant
MTHFR_677 chr1 11796321 G A MTHFR NM_005957.5 5/12 - c.665C>T coding_sequence_variant
BRAF_donor chr7 140753274 C T BRAF NM_004333.6 - 15/17 c.1860+1G>A splice_donor_variant
BRAF_acceptor chr7 140753394 C T BRAF NM_004333.6 - 14/17 c.1742-1G>A splice_acceptor_variant
HBB_IVS1_1 chr11 5226929 C T HBB NM_000518.5 - 1/2 c.92+1G>A splice_donor_variant
HBB_IVS1_5 chr11 5226925 C G HBB NM_000518.5 - 1/2 c.92+5G>C splice_region_variant&intron_variant
HBB_IVS1_110 chr11 5226820 C T HBB NM_000518.5 - 1/2 c.93-21G>A intron_variant
HBB_5UTR chr11 5227071 A G HBB NM_000518.5 1/3 - c.-50T>C 5_prime_UTR_variant
BRCA2_6174del chr13 32340300 GT G BRCA2 NM_000059.4 11/27 - c.5946del frameshift_variant
BRCA1_185del chr17 43124027 ACT A BRCA1 NM_007294.4 2/23 - c.68_69del frameshift_variant
BRCA1_5382insC chr17 43057062 T TG BRCA1 NM_007294.4 19/23 - c.5266_5267insC frameshift_variant
"""
KNOWN = [tuple(line.split()) for line in KNOWN_TABLE.strip().splitlines()]


@pytest.fixture(scope="module")
def result(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Result:
    folder = tmp_path_factory.mktemp("mane_default")
    lines = [
        f"{chrom}\t{pos}\t{name}\t{ref}\t{alt}\t.\tPASS\t."
        for name, chrom, pos, ref, alt, *_ in KNOWN
    ]
    order = {f"chr{n}": n for n in range(1, 23)}
    lines.sort(key=lambda line: (order[line.split("\t")[0]], int(line.split("\t")[1])))
    path = folder / "known.vcf"
    path.write_text("\n".join([*HEADER, *lines]) + "\n")
    return annotate_file(path, folder / "out", Options(bundle_dir=bundle_dir, workers=1))


def tsv_rows(result: Result) -> list[dict[str, str]]:
    header, *rows = result.files["tsv"].read_text().splitlines()
    names = header.split("\t")
    return [dict(zip(names, row.split("\t"), strict=True)) for row in rows]


@pytest.mark.parametrize("known", KNOWN, ids=[k[0] for k in KNOWN])
def test_known_variant_gets_its_mane_transcript_and_hgvs(
    result: Result, known: tuple[str, ...]
) -> None:
    name, _, _, _, _, gene, refseq, exon, intron, hgvsc, consequence = known
    rows = [r for r in tsv_rows(result) if r["ID"] == name and r["Gene"] == gene]
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["Gene"], row["MANE_SELECT"]) == (gene, refseq)
    assert row["Transcript"].startswith("ENST")
    assert (row["Exon"] or "-", row["Intron"] or "-") == (exon, intron)
    assert row["HGVSc"] == f"{row['Transcript']}:{hgvsc}"
    assert row["Consequence"] == consequence
    assert row["HGVSp"] == ""


def test_output_says_protein_changes_need_the_full_bundle(result: Result) -> None:
    vcf = result.files["vcf"].read_text()
    assert "##anntools_protein_changes=not computed" in vcf
    assert "need the full bundle" in result.files["log"].read_text()


def test_gene_level_terms_are_spelled_as_vep_does(result: Result) -> None:
    consequences = {t for r in tsv_rows(result) for t in r["Consequence"].split("&")}
    assert "upstream_gene_variant" in consequences
    assert not consequences & {"coding_sequence", "intron", "upstream", "5_prime_utr"}


@pytest.mark.skipif(shutil.which("bcftools") is None, reason="bcftools is not installed")
def test_bcftools_split_vep_reads_the_annotation(result: Result) -> None:
    fields = "%ID\t%Transcript\t%MANE_SELECT\t%Exon\t%HGVSc\t%Consequence\n"
    command = ["bcftools", "+split-vep", "-a", "ANNTOOLS", "-f", fields, "-d"]
    found = subprocess.run(
        [*command, str(result.files["vcf"])], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    braf = [line.split("\t") for line in found if line.startswith("BRAF_V600E\tENST")]
    assert len(braf) == 1
    assert braf[0][2:] == [
        "NM_004333.6",
        "15/18",
        f"{braf[0][1]}:c.1799T>A",
        "coding_sequence_variant",
    ]


def test_bcsq_compatible_mode_keeps_bcftools_spelling(
    bundle_dir: Path, write_vcf: WriteVcf, tmp_path: Path
) -> None:
    # GIVEN the bundle and a GFF3 + FASTA (any: the record is outside it)
    case = Path(__file__).parent.parent / "data" / "csq" / "ENST00000542803"
    gff = next(p for p in case.iterdir() if p.suffix in (".gff", ".gff3"))
    fasta = tmp_path / "ref.fa"
    shutil.copyfile(next(case.glob("*.fa")), fasta)
    path = write_vcf([*HEADER, "chr7\t140753336\tBRAF_V600E\tA\tT\t.\tPASS\t."])
    options = Options(bundle_dir=bundle_dir, gff3=gff, fasta=fasta, workers=1)
    rows = tsv_rows(annotate_file(path, tmp_path / "out", options))
    # THEN the gene-level entry reads as before, with no MANE transcript
    assert [(r["Gene"], r["Consequence"], r["MANE_SELECT"]) for r in rows] == [
        ("BRAF", "coding_sequence", "")
    ]


def test_benchmark_switch_leaves_only_gene_level_entries(
    bundle_dir: Path, write_vcf: WriteVcf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the switch scripts/bench_mane.py sets for its MANE-off runs
    monkeypatch.setenv(SKIP_MANE_ENV, "1")
    path = write_vcf([*HEADER, "chr7\t140753336\tBRAF_V600E\tA\tT\t.\tPASS\t."])
    rows = tsv_rows(annotate_file(path, tmp_path / "out", Options(bundle_dir=bundle_dir)))
    # THEN BRAF keeps its gene-level entry, with no transcript, exon or HGVS
    assert [(r["Gene"], r["Consequence"], r["Transcript"], r["HGVSc"]) for r in rows] == [
        ("BRAF", "coding_sequence_variant", "", "")
    ]
