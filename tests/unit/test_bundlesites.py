"""The default bundle's compiled lookups (anntools._bundlesites) against the Bundle's own.

The reference is what the default mode did record by record before they were
compiled: Bundle.gene_hits, Bundle.mane_transcripts and Bundle.rsid, with the
entries made by anntools.mane.mane_and_gene_entries. Positions are random over
the real GRCh38 bundle, plus the edges of its segments and its common SNPs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import pytest

from anntools import recordloop  # noqa: F401 - loads htslib, which _bundlesites needs
from anntools._bundlesites import GrchSites
from anntools._rendering import RenderedEntry
from anntools.annotation import Entry, entry_info_tail, entry_tsv_text
from anntools.assembly import AssemblyGuess
from anntools.bundle import Bundle
from anntools.csq.engine import RefMismatch
from anntools.hgvs import Transcript
from anntools.mane import mane_and_gene_entries
from anntools.pipeline import GeneLevelSites

CHROMS = ("chr1", "chr7", "chr17", "chrX", "chrY")
ALLELES = ("A", "C", "G", "T")


def reference_entries(
    bundle: Bundle, chrom: str, pos: int, ref: str, alts: list[str], mane: bool
) -> list[Entry]:
    end = pos + len(ref) - 1
    hits = bundle.gene_hits(chrom, pos, end)
    transcripts = bundle.mane_transcripts(chrom, pos, end) if mane else []
    return [
        entry
        for alt in alts
        for entry in mane_and_gene_entries(alt, hits, transcripts, pos, ref, alt)
    ]


def texts(entries: Sequence[Entry | RenderedEntry]) -> list[tuple[str, str, str, str, str, str]]:
    """What the record loop writes and counts of each entry, Entry or RenderedEntry alike."""
    found = []
    for entry in entries:
        if isinstance(entry, Entry):
            allele, counted = entry.allele, entry
            info, tsv = entry_info_tail(entry), entry_tsv_text(entry)
        else:
            allele, counted = entry.allele.decode(), entry.counted
            info, tsv = entry.texts
        found.append((allele, info, tsv, counted.consequence, counted.gene, counted.region))
    return found


def assert_entries(
    sites: GrchSites, chrom: str, pos: int, ref: str, alts: list[str], expected: list[Entry]
) -> None:
    """Both forms of the compiled entries are the reference's."""
    mane = True
    assert sites.entries(chrom, pos, ref, alts, alts, mane) == expected, (chrom, pos, ref, alts)
    rendered = sites.rendered_entries(chrom, pos, ref, alts, alts, mane)
    assert texts(rendered) == texts(expected), (chrom, pos, ref, alts)


def reference_rsid(bundle: Bundle, chrom: str, pos: int, ref: str, alts: list[str]) -> str | None:
    return next((r for alt in alts if (r := bundle.rsid(chrom, pos, ref, alt))), None)


def random_record(rng: random.Random, chrom: str, pos: int) -> tuple[str, list[str]]:
    """REF and ALTs: mostly SNVs, some deletions, insertions and multi-allelic sites."""
    ref = rng.choice(ALLELES)
    kind = rng.random()
    if kind < 0.7:
        return ref, [rng.choice([a for a in ALLELES if a != ref])]
    if kind < 0.8:
        return ref + "".join(rng.choices(ALLELES, k=rng.randint(1, 40))), [ref]
    if kind < 0.9:
        return ref, [ref + "".join(rng.choices(ALLELES, k=rng.randint(1, 6)))]
    return ref, [a for a in ALLELES if a != ref][: rng.randint(2, 3)]


def positions(bundle: Bundle, rng: random.Random, chrom: str) -> list[int]:
    first, last = bundle.manifest["segments"]["chroms"][chrom]
    starts = bundle.arrays["seg_start"][first:last]
    length = int(starts[-1]) + 10_000
    edges = [int(s) + d for s in rng.sample(list(starts), 300) for d in (-1, 0)]
    return [rng.randint(1, length) for _ in range(1500)] + edges


