"""The whole Free-tier retention lifecycle, through the real queues, on both backends:
annotate → archived after the delay → upgrade → restored byte for byte, and mailed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import JobStatus, StorageStatus
from gas.core.publisher import request_restore
from gas.local.bootstrap import Stack
from gas.workers.annotator import Annotator
from gas.workers.poll import Worker
from tests.integration.retention import BACKENDS, poll_until, read_result, retention, sent_mail
from tests.integration.services import submit

pytestmark = pytest.mark.slow

LIFECYCLE_SECONDS = 60


@pytest.mark.parametrize("backend", BACKENDS)
def test_complete_archive_upgrade_restore_in_under_a_minute(
    clients: AwsClients, stack: Stack, backend: str, bundle_dir: Path, aws_endpoint: str
) -> None:
    started = time.monotonic()
    kit = retention(clients, stack, backend)
    jobs = kit.found.jobs
    address = f"{clients.settings.stack}-zoe@example.org"
    kit.found.users.set_email("zoe", address)

    # GIVEN a Free user's job, annotated for real
    job_id = submit(kit.found, "zoe")
    annotator = Annotator(
        clients,
        jobs,
        kit.found.locator,
        progress_seconds=0,
        child_env={"ANNTOOLS_BUNDLE_DIR": str(bundle_dir)},
    )
    Worker(clients.sqs, stack.queue_urls["job-requests"], annotator, wait_seconds=5).poll_once()
    job = jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.COMPLETED
    original = {kind: read_result(clients, job, kind) for kind in ("vcf", "tsv", "log")}
    assert all(isinstance(data, bytes) and data for data in original.values())

    # WHEN the retention delay passes, THEN the results are archived and gone from S3
    poll_until(
        kit.worker("archive", kit.archiver),
        lambda: (j := jobs.get(job_id)) is not None and j.storage_status == StorageStatus.ARCHIVED,
    )
    assert read_result(clients, job, "vcf") != original["vcf"]
    assert read_result(clients, job, "tsv") != original["tsv"]
    assert read_result(clients, job, "log") == original["log"]

    # WHEN the user subscribes (what the web does: record the plan, then ask for the restore)
    kit.found.users.set_plan("zoe", "premium")
    request_restore(clients.sns, kit.found.locator, "zoe")
    poll_until(
        kit.worker("restore", kit.restorer),
        lambda: (j := jobs.get(job_id)) is not None and j.storage_status != StorageStatus.ARCHIVED,
    )
    poll_until(
        kit.worker("thaw", kit.thawer),
        lambda: (j := jobs.get(job_id)) is not None and j.storage_status == StorageStatus.AVAILABLE,
    )

    # THEN the download is byte-identical, the user is told, and it all took under a minute
    assert read_result(clients, job, "vcf") == original["vcf"]
    assert read_result(clients, job, "tsv") == original["tsv"]
    [mail] = sent_mail(aws_endpoint, address)
    assert mail["subject"] == "GAS: your archived results are back"
    assert f"{clients.settings.web_url}/annotations" in mail["body"]
    assert time.monotonic() - started < LIFECYCLE_SECONDS
