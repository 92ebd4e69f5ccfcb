"""Wiring shared by the submission and annotator tests (plain helpers, not fixtures)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from gas.core.aws import AwsClients
from gas.core.jobs import JobRepository
from gas.core.messages import unwrap
from gas.core.stack import StackLocator, locator_for
from gas.core.users import UserRepository
from gas.services.submission import SubmissionService, Upload

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FREE_SAMPLE = PROJECT_ROOT / "data" / "samples" / "free_1.vcf"


@dataclass(frozen=True)
class Services:
    clients: AwsClients
    jobs: JobRepository
    users: UserRepository
    locator: StackLocator
    submission: SubmissionService


def services(clients: AwsClients, clock: Callable[[], float] = time.time) -> Services:
    names = clients.settings.names
    jobs = JobRepository(clients.dynamodb, names.annotations_table, clock)
    users = UserRepository(clients.dynamodb, names.users_table)
    locator = locator_for(clients)
    return Services(clients, jobs, users, locator, SubmissionService(clients, jobs, users, locator))


def post_upload(upload: Upload, content: bytes, file_name: str = "input.vcf") -> int:
    """POST a file to S3 exactly as the browser's form does; returns the HTTP status."""
    response = requests.post(
        upload.url, data=upload.fields, files={"file": (file_name, content)}, timeout=30
    )
    return response.status_code


def receive_documents(
    clients: AwsClients, queue_url: str, wait_seconds: int = 2
) -> list[dict[str, Any]]:
    """Unwrapped documents of every message waiting on a queue (deleting them)."""
    documents: list[dict[str, Any]] = []
    while True:
        messages = clients.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
        ).get("Messages", [])
        if not messages:
            return documents
        for message in messages:
            documents.append(unwrap(message["Body"]))
            clients.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        wait_seconds = 0


def submit(found: Services, user_id: str, path: Path = FREE_SAMPLE) -> str:
    """Upload a file through the presigned POST and register it; returns the job_id."""
    upload = found.submission.new_upload(user_id, path.name, found.users.plan(user_id))
    assert post_upload(upload, path.read_bytes(), path.name) in (200, 201, 204)
    return found.submission.register(user_id, upload.key).job_id
