"""The restorer: a user became Premium, so their archived results come back (restore queue).

On subscribe, once the Premium plan is recorded, gas.core.publisher's ``request_restore``
publishes ``user.upgraded`` (with a fresh restore_id) to the restore topic. Here, for each
of the user's jobs found through the user_id index (all pages; never a Scan) that is
ARCHIVED, a retrieval is started for each archived file (Expedited, Standard when AWS has no
Expedited capacity) and the job is marked RESTORING under that restore_id. Then one delayed
``thaw.check`` per job goes to the thaw queue: the thawer does not rely on cold storage's
completion notice alone (moto never sends one, and a lost notice would strand the restore).
The checks are sent only after every job is marked, so the thawer cannot think a restore
complete (and mail the user) while some of its jobs are still to be marked.

Idempotent: the RESTORING write is conditional on ARCHIVED; a redelivered message re-sends
the checks of the jobs this restore already marks (duplicate checks are harmless).
"""

from __future__ import annotations

import logging
from typing import Any

from gas.core.jobs import Job, JobRepository, StorageStatus
from gas.core.messages import ThawCheck, UserUpgraded, unwrap
from gas.core.publisher import send_thaw_checks
from gas.core.stack import StackLocator
from gas.core.topology import DEFAULT_VISIBILITY_SECONDS
from gas.core.users import UserRepository
from gas.services.cold_storage import ColdStorage, cold_storage_for
from gas.workers.poll import Received
from gas.workers.runner import run_worker

log = logging.getLogger(__name__)

FIRST_CHECK_SECONDS = 300  # Expedited retrievals take 1-5 minutes
VISIBILITY_SECONDS = DEFAULT_VISIBILITY_SECONDS  # the restore queue's, kept while working


class Restorer:
    """Per-message handler for the restore queue."""

    def __init__(
        self,
        jobs: JobRepository,
        users: UserRepository,
        storage: ColdStorage,
        sqs: Any,
        locator: StackLocator,
        *,
        first_check_seconds: int = FIRST_CHECK_SECONDS,
        page_size: int = 100,
    ) -> None:
        self.jobs = jobs
        self.users = users
        self.storage = storage
        self.sqs = sqs
        self.locator = locator
        self.first_check_seconds = first_check_seconds
        self.page_size = page_size

    def __call__(self, message: Received) -> None:
        upgraded = UserUpgraded.from_document(unwrap(message.body))
        try:
            # A user with many jobs may take longer than the queue's visibility timeout.
            with message.heartbeat(VISIBILITY_SECONDS):
                self.restore(upgraded.user_id, upgraded.restore_id)
        except Exception:
            if message.is_last_attempt:  # about to be dead-lettered: say so on the jobs
                self._give_up(upgraded.user_id, upgraded.restore_id)
            raise

    def _give_up(self, user_id: str, restore_id: str) -> None:
        """Mark the jobs this restore was for as ARCHIVED with the reason: those it left
        RESTORING (their thaw checks may never have been sent) and those not started."""
        try:
            for job in self.jobs.iter_for_user(user_id, self.page_size):
                ours = (
                    job.storage_status == StorageStatus.RESTORING and job.restore_id == restore_id
                )
                if (ours or job.storage_status == StorageStatus.ARCHIVED) and (
                    self.jobs.mark_restore_failed(job.job_id)
                ):
                    log.error("job %s: restore %s gave up", job.job_id, restore_id)
        except Exception:
            log.exception("job -: could not record the failed restore %s", restore_id)

    def restore(self, user_id: str, restore_id: str) -> list[str]:
        """Start retrievals for the user's archived jobs; returns the job_ids being restored."""
        if self.users.plan(user_id) != "premium":
            log.info("job -: user %s is not Premium (now); nothing restored", user_id)
            return []
        restoring = [
            job.job_id
            for job in self.jobs.iter_for_user(user_id, self.page_size)
            if self._start(job, restore_id)
        ]
        send_thaw_checks(
            self.sqs,
            self.locator,
            [ThawCheck(job_id) for job_id in restoring],
            self.first_check_seconds,
        )
        log.info(
            "job -: restore %s of user %s: %s jobs restoring", restore_id, user_id, len(restoring)
        )
        return restoring

    def _start(self, job: Job, restore_id: str) -> bool:
        """True when the job is (now) RESTORING under this restore."""
        if job.storage_status == StorageStatus.RESTORING:
            return job.restore_id == restore_id  # a redelivery: check it again
        if job.storage_status != StorageStatus.ARCHIVED:
            return False
        bucket = str(job.s3_results_bucket)
        retrievals = {
            archived.kind: self.storage.start_retrieval(
                bucket, archived.key, archived.archive_id, job.job_id
            )
            for archived in job.archived_files()
        }
        if self.jobs.mark_restoring(job.job_id, restore_id, retrievals):
            log.info("job %s: restoring (restore %s)", job.job_id, restore_id)
            return True
        current = self.jobs.get(job.job_id)
        return (
            current is not None
            and current.storage_status == StorageStatus.RESTORING
            and current.restore_id == restore_id
        )


def main() -> None:
    """Run the restorer on the restore queue until SIGTERM."""
    run_worker(
        lambda locator: locator.queue_url("restore"),
        lambda s: Restorer(
            s.jobs, s.users, cold_storage_for(s.clients, s.locator), s.clients.sqs, s.locator
        ),
    )


if __name__ == "__main__":
    main()
