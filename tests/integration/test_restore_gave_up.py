"""A restore whose thaw checks fail to the end leaves the job ARCHIVED with the reason, and
the page explains it and offers a retry, instead of showing RESTORING for good."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import RESTORE_GAVE_UP_REASON, StorageStatus
from gas.core.messages import ThawCheck, UserUpgraded
from gas.local.bootstrap import Stack
from gas.services.cold_storage import ColdStorage
from gas.web.app import GasBottle
from gas.workers.poll import Received
from tests.integration.retention import completed_job, retention
from tests.integration.services import receive_documents
from tests.integration.web_helpers import AuthActions, TestApp

pytest_plugins = ["tests.integration.web_fixtures"]


class Unreachable:
    """Cold storage that cannot be asked about a retrieval (an outage, a lost vault)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def retrieval_state(self, *_args: object) -> None:
        raise RuntimeError("cold storage does not answer")


def test_a_restore_that_gives_up_is_explained_with_a_retry(
    clients: AwsClients, stack: Stack, app: GasBottle, client: TestApp, auth: AuthActions
) -> None:
    # GIVEN a Premium user's job being restored from cold storage
    auth.register()
    account = app.gas.users.account_by_email("alice@example.com")
    assert account is not None
    app.gas.users.set_plan(account.user_id, "premium")
    kit = retention(clients, stack, "s3-glacier")
    kit.thawer.storage = cast(ColdStorage, Unreachable(kit.storage))
    job = completed_job(kit.found, account.user_id).job
    archived = {kind: (f"archive-{kind}", "0" * 64) for kind in ("vcf", "tsv")}
    assert kit.found.jobs.mark_archived(job.job_id, archived)
    assert kit.found.jobs.mark_restoring(job.job_id, str(uuid.uuid4()), {"vcf": "r1", "tsv": "r2"})
    # WHEN its thaw check fails on every receive, the last one included
    body = ThawCheck(job.job_id, 1).to_json()
    for receive_count in (1, 2, 3):
        message = Received(body, "m-1", "r-1", receive_count, "queue", clients.sqs)
        with pytest.raises(RuntimeError, match="does not answer"):
            kit.thawer(message)
        restoring = kit.found.jobs.get(job.job_id)
        assert restoring is not None
        if receive_count < 3:
            assert restoring.storage_status == StorageStatus.RESTORING
    # THEN the job is ARCHIVED again with the reason, and the page says so with a retry
    failed = kit.found.jobs.get(job.job_id)
    assert failed is not None and failed.storage_status == StorageStatus.ARCHIVED
    assert failed.restore_failure == RESTORE_GAVE_UP_REASON
    page = client.get(f"/annotations/{job.job_id}")
    assert "Restoring the annotated VCF and TSV failed" in page.text
    receive_documents(clients, stack.queue_urls["restore"])
    # WHEN the user retries, THEN a new restore is asked for
    retried = page.forms["restore-retry-form"].submit().follow()
    assert "asked for again" in retried.text
    [request] = receive_documents(clients, stack.queue_urls["restore"])
    assert (request["type"], request["user_id"]) == ("user.upgraded", account.user_id)


class Refusing:
    """Cold storage that refuses every retrieval."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def start_retrieval(self, *_args: object) -> str:
        raise RuntimeError("retrievals are refused")


def test_a_restore_request_that_gives_up_marks_its_jobs(clients: AwsClients, stack: Stack) -> None:
    # GIVEN a Premium user with an archived job, and cold storage refusing retrievals
    kit = retention(clients, stack, "s3-glacier")
    kit.restorer.storage = cast(ColdStorage, Refusing(kit.storage))
    kit.found.users.set_plan("carol", "premium")
    job = completed_job(kit.found, "carol").job
    archived = {kind: (f"archive-{kind}", "0" * 64) for kind in ("vcf", "tsv")}
    assert kit.found.jobs.mark_archived(job.job_id, archived)
    body = UserUpgraded("carol", str(uuid.uuid4())).to_json()
    # WHEN the restore request fails on its last receive
    for receive_count in (1, 3):
        with pytest.raises(RuntimeError, match="refused"):
            kit.restorer(Received(body, "m-2", "r-2", receive_count, "queue", clients.sqs))
    # THEN the job says the restore gave up (the page then offers a retry)
    failed = kit.found.jobs.get(job.job_id)
    assert failed is not None and failed.storage_status == StorageStatus.ARCHIVED
    assert failed.restore_failure == RESTORE_GAVE_UP_REASON
