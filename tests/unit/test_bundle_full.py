"""Full bundles (GFF3 + FASTA + known variants) built and used through ``--bundle`` alone.

Real data: every bcftools csq case (tests/data/csq, real human sequence) is
built into a full bundle; annotating its VCF with ``--bundle`` must give what
``--gff/--fasta`` gives, and agree with bcftools' expectations. Known variants
come from small dbSNP- and ClinVar-format VCFs written here, on the case
ENST00000256452 (contig ``3``, IL5RA on the minus strand).
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from anntools import vcf as vcf_module
from anntools.annotation import ENTRY_FIELDS, VEP_SPELLING
from anntools.bundle import BUNDLE_DIR_ENV, BundleError
from anntools.bundle.full import FullBundle, TranscriptNames, build_full_bundle, is_full_bundle
from anntools.cli import main as anntools_main
from anntools.csq.engine import REF_MISMATCH
from anntools.pipeline import Options, annotate_file
from tests.conftest import read_vcf
from tests.unit.test_csq_conformance import CASES, Key, discover_cases, read_records
from tests.unit.test_csq_default_mode import Item, expected_items, observed_items

MIN_AGREEMENT = 0.90
CASE = CASES / "ENST00000256452"
GFF3 = CASE / "ENST00000256452.gff"
FASTA = CASE / "ENST00000256452.fa"


def sequence_of(fasta: Path) -> str:
    return "".join(line.strip() for line in fasta.read_text().splitlines()[1:])


def case_vcf(records: list[str]) -> list[str]:
    return [
        "##fileformat=VCFv4.2",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
        *records,
    ]


@cache
def _case_bundles(root: Path) -> list[tuple[Path, Path, Path, Path]]:
    """(vcf, gff3, fasta, full bundle) for every bcftools case, bundles built once."""
    built = []
    for index, (vcf, gff, fasta) in enumerate(discover_cases()):
        bundle = root / f"case{index}"
        build_full_bundle(gff, fasta, bundle)
        built.append((vcf, gff, fasta, bundle))
    return built


@pytest.fixture(scope="module")
def case_bundles(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path, Path, Path]]:
    return _case_bundles(tmp_path_factory.mktemp("full-bundles"))


BCFTOOLS_SPELLING = {vep: bcftools for bcftools, vep in VEP_SPELLING.items()}


def annotated_keys(path: Path) -> list[frozenset[Key]]:
    """Per record, in file order, the (terms, gene, transcript) keys of its ANNTOOLS entries,
    terms in bcftools' spelling (a full bundle writes VEP's)."""
    _, records = read_vcf(path)
    return [frozenset(_key(entry) for entry in record.entries()) for record in records]


def _key(entry: list[str]) -> Key:
    terms = sorted(BCFTOOLS_SPELLING.get(term, term) for term in entry[1].split("&"))
    return ("&".join(terms), entry[2], entry[3])


def expectation_rows(path: Path) -> list[int]:
    """Indexes, among the records of an annotated case VCF, of those with an expectation."""
    _, records = read_vcf(path)
    return [i for i, record in enumerate(records) if {"EXP", "EXPL"} & set(record.info)]


def annotated_items(path: Path) -> list[frozenset[Item]]:
    """Per record, in file order, its ANNTOOLS items as the default-mode conformance test reads
    them (terms, gene, transcript, and a haplotype's compound change or ``@POS``), terms in
    bcftools' spelling."""
    _, records = read_vcf(path)
    return [
        observed_items(",".join("|".join(_bcftools_terms(e)) for e in r.entries())) for r in records
    ]


def _bcftools_terms(entry: list[str]) -> list[str]:
    terms = "&".join(BCFTOOLS_SPELLING.get(term, term) for term in entry[1].split("&"))
    return [entry[0], terms, *entry[2:]]


def _text(value: str | tuple[str, ...]) -> str:
    """An INFO value as written (pysam splits a list of several items at its commas)."""
    return value if isinstance(value, str) else ",".join(value)


@pytest.mark.parametrize("local", [False, True], ids=["haplotype-aware", "local"])
def test_every_case_builds_and_annotates_as_with_gff_and_fasta(
    case_bundles: list[tuple[Path, Path, Path, Path]], tmp_path: Path, local: bool
) -> None:
    # GIVEN a full bundle built from each case's GFF3 + FASTA
    assert len(case_bundles) >= 50
    for index, (vcf, gff, fasta, bundle) in enumerate(case_bundles):
        # WHEN its VCF is annotated through --bundle alone and through --gff/--fasta, both
        # haplotype-aware (the default) or both per record (--local)
        full = annotate_file(
            vcf, tmp_path / f"full{index}", Options(bundle_dir=bundle, local=local)
        )
        direct = annotate_file(
            vcf,
            tmp_path / f"gff{index}",
            Options(gff3=gff, fasta=fasta, use_bundle=False, local=local),
        )
        # THEN every record, symbolic <INS> ones included, gets the same transcript calls, with
        # the same compound changes and @POS references, and the same REF warnings
        ours, theirs = annotated_items(full.files["vcf"]), annotated_items(direct.files["vcf"])
        assert ours == theirs, vcf
        assert full.ref_mismatches == direct.ref_mismatches, vcf


def test_haplotype_aware_bundle_calls_agree_with_bcftools_default_mode(
    case_bundles: list[tuple[Path, Path, Path, Path]], tmp_path: Path
) -> None:
    # GIVEN each case's bundle WHEN its VCF is annotated with --bundle alone (haplotype-aware)
    scored = agreeing = 0
    for index, (vcf, _gff, _fasta, bundle) in enumerate(case_bundles):
        output = annotate_file(vcf, tmp_path / str(index), Options(bundle_dir=bundle)).files["vcf"]
        _, records = read_vcf(output)
        for record, items in zip(records, annotated_items(output), strict=True):
            if "EXP" in record.info:
                scored += 1
                agreeing += items == expected_items(_text(record.info["EXP"]))
    # THEN bcftools' default-mode expectations (compounds and @POS included) mostly hold
    print(f"full bundle, default mode: {agreeing}/{scored}")
    assert scored >= 150
    assert agreeing / scored >= MIN_AGREEMENT


def test_bundle_annotation_agrees_with_bcftools_expectations(
    case_bundles: list[tuple[Path, Path, Path, Path]], tmp_path: Path
) -> None:
    scored = agreeing = 0
    for index, (vcf, _gff, _fasta, bundle) in enumerate(case_bundles):
        options = Options(bundle_dir=bundle, local=True)  # bcftools csq -l's expectations
        output = annotate_file(vcf, tmp_path / str(index), options).files["vcf"]
        got = annotated_keys(output)
        rows = expectation_rows(output)
        for row, record in zip(rows, read_records(vcf), strict=True):
            if record.expected is None:
                continue  # haplotype-only expectation, as in the conformance test
            scored += 1
            agreeing += got[row] == record.expected
    print(f"full bundle conformance: {agreeing}/{scored}")
    assert scored >= 120
    assert agreeing / scored >= MIN_AGREEMENT


def test_a_bundle_is_recognised_and_records_its_sources(tmp_path: Path) -> None:
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    loaded = FullBundle.load(bundle)
    assert is_full_bundle(bundle)
    assert loaded.contig_lengths == {"3": len(sequence_of(FASTA))}
    assert loaded.manifest["sources"]["gff3"]["file"] == GFF3.name
    assert loaded.manifest["transcripts"]["count"] == 1
    assert loaded.manifest["transcripts"]["coding"] == 1


def test_a_bundle_from_another_gff3_reader_reads_its_gff3(tmp_path: Path) -> None:
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["transcripts"]["reader"] = "an older reader"
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    (bundle / "transcripts.pickle").write_bytes(b"not a pickle of this version")
    contig = FullBundle.load(bundle).transcripts.contig("3")
    assert contig is not None
    assert [tr.id for tr in contig.transcripts] == ["ENST00000256452"]


def test_cli_builds_from_bgzip_fasta_and_annotates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the FASTA bgzip-compressed and the GFF3 gzip-compressed
    import pysam

    fasta_gz = tmp_path / "genome.fa.gz"
    pysam.tabix_compress(str(FASTA), str(fasta_gz))
    gff_gz = tmp_path / "genes.gff3.gz"
    gff_gz.write_bytes(gzip.compress(GFF3.read_bytes()))
    # WHEN built with the command line
    status = anntools_main(
        [
            "bundle",
            "build",
            "--gff3",
            str(gff_gz),
            "--fasta",
            str(fasta_gz),
            "-o",
            str(tmp_path / "b"),
        ]
    )
    # THEN the bundle holds the same sequence, and annotating with it gives the case's answer
    assert status == 0, capsys.readouterr().err
    genome = tmp_path / "b" / "genome.fa.gz"
    assert {p.name for p in genome.parent.glob("genome*")} == {
        "genome.fa.gz",
        "genome.fa.gz.fai",
        "genome.fa.gz.gzi",
    }
    assert pysam.FastaFile(str(genome)).fetch("3") == sequence_of(FASTA).upper()
    vcf = tmp_path / "in.vcf"
    shutil.copy(CASE / "intron.vcf", vcf)
    assert (
        anntools_main(
            ["annotate", str(vcf), "-o", str(tmp_path / "out"), "--bundle", str(tmp_path / "b")]
        )
        == 0
    )
    _, records = read_vcf(tmp_path / "out" / "in.annot.vcf")
    assert [e[1:3] for e in records[0].entries()] == [["intron_variant", "IL5RA"]]


def test_building_the_default_bundle_never_overwrites_a_full_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    assert anntools_main(["bundle", "build", "-o", str(bundle)]) == 1
    assert "holds a full bundle" in capsys.readouterr().err
    assert is_full_bundle(bundle)


def field(entry: list[str], name: str) -> str:
    return entry[ENTRY_FIELDS.index(name)]


def test_a_full_bundle_writes_vep_terms_with_hgvs_c_and_p(
    tmp_path: Path, write_vcf: Callable[[list[str]], Path]
) -> None:
    # GIVEN a stop-loss insertion and a missense SNV of the case ENST00000423372 (minus strand)
    case = CASES / "ENST00000423372"
    gff, fasta = case / "ENST00000423372.gff", case / "ENST00000423372.fa"
    vcf = write_vcf(case_vcf(["1\t3630\t.\tT\tTAAA\t.\t.\t.", "1\t3638\t.\tT\tA\t.\t.\t."]))
    bundle = build_full_bundle(gff, fasta, tmp_path / "b")
    # WHEN annotated through the full bundle, and through --gff/--fasta
    full = annotate_file(vcf, tmp_path / "full", Options(bundle_dir=bundle))
    direct = annotate_file(vcf, tmp_path / "gff", Options(gff3=gff, fasta=fasta, use_bundle=False))

    def entries(path: Path, *names: str) -> list[list[tuple[str, ...]]]:
        _, records = read_vcf(path)
        return [
            [tuple(field(e, n) for n in names) for e in r.entries() if e[3] == "ENST00000423372"]
            for r in records
        ]

    # THEN the bundle writes VEP's terms, the exon, HGVS c. and HGVS p., with the GFF3's
    # versioned transcript and protein IDs. Asn258 is codon c.772-774 (AAT: A>T reads T>A
    # on this minus strand); the stop codon c.778-780, so VCF 3630/3631 are c.780/c.779.
    assert entries(full.files["vcf"], "Consequence", "Exon", "HGVSc", "HGVSp") == [
        [
            (
                "stop_lost&inframe_insertion",
                "1/2",
                "ENST00000423372.3:c.779_780insTTT",
                "ENSP00000473460:p.Ter260CysextTer3",
            )
        ],
        [
            (
                "missense_variant",
                "1/2",
                "ENST00000423372.3:c.772A>T",
                "ENSP00000473460:p.Asn258Tyr",
            )
        ],
    ]
    # while --gff/--fasta keeps bcftools' BCSQ spelling and form
    assert entries(direct.files["vcf"], "Consequence", "Protein_change") == [
        [("stop_lost&inframe_insertion", "260*>260CL")],
        [("missense", "258N>258Y")],
    ]


@pytest.mark.parametrize(
    ("workers", "chunk_records"),
    [(1, 20_000), (2, 20_000), (2, 1)],
    ids=["one-process", "two-workers", "two-workers-a-chunk-a-line"],
)
def test_phased_changes_to_one_codon_get_one_call_through_a_bundle(
    tmp_path: Path,
    write_vcf: Callable[[list[str]], Path],
    monkeypatch: pytest.MonkeyPatch,
    workers: int,
    chunk_records: int,
) -> None:
    # GIVEN two phased SNVs in codon 258 (AAT, Asn) of ENST00000423372, on its minus strand:
    # 3638 T>A is c.772A>T, 3637 T>C is c.773A>G; together AAT becomes TGT (Cys); read in one
    # chunk, or a chunk each (which then go to different workers)
    monkeypatch.setattr(vcf_module, "CHUNK_RECORDS", chunk_records)
    monkeypatch.setattr(vcf_module, "READ_BLOCK_BYTES", 16 if chunk_records == 1 else 1 << 20)
    case = CASES / "ENST00000423372"
    bundle = build_full_bundle(
        case / "ENST00000423372.gff", case / "ENST00000423372.fa", tmp_path / "b"
    )
    header = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">'
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"
    records = ["1\t3637\t.\tT\tC\t.\t.\t.\tGT\t1|0", "1\t3638\t.\tT\tA\t.\t.\t.\tGT\t1|0"]
    vcf = write_vcf(["##fileformat=VCFv4.2", header, columns, *records])
    with vcf_module.VcfReader(vcf) as reader:
        assert len(list(reader.raw_chunks())) == (2 if chunk_records == 1 else 1)
    names = ("Consequence", "Protein_change", "DNA_change", "HGVSc", "HGVSp")

    def calls(local: bool) -> list[list[str]]:
        options = Options(bundle_dir=bundle, local=local, workers=workers)
        result = annotate_file(vcf, tmp_path / f"out{local}", options)
        _, annotated = read_vcf(result.files["vcf"])
        return [[field(r.entries()[0], name) for name in names] for r in annotated]

    # WHEN annotated with --bundle alone THEN the record first in the transcript's direction
    # (c.772) gets the combined call and the other a reference to it; each keeps its own HGVS c.,
    # and neither gets HGVS p. (the protein change is the haplotype's, not one record's)
    assert calls(local=False) == [
        ["@3638", "", "", "ENST00000423372.3:c.773A>G", ""],
        ["missense_variant", "258N>258C", "3637T>C+3638T>A", "ENST00000423372.3:c.772A>T", ""],
    ]
    # while --local calls each record on its own, with its own protein change
    assert calls(local=True) == [
        [
            "missense_variant",
            "258N>258S",
            "3637T>C",
            "ENST00000423372.3:c.773A>G",
            "ENSP00000473460:p.Asn258Ser",
        ],
        [
            "missense_variant",
            "258N>258Y",
            "3638T>A",
            "ENST00000423372.3:c.772A>T",
            "ENSP00000473460:p.Asn258Tyr",
        ],
    ]


def test_anntools_bundle_dir_names_the_full_bundle_jobs_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the deployment setting pointing at a full bundle (the annotator passes no --bundle)
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    monkeypatch.setenv(BUNDLE_DIR_ENV, str(bundle))
    vcf = tmp_path / "in.vcf"
    shutil.copy(CASE / "intron.vcf", vcf)
    # WHEN a job annotates with the default options
    result = annotate_file(vcf, tmp_path / "out")
    # THEN the full bundle's transcripts answer. AAC goes in after 3:35931 (TA|AACAT), so 8-9
    # bases into intron 3 of this minus-strand transcript, after exon 3's last base c.-4 (5'
    # UTR: exon 4 holds c.-3 to c.-1); it repeats 35932-35934, c.-4+8 to c.-4+6: a dup. The
    # gene's merged intron entry names no transcript, as bcftools', and its HGVS c. is on the
    # gene's first-ranked transcript.
    _, records = read_vcf(result.files["vcf"])
    entry = records[0].entries()[0]
    names = ("Consequence", "Gene", "Transcript", "Intron", "HGVSc")
    assert [field(entry, name) for name in names] == [
        "intron_variant",
        "IL5RA",
        "",
        "3/12",
        "ENST00000256452.3:c.-4+6_-4+8dup",
    ]
    assert result.summary["sources"] == ["full bundle b (transcripts, sequence, 0 known alleles)"]


def test_a_full_bundle_with_gff_and_fasta_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    command = ["annotate", str(CASE / "intron.vcf"), "-o", str(tmp_path / "out")]
    extra = ["--bundle", str(bundle), "--gff", str(GFF3), "--fasta", str(FASTA)]
    assert anntools_main([*command, *extra]) == 1
    assert (
        "is a full bundle with its own transcripts: drop --gff/--fasta" in capsys.readouterr().err
    )


# Bad inputs: one clear message, no bundle (not even a half-written one).


def assert_no_bundle(parent: Path) -> None:
    assert list(parent.iterdir()) == [], "a failed build left files behind"


def test_gff3_contigs_missing_from_the_fasta_stop_the_build(tmp_path: Path) -> None:
    gff = tmp_path / "genes.gff3"
    gff.write_text(GFF3.read_text().replace("\n3\t", "\nchr7\t").replace("3\t", "chr7\t", 1))
    out = tmp_path / "bundles"
    out.mkdir()
    with pytest.raises(BundleError, match=r"GFF3 contigs not in the FASTA: chr7"):
        build_full_bundle(gff, FASTA, out / "b")
    assert_no_bundle(out)


BGZF_EOF_BYTES = 28


@pytest.mark.parametrize("form", ["plain", "gzip", "bgzip", "bgzip-at-a-block-end"])
def test_a_truncated_fasta_stops_the_build(tmp_path: Path, form: str) -> None:
    # GIVEN the FASTA cut short: before the transcript (plain), mid-stream (gzip, bgzip), or
    # after a whole bgzip block, so that what is left decompresses cleanly
    import pysam

    fasta = tmp_path / "cut.fa"
    if form == "plain":
        fasta.write_bytes(FASTA.read_bytes()[:150])
    else:
        whole = tmp_path / "whole.fa.gz"
        if form == "gzip":
            whole.write_bytes(gzip.compress(FASTA.read_bytes()))
        else:
            pysam.tabix_compress(str(FASTA), str(whole))
        data = whole.read_bytes()
        whole.unlink()
        cut = len(data) - BGZF_EOF_BYTES if form == "bgzip-at-a-block-end" else len(data) // 3
        fasta.write_bytes(data[:cut])
    out = tmp_path / "bundles"
    out.mkdir()
    # WHEN built THEN one message names the problem, and there is no bundle
    with pytest.raises(BundleError, match=r"truncated|ends early|lacks bgzip's end-of-file"):
        build_full_bundle(GFF3, fasta, out / "b")
    assert_no_bundle(out)


def test_a_cut_gff3_stops_the_build(tmp_path: Path) -> None:
    packed = gzip.compress(GFF3.read_bytes())
    gff = tmp_path / "cut.gff3.gz"
    gff.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(BundleError, match=r"cannot read GFF3 .*cut.gff3.gz: .*end"):
        build_full_bundle(gff, FASTA, tmp_path / "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.gff3.gz"]


def test_a_fasta_cut_against_its_index_stops_the_build(tmp_path: Path) -> None:
    fasta = tmp_path / "cut.fa"
    fasta.write_bytes(FASTA.read_bytes()[:-200])
    shutil.copy(f"{FASTA}.fai", f"{fasta}.fai")
    with pytest.raises(BundleError, match=r"truncated: its index cut.fa.fai gives 3 57,105 bases"):
        build_full_bundle(GFF3, fasta, tmp_path / "b")


def test_a_failed_rebuild_keeps_the_previous_bundle(tmp_path: Path) -> None:
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    before = (bundle / "manifest.json").read_text()
    broken = tmp_path / "broken.fa"
    broken.write_text(">3\n" + "A" * 100 + "\n")
    with pytest.raises(BundleError):
        build_full_bundle(GFF3, broken, bundle)
    assert (bundle / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "broken.fa"]


def test_cli_reports_a_bad_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = anntools_main(
        [
            "bundle",
            "build",
            "--gff3",
            str(GFF3),
            "--fasta",
            str(tmp_path / "none.fa"),
            "-o",
            str(tmp_path / "b"),
        ]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert err.strip().splitlines() == [f"error: no such file: {tmp_path / 'none.fa'}"]


# Known variants: rsIDs and ClinVar significance from dbSNP- and ClinVar-format VCFs.

SEQUENCE = sequence_of(FASTA)


def base(pos: int) -> str:
    return SEQUENCE[pos - 1]


def other(ref: str) -> str:
    return "C" if ref != "C" else "G"


def dbsnp_vcf(path: Path, records: list[tuple[int, str, str, int]]) -> Path:
    """dbSNP's format: RefSeq accessions as CHROM, rsIDs in ID and INFO/RS."""
    lines = [
        "##fileformat=VCFv4.2",
        "##source=dbSNP",
        "##dbSNP_BUILD_ID=156",
        "##reference=GCF_000001405.40",
        '##INFO=<ID=RS,Number=1,Type=Integer,Description="dbSNP ID (i.e. rs number)">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    lines += [
        f"NC_000003.12\t{pos}\trs{rs}\t{ref}\t{alts}\t.\t.\tRS={rs};dbSNPBuildID=156;VC=SNV"
        for pos, ref, alts, rs in records
    ]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


def clinvar_vcf(
    path: Path, records: list[tuple[int, str, str, int, str]], contig: str = "3"
) -> Path:
    """ClinVar's format: Ensembl-style contigs, its variation id in ID, CLNSIG and RS in INFO."""
    lines = [
        "##fileformat=VCFv4.1",
        "##fileDate=2024-05-01",
        "##source=ClinVar",
        "##reference=GRCh38",
        '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="Clinical significance">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    lines += [
        f"{contig}\t{pos}\t{100 + i}\t{ref}\t{alt}\t.\t.\tALLELEID={i};CLNSIG={sig}"
        + (f";RS={rs}" if rs else "")
        for i, (pos, ref, alt, rs, sig) in enumerate(records)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_known_variants_from_dbsnp_and_clinvar_are_looked_up_by_allele(tmp_path: Path) -> None:
    # GIVEN dbSNP naming rs1001 at 30000 (two ALTs) and ClinVar classifying one of its alleles
    ref = base(30000)
    alt1, alt2 = [b for b in "ACGT" if b != ref][:2]
    dbsnp = dbsnp_vcf(tmp_path / "dbsnp.vcf.gz", [(30000, ref, f"{alt1},{alt2}", 1001)])
    clinvar = clinvar_vcf(
        tmp_path / "clinvar.vcf",
        [
            (30000, ref, alt1, 1001, "Pathogenic"),
            (40000, base(40000), other(base(40000)), 0, "Benign"),
        ],
    )
    # WHEN built into a bundle
    known = FullBundle.load(build_full_bundle(GFF3, FASTA, tmp_path / "b", [dbsnp, clinvar])).known
    assert known is not None
    # THEN each allele gets its rsID and significance; other alleles and positions get none
    assert known.lookup("3", 30000, ref, alt1) == ("rs1001", "Pathogenic")
    assert known.lookup("chr3", 30000, ref, alt2) == ("rs1001", None)
    assert known.lookup("3", 40000, base(40000), other(base(40000))) == (None, "Benign")
    third = next(b for b in "ACGT" if b not in (ref, alt1, alt2))
    assert known.lookup("3", 30000, ref, third) == (None, None)
    assert known.lookup("3", 30001, base(30001), alt1) == (None, None)


def test_annotate_with_a_bundle_writes_rsids_and_clinvar(
    tmp_path: Path, write_vcf: Callable[[list[str]], Path]
) -> None:
    # GIVEN a bundle knowing rs1001 at 30000 (an IL5RA intron) with a ClinVar classification
    ref = base(30000)
    dbsnp = dbsnp_vcf(tmp_path / "dbsnp.vcf.gz", [(30000, ref, other(ref), 1001)])
    clinvar = clinvar_vcf(tmp_path / "clinvar.vcf", [(30000, ref, other(ref), 1001, "Benign")])
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b", [dbsnp, clinvar])
    # WHEN a VCF naming the contig chr3 holds that allele and its neighbour
    neighbour = f"chr3\t30001\t.\t{base(30001)}\t{other(base(30001))}\t.\t.\t."
    vcf = write_vcf(case_vcf([f"chr3\t30000\t.\t{ref}\t{other(ref)}\t.\t.\t.", neighbour]))
    result = annotate_file(vcf, tmp_path / "out", Options(bundle_dir=bundle))
    # THEN the known allele gets its rsID and its entries the significance; the other neither
    _, records = read_vcf(result.files["vcf"])
    assert [r.id for r in records] == ["rs1001", None]
    assert [[field(e, "ClinVar") for e in r.entries()] for r in records] == [["Benign"], [""]]
    assert [[field(e, "Consequence") for e in r.entries()] for r in records] == [
        ["intron_variant"],
        ["intron_variant"],
    ]


def test_a_record_whose_ref_is_not_the_bundles_is_kept_without_consequences(
    tmp_path: Path, write_vcf: Callable[[list[str]], Path]
) -> None:
    # GIVEN a coding SNV of IL5RA whose REF is not the bundle's base, and a good one
    bundle = build_full_bundle(GFF3, FASTA, tmp_path / "b")
    pos = 740  # in the last CDS (697-783)
    wrong, right = other(base(pos)), base(pos)
    vcf = write_vcf(
        case_vcf(
            [f"3\t{pos}\t.\t{wrong}\tT\t.\t.\t.", f"3\t{pos}\t.\t{right}\t{other(right)}\t.\t.\t."]
        )
    )
    # WHEN annotated THEN both records are written, only the second with consequences
    result = annotate_file(vcf, tmp_path / "out", Options(bundle_dir=bundle))
    _, records = read_vcf(result.files["vcf"])
    assert [r.ref for r in records] == [wrong, right]
    assert [bool(r.entries()) for r in records] == [False, True]
    # AND the first is counted and named in the run's warnings, as with --gff/--fasta
    assert result.ref_mismatches == 1
    log = result.files["log"].read_text()
    assert f"{REF_MISMATCH}: {wrong} where it has {right} at 3:{pos}" in log


def test_known_variants_of_another_assembly_are_refused(tmp_path: Path) -> None:
    # GIVEN a ClinVar VCF whose header gives contig 3 GRCh37's length
    clinvar = tmp_path / "clinvar.vcf"
    clinvar_vcf(clinvar, [(30000, base(30000), other(base(30000)), 1, "Benign")])
    text = clinvar.read_text().replace("##source", "##contig=<ID=3,length=198022430>\n##source")
    clinvar.write_text(text)
    out = tmp_path / "bundles"
    out.mkdir()
    with pytest.raises(BundleError, match=r"another assembly: its contig 3 is 198,022,430 bp"):
        build_full_bundle(GFF3, FASTA, out / "b", [clinvar])
    assert_no_bundle(out)


def test_known_variants_whose_refs_disagree_with_the_sequence_are_refused(tmp_path: Path) -> None:
    # GIVEN a VCF with no contig lengths whose REFs mostly are not the bundle's bases
    records = [(pos, other(base(pos)), base(pos), 1000 + pos) for pos in range(20000, 20040)]
    dbsnp = dbsnp_vcf(tmp_path / "dbsnp.vcf.gz", records)
    with pytest.raises(BundleError, match=r"another assembly: 40 of 40 REF alleles differ"):
        build_full_bundle(GFF3, FASTA, tmp_path / "b", [dbsnp])


def test_known_variants_on_no_bundle_contig_are_refused(tmp_path: Path) -> None:
    clinvar = clinvar_vcf(tmp_path / "c.vcf", [(100, "A", "G", 1, "Benign")], contig="21")
    with pytest.raises(BundleError, match=r"none of its contigs \(21\) is in the bundle"):
        build_full_bundle(GFF3, FASTA, tmp_path / "b", [clinvar])


def test_transcript_names_and_ranks_from_ensembl_and_gencode_lines() -> None:
    names = TranscriptNames()
    for line in (
        "7\tensembl\tmRNA\t1\t9\t.\t-\t.\tID=transcript:ENST00000288602;Parent=gene:G;"
        "tag=basic,Ensembl_canonical,MANE_Select;version=11",
        "7\tensembl\tCDS\t1\t9\t.\t-\t0\tID=CDS:ENSP00000288602;Parent=transcript:ENST00000288602;"
        "protein_id=ENSP00000288602",
        "chr7\tHAVANA\ttranscript\t1\t9\t.\t-\t.\tID=ENST00000479537.6;Parent=ENSG00000157764.14;"
        "transcript_id=ENST00000479537.6;tag=basic,Ensembl_canonical",
        "chr7\tHAVANA\tCDS\t1\t9\t.\t-\t0\tID=CDS:ENST00000479537.6;Parent=ENST00000479537.6;"
        "protein_id=ENSP00000418033.2",
        "7\tensembl\tmRNA\t1\t9\t.\t-\t.\tID=transcript:ENST00000496384;tag=basic;version=6",
    ):
        names.add(line)
    assert names.table == {
        "ENST00000288602": ["ENST00000288602.11", "ENSP00000288602", "0"],
        "ENST00000479537.6": ["ENST00000479537.6", "ENSP00000418033.2", "1"],
        "ENST00000496384": ["ENST00000496384.6", "", "2"],
    }
