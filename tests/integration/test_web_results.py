"""Summary charts and the variant table of a COMPLETED job, against the emulator.

The job's results are the real anntools output for free_1.vcf, stored in the
results bucket as the annotator stores them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import Job, ResultKeys
from gas.core.keys import parse_input_key, result_key_names
from gas.web import results_index
from gas.web.app import GasBottle
from gas.web.results_index import CACHE_ENV, FORMAT_VERSION
from tests.integration.services import FREE_SAMPLE
from tests.integration.web_helpers import AuthActions, TestApp, TestResponse, post_form_to_s3

pytest_plugins = ["tests.integration.web_fixtures"]


@pytest.fixture(scope="module")
def free_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """anntools' four result files for free_1.vcf, by kind (vcf, log, tsv, summary)."""
    out = tmp_path_factory.mktemp("free_1")
    command = [sys.executable, "-m", "anntools", "annotate", str(FREE_SAMPLE), "-o", str(out)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    names = {"vcf": ".annot.vcf", "log": ".vcf.count.log", "tsv": ".annot.tsv"}
    found = {kind: out / f"free_1{suffix}" for kind, suffix in names.items()}
    found["summary"] = out / "free_1.summary.json"
    return found


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's web app caches its indexes in its own folder."""
    folder = tmp_path / "web-cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    # These tests read the table in the first answer: let it wait for the build, however
    # slow the machine ("preparing" has its own tests in tests/unit).
    monkeypatch.setattr(results_index, "PREPARE_WAIT_SECONDS", 60.0)
    return folder


def tsv_rows(path: Path, gene: str | None = None) -> list[list[str]]:
    lines = path.read_text().splitlines()[1:]
    rows = [line.split("\t") for line in lines if line]
    return [row for row in rows if gene is None or row[10] == gene]


def submit(client: TestApp) -> str:
    """Upload free_1.vcf through the S3 form and register it; the job_id."""
    upload = client.get("/annotate/form", {"filename": FREE_SAMPLE.name}).json
    redirect = post_form_to_s3(upload["url"], upload["fields"], FREE_SAMPLE.read_bytes(), "f.vcf")
    registered = client.get(redirect)
    assert registered.status_int == 303
    return str(registered.location.rsplit("/", 1)[1])


def complete(app: GasBottle, clients: AwsClients, job_id: str, files: dict[str, Path]) -> Job:
    """Finish the job as the annotator does: claim, store the real results, COMPLETED."""
    jobs = app.gas.jobs
    job = jobs.get(job_id)
    assert job is not None
    claim = jobs.claim(job_id, "message-1", "token-1")
    assert claim.claimed and claim.token
    bucket = clients.settings.names.results_bucket
    keys = result_key_names(parse_input_key(job.s3_key_input_file))
    for kind, key in keys.items():
        clients.s3.put_object(Bucket=bucket, Key=key, Body=files[kind].read_bytes())
    assert jobs.complete(job_id, claim.token, ResultKeys(bucket=bucket, **keys))
    done = jobs.get(job_id)
    assert done is not None
    return done


def archive(clients: AwsClients, job_id: str) -> None:
    clients.dynamodb.update_item(
        TableName=clients.settings.names.annotations_table,
        Key={"job_id": {"S": job_id}},
        UpdateExpression="SET storage_status = :archived",
        ExpressionAttributeValues={":archived": {"S": "ARCHIVED"}},
    )


def table_rows(page: TestResponse) -> list[list[str]]:
    """The variant table's body rows as lists of cell texts (a gene without its links)."""
    table = page.html.find("table", id="variant-table")
    assert table is not None, "no variant table on the page"
    for links in table.find_all(class_="gene-links"):  # "Ensembl NCBI" beside a gene name
        links.decompose()
    return [
        [cell.get_text(strip=True) for cell in tr.find_all("td")]
        for tr in table.find("tbody").find_all("tr")
    ]


@pytest.fixture
def completed(
    client: TestApp,
    auth: AuthActions,
    app: GasBottle,
    clients: AwsClients,
    free_results: dict[str, Path],
) -> str:
    auth.register()
    job_id = submit(client)
    complete(app, clients, job_id, free_results)
    return job_id


def test_the_details_page_shows_charts_and_the_table(
    client: TestApp, completed: str, free_results: dict[str, Path], cache_dir: Path
) -> None:
    page = client.get(f"/annotations/{completed}")
    # THEN the summary is drawn as accessible inline SVG charts with their labels
    svgs = re.findall(r"<svg [^>]*role=\"img\"[^>]*>.*?</svg>", page.text, re.S)
    assert len(svgs) >= 5
    titles = re.findall(r'<title id="chart-[a-z-]+-title">([^<]+)</title>', page.text)
    assert {"Variant classes", "Transitions and transversions", "Regions"} <= set(titles)
    assert "Variants per chromosome" in titles
    for label in (">SNV<", ">insertion<", ">CDS<", ">MT<", ">MT-ND5<", "Ts/Tv ratio 14.31"):
        assert label in page.text, label
    assert "1,141" in page.text  # variant records
    # AND the table's first page, with a filter form that works without JavaScript
    rows = table_rows(page)
    assert len(rows) == 25
    assert rows[0][0] == "MT:60" and rows[0][6] == "MT-TF"
    assert f"of {len(tsv_rows(free_results['tsv'])):,} in free_1.vcf" in page.text
    form = page.forms["variant-filters"]
    assert form.method.lower() == "get" and form.action == f"/annotations/{completed}/variants"
    assert '<th scope="col" aria-sort="ascending"><a href=' in page.text
    # AND no inline script or style slipped in (the CSP forbids them)
    assert "<script>" not in page.text and "style=" not in page.text
    # AND the index was cached on this instance's disk
    assert [p.name for p in cache_dir.glob("*.sqlite")] == [f"{completed}.v{FORMAT_VERSION}.sqlite"]


def test_the_details_page_explains_its_counts_and_labels(
    client: TestApp, completed: str, free_results: dict[str, Path]
) -> None:
    # GIVEN free_1.vcf: mitochondrial, with multi-allelic records and overlapping genes
    summary = json.loads(free_results["summary"].read_text())
    rows = tsv_rows(free_results["tsv"])
    page = client.get(f"/annotations/{completed}")
    facts = {
        div.dt.get_text(strip=True): div.dd.get_text(strip=True)
        for div in page.html.find("dl", class_="facts").find_all("div")
    }
    # THEN records, ALT alleles and table rows are each named, and the page says why they differ
    assert facts["Variant records"] == f"{summary['records']:,}"
    assert facts["ALT alleles"] == f"{summary['alleles']:,}"
    assert facts["Table rows"] == f"{len(rows):,}"
    assert summary["records"] < summary["alleles"] < len(rows)
    note = page.html.find(id="counts-note").get_text(" ", strip=True)
    assert "can hold several ALT alleles" in note and "a row per allele and gene" in note
    # AND the rsID count says what it counts: no claim about dbSNP as a whole
    assert "Known rsID (ID column or common SNPs)" in facts
    assert not any("dbSNP" in label for label in facts)
    # AND the consequence chart counts records, the filter rows: they differ, the chart says why
    select = page.html.find("select", id="filter-consequence")
    options = {o["value"]: o.get_text(strip=True) for o in select.find_all("option")}
    row_counts = Counter(row[9] for row in rows)
    charted = summary["consequences"]
    for name, records in charted.items():
        assert options[name] == f"{name} ({row_counts[name]:,})"
        assert records <= row_counts[name], name
    assert any(records < row_counts[name] for name, records in charted.items())
    chart_note = figure_note(page, "consequences")
    assert "Records with each consequence" in chart_note and "counts rows" in chart_note
    # AND the Ts/Tv note does not hold mtDNA to the whole genome's ratio
    ts_tv_note = figure_note(page, "ts-tv")
    assert "all mitochondrial" in ts_tv_note and "Whole human genomes" not in ts_tv_note


def figure_note(page: TestResponse, chart_id: str) -> str:
    figure = page.html.find("figure", id=f"figure-{chart_id}")
    assert figure is not None, chart_id
    return str(figure.find("p", class_="hint").get_text(" ", strip=True))


def test_filtering_by_gene_returns_only_its_rows(
    client: TestApp, completed: str, free_results: dict[str, Path]
) -> None:
    expected = tsv_rows(free_results["tsv"], gene="MT-CO1")
    assert len(expected) > 50  # more than one page
    # WHEN the user fills in the form on the details page
    form = client.get(f"/annotations/{completed}").forms["variant-filters"]
    form["gene"] = "mt-co1"
    form["per_page"] = "100"
    page = form.submit()
    rows = table_rows(page)
    assert len(rows) == len(expected)
    assert {row[6] for row in rows} == {"MT-CO1"}
    assert [row[0] for row in rows] == [f"MT:{int(r[1]):,}" for r in expected]
    assert f"of {len(expected):,} matching the filters" in page.text
    # AND the JSON answer agrees
    data = client.get(f"/annotations/{completed}/variants.json", {"gene": "MT-CO1"}).json
    assert data["total"] == len(expected) and data["state"] == "ready"
    assert {row["gene"] for row in data["rows"]} == {"MT-CO1"}


def test_sorting_and_paging(client: TestApp, completed: str) -> None:
    base = f"/annotations/{completed}/variants"
    page = client.get(base, {"consequence": "missense_variant", "sort": "gene", "dir": "desc"})
    rows = table_rows(page)
    genes = [row[6] for row in rows]
    assert genes == sorted(genes, reverse=True) and {row[7] for row in rows} == {"missense_variant"}
    assert 'aria-sort="descending"' in page.text
    # the pager keeps the filters and the sort
    following = page.click(linkid=None, href=r"page=2", index=0)
    assert "consequence=missense_variant" in following.request.url
    assert "sort=gene" in following.request.url
    assert "Page 2 of" in following.text
    # odd parameters: default order, a clamped page, no SQL from the request
    odd = client.get(base, {"sort": "pos;DROP TABLE variants", "page": "9999", "gene": "' OR 1=1"})
    assert odd.status_int == 200 and table_rows(odd) == [["No variants match these filters."]]
    assert table_rows(client.get(base))[0][0] == "MT:60"


def test_another_user_cannot_open_the_table(
    client: TestApp, auth: AuthActions, completed: str
) -> None:
    auth.logout()
    auth.register(email="mallory@example.com", name="Mallory")
    for path in ("", "/variants", "/variants.json", "/variants?gene=MT-CO1"):
        response = client.get(f"/annotations/{completed}{path}", expect_errors=True)
        assert response.status_int == 404, path
        assert "MT-CO1" not in response.text and "free_1" not in response.text


def test_the_table_needs_a_login(client: TestApp, completed: str, auth: AuthActions) -> None:
    auth.logout()
    response = client.get(f"/annotations/{completed}/variants")
    assert response.status_int == 303 and "/login?next=" in response.location


def test_an_unfinished_job_shows_no_charts_or_table(
    client: TestApp, auth: AuthActions, app: GasBottle
) -> None:
    auth.register()
    job_id = submit(client)
    page = client.get(f"/annotations/{job_id}")
    assert "<svg" not in page.text and "variant-table" not in page.text
    for path in ("/variants", "/variants.json"):
        assert client.get(f"/annotations/{job_id}{path}", expect_errors=True).status_int == 404


def test_archived_results_are_not_served(
    client: TestApp, completed: str, clients: AwsClients, cache_dir: Path
) -> None:
    # GIVEN the table was built and cached while the results were available
    assert table_rows(client.get(f"/annotations/{completed}/variants"))
    assert list(cache_dir.glob("*.sqlite"))
    # WHEN the results are archived
    archive(clients, completed)
    # THEN neither page serves the rows, the cached index is dropped, the charts stay
    page = client.get(f"/annotations/{completed}/variants")
    assert "The variant table is archived" in page.text and "variant-table" not in page.text
    assert 'href="/subscribe"' in page.text
    assert not list(cache_dir.glob("*.sqlite"))
    details = client.get(f"/annotations/{completed}")
    assert "The variant table is archived" in details.text and "variant-table" not in details.text
    assert "Variant classes" in details.text  # summary.json is not archived
    refused = client.get(f"/annotations/{completed}/variants.json", expect_errors=True)
    assert refused.status_int == 410 and refused.json["rows"] == []


def test_results_that_cannot_be_read_leave_the_page_working(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, tmp_path: Path
) -> None:
    auth.register()
    job_id = submit(client)
    junk = {}
    for kind in ("vcf", "log", "tsv", "summary"):
        junk[kind] = tmp_path / kind
        junk[kind].write_text(f"{kind} of a job\n")
    complete(app, clients, job_id, junk)
    page = client.get(f"/annotations/{job_id}")
    assert page.status_int == 200
    assert "charts are not available" in page.text and "table is not available" in page.text
    assert client.get(f"/annotations/{job_id}/variants.json", expect_errors=True).status_int == 503
