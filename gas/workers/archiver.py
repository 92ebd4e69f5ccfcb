"""The archiver: Free users' results go to cold storage after the retention delay (archive queue).

The archive queue is subscribed to job_results with ``DelaySeconds`` = the Free retention,
so a ``job.completed`` arrives here that long after the job ended. The user's plan is read
*then*: still Free, the annotated VCF and the TSV go to cold storage (gas.services.cold_storage)
and the job becomes ARCHIVED with each file's archive id and sha256; upgraded meanwhile,
nothing happens. Premium users' results are never archived. The count log and the summary
stay in the results bucket, so the job's page still shows its counts and log.

A downgrade (Premium → Free) is gas.core.publisher's ``request_downgrade_archive``: one
``user.downgraded`` to the archive queue, whose default delay holds it for the same
retention; then, if the user is still Free, the archiver expands it through the user_id
index into one ``job.archive`` message (no further delay) per completed, available job.

Idempotent: the ARCHIVED write is conditional on the job still being AVAILABLE. A duplicate
that loses the race deletes the archives it made that the job does not record; one that finds
the job ARCHIVED finishes the eviction a crashed run may have left undone. If the user
upgraded while a file was being archived, the archiver asks for a restore itself, so a
Premium user is never left with archived results.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gas.core.jobs import ARCHIVED_KINDS, Job, JobRepository, JobStatus, StorageStatus
from gas.core.messages import (
    JOB_ARCHIVE,
    JOB_COMPLETED,
    JOB_FAILED,
    USER_DOWNGRADED,
    ArchiveJob,
    JobFinished,
    MalformedMessage,
    UserDowngraded,
    unwrap,
)
from gas.core.publisher import queue_archive_jobs, request_restore
from gas.core.stack import StackLocator
from gas.core.topology import DEFAULT_VISIBILITY_SECONDS
from gas.core.users import UserRepository
from gas.services.cold_storage import ColdStorage, Frozen, cold_storage_for
from gas.workers.poll import Received
from gas.workers.runner import run_worker

log = logging.getLogger(__name__)

VISIBILITY_SECONDS = DEFAULT_VISIBILITY_SECONDS  # the archive queue's, kept while working


class Archiver:
    """Per-message handler for the archive queue."""

    def __init__(
        self,
        jobs: JobRepository,
        users: UserRepository,
        storage: ColdStorage,
        sqs: Any,
        sns: Any,
        locator: StackLocator,
    ) -> None:
        self.jobs = jobs
        self.users = users
        self.storage = storage
        self.sqs = sqs
        self.sns = sns
        self.locator = locator

    def __call__(self, message: Received) -> None:
        document = unwrap(message.body)
        kind = document.get("type")
        if kind in (JOB_COMPLETED, JOB_FAILED):
            finished = JobFinished.from_document(document)
            if finished.status == JobStatus.COMPLETED:
                self.archive(finished.job_id)
            else:
                log.info("job %s: failed jobs have nothing to archive", finished.job_id)
        elif kind == JOB_ARCHIVE:
            self.archive(ArchiveJob.from_document(document).job_id)
        elif kind == USER_DOWNGRADED:
            downgraded = UserDowngraded.from_document(document)
            with message.heartbeat(VISIBILITY_SECONDS):  # a user may have many jobs
                self.expand_downgrade(downgraded.user_id)
        else:
            raise MalformedMessage(f"the archive queue does not take {kind!r} messages")

    def archive(self, job_id: str) -> bool:
        """Archive one job's results if its owner is on the Free plan now. True if archived."""
        job = self.jobs.get(job_id)
        if job is None or job.job_status != JobStatus.COMPLETED or not job.s3_results_bucket:
            log.info("job %s: no completed job to archive", job_id)
            return False
        if job.storage_status == StorageStatus.ARCHIVED:
            log.info("job %s: already archived; making sure the hot copies are gone", job_id)
            self._evict(job)
            return False
        if job.storage_status == StorageStatus.RESTORING:
            log.info("job %s: being restored; not archiving", job_id)
            return False
        if self.users.plan(job.user_id) != "free":
            log.info("job %s: user %s is Premium; results stay", job_id, job.user_id)
            return False
        frozen = self._freeze(job)
        if frozen is None:
            return False
        if not self.jobs.mark_archived(
            job_id, {kind: (f.archive_id, f.sha256) for kind, f in frozen.items()}
        ):
            log.info("job %s: archived by another delivery meanwhile", job_id)
            self._drop_unrecorded(job_id, job, frozen)
            return False
        archived = self.jobs.get(job_id)
        if archived is not None:
            self._evict(archived)
        log.info("job %s: archived %s to %s", job_id, ", ".join(frozen), self.storage.name)
        if self.users.plan(job.user_id) == "premium":
            # Upgraded while we archived: the restorer may have looked before we wrote.
            log.info(
                "job %s: user %s upgraded meanwhile; asking for a restore", job_id, job.user_id
            )
            request_restore(self.sns, self.locator, job.user_id)
        return True

    def expand_downgrade(self, user_id: str) -> int:
        """One ``job.archive`` per completed, available job of a still-Free user; the count."""
        if self.users.plan(user_id) != "free":
            log.info("job -: user %s is Premium again; downgrade ignored", user_id)
            return 0
        job_ids = [
            job.job_id
            for job in self.jobs.iter_for_user(user_id)
            if job.job_status == JobStatus.COMPLETED
            and job.storage_status in (None, StorageStatus.AVAILABLE)
        ]
        queue_archive_jobs(self.sqs, self.locator, user_id, job_ids)
        log.info("job -: user %s downgraded; %s jobs queued for archiving", user_id, len(job_ids))
        return len(job_ids)

    def _freeze(self, job: Job) -> dict[str, Frozen] | None:
        bucket = str(job.s3_results_bucket)
        frozen: dict[str, Frozen] = {}
        try:
            for kind, key in job.archivable_files().items():
                frozen[kind] = self.storage.freeze(bucket, key)
        except Exception:
            now = self.jobs.get(job.job_id)
            if now is not None and now.storage_status not in (None, StorageStatus.AVAILABLE):
                # Another delivery archived (and evicted) it while we read: it is done.
                log.info("job %s: archived by another delivery while we froze", job.job_id)
                self._drop_unrecorded(job.job_id, job, frozen)
                return None
            raise
        return frozen

    def _drop_unrecorded(self, job_id: str, job: Job, frozen: Mapping[str, Frozen]) -> None:
        """Delete archives this delivery made that the job does not record (it lost a race)."""
        current = self.jobs.get(job_id)
        for kind, made in frozen.items():
            recorded = getattr(current, ARCHIVED_KINDS[kind].archive_id, None) if current else None
            if made.archive_id != recorded:
                key = job.archivable_files()[kind]
                self.storage.delete(str(job.s3_results_bucket), key, made.archive_id)

    def _evict(self, job: Job) -> None:
        for archived in job.archived_files():
            self.storage.evict(str(job.s3_results_bucket), archived.key, archived.archive_id)


def main() -> None:
    """Run the archiver on the archive queue until SIGTERM."""
    run_worker(
        lambda locator: locator.queue_url("archive"),
        lambda s: Archiver(
            s.jobs,
            s.users,
            cold_storage_for(s.clients, s.locator),
            s.clients.sqs,
            s.clients.sns,
            s.locator,
        ),
    )


if __name__ == "__main__":
    main()
