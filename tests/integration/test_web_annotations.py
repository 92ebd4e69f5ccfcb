"""The web app's upload flow and job pages, against the emulator (S3 uploads are real POSTs)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import gas.web.annotations as annotation_pages
from gas.core.aws import AwsClients
from gas.core.jobs import Job, JobStatus, ResultKeys
from gas.core.keys import parse_input_key, result_key_names
from gas.web.app import GasBottle
from tests.integration.services import FREE_SAMPLE
from tests.integration.web_helpers import AuthActions, TestApp, post_form_to_s3

pytest_plugins = ["tests.integration.web_fixtures"]


def _upload(client: TestApp, content: bytes, name: str) -> str:
    """Fetch the S3 form for ``name`` as annotate.js does, POST the file; S3's redirect path."""
    upload = client.get("/annotate/form", {"filename": name}).json
    return post_form_to_s3(upload["url"], upload["fields"], content, name)


def _submit(client: TestApp) -> str:
    """Upload the Free sample and register it; returns the job_id."""
    registered = client.get(_upload(client, FREE_SAMPLE.read_bytes(), FREE_SAMPLE.name))
    assert registered.status_int == 303
    return registered.location.rsplit("/", 1)[1]


def _complete(app: GasBottle, clients: AwsClients, job_id: str) -> Job:
    """Finish a job as the annotator would: claim it, store its results, mark it COMPLETED."""
    jobs = app.gas.jobs
    job = jobs.get(job_id)
    assert job is not None
    claim = jobs.claim(job_id, "message-1", "token-1")
    assert claim.claimed and claim.token
    bucket = clients.settings.names.results_bucket
    keys = result_key_names(parse_input_key(job.s3_key_input_file))
    for kind, key in keys.items():
        clients.s3.put_object(Bucket=bucket, Key=key, Body=f"{kind} of {job_id}\n".encode())
    assert jobs.complete(job_id, claim.token, ResultKeys(bucket=bucket, **keys))
    done = jobs.get(job_id)
    assert done is not None
    return done


def test_the_annotate_page_posts_straight_to_s3(
    client: TestApp, auth: AuthActions, app: GasBottle
) -> None:
    auth.register()
    page = client.get("/annotate")
    form = page.forms["upload-form"]
    # THEN the form is new_upload's: S3's URL, the signed fields, the redirect back to GAS
    bucket = app.gas.settings.names.inputs_bucket
    assert bucket in form.action
    fields = {name: field[0].value for name, field in form.fields.items() if name != "file"}
    assert {"key", "policy", "x-amz-signature", "success_action_redirect"} <= set(fields)
    assert fields["success_action_redirect"] == "http://127.0.0.1:8080/annotate/uploaded"
    assert fields["key"].endswith("~input.vcf")
    # the file input comes last (S3 ignores fields after the file)
    assert page.text.index('name="policy"') < page.text.index('type="file"')
    # AND the page's CSP lets this form (only this page's forms) post to the bucket's origin
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(form.action))
    assert f"form-action 'self' {origin}" in page.headers["Content-Security-Policy"]
    assert origin not in client.get("/profile").headers["Content-Security-Policy"]
    # AND Free users get the limit for the script that stops oversize files
    assert 'data-plan="free"' in page.text and 'data-limit="153600"' in page.text
    assert '<script src="/static/annotate.js" defer></script>' in page.text
    assert "<script>" not in page.text  # no inline script: the CSP forbids it


def test_the_form_for_a_chosen_file_name(client: TestApp, auth: AuthActions) -> None:
    auth.register()
    upload = client.get("/annotate/form", {"filename": "my sample.vcf"}).json
    assert upload["fields"]["key"].endswith("~my_sample.vcf")
    refused = client.get("/annotate/form", {"filename": "..."}, expect_errors=True)
    assert refused.status_int == 400
    assert "cannot be used" in refused.json["error"]


def test_an_upload_is_registered_and_listed(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients
) -> None:
    auth.register()
    # WHEN the browser POSTs the file to S3 and follows S3's 303 back to GAS
    redirect = _upload(client, FREE_SAMPLE.read_bytes(), FREE_SAMPLE.name)
    assert redirect.startswith("/annotate/uploaded?")
    query = parse_qs(urlsplit(redirect).query)
    assert query["bucket"] == [clients.settings.names.inputs_bucket]
    registered = client.get(redirect)
    # THEN the job is registered and the browser is sent to its page
    assert registered.status_int == 303
    job_id = registered.location.rsplit("/", 1)[1]
    job = app.gas.jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.PENDING
    assert job.input_file_name == "free_1.vcf"
    details = registered.follow()
    assert "free_1.vcf was received" in details.text
    assert job_id in details.text
    assert 'class="badge status-pending"' in details.text
    assert 'data-status-url="/annotations/' in details.text
    assert 'id="downloads"' not in details.text
    # AND it is listed with its badge, and its status is available as JSON
    listing = client.get("/annotations")
    assert f'href="/annotations/{job_id}"' in listing.text
    assert "free_1.vcf" in listing.text and "Pending</span>" in listing.text
    status = client.get(f"/annotations/{job_id}/status").json
    assert status == {"job_id": job_id, "status": "PENDING", "progress": 0}


