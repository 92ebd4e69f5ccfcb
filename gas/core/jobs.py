"""The job repository: the annotations table, written only with conditional updates.

Every state change names the state it expects (AWS Powertools' idempotency
style), so a message delivered twice, or two workers racing, cannot move a job
backwards: ``ConditionalCheckFailed`` means "someone already did this".

Claiming records the SQS MessageId that carried the claim. SQS hands a
message to a second receiver only after the first stopped extending its
visibility (crashed, killed, hung), so a RUNNING job whose ``claim_message_id``
is the message in hand has been abandoned and may be taken over; a RUNNING job
claimed through any *other* message is someone else's live work. Each claim
also gets a fresh ``claim_token``, and progress/complete/fail writes require
it, so a worker that lost its claim cannot overwrite its successor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from gas.core.aws import is_error
from gas.core.topology import JOBS_BY_USER_INDEX


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


TERMINAL = (JobStatus.COMPLETED, JobStatus.FAILED)
# Why a job failed when its worker died (or gave up) on every attempt.
GAVE_UP_REASON = "The annotation service failed repeatedly on this job; please submit it again."
RESTORE_GAVE_UP_REASON = "the files could not be brought back from cold storage"

# Attributes stored as DynamoDB numbers; every other attribute is a string.
_NUMBERS = frozenset(
    {
        "submit_time",
        "progress",
        "complete_time",
        "claimed_at",
        "attempts",
        "notified_time",
        "archive_time",
        "restored_time",
        "restore_mailed_time",
    }
)


class StorageStatus(StrEnum):
    """Where a COMPLETED job's archivable results are (docs/architecture.md, storage_status)."""

    AVAILABLE = "AVAILABLE"
    ARCHIVED = "ARCHIVED"
    RESTORING = "RESTORING"


@dataclass(frozen=True, slots=True)
class ArchiveSlots:
    """The job attributes that describe one archivable result file."""

    key: str  # attribute holding the file's key in the results bucket
    archive_id: str  # its cold-storage archive id, while ARCHIVED or RESTORING
    checksum: str  # sha256 (hex) of its bytes, recorded when it was archived
    retrieval_id: str  # the running retrieval (Glacier job id, S3 restore tier), while RESTORING


# What goes to cold storage: the annotated VCF and the TSV (the big files, and the ones the
# web hides while archived). The count log and summary.json stay, so the page keeps counts.
ARCHIVED_KINDS: dict[str, ArchiveSlots] = {
    "vcf": ArchiveSlots(
        "s3_key_result_file",
        "results_file_archive_id",
        "results_file_checksum",
        "results_file_retrieval_id",
    ),
    "tsv": ArchiveSlots(
        "s3_key_tsv_file", "tsv_file_archive_id", "tsv_file_checksum", "tsv_file_retrieval_id"
    ),
}


@dataclass(frozen=True, slots=True)
class ArchivedFile:
    """One result file of a job as cold storage holds it."""

    kind: str
    key: str
    archive_id: str
    checksum: str
    retrieval_id: str | None


