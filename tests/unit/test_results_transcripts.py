"""The variant table shows anntools' transcript columns: a real default-mode TSV, indexed
and rendered as the results page renders it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from anntools.pipeline import Options, annotate_file
from gas.web.context import template_environment
from gas.web.results import TABLE_TEMPLATE, install_template_helpers, table_page
from gas.web.results_index import build_index

VCF = [
    "##fileformat=VCFv4.2",
    "##reference=GRCh38",
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    "chr7\t140753336\tBRAF_V600E\tA\tT\t.\tPASS\t.",
]
OLD_HEADER = (
    "CHROM\tPOS\tID\tREF\tALT\tVariant_class\tTs_Tv\tGRCh38\trsID\tConsequence\tGene\t"
    "Transcript\tBiotype\tStrand\tRegion\tProtein_change\tDNA_change\tDistance\tCalled\tHet\t"
    "Hom_alt\tAF"
)


@dataclass(frozen=True)
class _Job:
    input_file_name: str = "known.vcf"


def render(index: Path) -> str:
    templates = template_environment()
    install_template_helpers(templates)
    page = table_page(index, {})
    return templates.get_template(TABLE_TEMPLATE).render(
        job=_Job(), table=page, base_url="/variants"
    )


@pytest.fixture(scope="module")
def page(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("table")
    (folder / "known.vcf").write_text("\n".join(VCF) + "\n")
    result = annotate_file(folder / "known.vcf", folder / "out", Options(bundle_dir=bundle_dir))
    build_index(result.files["tsv"].read_text().splitlines(), folder / "index.sqlite")
    return render(folder / "index.sqlite")


def test_table_shows_transcript_and_hgvs(page: str) -> None:
    headers = re.findall(r'<th scope="col"[^>]*>(?:<a [^>]*>)?([^<]+)', page)
    assert {"Transcript", "HGVS c.", "HGVS p.", "ClinVar"} <= set(headers)
    row = page[page.index("<tbody>") :].replace("<wbr>", "")  # break opportunities, unseen
    assert "ENST00000646891.2" in row and "NM_004333.6" in row
    assert "c.1799T&gt;A" in row  # the transcript column names the ENST
    assert 'title="ENST00000646891.2:c.1799T&gt;A"' in row


def test_gene_links_to_ensembl_and_ncbi(page: str) -> None:
    links = [html.unescape(h) for h in re.findall(r'href="(https://[^"]+)"', page)]
    assert "https://www.ensembl.org/Homo_sapiens/Gene/Summary?g=BRAF" in links
    assert "https://www.ncbi.nlm.nih.gov/gene/?term=BRAF%5Bsym%5D%20AND%20human%5Borgn%5D" in links


def test_page_says_protein_changes_need_the_full_bundle(page: str) -> None:
    assert 'id="protein-note"' in page
    assert "need the full annotation bundle" in page


def test_a_tsv_of_an_older_anntools_still_indexes(tmp_path: Path) -> None:
    # GIVEN a TSV without the transcript columns of newer versions
    row = "1\t100\t.\tA\tG\tSNV\tTs\t\t\tintron\tGENE1\t\tlncRNA\t+\tintron\t\t\t\t\t\t\t"
    count = build_index([OLD_HEADER, row], tmp_path / "index.sqlite")
    # THEN it indexes, with those columns empty, and no note about protein changes
    page = render(tmp_path / "index.sqlite")
    assert count == 1 and "GENE1" in page and 'id="protein-note"' not in page


def test_the_index_reads_only_columns_anntools_writes() -> None:
    # anntools.output declares the TSV; the web's index must name its columns the same way.
    from anntools.output import TSV_COLUMNS
    from gas.web.results_index import _COLUMNS, _OPTIONAL_COLUMNS

    assert set(_COLUMNS) | set(_OPTIONAL_COLUMNS) <= set(TSV_COLUMNS)