@pytest.mark.parametrize("mane", [True, False])
def test_entries_are_the_bundles_at_random_positions(bundle: Bundle, mane: bool) -> None:
    rng = random.Random(11)
    sites = GrchSites(bundle)
    checked = 0
    for chrom in CHROMS:
        for pos in positions(bundle, rng, chrom):
            ref, alts = random_record(rng, chrom, pos)
            expected = reference_entries(bundle, chrom, pos, ref, alts, mane)
            assert sites.entries(chrom, pos, ref, alts, alts, mane) == expected, (chrom, pos)
            # Twice: the second answer comes from the caches.
            assert sites.entries(chrom, pos, ref, alts, alts, mane) == expected, (chrom, pos)
            rendered = sites.rendered_entries(chrom, pos, ref, alts, alts, mane)
            assert texts(rendered) == texts(expected), (chrom, pos)
            checked += 1
    assert checked > 9000


def test_gene_hits_are_the_bundles(bundle: Bundle) -> None:
    rng = random.Random(5)
    sites = GrchSites(bundle)
    for chrom in CHROMS:
        for pos in positions(bundle, rng, chrom)[:800]:
            end = pos + rng.choice((0, 0, 3, 60))
            assert sites.gene_hits(chrom, pos, end) == bundle.gene_hits(chrom, pos, end)


def test_rsids_are_the_bundles_at_every_common_snp_of_a_chromosome(bundle: Bundle) -> None:
    sites = GrchSites(bundle)
    first, last = bundle.manifest["snps"]["chroms"]["chr17"]
    arrays = bundle.arrays
    found = 0
    for row in range(first, last):
        pos = int(arrays["snp_pos"][row])
        ref, alt = chr(arrays["snp_ref"][row]), chr(arrays["snp_alt"][row])
        for alts in ([alt], ["C", alt], [alt.lower()], ["A", "G"], [alt + "T"]):
            expected = reference_rsid(bundle, "chr17", pos, ref, alts)
            assert sites.rsid("chr17", pos, ref, alts) == expected, (pos, alts)
            found += expected is not None
        assert sites.rsid("chr17", pos + 1, ref, [alt]) == reference_rsid(
            bundle, "chr17", pos + 1, ref, [alt]
        )
    assert found > last - first


def test_unknown_chromosomes_get_nothing(bundle: Bundle) -> None:
    sites = GrchSites(bundle)
    assert sites.entries("chrUn_KI270302v1", 100, "A", ["G"], ["G"], True) == []
    assert sites.gene_hits("chr99", 100, 100) == []
    assert sites.rsid("chr99", 100, "A", ["G"]) is None


