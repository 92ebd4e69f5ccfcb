"""The dead-letter handler: a job request that failed three times must not leave its job
PENDING or RUNNING forever (a worker killed on every attempt never gets to mark it).

It reads job-requests' dead-letter queue, marks each such job FAILED, announces
that on job-results (so the user is told), and deletes the message. A body it
cannot read is kept for a person, hidden for hours so it is not re-read in a loop.
"""

from __future__ import annotations

import logging

from gas.core.aws import AwsClients
from gas.core.jobs import GAVE_UP_REASON, JobRepository, JobStatus
from gas.core.messages import JobRequested, MalformedMessage, unwrap
from gas.core.publisher import announce_job_finished
from gas.core.stack import StackLocator
from gas.workers.poll import Received
from gas.workers.runner import run_worker

log = logging.getLogger(__name__)

UNREADABLE_HIDE_SECONDS = 12 * 3600  # SQS's maximum visibility timeout


class DeadLetters:
    """Per-message handler for job-requests' dead-letter queue."""

    def __init__(self, clients: AwsClients, jobs: JobRepository, locator: StackLocator) -> None:
        self.sns = clients.sns
        self.jobs = jobs
        self.locator = locator

    def __call__(self, message: Received) -> None:
        try:
            request = JobRequested.from_document(unwrap(message.body))
        except MalformedMessage as exc:
            log.error("job -: unreadable dead letter %s kept: %s", message.message_id, exc)
            message.set_visibility(UNREADABLE_HIDE_SECONDS)
            raise
        if self.jobs.fail_unfinished(request.job_id, GAVE_UP_REASON):
            log.error("job %s: request dead-lettered; job marked FAILED", request.job_id)
            announce_job_finished(
                self.sns, self.locator, request.job_id, request.user_id, JobStatus.FAILED
            )
        else:
            log.info("job %s: dead-lettered request for a job that had ended", request.job_id)


def main() -> None:
    """Run the dead-letter handler until SIGTERM."""
    run_worker(
        lambda locator: locator.dead_letter_queue_url("job-requests"),
        lambda s: DeadLetters(s.clients, s.jobs, s.locator),
    )


if __name__ == "__main__":
    main()
