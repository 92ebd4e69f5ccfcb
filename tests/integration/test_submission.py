"""Submission against the emulator: a real presigned POST over HTTP, then registration."""

from __future__ import annotations

import gzip

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import JobStatus
from gas.local.bootstrap import Stack
from gas.services.submission import SubmissionRefused
from tests.integration.services import (
    FREE_SAMPLE,
    post_upload,
    receive_documents,
    services,
)


def test_uploaded_file_registers_a_pending_job_and_requests_it(
    clients: AwsClients, stack: Stack
) -> None:
    found = services(clients)
    # GIVEN a Free user's upload form, used as the browser uses it
    upload = found.submission.new_upload("alice", "My Sample.vcf", "free")
    assert upload.key == f"alice/{upload.job_id}~My_Sample.vcf"
    assert post_upload(upload, FREE_SAMPLE.read_bytes()) in (200, 201, 204)
    # WHEN the web app registers the uploaded key
    job = found.submission.register("alice", upload.key)
    # THEN a PENDING job exists and one job.requested message is queued
    stored = found.jobs.get(upload.job_id)
    assert stored == job
    assert job.job_status == JobStatus.PENDING
    assert job.input_file_name == "My_Sample.vcf"
    assert job.s3_inputs_bucket == clients.settings.names.inputs_bucket
    assert job.s3_key_input_file == upload.key
    [request] = receive_documents(clients, stack.queue_urls["job-requests"])
    assert request == {
        "type": "job.requested",
        "version": 1,
        "job_id": job.job_id,
        "user_id": "alice",
    }


def test_registering_twice_returns_the_same_job(clients: AwsClients, stack: Stack) -> None:
    found = services(clients)
    upload = found.submission.new_upload("alice", "a.vcf", "free")
    post_upload(upload, FREE_SAMPLE.read_bytes())
    first = found.submission.register("alice", upload.key)
    second = found.submission.register("alice", upload.key)
    assert second == first
    page = found.jobs.list_for_user("alice")
    assert [j.job_id for j in page.jobs] == [first.job_id]
    # Still PENDING, so the request was published again: the worker's claim makes it harmless.
    assert len(receive_documents(clients, stack.queue_urls["job-requests"])) == 2


def test_another_users_key_is_refused(clients: AwsClients, stack: Stack) -> None:
    found = services(clients)
    upload = found.submission.new_upload("alice", "a.vcf", "free")
    post_upload(upload, FREE_SAMPLE.read_bytes())
    with pytest.raises(SubmissionRefused, match="not uploaded by you"):
        found.submission.register("mallory", upload.key)
    assert found.jobs.get(upload.job_id) is None
    assert receive_documents(clients, stack.queue_urls["job-requests"], wait_seconds=0) == []


def test_a_key_that_was_never_uploaded_is_refused(clients: AwsClients, stack: Stack) -> None:
    found = services(clients)
    upload = found.submission.new_upload("alice", "a.vcf", "free")
    with pytest.raises(SubmissionRefused, match="no uploaded file"):
        found.submission.register("alice", upload.key)


def test_oversize_upload_is_refused_and_deleted(clients: AwsClients, stack: Stack) -> None:
    found = services(clients)
    limit = clients.settings.free_upload_limit_bytes
    upload = found.submission.new_upload("alice", "big.vcf", "free")
    # moto accepts the POST despite content-length-range (real S3 would answer 400) ...
    post_upload(upload, b"#" * (limit + 1))
    # ... so registration is what refuses it, and removes the file.
    with pytest.raises(SubmissionRefused, match="at most 153,600 bytes"):
        found.submission.register("alice", upload.key)
    assert found.jobs.get(upload.job_id) is None
    listed = clients.s3.list_objects_v2(Bucket=clients.settings.names.inputs_bucket)
    assert listed.get("KeyCount", 0) == 0


def test_premium_user_may_register_a_large_file(clients: AwsClients, stack: Stack) -> None:
    found = services(clients)
    found.users.set_plan("bob", "premium")
    assert found.users.plan("bob") == "premium"
    upload = found.submission.new_upload("bob", "big.vcf", found.users.plan("bob"))
    post_upload(upload, b"#" * (clients.settings.free_upload_limit_bytes + 1))
    assert found.submission.register("bob", upload.key).job_status == JobStatus.PENDING


def test_jobs_are_listed_newest_first_a_page_at_a_time(clients: AwsClients, stack: Stack) -> None:
    times = iter([100, 300, 200])
    found = services(clients, clock=lambda: float(next(times)))
    for name in ("one.vcf", "three.vcf", "two.vcf"):
        upload = found.submission.new_upload("carol", name, "free")
        post_upload(upload, b"##fileformat=VCFv4.2\n")
        found.submission.register("carol", upload.key)
    first = found.jobs.list_for_user("carol", limit=2)
    assert [job.input_file_name for job in first.jobs] == ["three.vcf", "two.vcf"]
    assert first.next_key is not None
    rest = found.jobs.list_for_user("carol", limit=2, start_key=first.next_key)
    assert [job.input_file_name for job in rest.jobs] == ["one.vcf"]
    assert found.jobs.list_for_user("nobody").jobs == []


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9)


def test_a_gzip_that_shows_it_expands_past_the_plan_is_refused(
    clients: AwsClients, stack: Stack
) -> None:
    # GIVEN a Free user's 2 KB gzip whose trailer says it expands past the Free cap
    found = services(clients)
    cap = clients.settings.limits("free").input_bytes
    bomb = _gzip(FREE_SAMPLE.read_bytes() + b"\n" * cap)
    assert len(bomb) < 10_000
    upload = found.submission.new_upload("alice", "bomb.vcf.gz", "free")
    post_upload(upload, bomb)
    # WHEN it is registered, THEN it is refused, naming the limit, and removed
    with pytest.raises(SubmissionRefused, match=f"at most {cap:,} bytes.*Premium"):
        found.submission.register("alice", upload.key)
    assert found.jobs.get(upload.job_id) is None
    listed = clients.s3.list_objects_v2(Bucket=clients.settings.names.inputs_bucket)
    assert listed.get("KeyCount", 0) == 0
    # AND a gzip within the cap, and Premium with the same bomb, are accepted
    small = found.submission.new_upload("alice", "small.vcf.gz", "free")
    post_upload(small, _gzip(FREE_SAMPLE.read_bytes()))
    assert found.submission.register("alice", small.key).job_status == JobStatus.PENDING
    found.users.set_plan("bob", "premium")
    premium = found.submission.new_upload("bob", "bomb.vcf.gz", "premium")
    post_upload(premium, bomb)
    assert found.submission.register("bob", premium.key).job_status == JobStatus.PENDING
