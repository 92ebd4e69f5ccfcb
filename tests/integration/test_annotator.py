"""The annotator end to end against the emulator, with the real anntools child process."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from anntools.output import RESULT_SUFFIXES
from gas.core.aws import AwsClients
from gas.core.jobs import GAVE_UP_REASON, JobStatus
from gas.local.bootstrap import Stack
from gas.workers.annotator import INPUT_GONE_REASON, Annotator, AnnotatorCrashed
from gas.workers.poll import Received, Worker
from tests.integration.services import (
    FREE_SAMPLE,
    Services,
    post_upload,
    receive_documents,
    services,
    submit,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def found(clients: AwsClients, stack: Stack) -> Services:
    return services(clients)


@pytest.fixture
def annotator(clients: AwsClients, found: Services, bundle_dir: Path) -> Annotator:
    return Annotator(
        clients,
        found.jobs,
        found.locator,
        progress_seconds=0,
        child_env={"ANNTOOLS_BUNDLE_DIR": str(bundle_dir)},
    )


def _worker(clients: AwsClients, stack: Stack, annotator: Annotator) -> Worker:
    return Worker(clients.sqs, stack.queue_urls["job-requests"], annotator, wait_seconds=5)


def _receive(clients: AwsClients, stack: Stack) -> Received:
    """Receive the next job request without handling it, as the poll loop would."""
    worker = Worker(clients.sqs, stack.queue_urls["job-requests"], lambda _: None, wait_seconds=5)
    [message] = worker.receive()
    return message


def _result_keys(clients: AwsClients) -> set[str]:
    listed = clients.s3.list_objects_v2(Bucket=clients.settings.names.results_bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def test_a_job_runs_to_completion(
    clients: AwsClients, stack: Stack, found: Services, annotator: Annotator
) -> None:
    # GIVEN a registered job
    job_id = submit(found, "alice")
    # WHEN the annotator's loop handles the request
    assert _worker(clients, stack, annotator).poll_once() == 1
    # THEN the job is COMPLETED with its four results stored and announced
    job = found.jobs.get(job_id)
    assert job is not None
    assert job.job_status == JobStatus.COMPLETED
    assert job.progress == 100
    assert job.complete_time is not None and job.complete_time >= job.submit_time
    prefix = f"alice/{job_id}~free_1"
    expected = {prefix + suffix for suffix in RESULT_SUFFIXES.values()}
    assert _result_keys(clients) == expected
    assert job.s3_key_result_file == prefix + ".annot.vcf"
    assert job.s3_key_log_file == prefix + ".vcf.count.log"
    assert job.s3_key_tsv_file == prefix + ".annot.tsv"
    assert job.s3_key_summary_file == prefix + ".summary.json"
    assert job.s3_results_bucket == clients.settings.names.results_bucket
    # AND no result names the worker's temporary folders
    for key in expected:
        body = clients.s3.get_object(Bucket=job.s3_results_bucket, Key=key)["Body"].read()
        assert b"gas-annotate-" not in body and tempfile.gettempdir().encode() not in body, key
    [notice] = receive_documents(clients, stack.queue_urls["job-results"])
    assert notice == {
        "type": "job.completed",
        "version": 1,
        "job_id": job_id,
        "user_id": "alice",
        "status": "COMPLETED",
    }
    # and the request was deleted
    assert receive_documents(clients, stack.queue_urls["job-requests"], wait_seconds=0) == []


def test_duplicate_requests_run_the_job_once(
    clients: AwsClients, stack: Stack, found: Services, annotator: Annotator
) -> None:
    # GIVEN a job registered twice: two job.requested messages
    upload = found.submission.new_upload("alice", "free_1.vcf", "free")
    post_upload(upload, FREE_SAMPLE.read_bytes())
    found.submission.register("alice", upload.key)
    found.submission.register("alice", upload.key)
    worker = _worker(clients, stack, annotator)
    # WHEN both are handled
    assert worker.poll_once() + worker.poll_once() == 2
    # THEN the job ran once and was announced once
    job = found.jobs.get(upload.job_id)
    assert job is not None and job.job_status == JobStatus.COMPLETED
    assert job.attempts == 1
    assert len(receive_documents(clients, stack.queue_urls["job-results"])) == 1


def test_a_redelivered_message_does_not_run_the_job_again(
    clients: AwsClients, stack: Stack, found: Services, annotator: Annotator
) -> None:
    # GIVEN a job completed by a message whose delete never happened
    job_id = submit(found, "alice")
    message = _receive(clients, stack)
    annotator(message)
    finished = found.jobs.get(job_id)
    receive_documents(clients, stack.queue_urls["job-results"])
    # WHEN SQS delivers the same message again
    annotator(message)
    # THEN nothing ran again, but the outcome is announced again (it may have been lost)
    assert found.jobs.get(job_id) == finished
    [notice] = receive_documents(clients, stack.queue_urls["job-results"])
    assert notice["type"] == "job.completed"


def test_a_job_abandoned_by_a_killed_worker_is_taken_over(
    clients: AwsClients, stack: Stack, found: Services, annotator: Annotator
) -> None:
    # GIVEN a worker that claimed the job with this message, then died (kill -9)
    job_id = submit(found, "alice")
    message = _receive(clients, stack)
    assert found.jobs.claim(job_id, message.message_id, "dead-worker").claimed
    # WHEN a duplicate request (another message) arrives, the live-looking claim is respected
    duplicate = replace(message, message_id="another-message")
    annotator(duplicate)
    running = found.jobs.get(job_id)
    assert running is not None and running.job_status == JobStatus.RUNNING
    # WHEN SQS redelivers the dead worker's own message after its visibility lapsed
    annotator(message)
    # THEN the job is taken over and completes; the dead worker's token is void
    job = found.jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.COMPLETED
    assert job.attempts == 2
    assert not found.jobs.update_progress(job_id, "dead-worker", 50)


def test_bad_input_fails_the_job_with_a_readable_reason(
    clients: AwsClients, stack: Stack, found: Services, annotator: Annotator, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.vcf"
    bad.write_text("this is not a VCF\n")
    job_id = submit(found, "alice", bad)
    assert _worker(clients, stack, annotator).poll_once() == 1
    job = found.jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.FAILED
    assert job.failure_reason is not None
    assert job.failure_reason.startswith("broken.vcf: line 1: not a VCF file")
    [notice] = receive_documents(clients, stack.queue_urls["job-results"])
    assert (notice["type"], notice["status"]) == ("job.failed", "FAILED")


def test_a_missing_input_fails_on_the_first_receive(
    clients: AwsClients, stack: Stack, found: Services, annotator: Annotator
) -> None:
    # GIVEN a job whose input vanished
    job_id = submit(found, "alice")
    job = found.jobs.get(job_id)
    assert job is not None
    clients.s3.delete_object(Bucket=job.s3_inputs_bucket, Key=job.s3_key_input_file)
    # WHEN the first receive handles it
    annotator(_receive(clients, stack))
    # THEN it is FAILED at once with the reason, not retried for three visibility timeouts
    failed = found.jobs.get(job_id)
    assert failed is not None and failed.job_status == JobStatus.FAILED
    assert failed.failure_reason == INPUT_GONE_REASON
    [notice] = receive_documents(clients, stack.queue_urls["job-results"])
    assert notice["status"] == "FAILED"


def test_last_attempt_marks_the_job_failed_before_giving_up(
    clients: AwsClients, stack: Stack, found: Services
) -> None:
    # GIVEN a job whose anntools child cannot even start (a broken interpreter)
    job_id = submit(found, "alice")
    broken = Annotator(clients, found.jobs, found.locator, child_env={"PYTHONHOME": "/nonexistent"})
    first = _receive(clients, stack)
    # WHEN an early attempt fails, the job stays RUNNING for a retry
    with pytest.raises(AnnotatorCrashed):
        broken(first)
    retrying = found.jobs.get(job_id)
    assert retrying is not None and retrying.job_status == JobStatus.RUNNING
    # WHEN the last attempt fails too
    last = replace(first, receive_count=3)
    with pytest.raises(AnnotatorCrashed):
        broken(last)
    # THEN the user sees FAILED with a reason, and the message is left for the DLQ
    failed = found.jobs.get(job_id)
    assert failed is not None and failed.job_status == JobStatus.FAILED
    assert failed.failure_reason == GAVE_UP_REASON
    [notice] = receive_documents(clients, stack.queue_urls["job-results"])
    assert notice["status"] == "FAILED"


def test_a_poison_message_is_kept_and_reaches_the_dead_letter_queue(
    clients: AwsClients, stack: Stack, found: Services, annotator: Annotator
) -> None:
    queue_url = stack.queue_urls["job-requests"]
    clients.sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"VisibilityTimeout": "1"})
    clients.sqs.send_message(QueueUrl=queue_url, MessageBody="this is not JSON")
    worker = Worker(clients.sqs, queue_url, annotator, wait_seconds=1)
    deadline = time.monotonic() + 20
    dead: list[dict[str, str]] = []
    while not dead and time.monotonic() < deadline:
        assert worker.poll_once() == 0  # never deleted
        dead = clients.sqs.receive_message(
            QueueUrl=stack.dead_letter_queue_urls["job-requests"],
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        ).get("Messages", [])
    [message] = dead
    assert message["Body"] == "this is not JSON"
    assert uuid.UUID(message["MessageId"])


def test_the_module_entry_point_runs_the_loop(
    clients: AwsClients, stack: Stack, found: Services, bundle_dir: Path, tmp_path: Path
) -> None:
    # GIVEN `python -m gas.workers.annotator` running for this stack, configured by environment
    env = {
        **os.environ,
        "GAS_STACK": clients.settings.stack,
        "ANNTOOLS_BUNDLE_DIR": str(bundle_dir),
    }
    log_path = tmp_path / "annotator.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gas.workers.annotator"],
            env=env,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            # WHEN a job is submitted
            job_id = submit(found, "alice")
            # THEN the running service completes it
            deadline = time.monotonic() + 30
            job = found.jobs.get(job_id)
            while job and job.job_status != JobStatus.COMPLETED and time.monotonic() < deadline:
                time.sleep(0.2)
                job = found.jobs.get(job_id)
        finally:
            process.kill()  # the SIGTERM path is covered without a 20 s long poll to wait out
            process.wait(timeout=10)
    assert job is not None and job.job_status == JobStatus.COMPLETED, log_path.read_text()
    assert f"job {job_id}: completed" in log_path.read_text()
