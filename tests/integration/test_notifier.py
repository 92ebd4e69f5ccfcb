"""The notifier mails the user when a job ends; tests read the mail back from the emulator."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gas.core.aws import AwsClients
from gas.local.bootstrap import Stack
from gas.workers.annotator import Annotator
from gas.workers.notifier import Notifier
from gas.workers.poll import Worker
from tests.integration.services import Services, services, submit

pytestmark = pytest.mark.slow


@pytest.fixture
def found(clients: AwsClients, stack: Stack) -> Services:
    return services(clients)


def sent_mail(aws_endpoint: str, to: str) -> list[dict[str, Any]]:
    """Mails the emulator's SES has accepted for one address (moto's data API)."""
    with urllib.request.urlopen(f"{aws_endpoint}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    messages = data.get("ses", {}).get("Message", [])
    return [m for m in messages if to in m.get("destinations", {}).get("ToAddresses", [])]


def run_job_and_notify(
    clients: AwsClients, stack: Stack, found: Services, bundle_dir: Path, user: str, path: Path
) -> tuple[str, Notifier]:
    job_id = submit(found, user, path)
    annotator = Annotator(
        clients,
        found.jobs,
        found.locator,
        progress_seconds=0,
        child_env={"ANNTOOLS_BUNDLE_DIR": str(bundle_dir)},
    )
    Worker(clients.sqs, stack.queue_urls["job-requests"], annotator, wait_seconds=5).poll_once()
    notifier = Notifier(clients.ses, found.jobs, found.users, clients.settings)
    worker = Worker(clients.sqs, stack.queue_urls["job-results"], notifier, wait_seconds=5)
    assert worker.poll_once() == 1
    return job_id, notifier


def test_a_completed_job_is_mailed_with_a_link(
    clients: AwsClients,
    stack: Stack,
    found: Services,
    bundle_dir: Path,
    aws_endpoint: str,
    tmp_path: Path,
) -> None:
    address = f"{clients.settings.stack}-ann@example.org"
    found.users.set_email("ann", address)
    sample = Path(__file__).resolve().parents[2] / "data" / "samples" / "free_1.vcf"
    job_id, _ = run_job_and_notify(clients, stack, found, bundle_dir, "ann", sample)
    [mail] = sent_mail(aws_endpoint, address)
    assert mail["subject"] == "GAS: free_1.vcf is annotated"
    assert mail["source"] == clients.settings.mail_sender
    assert f"{clients.settings.web_url}/annotations/{job_id}" in mail["body"]
    job = found.jobs.get(job_id)
    assert job is not None and job.notified_time is not None


def test_a_failed_job_is_mailed_with_its_reason_and_only_once(
    clients: AwsClients,
    stack: Stack,
    found: Services,
    bundle_dir: Path,
    aws_endpoint: str,
    tmp_path: Path,
) -> None:
    address = f"{clients.settings.stack}-bob@example.org"
    found.users.set_email("bob", address)
    broken = tmp_path / "broken.vcf"
    broken.write_text("not a vcf\n")
    job_id, notifier = run_job_and_notify(clients, stack, found, bundle_dir, "bob", broken)
    # a redelivered notice changes nothing
    clients.sns.publish(
        TopicArn=stack.topic_arns["job-results"],
        Message=json.dumps(
            {
                "type": "job.failed",
                "version": 1,
                "job_id": job_id,
                "user_id": "bob",
                "status": "FAILED",
            }
        ),
    )
    Worker(clients.sqs, stack.queue_urls["job-results"], notifier, wait_seconds=5).poll_once()
    [mail] = sent_mail(aws_endpoint, address)
    assert mail["subject"] == "GAS: broken.vcf could not be annotated"
    assert "Reason: broken.vcf: line 1: not a VCF file" in mail["body"]


def test_a_user_without_an_address_is_skipped(
    clients: AwsClients, stack: Stack, found: Services, bundle_dir: Path, aws_endpoint: str
) -> None:
    sample = Path(__file__).resolve().parents[2] / "data" / "samples" / "test.vcf"
    job_id, _ = run_job_and_notify(clients, stack, found, bundle_dir, "nomail", sample)
    job = found.jobs.get(job_id)
    assert job is not None and job.notified_time is not None
