"""A job whose request reached the dead-letter queue ends FAILED, and the user is told."""

from __future__ import annotations

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import GAVE_UP_REASON, JobStatus
from gas.core.messages import JobRequested
from gas.local.bootstrap import Stack
from gas.workers.dead_letters import DeadLetters
from gas.workers.poll import Worker
from tests.integration.services import Services, receive_documents, services, submit


@pytest.fixture
def found(clients: AwsClients, stack: Stack) -> Services:
    return services(clients)


def dead_letter_worker(clients: AwsClients, stack: Stack, found: Services) -> Worker:
    handler = DeadLetters(clients, found.jobs, found.locator)
    return Worker(
        clients.sqs, stack.dead_letter_queue_urls["job-requests"], handler, wait_seconds=1
    )


def test_a_stranded_running_job_is_failed_and_announced(
    clients: AwsClients, stack: Stack, found: Services
) -> None:
    # GIVEN a job left RUNNING by a worker that died on its last attempt
    job_id = submit(found, "fay")
    receive_documents(clients, stack.queue_urls["job-requests"])  # the request is gone
    found.jobs.claim(job_id, "message-1", "token-1")
    running = found.jobs.get(job_id)
    assert running is not None and running.job_status == JobStatus.RUNNING
    clients.sqs.send_message(
        QueueUrl=stack.dead_letter_queue_urls["job-requests"],
        MessageBody=JobRequested(job_id, "fay").to_json(),
    )
    # WHEN the dead-letter handler runs
    assert dead_letter_worker(clients, stack, found).poll_once() == 1
    # THEN the job is FAILED with the give-up reason and job.failed is published
    job = found.jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.FAILED
    assert job.failure_reason == GAVE_UP_REASON
    [notice] = receive_documents(clients, stack.queue_urls["job-results"])
    assert (notice["type"], notice["job_id"]) == ("job.failed", job_id)


def test_a_dead_letter_for_a_finished_job_changes_nothing(
    clients: AwsClients, stack: Stack, found: Services
) -> None:
    job_id = submit(found, "gus")
    receive_documents(clients, stack.queue_urls["job-requests"])
    assert found.jobs.fail_unfinished(job_id, "first")
    clients.sqs.send_message(
        QueueUrl=stack.dead_letter_queue_urls["job-requests"],
        MessageBody=JobRequested(job_id, "gus").to_json(),
    )
    assert dead_letter_worker(clients, stack, found).poll_once() == 1
    job = found.jobs.get(job_id)
    assert job is not None and job.failure_reason == "first"
    assert receive_documents(clients, stack.queue_urls["job-results"], wait_seconds=1) == []


def test_an_unreadable_dead_letter_is_kept(
    clients: AwsClients, stack: Stack, found: Services
) -> None:
    url = stack.dead_letter_queue_urls["job-requests"]
    clients.sqs.send_message(QueueUrl=url, MessageBody="garbage")
    assert dead_letter_worker(clients, stack, found).poll_once() == 0
    attributes = clients.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