@dataclass(frozen=True, slots=True)
class Job:
    """One item of the annotations table (docs/architecture.md, "Job item attributes").

    Times are whole epoch seconds (UTC); progress is a percentage, 0 to 100.
    """

    job_id: str
    user_id: str
    input_file_name: str
    s3_inputs_bucket: str
    s3_key_input_file: str
    submit_time: int
    job_status: JobStatus = JobStatus.PENDING
    progress: int = 0
    s3_results_bucket: str | None = None
    s3_key_result_file: str | None = None
    s3_key_log_file: str | None = None
    s3_key_tsv_file: str | None = None
    s3_key_summary_file: str | None = None
    complete_time: int | None = None
    failure_reason: str | None = None
    storage_status: str | None = None
    results_file_archive_id: str | None = None
    claim_message_id: str | None = None
    claim_token: str | None = None
    claimed_at: int | None = None
    attempts: int = 0
    notified_time: int | None = None
    # Retention (issue 5): see ARCHIVED_KINDS and the archiver, restorer and thawer.
    results_file_checksum: str | None = None
    results_file_retrieval_id: str | None = None
    tsv_file_archive_id: str | None = None
    tsv_file_checksum: str | None = None
    tsv_file_retrieval_id: str | None = None
    archive_time: int | None = None
    restore_id: str | None = None
    restore_failure: str | None = None  # why the last restore gave up (ARCHIVED again)
    restored_time: int | None = None
    restore_mail_message_id: str | None = None
    restore_mailed_time: int | None = None

    def archivable_files(self) -> dict[str, str]:
        """Result keys by kind of the files that go to cold storage (those this job has)."""
        keys = {kind: getattr(self, slots.key) for kind, slots in ARCHIVED_KINDS.items()}
        return {kind: key for kind, key in keys.items() if key}

    def archived_files(self) -> list[ArchivedFile]:
        """The files cold storage holds for this job (empty unless ARCHIVED or RESTORING)."""
        found = []
        for kind, slots in ARCHIVED_KINDS.items():
            key, archive_id = getattr(self, slots.key), getattr(self, slots.archive_id)
            if key and archive_id:
                found.append(
                    ArchivedFile(
                        kind,
                        key,
                        archive_id,
                        getattr(self, slots.checksum) or "",
                        getattr(self, slots.retrieval_id),
                    )
                )
        return found

    def to_item(self) -> dict[str, dict[str, str]]:
        """The DynamoDB item; absent (None) attributes are left out, never stored as null."""
        item = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                item[f.name] = _attribute(f.name, value)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Mapping[str, str]]) -> Job:
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            name: _value(name, attribute) for name, attribute in item.items() if name in known
        }
        values["job_status"] = JobStatus(values["job_status"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ResultKeys:
    """Where a finished job's four result files are, in the results bucket."""

    bucket: str
    vcf: str
    log: str
    tsv: str
    summary: str


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of :meth:`JobRepository.claim`: ``job`` is the item as it now stands."""

    claimed: bool
    job: Job | None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class JobPage:
    """One page of a user's jobs, newest first; pass ``next_key`` back for the next page."""

    jobs: list[Job]
    next_key: dict[str, Any] | None = field(default=None)


def _attribute(name: str, value: object) -> dict[str, str]:
    return {"N": str(value)} if name in _NUMBERS else {"S": str(value)}


def _value(name: str, attribute: Mapping[str, str]) -> object:
    return int(attribute["N"]) if name in _NUMBERS else attribute["S"]


class JobRepository:
    """Reads and conditionally writes job items in the ``<stack>-annotations`` table."""

    def __init__(
        self, dynamodb: Any, table_name: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = dynamodb
        self.table_name = table_name
        self._clock = clock

    def now(self) -> int:
        return int(self._clock())

    def create(self, job: Job) -> bool:
        """Write a new job; False (and nothing written) when the job_id already exists."""
        return self._conditional(
            self._db.put_item,
            Item=job.to_item(),
            ConditionExpression="attribute_not_exists(job_id)",
        )

    def get(self, job_id: str) -> Job | None:
        item = self._db.get_item(TableName=self.table_name, Key=_key(job_id), ConsistentRead=True)
        return Job.from_item(item["Item"]) if "Item" in item else None

    def claim(self, job_id: str, message_id: str, token: str) -> Claim:
        """PENDING → RUNNING for this message; also takes over a run abandoned by this message.

        A RUNNING job claimed through this same SQS message was abandoned (SQS
        redelivers only after visibility lapsed): the claim succeeds again and
        counts one more attempt. Claimed through another message, or finished,
        the claim fails and the caller reads ``Claim.job`` to see why.
        """
        claimed = self._update(
            job_id,
            "SET job_status = :running, claim_message_id = :message, claim_token = :token, "
            "claimed_at = :now, progress = :zero ADD attempts :one",
            "job_status = :pending OR (job_status = :running AND claim_message_id = :message)",
            {
                ":running": JobStatus.RUNNING,
                ":pending": JobStatus.PENDING,
                ":message": message_id,
                ":token": token,
                ":now": self.now(),
                ":zero": 0,
                ":one": 1,
            },
        )
        return Claim(claimed, self.get(job_id), token if claimed else None)

    def update_progress(self, job_id: str, token: str, percent: int) -> bool:
        """Record progress (0-100) while this claim holds; False once the claim is lost."""
        return self._update(
            job_id,
            "SET progress = :percent",
            "job_status = :running AND claim_token = :token",
            {":percent": max(0, min(100, percent)), ":running": JobStatus.RUNNING, ":token": token},
        )

    def complete(self, job_id: str, token: str, results: ResultKeys) -> bool:
        """RUNNING → COMPLETED under this claim; True also when the job was already COMPLETED."""
        changed = self._update(
            job_id,
            "SET job_status = :completed, progress = :hundred, complete_time = :now, "
            "s3_results_bucket = :bucket, s3_key_result_file = :vcf, s3_key_log_file = :log, "
            "s3_key_tsv_file = :tsv, s3_key_summary_file = :summary, "
            "storage_status = :available",
            "job_status = :running AND claim_token = :token",
            {
                ":completed": JobStatus.COMPLETED,
                ":hundred": 100,
                ":now": self.now(),
                ":bucket": results.bucket,
                ":vcf": results.vcf,
                ":log": results.log,
                ":tsv": results.tsv,
                ":summary": results.summary,
                ":available": "AVAILABLE",
                ":running": JobStatus.RUNNING,
                ":token": token,
            },
        )
        return changed or self._status_is(job_id, JobStatus.COMPLETED)

    def fail(
        self,
        job_id: str,
        token: str,
        reason: str,
        log: tuple[str, str] | None = None,
    ) -> bool:
        """RUNNING → FAILED under this claim, with a reason a user can read.

        ``log`` is (bucket, key) of an uploaded log, if any. True also when
        the job was already FAILED.
        """
        expression = "SET job_status = :failed, failure_reason = :reason, complete_time = :now"
        values: dict[str, object] = {
            ":failed": JobStatus.FAILED,
            ":reason": reason,
            ":now": self.now(),
            ":running": JobStatus.RUNNING,
            ":token": token,
        }
        if log is not None:
            expression += ", s3_results_bucket = :bucket, s3_key_log_file = :log"
            values[":bucket"], values[":log"] = log
        changed = self._update(
            job_id, expression, "job_status = :running AND claim_token = :token", values
        )
        return changed or self._status_is(job_id, JobStatus.FAILED)

    def fail_unfinished(self, job_id: str, reason: str) -> bool:
        """PENDING or RUNNING → FAILED whoever holds it: for a request that reached the
        dead-letter queue, when no worker is left to finish the job. False if it had ended."""
        return self._update(
            job_id,
            "SET job_status = :failed, failure_reason = :reason, complete_time = :now",
            "job_status IN (:pending, :running)",
            {
                ":failed": JobStatus.FAILED,
                ":reason": reason,
                ":now": self.now(),
                ":pending": JobStatus.PENDING,
                ":running": JobStatus.RUNNING,
            },
        )

    def mark_notified(self, job_id: str) -> bool:
        """Record that the user was told the job ended; False if that was already recorded."""
        return self._update(
            job_id,
            "SET notified_time = :now",
            "attribute_not_exists(notified_time)",
            {":now": self.now()},
        )

    def list_for_user(
        self, user_id: str, limit: int = 20, start_key: dict[str, Any] | None = None
    ) -> JobPage:
        """A user's jobs, newest first, through the user_id/submit_time index (never a Scan)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": JOBS_BY_USER_INDEX,
            "KeyConditionExpression": "user_id = :user",
            "ExpressionAttributeValues": {":user": {"S": user_id}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        response = self._db.query(**request)
        jobs = [Job.from_item(item) for item in response.get("Items", [])]
        return JobPage(jobs, response.get("LastEvaluatedKey"))

    def iter_for_user(self, user_id: str, page_size: int = 100) -> Iterator[Job]:
        """Every job of a user, newest first, paging through the user_id index (never a Scan)."""
        start_key: dict[str, Any] | None = None
        while True:
            page = self.list_for_user(user_id, page_size, start_key)
            yield from page.jobs
            if not page.next_key:
                return
            start_key = page.next_key

    # Retention (issue 5) ------------------------------------------------------------------

    def mark_archived(self, job_id: str, archived: Mapping[str, tuple[str, str]]) -> bool:
        """AVAILABLE → ARCHIVED for a COMPLETED job, recording (archive_id, sha256) per kind.

        False (nothing written) when the job is not COMPLETED and AVAILABLE any more:
        another archiver got there first, or a restore is under way.
        """
        sets = ["storage_status = :archived", "archive_time = :now"]
        values: dict[str, object] = {
            ":archived": StorageStatus.ARCHIVED,
            ":now": self.now(),
            ":completed": JobStatus.COMPLETED,
            ":available": StorageStatus.AVAILABLE,
        }
        for kind, (archive_id, checksum) in archived.items():
            slots = ARCHIVED_KINDS[kind]
            sets += [f"{slots.archive_id} = :a_{kind}", f"{slots.checksum} = :c_{kind}"]
            values[f":a_{kind}"], values[f":c_{kind}"] = archive_id, checksum
        removed = [slots.retrieval_id for slots in ARCHIVED_KINDS.values()]
        return self._update(
            job_id,
            f"SET {', '.join(sets)} REMOVE {', '.join(removed)}",
            "job_status = :completed AND "
            "(storage_status = :available OR attribute_not_exists(storage_status))",
            values,
        )

    def mark_restoring(self, job_id: str, restore_id: str, retrievals: Mapping[str, str]) -> bool:
        """ARCHIVED → RESTORING under ``restore_id``, recording each kind's retrieval id."""
        sets = ["storage_status = :restoring", "restore_id = :restore"]
        values: dict[str, object] = {
            ":restoring": StorageStatus.RESTORING,
            ":restore": restore_id,
            ":archived": StorageStatus.ARCHIVED,
        }
        for kind, retrieval_id in retrievals.items():
            sets.append(f"{ARCHIVED_KINDS[kind].retrieval_id} = :r_{kind}")
            values[f":r_{kind}"] = retrieval_id
        return self._update(
            job_id,
            f"SET {', '.join(sets)} "
            "REMOVE restore_mail_message_id, restore_mailed_time, restore_failure",
            "storage_status = :archived",
            values,
        )

    def mark_restore_failed(self, job_id: str, reason: str = RESTORE_GAVE_UP_REASON) -> bool:
        """RESTORING (or still ARCHIVED) → ARCHIVED with the reason, when a restore gave
        up: the page explains it and offers a retry, instead of a job left RESTORING for
        good. The archives are untouched (they are only deleted once the files are back
        and verified)."""
        return self._update(
            job_id,
            "SET storage_status = :archived, restore_failure = :reason",
            "storage_status IN (:restoring, :archived)",
            {
                ":archived": StorageStatus.ARCHIVED,
                ":restoring": StorageStatus.RESTORING,
                ":reason": reason,
            },
        )

    def set_retrieval(self, job_id: str, kind: str, retrieval_id: str) -> bool:
        """Record a new retrieval for one file of a RESTORING job (the old one failed)."""
        return self._update(
            job_id,
            f"SET {ARCHIVED_KINDS[kind].retrieval_id} = :retrieval",
            "storage_status = :restoring",
            {":retrieval": retrieval_id, ":restoring": StorageStatus.RESTORING},
        )

    def mark_available(self, job_id: str) -> bool:
        """RESTORING → AVAILABLE, clearing the archive fields (restore_id stays, for the mail)."""
        removed = [
            attribute
            for slots in ARCHIVED_KINDS.values()
            for attribute in (slots.archive_id, slots.checksum, slots.retrieval_id)
        ]
        return self._update(
            job_id,
            f"SET storage_status = :available, restored_time = :now REMOVE {', '.join(removed)}",
            "storage_status = :restoring",
            {
                ":available": StorageStatus.AVAILABLE,
                ":now": self.now(),
                ":restoring": StorageStatus.RESTORING,
            },
        )

    def claim_restore_mail(self, job_id: str, restore_id: str, message_id: str) -> bool:
        """Take the right to send a restore's mail, on the job that holds it.

        As with claims of jobs, the SQS message in hand may claim again (a redelivery
        after a failed send); any other message finds it taken. False once sent.
        """
        return self._update(
            job_id,
            "SET restore_mail_message_id = :message",
            "restore_id = :restore AND attribute_not_exists(restore_mailed_time) AND "
            "(attribute_not_exists(restore_mail_message_id) OR restore_mail_message_id = :message)",
            {":restore": restore_id, ":message": message_id},
        )

    def mark_restore_mailed(self, job_id: str, restore_id: str) -> bool:
        """Record that the restore's mail went out."""
        return self._update(
            job_id,
            "SET restore_mailed_time = :now",
            "restore_id = :restore",
            {":now": self.now(), ":restore": restore_id},
        )

    def _status_is(self, job_id: str, status: JobStatus) -> bool:
        job = self.get(job_id)
        return job is not None and job.job_status == status

    def _update(
        self, job_id: str, expression: str, condition: str, values: Mapping[str, object]
    ) -> bool:
        return self._conditional(
            self._db.update_item,
            Key=_key(job_id),
            UpdateExpression=expression,
            ConditionExpression=f"attribute_exists(job_id) AND ({condition})",
            ExpressionAttributeValues={
                name: {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
                for name, value in values.items()
            },
        )

    def _conditional(self, call: Callable[..., Any], **request: Any) -> bool:
        """Run a conditional write; False when its condition did not hold."""
        try:
            call(TableName=self.table_name, **request)
        except Exception as exc:
            if is_error(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True


def _key(job_id: str) -> dict[str, dict[str, str]]:
    return {"job_id": {"S": job_id}}
