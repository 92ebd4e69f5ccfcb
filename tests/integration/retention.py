"""Wiring shared by the archive and restore tests (plain helpers, not fixtures)."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gas.core.aws import AwsClients
from gas.core.jobs import Job, JobStatus, StorageStatus
from gas.core.keys import new_input_key, result_key_names
from gas.core.messages import JobFinished
from gas.local.bootstrap import Stack
from gas.services.cold_storage import ColdStorage, cold_storage_for
from gas.workers.archiver import Archiver
from gas.workers.poll import Worker
from gas.workers.restorer import Restorer
from gas.workers.thawer import Thawer
from tests.integration.services import Services, services

BACKENDS = ("s3-glacier", "vault")


@dataclass
class Retention:
    """The three retention handlers of one stack, on one cold-storage backend."""

    clients: AwsClients
    stack: Stack
    found: Services
    storage: ColdStorage
    archiver: Archiver
    restorer: Restorer
    thawer: Thawer

    def worker(self, queue: str, handler: Callable[..., None], wait_seconds: int = 1) -> Worker:
        return Worker(
            self.clients.sqs,
            self.stack.queue_urls[queue],
            handler,
            wait_seconds=wait_seconds,
            max_messages=10,
        )


def retention(
    clients: AwsClients,
    stack: Stack,
    backend: str,
    *,
    storage: ColdStorage | None = None,
    first_check_seconds: int = 1,
    backoff_seconds: int = 1,
) -> Retention:
    found = services(clients)
    storage = storage or cold_storage_for(clients, found.locator, backend)
    archiver = Archiver(found.jobs, found.users, storage, clients.sqs, clients.sns, found.locator)
    restorer = Restorer(
        found.jobs,
        found.users,
        storage,
        clients.sqs,
        found.locator,
        first_check_seconds=first_check_seconds,
    )
    thawer = Thawer(
        found.jobs,
        found.users,
        storage,
        clients.s3,
        clients.ses,
        clients.sqs,
        found.locator,
        clients.settings,
        backoff_seconds=backoff_seconds,
    )
    return Retention(clients, stack, found, storage, archiver, restorer, thawer)


@dataclass(frozen=True)
class Made:
    """A completed job made directly (no annotator) and the bytes of its four results."""

    job: Job
    contents: dict[str, bytes]


def completed_job(found: Services, user_id: str, submit_time: int | None = None) -> Made:
    """A COMPLETED, AVAILABLE job with four small results of unique content in S3."""
    names = found.clients.settings.names
    input_key = new_input_key(user_id, "sample.vcf")
    keys = result_key_names(input_key)
    tag = uuid.uuid4().hex
    contents = {
        "vcf": f"##fileformat=VCFv4.2\n##gas={tag}\n#CHROM\tPOS\n1\t100\n".encode(),
        "tsv": f"CHROM\tPOS\tTAG\n1\t100\t{tag}\n".encode(),
        "log": b"variants\t1\n",
        "summary": json.dumps({"variants": 1, "tag": tag}).encode(),
    }
    for kind, key in keys.items():
        found.clients.s3.put_object(Bucket=names.results_bucket, Key=key, Body=contents[kind])
    now = int(time.time())
    job = Job(
        job_id=input_key.job_id,
        user_id=user_id,
        input_file_name=input_key.file_name,
        s3_inputs_bucket=names.inputs_bucket,
        s3_key_input_file=input_key.key,
        submit_time=submit_time if submit_time is not None else now,
        job_status=JobStatus.COMPLETED,
        progress=100,
        s3_results_bucket=names.results_bucket,
        s3_key_result_file=keys["vcf"],
        s3_key_log_file=keys["log"],
        s3_key_tsv_file=keys["tsv"],
        s3_key_summary_file=keys["summary"],
        complete_time=now,
        storage_status=StorageStatus.AVAILABLE,
    )
    assert found.jobs.create(job)
    return Made(job, contents)


def announce_completed(clients: AwsClients, stack: Stack, job: Job) -> None:
    """Publish job.completed to job_results, as the annotator does."""
    clients.sns.publish(
        TopicArn=stack.topic_arns["job-results"],
        Message=JobFinished(job.job_id, job.user_id, "COMPLETED").to_json(),
    )


def read_result(clients: AwsClients, job: Job, kind: str) -> bytes | str:
    """The bytes at a result key, or the S3 error code that refused them."""
    key = {
        "vcf": job.s3_key_result_file,
        "tsv": job.s3_key_tsv_file,
        "log": job.s3_key_log_file,
        "summary": job.s3_key_summary_file,
    }[kind]
    try:
        body = clients.s3.get_object(Bucket=job.s3_results_bucket, Key=key)["Body"]
    except Exception as exc:
        return str(getattr(exc, "response", {}).get("Error", {}).get("Code"))
    return bytes(body.read())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def vault_archive_count(clients: AwsClients) -> int:
    vault = clients.glacier.describe_vault(
        accountId="-", vaultName=clients.settings.names.archive_vault
    )
    return int(vault["NumberOfArchives"])


def sent_mail(aws_endpoint: str, to: str) -> list[dict[str, Any]]:
    """Mails the emulator's SES has accepted for one address (moto's data API)."""
    with urllib.request.urlopen(f"{aws_endpoint}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    messages = data.get("ses", {}).get("Message", [])
    return [m for m in messages if to in m.get("destinations", {}).get("ToAddresses", [])]


def poll_until(worker: Worker, done: Callable[[], bool], timeout: float = 30.0) -> int:
    """Poll a queue until ``done()``; returns how many messages were handled."""
    handled = 0
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s")
        handled += worker.poll_once()
    return handled


def queue_counts(clients: AwsClients, url: str) -> tuple[int, int]:
    """(visible, delayed) messages on a queue."""
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesDelayed"]),
    )
