"""The thawer: a retrieval finished, so put the results back in S3 (thaw queue).

The thaw queue carries three kinds of message, all meaning "look at job X":

- ``thaw.check`` (ours): queued by the restorer with a delay, and re-queued here with
  exponential backoff (``backoff_seconds`` · 2^attempt, at most 900 s, SQS's cap) while a
  retrieval is still running. This chain alone is enough to finish every restore.
- Glacier's job-completion notice (vault backend; the job's Description is the job_id).
- S3's ``ObjectRestore:Completed`` event (s3-glacier backend, if the bucket is configured to
  send it to the thaw topic; the key holds the job_id).

The notices only make a restore finish sooner; they never re-queue, so they do not start
extra check chains. For a RESTORING job whose retrievals are all done, each archived file is
put back at its original key and read back: its sha256 must equal the one recorded at
archive time (else IntegrityError, and the message is retried, then dead-lettered, with the
archive kept). Then the archives are deleted, the job becomes AVAILABLE with its archive
fields cleared, and, when it was the last job of its restore, the user gets one mail.

Idempotent: a file already back with the right checksum is not fetched again; deleting an
archive twice is harmless; AVAILABLE is written only from RESTORING; the mail is claimed
with a conditional write (the SQS message in hand may claim again after a failed send).
A check that arrives for a job that is AVAILABLE again only re-runs the (claimed) mail step;
one for an ARCHIVED job is stale and dropped. A retrieval that failed or expired is started
again.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from gas.core.jobs import Job, JobRepository, StorageStatus
from gas.core.messages import THAW_CHECK, MalformedMessage, ThawCheck, unwrap_any
from gas.core.publisher import send_thaw_checks
from gas.core.settings import MAX_SQS_DELAY_SECONDS, Settings
from gas.core.stack import StackLocator
from gas.core.users import UserRepository
from gas.services.cold_storage import ColdStorage, RetrievalState, cold_storage_for, hot_sha256
from gas.workers.poll import Received
from gas.workers.runner import run_worker

log = logging.getLogger(__name__)

BACKOFF_SECONDS = 60
_JOB_ID_IN_KEY = re.compile(r"/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})~")
_JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class IntegrityError(RuntimeError):
    """Bytes put back from cold storage do not match the checksum recorded at archive time."""


@dataclass(frozen=True, slots=True)
class Wake:
    """One reason to look at a job: ``requeue`` is True for our own checks only."""

    job_id: str
    attempt: int
    requeue: bool


def wakes(body: str) -> list[Wake]:
    """What a thaw-queue body asks for: our check, a Glacier notice or an S3 restore event."""
    document = unwrap_any(body)
    if document.get("type") == THAW_CHECK:
        check = ThawCheck.from_document(document)
        return [Wake(check.job_id, check.attempt, True)]
    if document.get("Action") == "ArchiveRetrieval":
        description = str(document.get("JobDescription") or "")
        if not _JOB_ID.fullmatch(description):
            raise MalformedMessage("a Glacier notice without a job id as its description")
        return [Wake(description, 0, False)]
    if isinstance(document.get("Records"), list):
        found = []
        for record in document["Records"]:
            if not str(record.get("eventName", "")).startswith("ObjectRestore:Completed"):
                continue
            key = urllib.parse.unquote_plus(str(record.get("s3", {}).get("object", {}).get("key")))
            match = _JOB_ID_IN_KEY.search(key)
            if match:
                found.append(Wake(match[1], 0, False))
        return found
    if document.get("Event") == "s3:TestEvent":
        return []
    raise MalformedMessage("the thaw queue does not take this message")


def backoff_delay(attempt: int, base_seconds: int, cap_seconds: int = MAX_SQS_DELAY_SECONDS) -> int:
    """Seconds before check ``attempt + 1``: base · 2^attempt, at most ``cap_seconds``."""
    return int(min(cap_seconds, base_seconds * 2 ** min(attempt, 20)))


class Thawer:
    """Per-message handler for the thaw queue."""

    def __init__(
        self,
        jobs: JobRepository,
        users: UserRepository,
        storage: ColdStorage,
        s3: Any,
        ses: Any,
        sqs: Any,
        locator: StackLocator,
        settings: Settings,
        *,
        backoff_seconds: int = BACKOFF_SECONDS,
        max_backoff_seconds: int = MAX_SQS_DELAY_SECONDS,
    ) -> None:
        self.jobs = jobs
        self.users = users
        self.storage = storage
        self.s3 = s3
        self.ses = ses
        self.sqs = sqs
        self.locator = locator
        self.settings = settings
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds

    def __call__(self, message: Received) -> None:
        checks = wakes(message.body)
        try:
            for wake in checks:
                self.check(wake, message.message_id)
        except Exception:
            if message.is_last_attempt:  # about to be dead-lettered: say so on the job
                for wake in checks:
                    self._give_up(wake.job_id)
            raise

    def _give_up(self, job_id: str) -> None:
        try:
            if self.jobs.mark_restore_failed(job_id):
                log.error("job %s: restore gave up after its last attempt", job_id)
        except Exception:
            log.exception("job %s: could not record the failed restore", job_id)

    def check(self, wake: Wake, message_id: str) -> str:
        """Thaw the job if its retrievals are done; the outcome, for logs and tests."""
        job = self.jobs.get(wake.job_id)
        if job is None:
            log.warning("job %s: no such job to thaw", wake.job_id)
            return "unknown"
        if job.storage_status == StorageStatus.AVAILABLE:
            self._mail_if_last(job, message_id)
            return "done"
        if job.storage_status != StorageStatus.RESTORING:
            log.info("job %s: %s, not restoring; check dropped", job.job_id, job.storage_status)
            return "stale"
        bucket = str(job.s3_results_bucket)
        running = False
        for archived in job.archived_files():
            state = self.storage.retrieval_state(
                bucket, archived.key, archived.archive_id, archived.retrieval_id
            )
            if state == RetrievalState.GONE:
                retrieval = self.storage.start_retrieval(
                    bucket, archived.key, archived.archive_id, job.job_id
                )
                self.jobs.set_retrieval(job.job_id, archived.kind, retrieval)
                log.warning(
                    "job %s: retrieval of %s was gone; restarted", job.job_id, archived.kind
                )
                running = True
            elif state == RetrievalState.RUNNING:
                running = True
        if running:
            if wake.requeue:
                delay = backoff_delay(wake.attempt, self.backoff_seconds, self.max_backoff_seconds)
                send_thaw_checks(
                    self.sqs,
                    self.locator,
                    [ThawCheck(job.job_id, wake.attempt + 1)],
                    delay,
                )
                log.info(
                    "job %s: retrieval running; check %s in %s s",
                    job.job_id,
                    wake.attempt + 1,
                    delay,
                )
            return "running"
        self._thaw(job)
        if self.jobs.mark_available(job.job_id):
            log.info("job %s: restored and available", job.job_id)
        fresh = self.jobs.get(job.job_id)
        if fresh is not None:
            self._mail_if_last(fresh, message_id)
        return "thawed"

    def _thaw(self, job: Job) -> None:
        bucket = str(job.s3_results_bucket)
        files = job.archived_files()
        for archived in files:
            if hot_sha256(self.s3, bucket, archived.key) == archived.checksum:
                continue  # put back by an earlier delivery
            self.storage.thaw(bucket, archived.key, archived.archive_id, archived.retrieval_id)
            got = hot_sha256(self.s3, bucket, archived.key)
            if got != archived.checksum:
                raise IntegrityError(
                    f"job {job.job_id}: {archived.kind} came back with sha256 {got}, "
                    f"archived as {archived.checksum}; the archive is kept"
                )
            log.info("job %s: %s put back and verified", job.job_id, archived.kind)
        for archived in files:
            self.storage.delete(bucket, archived.key, archived.archive_id)

    def _mail_if_last(self, job: Job, message_id: str) -> None:
        """Mail the user once the last job of this restore is back (one mail per restore)."""
        restore_id = job.restore_id
        if not restore_id:
            return
        restored = {job.job_id}  # the index may not show this job's last write yet
        for member in self.jobs.iter_for_user(job.user_id):
            if member.job_id == job.job_id or member.restore_id != restore_id:
                continue
            if member.restore_mailed_time is not None:
                return
            if member.storage_status != StorageStatus.AVAILABLE:
                fresh = self.jobs.get(member.job_id)  # the index may lag behind the table
                if (
                    fresh is not None
                    and fresh.restore_id == restore_id
                    and fresh.storage_status != StorageStatus.AVAILABLE
                ):
                    return  # not the last one
            restored.add(member.job_id)
        holder = min(restored)
        if not self.jobs.claim_restore_mail(holder, restore_id, message_id):
            return
        address = self.users.email(job.user_id)
        if address is None:
            log.warning("job %s: user %s has no email address", job.job_id, job.user_id)
        else:
            self._send(address, len(restored))
            log.info("job %s: mailed %s: restore %s done", job.job_id, address, restore_id)
        self.jobs.mark_restore_mailed(holder, restore_id)

    def _send(self, address: str, count: int) -> None:
        plural = "" if count == 1 else "s"
        self.ses.send_email(
            Source=self.settings.mail_sender,
            Destination={"ToAddresses": [address]},
            Message={
                "Subject": {"Data": "GAS: your archived results are back", "Charset": "UTF-8"},
                "Body": {
                    "Text": {
                        "Data": (
                            f"Welcome to GAS Premium. The results of {count} annotation "
                            f"job{plural} have been restored from the archive and can be "
                            f"downloaded again.\n\n{self.settings.web_url}/annotations\n"
                        ),
                        "Charset": "UTF-8",
                    }
                },
            },
        )


def main() -> None:
    """Run the thawer on the thaw queue until SIGTERM."""
    run_worker(
        lambda locator: locator.queue_url("thaw"),
        lambda s: Thawer(
            s.jobs,
            s.users,
            cold_storage_for(s.clients, s.locator),
            s.clients.s3,
            s.clients.ses,
            s.clients.sqs,
            s.locator,
            s.settings,
        ),
    )


if __name__ == "__main__":
    main()
