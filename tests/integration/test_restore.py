"""Restore on upgrade: the restorer starts retrievals, the thawer puts results back, on both
backends. Retrievals are simulated where moto is too quick (S3 restores complete at once)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from gas.core.aws import AwsClients
from gas.core.jobs import StorageStatus
from gas.core.messages import ThawCheck, UserUpgraded
from gas.core.publisher import request_restore
from gas.local.bootstrap import Stack
from gas.services.cold_storage import STANDARD, ColdStorage, cold_storage
from gas.workers.thawer import Wake
from tests.integration.retention import (
    BACKENDS,
    Made,
    Retention,
    completed_job,
    poll_until,
    queue_counts,
    read_result,
    retention,
    sent_mail,
    vault_archive_count,
)

pytestmark = pytest.mark.slow


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Delegate:
    """A client wrapper: everything not overridden goes to the real client."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class NoExpeditedCapacity(Delegate):
    """Refuses Expedited retrievals as AWS does when it has no capacity; records tiers asked."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.tiers: list[str] = []

    def initiate_job(self, **request: Any) -> Any:  # Glacier vaults
        tier = request["jobParameters"]["Tier"]
        self.tiers.append(tier)
        if tier == "Expedited":
            raise _client_error("InsufficientCapacityException", "InitiateJob")
        return self.real.initiate_job(**request)

    def restore_object(self, **request: Any) -> Any:  # S3 Glacier storage class
        tier = request["RestoreRequest"]["GlacierJobParameters"]["Tier"]
        self.tiers.append(tier)
        if tier == "Expedited":
            raise _client_error("GlacierExpeditedRetrievalNotAvailable", "RestoreObject")
        return self.real.restore_object(**request)


class SlowS3Restore(Delegate):
    """S3 whose restores report ``ongoing-request="true"`` for the first ``pending`` looks."""

    def __init__(self, real: Any, pending: int) -> None:
        super().__init__(real)
        self.pending = pending

    def head_object(self, **request: Any) -> Any:
        head = self.real.head_object(**request)
        if "Restore" in head and self.pending > 0:
            self.pending -= 1
            head["Restore"] = 'ongoing-request="true"'
        return head


def _client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "simulated"}}, operation)


def storage_for(kit_clients: AwsClients, backend: str, s3: Any, glacier: Any) -> ColdStorage:
    names = kit_clients.settings.names
    topic = f"arn:aws:sns:us-east-1:123456789012:{names.topic('thaw')}"
    return cold_storage(
        backend, s3=s3, glacier=glacier, vault=names.archive_vault, thaw_topic_arn=topic
    )


def archived_jobs(kit: Retention, user: str, count: int) -> list[Made]:
    """``count`` completed jobs of a Free user, archived."""
    made = [completed_job(kit.found, user, submit_time=1000 + i) for i in range(count)]
    for m in made:
        assert kit.archiver.archive(m.job.job_id)
    return made


def upgrade(kit: Retention, user: str) -> str:
    """What the web does on subscribe: record the plan, then ask for the restore."""
    kit.found.users.set_plan(user, "premium")
    return request_restore(kit.clients.sns, kit.found.locator, user)


def statuses(kit: Retention, made: list[Made]) -> set[str | None]:
    found = [kit.found.jobs.get(m.job.job_id) for m in made]
    return {job.storage_status if job else None for job in found}


def restore_all(kit: Retention, made: list[Made], timeout: float = 40) -> None:
    """Run the restorer, then the thawer until every job is AVAILABLE again."""
    restore = kit.worker("restore", kit.restorer)
    poll_until(restore, lambda: StorageStatus.ARCHIVED not in statuses(kit, made))
    thaw = kit.worker("thaw", kit.thawer)
    poll_until(thaw, lambda: statuses(kit, made) == {StorageStatus.AVAILABLE}, timeout)


def assert_restored(kit: Retention, made: list[Made]) -> None:
    for m in made:
        job = kit.found.jobs.get(m.job.job_id)
        assert job is not None and job.storage_status == StorageStatus.AVAILABLE
        assert job.archived_files() == [] and job.results_file_archive_id is None
        assert read_result(kit.clients, job, "vcf") == m.contents["vcf"]
        assert read_result(kit.clients, job, "tsv") == m.contents["tsv"]
        head = kit.clients.s3.head_object(Bucket=job.s3_results_bucket, Key=job.s3_key_result_file)
        assert head.get("StorageClass", "STANDARD") == "STANDARD"
    if kit.storage.name == "vault":
        assert vault_archive_count(kit.clients) == 0


def test_expedited_refused_falls_back_to_standard(
    clients: AwsClients, stack: Stack, backend: str, aws_endpoint: str
) -> None:
    refusing = NoExpeditedCapacity(clients.glacier if backend == "vault" else clients.s3)
    storage = storage_for(
        clients,
        backend,
        s3=clients.s3 if backend == "vault" else refusing,
        glacier=refusing if backend == "vault" else clients.glacier,
    )
    kit = retention(clients, stack, backend, storage=storage)
    address = f"{clients.settings.stack}-ida@example.org"
    kit.found.users.set_email("ida", address)
    made = archived_jobs(kit, "ida", 1)
    upgrade(kit, "ida")
    restore_all(kit, made)
    # Expedited was asked and refused for each file, then Standard was used
    assert refusing.tiers == ["Expedited", "Standard", "Expedited", "Standard"]
    assert_restored(kit, made)
    assert len(sent_mail(aws_endpoint, address)) == 1


def test_the_standard_tier_is_recorded_as_the_retrieval(clients: AwsClients, stack: Stack) -> None:
    refusing = NoExpeditedCapacity(clients.glacier)
    storage = storage_for(clients, "vault", s3=clients.s3, glacier=refusing)
    kit = retention(clients, stack, "vault", storage=storage)
    [made] = archived_jobs(kit, "jo", 1)
    kit.found.users.set_plan("jo", "premium")
    kit.restorer.restore("jo", "r1")
    job = kit.found.jobs.get(made.job.job_id)
    assert job is not None and job.storage_status == StorageStatus.RESTORING
    for archived in job.archived_files():
        described = clients.glacier.describe_job(
            accountId="-",
            vaultName=clients.settings.names.archive_vault,
            jobId=archived.retrieval_id,
        )
        assert described["Tier"] == STANDARD


def test_duplicate_restore_and_thaw_messages_are_harmless(
    clients: AwsClients, stack: Stack, backend: str, aws_endpoint: str
) -> None:
    kit = retention(clients, stack, backend)
    address = f"{clients.settings.stack}-kim@example.org"
    kit.found.users.set_email("kim", address)
    made = archived_jobs(kit, "kim", 2)
    restore_id = upgrade(kit, "kim")
    # GIVEN the restore request delivered twice
    clients.sns.publish(
        TopicArn=stack.topic_arns["restore"], Message=UserUpgraded("kim", restore_id).to_json()
    )
    restore = kit.worker("restore", kit.restorer)
    poll_until(restore, lambda: queue_counts(clients, restore.queue_url) == (0, 0))
    # AND an extra check for each job, plus cold storage's own notices
    for m in made:
        clients.sqs.send_message(
            QueueUrl=stack.queue_urls["thaw"], MessageBody=ThawCheck(m.job.job_id).to_json()
        )
        clients.sns.publish(
            TopicArn=stack.topic_arns["thaw"],
            Message=json.dumps(
                {
                    "Action": "ArchiveRetrieval",
                    "JobDescription": m.job.job_id,
                    "StatusCode": "Succeeded",
                    "Completed": True,
                }
            ),
        )
        clients.sns.publish(
            TopicArn=stack.topic_arns["thaw"],
            Message=json.dumps(
                {
                    "Records": [
                        {
                            "eventName": "ObjectRestore:Completed",
                            "s3": {"object": {"key": m.job.s3_key_result_file}},
                        }
                    ]
                }
            ),
        )
    # WHEN every message on the thaw queue is handled
    thaw = kit.worker("thaw", kit.thawer)
    poll_until(
        thaw,
        lambda: (
            statuses(kit, made) == {StorageStatus.AVAILABLE}
            and queue_counts(clients, thaw.queue_url) == (0, 0)
        ),
    )
    # THEN each job was restored once, byte for byte, and the user got one mail
    assert_restored(kit, made)
    [mail] = sent_mail(aws_endpoint, address)
    assert "2 annotation jobs" in mail["body"]
    # AND checks arriving after the end change nothing
    for m in made:
        assert kit.thawer.check(Wake(m.job.job_id, 0, True), "late") == "done"
        assert kit.restorer.restore("kim", restore_id) == []
    assert queue_counts(clients, thaw.queue_url) == (0, 0)
    assert len(sent_mail(aws_endpoint, address)) == 1
    assert_restored(kit, made)


def test_a_check_before_the_retrieval_is_done_is_requeued_with_backoff(
    clients: AwsClients, stack: Stack, backend: str
) -> None:
    # GIVEN a retrieval that is not done at the first two checks (moto's vault job takes 2 s
    # for Expedited; moto's S3 restore is instant, so a wrapper reports it ongoing: two files
    # looked at per check)
    s3 = SlowS3Restore(clients.s3, pending=4) if backend == "s3-glacier" else clients.s3
    storage = storage_for(clients, backend, s3=s3, glacier=clients.glacier)
    kit = retention(clients, stack, backend, storage=storage, first_check_seconds=0)
    [made] = archived_jobs(kit, "lee", 1)
    kit.found.users.set_plan("lee", "premium")
    assert kit.restorer.restore("lee", "r-lee") == [made.job.job_id]
    thaw_url = stack.queue_urls["thaw"]
    [first] = clients.sqs.receive_message(QueueUrl=thaw_url, WaitTimeSeconds=2)["Messages"]
    clients.sqs.delete_message(QueueUrl=thaw_url, ReceiptHandle=first["ReceiptHandle"])
    # WHEN the first check runs at once
    assert kit.thawer.check(Wake(made.job.job_id, 0, True), "m0") == "running"
    # THEN the job is still RESTORING and the next check waits on the queue, delayed
    assert statuses(kit, [made]) == {StorageStatus.RESTORING}
    assert queue_counts(clients, thaw_url) == (0, 1)
    # AND the checks go on, each later than the last, until the bytes are back
    attempts, waited = [], []
    outcome = "running"
    while outcome == "running":
        started = time.monotonic()
        messages = clients.sqs.receive_message(QueueUrl=thaw_url, WaitTimeSeconds=10).get(
            "Messages", []
        )
        assert len(messages) == 1
        check = ThawCheck.from_document(json.loads(messages[0]["Body"]))
        clients.sqs.delete_message(QueueUrl=thaw_url, ReceiptHandle=messages[0]["ReceiptHandle"])
        attempts.append(check.attempt)
        waited.append(time.monotonic() - started)
        outcome = kit.thawer.check(Wake(check.job_id, check.attempt, True), "m")
    assert outcome == "thawed"
    assert attempts == list(range(1, len(attempts) + 1))
    # backoff: check n waited about 2^(n-1) s (backoff_seconds = 1)
    for attempt, seconds in zip(attempts, waited, strict=True):
        assert seconds >= 2 ** (attempt - 1) - 0.5
    if backend == "s3-glacier":
        assert attempts == [1, 2]
    assert_restored(kit, [made])


def test_a_restore_of_50_archived_jobs(
    clients: AwsClients, stack: Stack, backend: str, aws_endpoint: str
) -> None:
    kit = retention(clients, stack, backend)
    kit.restorer.page_size = 20  # three pages of the user_id index
    address = f"{clients.settings.stack}-max@example.org"
    kit.found.users.set_email("max", address)
    made = archived_jobs(kit, "max", 50)
    other = completed_job(kit.found, "max", submit_time=5000)  # an available one: left alone
    upgrade(kit, "max")
    restore_all(kit, made, timeout=90)
    assert_restored(kit, made)
    job = kit.found.jobs.get(other.job.job_id)
    assert job is not None and job.restore_id is None
    [mail] = sent_mail(aws_endpoint, address)
    assert "50 annotation jobs" in mail["body"]


def test_a_free_user_gets_nothing_restored(clients: AwsClients, stack: Stack) -> None:
    kit = retention(clients, stack, "s3-glacier")
    [made] = archived_jobs(kit, "ned", 1)
    assert kit.restorer.restore("ned", "r-ned") == []
    assert statuses(kit, [made]) == {StorageStatus.ARCHIVED}
