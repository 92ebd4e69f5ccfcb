"""The notifier: tells a user by email that their job ended (job-results queue).

Idempotent enough for at-least-once delivery: a job already marked notified
is skipped. The mark is written after the mail is sent, so a crash between
the two can send one duplicate, never lose the mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gas.core.jobs import Job, JobRepository, JobStatus
from gas.core.messages import JobFinished, MalformedMessage, unwrap
from gas.core.settings import Settings
from gas.core.users import UserRepository
from gas.workers.poll import Received
from gas.workers.runner import run_worker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    text: str


def job_mail(job: Job, web_url: str) -> Mail:
    """The message for a finished job: its file, status, why it failed, and a link."""
    link = f"{web_url}/annotations/{job.job_id}"
    if job.job_status == JobStatus.COMPLETED:
        return Mail(
            subject=f"GAS: {job.input_file_name} is annotated",
            text=(
                f"Your annotation of {job.input_file_name} is complete.\n\n"
                f"Status: COMPLETED\nRequest: {job.job_id}\n\n"
                f"See the results and download them: {link}\n"
            ),
        )
    return Mail(
        subject=f"GAS: {job.input_file_name} could not be annotated",
        text=(
            f"Your annotation of {job.input_file_name} failed.\n\n"
            f"Status: FAILED\nReason: {job.failure_reason or 'unknown'}\n"
            f"Request: {job.job_id}\n\nDetails: {link}\n"
        ),
    )


class Notifier:
    """Per-message handler for the job-results queue."""

    def __init__(self, ses: Any, jobs: JobRepository, users: UserRepository, settings: Settings):
        self.ses = ses
        self.jobs = jobs
        self.users = users
        self.settings = settings

    def __call__(self, message: Received) -> None:
        try:
            finished = JobFinished.from_document(unwrap(message.body))
        except MalformedMessage:
            raise  # left for redelivery, then the DLQ: a person should look at it
        job = self.jobs.get(finished.job_id)
        if job is None or job.job_status not in (JobStatus.COMPLETED, JobStatus.FAILED):
            log.warning("job %s: no finished job to tell anyone about", finished.job_id)
            return
        if job.notified_time is not None:
            log.info("job %s: user already notified", job.job_id)
            return
        address = self.users.email(job.user_id)
        if address is None:
            log.warning("job %s: user %s has no email address", job.job_id, job.user_id)
        else:
            self._send(address, job_mail(job, self.settings.web_url))
            log.info("job %s: mailed %s (%s)", job.job_id, address, job.job_status)
        self.jobs.mark_notified(job.job_id)

    def _send(self, address: str, mail: Mail) -> None:
        self.ses.send_email(
            Source=self.settings.mail_sender,
            Destination={"ToAddresses": [address]},
            Message={
                "Subject": {"Data": mail.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": mail.text, "Charset": "UTF-8"}},
            },
        )


def main() -> None:
    """Run the notifier on the job-results queue until SIGTERM."""
    run_worker(
        lambda locator: locator.queue_url("job-results"),
        lambda s: Notifier(s.clients.ses, s.jobs, s.users, s.settings),
    )


if __name__ == "__main__":
    main()
