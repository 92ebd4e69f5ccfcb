"""The archiver: Free users' results go to cold storage after the retention delay, on both
backends (settings.free_retention_seconds is 2 in these tests)."""

from __future__ import annotations

import time

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import Job, JobStatus, StorageStatus
from gas.core.publisher import request_downgrade_archive
from gas.local.bootstrap import Stack
from gas.services.cold_storage import Frozen
from tests.integration.retention import (
    BACKENDS,
    Retention,
    announce_completed,
    completed_job,
    poll_until,
    queue_counts,
    read_result,
    retention,
    sha256,
    vault_archive_count,
)

pytestmark = pytest.mark.slow

GONE = {"s3-glacier": "InvalidObjectState", "vault": "NoSuchKey"}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def kit(clients: AwsClients, stack: Stack, backend: str) -> Retention:
    return retention(clients, stack, backend)


def archived_status(kit: Retention, job_id: str) -> str | None:
    job = kit.found.jobs.get(job_id)
    return job.storage_status if job else None


def test_a_free_result_is_archived_only_after_the_delay(kit: Retention, backend: str) -> None:
    # GIVEN a Free user's completed job, announced on job_results
    made = completed_job(kit.found, "free-ann")
    started = time.monotonic()
    announce_completed(kit.clients, kit.stack, made.job)
    worker = kit.worker("archive", kit.archiver)
    # WHEN the archive queue is polled at once THEN the message is still held back
    assert worker.poll_once() == 0
    # WHEN the delay has passed
    poll_until(worker, lambda: archived_status(kit, made.job.job_id) == StorageStatus.ARCHIVED)
    assert time.monotonic() - started >= kit.clients.settings.free_retention_seconds - 0.5
    # THEN the VCF and TSV are gone from the results bucket; log and summary stay
    job = kit.found.jobs.get(made.job.job_id)
    assert job is not None and job.job_status == JobStatus.COMPLETED
    assert read_result(kit.clients, job, "vcf") == GONE[backend]
    assert read_result(kit.clients, job, "tsv") == GONE[backend]
    assert read_result(kit.clients, job, "log") == made.contents["log"]
    assert read_result(kit.clients, job, "summary") == made.contents["summary"]
    # AND the job records where the files are and what their bytes hash to
    archived = {f.kind: f for f in job.archived_files()}
    assert set(archived) == {"vcf", "tsv"}
    assert archived["vcf"].checksum == sha256(made.contents["vcf"])
    assert archived["tsv"].checksum == sha256(made.contents["tsv"])
    assert job.results_file_archive_id == archived["vcf"].archive_id
    assert job.archive_time is not None
    if backend == "vault":
        assert vault_archive_count(kit.clients) == 2
    else:
        assert job.results_file_archive_id == job.s3_key_result_file
        head = kit.clients.s3.head_object(Bucket=job.s3_results_bucket, Key=job.s3_key_result_file)
        assert head["StorageClass"] == "GLACIER"


def test_an_upgrade_during_the_delay_archives_nothing(kit: Retention) -> None:
    # GIVEN a Free user's completed job, announced
    made = completed_job(kit.found, "free-bob")
    announce_completed(kit.clients, kit.stack, made.job)
    # WHEN the user subscribes before the retention delay is over
    kit.found.users.set_plan("free-bob", "premium")
    time.sleep(kit.clients.settings.free_retention_seconds)
    worker = kit.worker("archive", kit.archiver)
    assert poll_until(worker, lambda: queue_counts(kit.clients, worker.queue_url) == (0, 0)) == 1
    # THEN nothing was archived
    job = kit.found.jobs.get(made.job.job_id)
    assert job is not None and job.storage_status == StorageStatus.AVAILABLE
    assert job.results_file_archive_id is None
    assert read_result(kit.clients, job, "vcf") == made.contents["vcf"]
    assert read_result(kit.clients, job, "tsv") == made.contents["tsv"]


def test_duplicate_archive_messages_archive_once(kit: Retention, backend: str) -> None:
    # GIVEN a Free user's job whose completion is delivered three times
    made = completed_job(kit.found, "free-cy")
    for _ in range(3):
        announce_completed(kit.clients, kit.stack, made.job)
    worker = kit.worker("archive", kit.archiver)
    # WHEN all three are handled
    handled = poll_until(
        worker,
        lambda: (
            queue_counts(kit.clients, worker.queue_url) == (0, 0)
            and archived_status(kit, made.job.job_id) == StorageStatus.ARCHIVED
        ),
    )
    assert handled == 3
    # THEN the job is archived once, with the first archive's ids
    job = kit.found.jobs.get(made.job.job_id)
    assert job is not None and job.storage_status == StorageStatus.ARCHIVED
    assert job.archived_files()[0].checksum == sha256(made.contents["vcf"])
    if backend == "vault":
        assert vault_archive_count(kit.clients) == 2  # one per file, no orphans
    # AND a late duplicate after that changes nothing
    assert kit.archiver.archive(made.job.job_id) is False
    assert kit.found.jobs.get(made.job.job_id) == job


