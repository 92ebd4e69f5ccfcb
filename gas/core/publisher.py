"""Every message GAS sends, one function per message type (docs/architecture.md lists who
produces and who consumes each).

Producers (the submission service, the subscription service, the workers) call these
functions and never SNS or SQS directly, so each message's destination is written once.
Batches to a queue go through :func:`send_batch`, the one batched sender.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from gas.core.messages import (
    ArchiveJob,
    JobFinished,
    JobRequested,
    ThawCheck,
    UserDowngraded,
    UserUpgraded,
)
from gas.core.settings import MAX_SQS_DELAY_SECONDS
from gas.core.stack import StackLocator

SQS_BATCH = 10  # SendMessageBatch's maximum


def send_batch(sqs: Any, queue_url: str, bodies: Sequence[str], delay_seconds: int = 0) -> None:
    """Send message bodies to a queue ten at a time, each held back ``delay_seconds``
    (clamped to SQS's 0-900); raises if SQS refused any of them."""
    delay = max(0, min(MAX_SQS_DELAY_SECONDS, delay_seconds))
    for start in range(0, len(bodies), SQS_BATCH):
        entries = [
            {"Id": str(index), "MessageBody": body, "DelaySeconds": delay}
            for index, body in enumerate(bodies[start : start + SQS_BATCH])
        ]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"could not queue messages on {queue_url}: {response['Failed']}")


def request_annotation(sns: Any, locator: StackLocator, job_id: str, user_id: str) -> None:
    """``job.requested`` to the job-requests topic (the annotators' queue)."""
    message = JobRequested(job_id=job_id, user_id=user_id)
    sns.publish(TopicArn=locator.topic_arn("job-requests"), Message=message.to_json())


def announce_job_finished(
    sns: Any, locator: StackLocator, job_id: str, user_id: str, status: str
) -> None:
    """``job.completed`` or ``job.failed`` to the job-results topic (notifier, archiver)."""
    message = JobFinished(job_id, user_id, status)
    sns.publish(TopicArn=locator.topic_arn("job-results"), Message=message.to_json())


def request_restore(sns: Any, locator: StackLocator, user_id: str) -> str:
    """``user.upgraded`` (with a fresh restore id) to the restore topic, once the user is
    recorded as Premium; returns the restore's id."""
    restore_id = str(uuid.uuid4())
    sns.publish(
        TopicArn=locator.topic_arn("restore"), Message=UserUpgraded(user_id, restore_id).to_json()
    )
    return restore_id


def request_downgrade_archive(sqs: Any, locator: StackLocator, user_id: str) -> None:
    """``user.downgraded`` to the archive queue, once the user is recorded as Free.

    The queue's own delay (the Free retention) holds it; then the archiver archives the
    user's results if they are still Free.
    """
    sqs.send_message(
        QueueUrl=locator.queue_url("archive"), MessageBody=UserDowngraded(user_id).to_json()
    )


def queue_archive_jobs(sqs: Any, locator: StackLocator, user_id: str, job_ids: list[str]) -> None:
    """One ``job.archive`` per job to the archive queue, with no delay (the downgrade that
    asked for them already waited out the retention)."""
    bodies = [ArchiveJob(job_id, user_id).to_json() for job_id in job_ids]
    send_batch(sqs, locator.queue_url("archive"), bodies, delay_seconds=0)


def send_thaw_checks(
    sqs: Any, locator: StackLocator, checks: list[ThawCheck], delay_seconds: int
) -> None:
    """``thaw.check`` messages to the thaw queue, each held back ``delay_seconds``."""
    send_batch(sqs, locator.queue_url("thaw"), [check.to_json() for check in checks], delay_seconds)