def test_a_record_reaching_across_segments_merges_them_as_the_bundle_does(bundle: Bundle) -> None:
    first, last = bundle.manifest["segments"]["chroms"]["chr1"]
    starts = np.asarray(bundle.arrays["seg_start"][first:last])
    pos = int(starts[len(starts) // 2]) - 2  # a deletion over a segment edge
    ref = "A" * 6
    sites = GrchSites(bundle)
    expected = reference_entries(bundle, "chr1", pos, ref, ["A"], True)
    assert expected
    assert sites.entries("chr1", pos, ref, ["A"], ["A"], True) == expected


@pytest.mark.parametrize("assembly", ["GRCh38", "GRCh37"])
def test_the_record_source_answers_as_the_sites_object(bundle: Bundle, assembly: str) -> None:
    """GeneLevelSites.record_source (the compiled path, what the record loop calls) against
    GeneLevelSites itself, over chromosome spellings, chrM and liftover."""
    sites = GeneLevelSites(AssemblyGuess(assembly, "test"), bundle)
    source = sites.record_source
    rng = random.Random(3)
    first, last = bundle.manifest["snps"]["chroms"]["chr1"]
    snps = [int(p) for p in bundle.arrays["snp_pos"][first:last][::50]]
    for chrom in ("chr1", "1", "Chr1", "MT", "chrM", "chrUn_KI270302v1", "7"):
        mitochondrial = chrom in ("MT", "chrM")
        spots = [rng.randint(1, 16_000 if mitochondrial else 30_000_000) for _ in range(300)]
        for pos in spots + ([] if mitochondrial else snps[:100]):
            ref, alts = random_record(rng, chrom, pos)
            look_up_rsid = rng.random() < 0.9
            try:
                want = sites(chrom, pos, ref, alts, look_up_rsid)
            except RefMismatch:  # rCRS codons check REF: both paths must refuse alike
                with pytest.raises(RefMismatch):
                    source(chrom, pos, ref, alts, look_up_rsid, 0)
                continue
            got = source(chrom, pos, ref, alts, look_up_rsid, 0)
            assert (texts(got.entries), got.rsid, got.grch38, got.unmapped) == (
                texts(want.entries),
                want.rsid,
                want.grch38,
                want.unmapped,
            ), (chrom, pos)


# (REF, ALT) shapes at a position: substitutions, deletions, insertions, dups the record
# shows (the inserted bases repeat those before them) and a replacement of several bases.
SHAPES = (
    ("A", "G"),
    ("c", "t"),
    ("AC", "A"),
    ("ACGT", "A"),
    ("A", "AT"),
    ("CA", "CAA"),
    ("CAG", "CAGAG"),
    ("ACG", "TTA"),
    ("AC", "AG"),
    ("A", "A"),
    ("A", "*"),
)


def test_changes_at_every_base_near_intron_ends_are_the_bundles(bundle: Bundle) -> None:
    """Both strands, every base within reach of an intron's splice region and its middle."""
    sites = GrchSites(bundle)
    first, _ = bundle.manifest["transcripts"]["chroms"]["chr1"]
    strands = set()
    for row in range(first, first + 40):
        transcript = bundle.transcript(row).transcript
        strands.add(transcript.strand)
        for (_, left), (right, _) in zip(transcript.exons[:3], transcript.exons[1:4], strict=False):
            spots = [*range(left - 3, left + 14), *range(right - 14, right + 3)]
            for pos in [*spots, (left + right) // 2]:
                for ref, alt in SHAPES:
                    expected = reference_entries(bundle, "chr1", pos, ref, [alt], True)
                    assert_entries(sites, "chr1", pos, ref, [alt], expected)
    assert strands == {"+", "-"}


def test_changes_in_exons_utrs_and_codons_are_the_bundles(bundle: Bundle) -> None:
    """Both strands: every shape at the coding ends (start and stop codons), in the UTRs, at
    exon ends and in the middle of exons, and up- and downstream of the transcript."""
    sites = GrchSites(bundle)
    first, _ = bundle.manifest["transcripts"]["chroms"]["chr17"]
    regions: set[str] = set()
    for row in range(first, first + 30):
        transcript = bundle.transcript(row).transcript
        spots = [transcript.start - 40, transcript.end + 40]
        if transcript.coding_start is not None and transcript.coding_end is not None:
            for end in (transcript.coding_start, transcript.coding_end):
                spots += range(end - 4, end + 5)
        for start, end in transcript.exons[:4]:
            spots += [start, start + 1, (start + end) // 2, end - 1, end]
        for pos in spots:
            for ref, alt in SHAPES:
                expected = reference_entries(bundle, "chr17", pos, ref, [alt], True)
                assert_entries(sites, "chr17", pos, ref, [alt], expected)
                regions.update(entry.region for entry in expected if entry.transcript)
    assert {"CDS", "5_prime_UTR", "3_prime_UTR", "splice_region", "upstream"} <= regions


def test_substitutions_at_splice_sites_and_regions_are_the_bundles(bundle: Bundle) -> None:
    """Both strands: random one-base substitutions at every intron base within the splice
    region's reach and at the exon bases beside it, in the transcripts with the shortest
    introns (sites and regions overlap there) and in random ones."""
    rng = random.Random(3)
    sites = GrchSites(bundle)
    first, last = bundle.manifest["transcripts"]["chroms"]["chrX"]
    transcripts = [bundle.transcript(row).transcript for row in range(first, last)]
    transcripts = [t for t in transcripts if len(t.exons) > 1]
    transcripts.sort(key=lambda t: min(b[0] - a[1] for a, b in pairwise(t.exons)))
    chosen = transcripts[:10] + rng.sample(transcripts[10:], 15)
    consequences: set[str] = set()
    for transcript in chosen:
        for (_, left), (right, _) in pairwise(transcript.exons):
            for pos in sorted({*range(left - 3, left + 11), *range(right - 10, right + 4)}):
                ref = rng.choice(ALLELES)
                alt = rng.choice([a for a in ALLELES if a != ref])
                if rng.random() < 0.2:
                    ref, alt = ref.lower(), alt.lower()
                expected = reference_entries(bundle, "chrX", pos, ref, [alt], True)
                assert_entries(sites, "chrX", pos, ref, [alt], expected)
                consequences.update(entry.consequence for entry in expected if entry.transcript)
    assert {t.strand for t in chosen} == {"+", "-"}
    for term in ("splice_donor_variant", "splice_acceptor_variant", "splice_region_variant"):
        assert any(term in consequence for consequence in consequences), term


def test_changes_up_and_downstream_of_transcripts_are_the_bundles(bundle: Bundle) -> None:
    """Both strands: random shapes up- and downstream of transcripts, at the flank's far edge
    (5 kb) and just past it, and next to the transcript's first and last bases."""
    rng = random.Random(5)
    sites = GrchSites(bundle)
    first, last = bundle.manifest["transcripts"]["chroms"]["chr7"]
    regions: set[str] = set()
    strands = set()
    for row in rng.sample(range(first, last), 40):
        transcript = bundle.transcript(row).transcript
        strands.add(transcript.strand)
        start, end = transcript.start, transcript.end
        spots = [start - 5001, start - 5000, start - 1, start, end, end + 1, end + 5000, end + 5001]
        spots += [rng.randint(start - 5000, start - 1) for _ in range(5)]
        spots += [rng.randint(end + 1, end + 5000) for _ in range(5)]
        for pos in spots:
            ref, alts = random_record(rng, "chr7", pos)
            for shape in [(ref, alts), *((r, [a]) for r, a in SHAPES)]:
                expected = reference_entries(bundle, "chr7", pos, shape[0], shape[1], True)
                assert_entries(sites, "chr7", pos, shape[0], shape[1], expected)
                regions.update(entry.region for entry in expected if entry.transcript)
    assert strands == {"+", "-"}
    assert {"upstream", "downstream"} <= regions


def test_an_entrys_texts_escape_info_and_keep_tsv_columns() -> None:
    entry = Entry("A", "x y", "g;1", "", "b=2", "+", "intron", distance=3, hgvsc="a,b")
    assert entry_tsv_text(entry) == "x y\tg;1\t\tb=2\t+\tintron\t\t\t3\t\t\t\ta,b\t\t"
    assert entry_info_tail(entry) == "|x_y|g:1||b:2|+|intron|||3||||a:b||"
    # A field holding a tab keeps it in INFO: the columns cannot be split back.
    tabbed = Entry("A", "x\ty", "g", "", "b", "+", "intron")
    assert entry_info_tail(tabbed) == "|x\ty|g||b|+|intron|||||||||"


def random_change(rng: random.Random) -> tuple[str, str]:
    """A REF/ALT pair: a substitution, a deletion, an insertion, a dup the record shows, a
    replacement of several bases, or a lower-case substitution."""
    first = rng.choice(ALLELES)
    kind = rng.random()
    if kind < 0.25:
        return first, rng.choice([a for a in ALLELES if a != first])
    if kind < 0.45:
        return first + "".join(rng.choices(ALLELES, k=rng.randint(1, 7))), first
    if kind < 0.65:
        return first, first + "".join(rng.choices(ALLELES, k=rng.randint(1, 7)))
    if kind < 0.8:
        repeat = "".join(rng.choices(ALLELES, k=rng.randint(1, 3)))
        return repeat, repeat * 2
    if kind < 0.95:
        ref = "".join(rng.choices(ALLELES, k=rng.randint(2, 5)))
        return ref, "".join(rng.choices(ALLELES, k=rng.randint(1, 5))) + "A"
    return first.lower(), rng.choice([a for a in ALLELES if a != first]).lower()


def random_site(rng: random.Random) -> tuple[str, list[str]]:
    """REF and ALTs: one random change, or a multi-allelic site (a deletion, insertion or
    substitution of the same REF)."""
    if rng.random() < 0.7:
        ref, alt = random_change(rng)
        return ref, [alt]
    ref = "".join(rng.choices(ALLELES, k=rng.randint(1, 5)))
    shapes = [
        ref[0],
        rng.choice([a for a in ALLELES if a != ref[0]]) + ref[1:],
        ref + "".join(rng.choices(ALLELES, k=rng.randint(1, 4))),
        ref[:1] + "".join(rng.choices(ALLELES, k=rng.randint(1, 3))),
    ]
    alts = [alt for alt in dict.fromkeys(shapes) if alt != ref]
    return ref, rng.sample(alts, min(len(alts), rng.randint(2, 3)))


def coding_edges(transcript: Transcript) -> list[int]:
    """Positions around the start and stop codons (the UTR/CDS boundaries) and around every
    exon end (splice sites and regions, both sides)."""
    spots: list[int] = []
    if transcript.coding_start is not None and transcript.coding_end is not None:
        for end in (transcript.coding_start, transcript.coding_end):
            spots += range(end - 5, end + 6)
    for start, end in transcript.exons:
        spots += [*range(start - 9, start + 4), *range(end - 3, end + 10)]
    return spots


@pytest.mark.parametrize("chrom", ["chr1", "chr17", "chrX"])
def test_indels_and_substitutions_at_codons_splice_regions_and_utrs_are_the_bundles(
    bundle: Bundle, chrom: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both strands: random indels, dups, replacements and substitutions, alone and
    multi-allelic, at the start and stop codons, UTR/CDS boundaries and every splice region
    of random transcripts; all compiled (none goes to the Python mane_entry)."""
    rng = random.Random(chrom)
    sites = GrchSites(bundle)
    first, last = bundle.manifest["transcripts"]["chroms"][chrom]
    chosen = [bundle.transcript(row).transcript for row in rng.sample(range(first, last), 12)]

    def refused(*args: object) -> None:
        raise AssertionError(f"mane_entry called for {args[2:]}")

    consequences: set[str] = set()
    for transcript in chosen:
        for pos in coding_edges(transcript):
            ref, alts = random_site(rng)
            expected = reference_entries(bundle, chrom, pos, ref, alts, True)
            with monkeypatch.context() as patch:
                patch.setattr("anntools._bundlesites.mane_entry", refused)
                assert_entries(sites, chrom, pos, ref, alts, expected)
            consequences.update(e.consequence for e in expected if e.transcript)
    assert {t.strand for t in chosen} == {"+", "-"}
    terms = {term for consequence in consequences for term in consequence.split("&")}
    wanted = {
        "frameshift_variant",
        "inframe_insertion",
        "inframe_deletion",
        "start_lost",
        "splice_donor_variant",
        "splice_acceptor_variant",
        "splice_region_variant",
        "5_prime_UTR_variant",
        "3_prime_UTR_variant",
        "coding_sequence_variant",
    }
    assert wanted <= terms, wanted - terms
