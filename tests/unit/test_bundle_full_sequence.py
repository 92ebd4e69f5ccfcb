"""A full bundle's genome: bgzipped with .fai and .gzi, read through pysam, in any process.

Also: bundles of format version 1 (the genome uncompressed) are still read, and
bundles of an unknown version are refused with a message saying what to do.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import random
import shutil
from pathlib import Path

import pysam
import pytest

from anntools.bundle import BundleError
from anntools.bundle.full import FullBundle, build_full_bundle
from anntools.bundle.sequence import BgzfFastaReader, copy_fasta
from anntools.csq.fasta import FastaReader
from anntools.pipeline import Options, annotate_file
from tests.conftest import read_vcf
from tests.unit.test_bundle_full import FASTA, GFF3
from tests.unit.test_csq_conformance import CASES

SNPS = CASES / "ENST00000423372"  # 39 SNVs, most of them coding


def two_contigs(path: Path) -> Path:
    """The case's contig, wrapped at 70, and a short second one in lower case."""
    bases = "".join(FASTA.read_text().splitlines()[1:])
    lines = [">3 the case", *(bases[i : i + 70] for i in range(0, len(bases), 70))]
    path.write_text("\n".join([*lines, ">extra", "acgtn" * 30]) + "\n")
    return path


@pytest.mark.parametrize(
    ("block", "cached"), [(BgzfFastaReader.BLOCK, BgzfFastaReader.CACHED_BLOCKS), (100, 4)]
)
def test_the_bundle_reader_gives_what_the_plain_reader_gives(
    tmp_path: Path, block: int, cached: int
) -> None:
    # GIVEN a FASTA copied into a bundle's bgzipped form, read in blocks of the size used, and
    # in small blocks (so that slices span blocks, cross several, and evict them)
    plain = two_contigs(tmp_path / "in.fa")
    lengths = copy_fasta(plain, tmp_path / "genome.fa.gz")
    bgzf, reference = BgzfFastaReader(tmp_path / "genome.fa.gz"), FastaReader(plain)
    bgzf.BLOCK, bgzf.CACHED_BLOCKS = block, cached
    assert lengths == {"3": reference.length("3"), "extra": 150}
    assert bgzf.names == ["3", "extra"]
    # WHEN slices are read near one another, far apart, across both ends and off the contig
    rng = random.Random(3)
    length = lengths["3"]
    spans = [
        (s, s + rng.randint(1, 40)) for s in (rng.randint(-50, length + 50) for _ in range(500))
    ]
    spans += [(0, length), (-5, 3), (length - 2, length + 4), (10, 10), (40_000, 100)]
    spans += [(block - 5, block + 5), (block * 2 - 1, block * 4 + 1), (3, block * 3)]
    # THEN every slice is the plain reader's: upper case, N outside the contig
    for name in ("3", "extra"):
        fetch = bgzf.fetcher(name)
        for start, end in spans:
            assert fetch(start, end) == reference.fetch(name, start, end), (name, start, end)


def _read_in_child(reader: BgzfFastaReader, spans: list[tuple[int, int]], queue: object) -> None:
    queue.put([reader.fetch("3", start, end) for start, end in spans])  # type: ignore[attr-defined]


def test_a_forked_worker_reads_with_its_own_handle(tmp_path: Path) -> None:
    # GIVEN a reader opened by the parent, which goes on reading while a forked child reads
    copy_fasta(FASTA, tmp_path / "genome.fa.gz")
    reader = BgzfFastaReader(tmp_path / "genome.fa.gz")
    reader.CACHED_BLOCKS = 1  # reads go to htslib, so a shared handle would be seeked under us
    reader.BLOCK = 64
    spans = [(start, start + 50) for start in range(0, 50_000, 997)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(reader, spans, queue))
    child.start()
    parent = [reader.fetch("3", start, end) for start, end in reversed(spans)]
    got = queue.get(timeout=60)
    child.join(60)
    # THEN both read the right bases
    want = [FastaReader(FASTA).fetch("3", start, end) for start, end in spans]
    assert got == want
    assert parent == want[::-1]


@pytest.mark.parametrize("form", ["gzip", "bgzip"])
def test_a_compressed_input_fasta_is_rewritten_as_bgzip(tmp_path: Path, form: str) -> None:
    # GIVEN the FASTA gzip-compressed (one stream, which htslib cannot index) or bgzipped
    fasta = tmp_path / "in.fa.gz"
    if form == "gzip":
        fasta.write_bytes(gzip.compress(FASTA.read_bytes()))
    else:
        pysam.tabix_compress(str(FASTA), str(fasta))
    # WHEN built into a bundle THEN its genome is bgzipped and indexed, with the same bases
    bundle = build_full_bundle(GFF3, fasta, tmp_path / "b")
    genome = FullBundle.load(bundle).transcripts.contig("3")
    assert genome is not None
    want = FastaReader(FASTA)
    assert genome.fetch(0, want.length("3")) == want.fetch("3", 0, want.length("3"))
    assert list(pysam.FastaFile(str(bundle / "genome.fa.gz")).lengths) == [want.length("3")]


def test_a_version_1_bundle_with_a_plain_genome_is_still_read(tmp_path: Path) -> None:
    # GIVEN a bundle turned into format version 1: genome.fa uncompressed with its .fai
    gff, fasta, vcf = (
        SNPS / name for name in ("ENST00000423372.gff", "ENST00000423372.fa", "snps.vcf")
    )
    bundle = build_full_bundle(gff, fasta, tmp_path / "b")
    current = annotate_file(vcf, tmp_path / "now", Options(bundle_dir=bundle, local=True))
    with (
        gzip.open(bundle / "genome.fa.gz", "rb") as packed,
        open(bundle / "genome.fa", "wb") as out,
    ):
        shutil.copyfileobj(packed, out)
    for name in ("genome.fa.gz", "genome.fa.gz.fai", "genome.fa.gz.gzi"):
        (bundle / name).unlink()
    pysam.faidx(str(bundle / "genome.fa"))
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["format_version"] = 1
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    # WHEN annotated THEN the results are the same
    old = annotate_file(vcf, tmp_path / "old", Options(bundle_dir=bundle, local=True))
    entries = [r.entries() for r in read_vcf(old.files["vcf"])[1]]
    assert entries == [r.entries() for r in read_vcf(current.files["vcf"])[1]]
    assert sum("missense_variant" in e[1] for r in entries for e in r) >= 5  # sequence read


def test_a_bundle_of_an_unknown_version_is_refused(tmp_path: Path) -> None:
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["format_version"] = 9
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match=r"format version 9; this anntools reads versions 1, 2"):
        FullBundle.load(bundle)


def test_a_bundle_without_its_genome_is_refused(tmp_path: Path) -> None:
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    (bundle / "genome.fa.gz").unlink()
    with pytest.raises(BundleError, match=r"lacks its genome \(genome.fa.gz\); rebuild it"):
        FullBundle.load(bundle)