def test_a_running_job_shows_a_live_progress_bar(
    client: TestApp, auth: AuthActions, app: GasBottle
) -> None:
    auth.register()
    job_id = _submit(client)
    claim = app.gas.jobs.claim(job_id, "message-1", "token-1")
    assert claim.token and app.gas.jobs.update_progress(job_id, claim.token, 42)
    listing = client.get("/annotations")
    assert 'class="badge status-running"' in listing.text
    assert re.search(r'<progress max="100" value="42"', listing.text)
    assert '<script src="/static/progress.js" defer></script>' in listing.text
    assert client.get(f"/annotations/{job_id}/status").json["progress"] == 42


def test_downloads_appear_only_once_completed(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients
) -> None:
    auth.register()
    job_id = _submit(client)
    assert "Annotated VCF" not in client.get(f"/annotations/{job_id}").text
    assert client.get(f"/annotations/{job_id}/log", expect_errors=True).status_int == 404
    # WHEN the job completes
    job = _complete(app, clients, job_id)
    page = client.get(f"/annotations/{job_id}")
    # THEN its page links to presigned, short-lived downloads of the three results
    assert 'class="badge status-completed"' in page.text
    links = dict(re.findall(r'<a href="([^"]+)" rel="noopener" download="([^"]+)">', page.text))
    assert set(links.values()) == {"free_1.annot.vcf", "free_1.annot.tsv", "free_1.vcf.count.log"}
    for url, name in links.items():
        url = url.replace("&amp;", "&")
        assert "X-Amz-Signature=" in url
        assert "X-Amz-Expires=300" in url
        fetched = requests.get(url, timeout=30)
        assert fetched.status_code == 200
        assert job_id in fetched.text
        assert name in fetched.headers["Content-Disposition"]
    # AND the log can be read on a page
    log_page = client.get(f"/annotations/{job_id}/log")
    assert f"log of {job_id}" in log_page.text
    assert job.s3_key_log_file


def test_archived_results_are_not_offered(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients
) -> None:
    auth.register()
    job_id = _submit(client)
    _complete(app, clients, job_id)
    clients.dynamodb.update_item(
        TableName=clients.settings.names.annotations_table,
        Key={"job_id": {"S": job_id}},
        UpdateExpression="SET storage_status = :archived",
        ExpressionAttributeValues={":archived": {"S": "ARCHIVED"}},
    )
    page = client.get(f"/annotations/{job_id}")
    assert "moved to cold storage" in page.text and 'href="/subscribe"' in page.text
    assert 'download="free_1.annot.vcf"' not in page.text
    assert 'download="free_1.vcf.count.log"' in page.text


def test_another_users_job_is_not_found(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients
) -> None:
    auth.register()
    job_id = _submit(client)
    _complete(app, clients, job_id)
    auth.logout()
    auth.register(email="mallory@example.com", name="Mallory")
    for path in ("", "/status", "/log"):
        response = client.get(f"/annotations/{job_id}{path}", expect_errors=True)
        assert response.status_int == 404, path
        assert job_id not in response.text and "free_1" not in response.text
    assert client.get("/annotations/not-a-job", expect_errors=True).status_int == 404
    assert job_id not in client.get("/annotations").text


def test_registering_someone_elses_upload_is_refused(client: TestApp, auth: AuthActions) -> None:
    auth.register()
    redirect = _upload(client, FREE_SAMPLE.read_bytes(), FREE_SAMPLE.name)
    auth.logout()
    auth.register(email="mallory@example.com", name="Mallory")
    refused = client.get(redirect, expect_errors=True)
    assert refused.status_int == 400
    assert "That upload could not be used" in refused.text
    assert "not uploaded by you" in refused.text


def test_an_oversize_free_upload_is_refused_with_a_hint(client: TestApp, auth: AuthActions) -> None:
    # GIVEN a Free user whose oversize file the emulator accepted (real S3 would refuse it)
    auth.register()
    redirect = _upload(client, b"#" * 160_000, "big.vcf")
    # WHEN GAS registers it, THEN it refuses, and says why and what to do
    refused = client.get(redirect, expect_errors=True)
    assert refused.status_int == 400
    assert "160,000 bytes" in refused.text and "Subscribe to Premium" in refused.text


def test_the_list_is_paginated_newest_first(
    client: TestApp, auth: AuthActions, app: GasBottle, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.register()
    account = app.gas.users.account_by_email("alice@example.com")
    assert account is not None
    for n in range(3):
        app.gas.jobs.create(
            Job(
                job_id=f"00000000-0000-4000-8000-00000000000{n}",
                user_id=account.user_id,
                input_file_name=f"file{n}.vcf",
                s3_inputs_bucket="unused",
                s3_key_input_file=f"{account.user_id}/x~file{n}.vcf",
                submit_time=1_700_000_000 + n,
            )
        )
    monkeypatch.setattr(annotation_pages, "PAGE_SIZE", 2)
    first = client.get("/annotations")
    assert first.text.index("file2.vcf") < first.text.index("file1.vcf")
    assert "file0.vcf" not in first.text
    older = first.click(linkid=None, href=r"/annotations\?page=")
    assert "file0.vcf" in older.text and "file2.vcf" not in older.text
    assert 'rel="next"' not in older.text
    # a tampered page token starts again from the newest
    assert "file2.vcf" in client.get("/annotations", {"page": "forged"}).text


def test_job_pages_need_a_login(client: TestApp) -> None:
    for path in ("/annotate", "/annotations", "/annotate/form?filename=a.vcf"):
        response = client.get(path)
        assert response.status_int == 303
        assert "/login?next=" in response.location