def test_a_racing_duplicate_drops_the_archives_it_made(kit: Retention, backend: str) -> None:
    # GIVEN two deliveries that both read the job while it was AVAILABLE
    made = completed_job(kit.found, "free-dee")
    stale = made.job
    real_get = kit.found.jobs.get
    calls = {"n": 0}

    def first_read_is_stale(job_id: str) -> Job | None:
        calls["n"] += 1
        return stale if calls["n"] == 1 else real_get(job_id)

    assert kit.archiver.archive(made.job.job_id) is True
    kit.found.jobs.get = first_read_is_stale  # type: ignore[method-assign]
    try:
        # WHEN the second delivery archives from its stale read (vault: its own upload)
        if backend == "vault":
            kit.clients.s3.put_object(
                Bucket=stale.s3_results_bucket,
                Key=stale.s3_key_result_file,
                Body=b"a different upload of the same file\n",
            )
            kit.clients.s3.put_object(
                Bucket=stale.s3_results_bucket,
                Key=stale.s3_key_tsv_file,
                Body=b"a different tsv\n",
            )
        assert kit.archiver.archive(made.job.job_id) is False
    finally:
        del kit.found.jobs.get
    # THEN the first archive stands and the loser left no orphan behind
    job = kit.found.jobs.get(made.job.job_id)
    assert job is not None and job.storage_status == StorageStatus.ARCHIVED
    assert job.archived_files()[0].checksum == sha256(made.contents["vcf"])
    if backend == "vault":
        assert vault_archive_count(kit.clients) == 2


def test_premium_results_are_never_archived(kit: Retention) -> None:
    kit.found.users.set_plan("prem-eve", "premium")
    made = completed_job(kit.found, "prem-eve")
    assert kit.archiver.archive(made.job.job_id) is False
    job = kit.found.jobs.get(made.job.job_id)
    assert job is not None and job.storage_status == StorageStatus.AVAILABLE


def test_a_downgrade_archives_every_result_after_the_same_delay(
    kit: Retention, backend: str
) -> None:
    # GIVEN a Premium user with three completed jobs (and one still running)
    user = "down-fay"
    kit.found.users.set_plan(user, "premium")
    made = [completed_job(kit.found, user, submit_time=1000 + i) for i in range(3)]
    # WHEN the web records the cancel and asks for the archive
    kit.found.users.set_plan(user, "free")
    request_downgrade_archive(kit.clients.sqs, kit.found.locator, user)
    worker = kit.worker("archive", kit.archiver)
    # THEN nothing happens before the retention delay
    assert worker.poll_once() == 0
    # AND after it, every completed job is archived
    poll_until(
        worker,
        lambda: all(archived_status(kit, m.job.job_id) == StorageStatus.ARCHIVED for m in made),
    )
    for m in made:
        job = kit.found.jobs.get(m.job.job_id)
        assert job is not None
        assert read_result(kit.clients, job, "vcf") != m.contents["vcf"]


def test_a_downgrade_reversed_during_the_delay_archives_nothing(kit: Retention) -> None:
    user = "down-gus"
    made = completed_job(kit.found, user)
    request_downgrade_archive(kit.clients.sqs, kit.found.locator, user)
    kit.found.users.set_plan(user, "premium")  # subscribed again meanwhile
    time.sleep(kit.clients.settings.free_retention_seconds)
    worker = kit.worker("archive", kit.archiver)
    assert poll_until(worker, lambda: queue_counts(kit.clients, worker.queue_url) == (0, 0)) == 1
    assert archived_status(kit, made.job.job_id) == StorageStatus.AVAILABLE


def test_an_upgrade_while_archiving_asks_for_a_restore(kit: Retention) -> None:
    # GIVEN a user who subscribes while the archiver is moving their files
    user = "race-hal"
    made = completed_job(kit.found, user)
    real_freeze = kit.storage.freeze

    def freeze_then_upgrade(bucket: str, key: str) -> Frozen:
        frozen = real_freeze(bucket, key)
        kit.found.users.set_plan(user, "premium")
        return frozen

    kit.storage.freeze = freeze_then_upgrade  # type: ignore[method-assign]
    assert kit.archiver.archive(made.job.job_id) is True
    # THEN the archiver itself published a restore for the user
    restore = kit.worker("restore", kit.restorer)
    assert poll_until(restore, lambda: archived_status(kit, made.job.job_id) != "ARCHIVED") == 1
    assert archived_status(kit, made.job.job_id) == StorageStatus.RESTORING
