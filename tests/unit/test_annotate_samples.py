"""The whole engine on the six sample inputs, with the real GRCh38 bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from anntools.pipeline import Options, Result, annotate_file
from tests.conftest import SAMPLES, VcfRecord, WriteVcf, read_vcf

RCRS = Path(__file__).resolve().parents[2] / "anntools" / "resources" / "rCRS.fa"
SAMPLE_RECORDS = {
    "free_1.vcf": 1141,
    "free_2.vcf": 2788,
    "premium_1.vcf": 3000,
    "premium_2.vcf": 976,
    "premium_3.vcf.gz": 3431,
    "test.vcf": 350,
}
EXPECTED_ASSEMBLY = {
    "free_1.vcf": "rCRS",
    "free_2.vcf": "NCBI36",
    "premium_1.vcf": "NCBI36",
    "premium_2.vcf": "GRCh37",
    "premium_3.vcf.gz": "NCBI36",
    "test.vcf": "rCRS",
}

# Vertebrate mitochondrial code (NCBI table 2), written out here as the test's own oracle.
_BASES = "TCAG"
_AMINO_ACIDS_CODE_2 = "FFLLSSSSYY**CCWWLLLLPPPPHHQQRRRRIIMMTTTTNNKKSS**VVVVAAAADDEEGGGG"
MITO_CODE = {
    a + b + c: _AMINO_ACIDS_CODE_2[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}


@pytest.fixture(scope="module")
def results(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    out = tmp_path_factory.mktemp("samples")
    return {
        name: annotate_file(SAMPLES / name, out / name, Options(bundle_dir=bundle_dir))
        for name in SAMPLE_RECORDS
    }


def annotated_records(result: Result) -> list[VcfRecord]:
    return read_vcf(result.files["vcf"])[1]


@pytest.mark.parametrize("name", sorted(SAMPLE_RECORDS))
def test_every_sample_annotates_completely(results: dict[str, Result], name: str) -> None:
    result = results[name]
    summary = result.summary
    assert summary["records"] == SAMPLE_RECORDS[name]
    assert summary["skipped_lines"]["total"] == 0
    assert summary["input"]["assembly"] == EXPECTED_ASSEMBLY[name]
    assert len(annotated_records(result)) == SAMPLE_RECORDS[name]
    assert json.loads(result.files["summary"].read_text()) == summary
    log = result.files["log"].read_text()
    assert f"Total number of variants: {SAMPLE_RECORDS[name]}" in log
    tsv_rows = result.files["tsv"].read_text().splitlines()
    assert len(tsv_rows) > SAMPLE_RECORDS[name]  # a header and at least a row per record


@pytest.mark.parametrize("name", ["free_2.vcf", "premium_1.vcf", "premium_2.vcf"])
def test_nuclear_samples_are_lifted_and_land_in_genes(
    results: dict[str, Result], name: str
) -> None:
    summary = results[name].summary
    lifted, unmapped = summary["liftover"]["lifted"], summary["liftover"]["unmapped"]
    assert lifted + unmapped == summary["records"]
    assert lifted >= 0.95 * summary["records"]
    genic = sum(n for region, n in summary["regions"].items() if region != "intergenic")
    assert genic > 0 and summary["top_genes"]


def _rcrs() -> str:
    lines = RCRS.read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">")).upper()


def _expected_protein_change(pos: int, alt: str, cds_start: int, cds_end: int, strand: str) -> str:
    """The amino-acid change of an SNV, computed from rCRS directly (1-based closed CDS)."""
    genome = _rcrs()
    cds = genome[cds_start - 1 : cds_end]
    offset = pos - cds_start
    mutated = cds[:offset] + alt + cds[offset + 1 :]
    if strand == "-":
        complement = str.maketrans("ACGT", "TGCA")
        cds, mutated = cds.translate(complement)[::-1], mutated.translate(complement)[::-1]
        offset = cds_end - pos
    codon = offset // 3
    before = MITO_CODE[cds[3 * codon : 3 * codon + 3]]
    after = MITO_CODE[mutated[3 * codon : 3 * codon + 3]]
    number = codon + 1
    return f"{number}{before}" if before == after else f"{number}{before}>{number}{after}"


def test_the_count_log_says_where_rsids_come_from(results: dict[str, Result]) -> None:
    # GIVEN premium_1, whose rsIDs come from its own ID column and from the common SNPs
    summary = results["premium_1.vcf"].summary
    known = summary["in_dbsnp"]
    log = results["premium_1.vcf"].files["log"].read_text()
    # THEN the log calls them known rsIDs, says where each came from, and claims no dbSNP count
    assert (
        f"With a known rsID: {known['total']} ({known['percent']:.2f}%) "
        f"[from the input's ID column {known['from_input']}, "
        f"matched to the bundle's common SNPs {known['from_common_set']}]"
    ) in log
    assert known["from_input"] and known["from_common_set"]
    assert "In dbSNP" not in log
    # and the records line names the alleles they hold, the unit of the class counts
    assert f"holding {summary['alleles']} ALT alleles" in log.splitlines()[4]


@pytest.mark.parametrize(
    ("gene", "cds_start", "cds_end", "strand"),
    [("MT-CO1", 5904, 7445, "+"), ("MT-ND6", 14149, 14673, "-")],
)
def test_free_1_coding_variants_get_mitochondrial_codon_changes(
    results: dict[str, Result], gene: str, cds_start: int, cds_end: int, strand: str
) -> None:
    checked = 0
    for record in annotated_records(results["free_1.vcf"]):
        if not cds_start <= record.pos <= cds_end or len(record.ref) != 1:
            continue
        alt = record.alts[0]
        if len(alt) != 1:
            continue
        [entry] = [e for e in record.entries() if e[2] == gene and e[0] == alt]
        expected = _expected_protein_change(record.pos, alt, cds_start, cds_end, strand)
        assert entry[7] == expected, (record.pos, record.ref, alt, entry)
        silent = ">" not in expected and not expected.endswith("*")
        assert ("synonymous_variant" in entry[1].split("&")) == silent, entry
        checked += 1
    assert checked >= 5


def test_free_1_reports_mitochondrial_consequences(results: dict[str, Result]) -> None:
    consequences = results["free_1.vcf"].summary["consequences"]
    assert consequences.get("missense_variant", 0) > 0
    assert consequences.get("synonymous_variant", 0) > 0
    assert results["free_1.vcf"].summary["ts_tv"]["ratio"] > 1


def test_premium_2_rsids_are_found_again_after_liftover(bundle_dir: Path, tmp_path: Path) -> None:
    # GIVEN premium_2 (GRCh37) with its rsIDs removed from the ID column
    original: dict[tuple[str, int], str] = {}
    lines = []
    for line in (SAMPLES / "premium_2.vcf").read_text().splitlines():
        if not line.startswith("#"):
            columns = line.split("\t")
            if columns[2].startswith("rs"):
                original[(columns[0], int(columns[1]))] = columns[2]
            columns[2] = "."
            line = "\t".join(columns)
        lines.append(line)
    stripped = tmp_path / "premium_2.vcf"
    stripped.write_text("\n".join(lines) + "\n")
    # WHEN it is annotated (lifted to GRCh38, matched on position + alleles in the common set)
    result = annotate_file(stripped, tmp_path / "out", Options(bundle_dir=bundle_dir))
    # THEN where the file had an rsID, the one filled in is the same (newer dbSNP builds
    # also name some sites the file left blank, and merged a few IDs: those may differ)
    filled = {
        (r.chrom, r.pos): r.id for r in annotated_records(result) if r.id and r.id.startswith("rs")
    }
    comparable = [site for site in filled if site in original]
    agree = sum(1 for site in comparable if filled[site] == original[site])
    assert len(comparable) >= 25
    assert agree / len(comparable) >= 0.95, (agree, len(comparable))


def test_symbolic_and_multiallelic_records_are_annotated(
    bundle_dir: Path, write_vcf: WriteVcf
) -> None:
    path = write_vcf(
        [
            "##fileformat=VCFv4.2",
            "##reference=GRCh38",
            "##contig=<ID=chr1,length=248956422>",
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
            "chr1\t944200\t.\tG\tA,<DEL>,*\t.\t.\tAC=1,1,1;AN=6",
        ]
    )
    result = annotate_file(path, path.parent / "out", Options(bundle_dir=bundle_dir))
    [record] = annotated_records(result)
    assert record.info["VC"] == ("SNV", "symbolic", "symbolic")
    genes = {entry[2] for entry in record.entries() if entry[0] == "A"}
    assert "SAMD11" in genes  # chr1:944,200 is in SAMD11's 3' end on GRCh38
    assert not [entry for entry in record.entries() if entry[0] in ("<DEL>", "*")]


def test_unmapped_sites_are_kept_flagged_and_counted(bundle_dir: Path, write_vcf: WriteVcf) -> None:
    # GIVEN a GRCh37 file whose first site lies before the first chain block of chr1
    path = write_vcf(
        [
            "##fileformat=VCFv4.2",
            "##reference=file:///ref/human_g1k_v37.fasta",
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
            "1\t1\t.\tN\tA\t.\t.\t.",
            "1\t69511\trs2691305\tA\tG\t.\t.\t.",
        ]
    )
    # WHEN it is annotated
    result = annotate_file(path, path.parent / "out", Options(bundle_dir=bundle_dir))
    # THEN both records are in the output, the first flagged and counted as unmapped
    unmapped, lifted = annotated_records(result)
    assert unmapped.info.get("UNMAPPED") is True and "GRCH38" not in unmapped.info
    assert "UNMAPPED" not in lifted.info
    assert lifted.info["GRCH38"] == "chr1:69511"  # hg19 and hg38 agree here
    assert "OR4F5" in {entry[2] for entry in lifted.entries()}
    assert result.summary["liftover"] == {"lifted": 1, "unmapped": 1}
    assert "unmapped (kept, flagged): 1" in result.files["log"].read_text()
