"""The messages that cross processes: small JSON documents with a ``type`` and a ``version``.

SNS delivers to SQS inside an envelope (``{"Type": "Notification", "Message": "..."}``)
unless the subscription uses raw delivery; :func:`unwrap` is the one place that
tells the two apart, so handlers never see an envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JOB_REQUESTED = "job.requested"
JOB_COMPLETED = "job.completed"
JOB_FAILED = "job.failed"


class MalformedMessage(ValueError):
    """A message body that is not one of ours: bad JSON, no type/version, missing fields."""


def unwrap(sqs_body: str) -> dict[str, Any]:
    """The message document inside an SQS body, whether SNS wrapped it or delivered it raw."""
    document = _json_object(sqs_body, "SQS body")
    if document.get("Type") == "Notification" and "Message" in document:
        document = _json_object(document["Message"], "SNS message")
    if not isinstance(document.get("type"), str) or not isinstance(document.get("version"), int):
        raise MalformedMessage("message has no string 'type' and integer 'version'")
    return document


def peek_job_id(sqs_body: str) -> str | None:
    """The job_id of a body if it has one, for log lines; never raises."""
    try:
        job_id = unwrap(sqs_body).get("job_id")
    except MalformedMessage:
        return None
    return job_id if isinstance(job_id, str) else None


def _json_object(text: object, what: str) -> dict[str, Any]:
    if not isinstance(text, str):
        raise MalformedMessage(f"{what} is not text")
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise MalformedMessage(f"{what} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedMessage(f"{what} is not a JSON object")
    return document


def _string_fields(document: dict[str, Any], *names: str) -> list[str]:
    values = [document.get(name) for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing or not all(isinstance(value, str) for value in values):
        raise MalformedMessage(
            f"{document.get('type')} message needs string fields {', '.join(names)}"
        )
    return [str(value) for value in values]


def _check_type(document: dict[str, Any], types: tuple[str, ...], version: int) -> None:
    if document.get("type") not in types:
        raise MalformedMessage(
            f"expected a {' or '.join(types)} message, not {document.get('type')!r}"
        )
    if document.get("version") != version:
        raise MalformedMessage(
            f"{document['type']} version {document.get('version')!r} is not supported "
            f"(this code reads version {version})"
        )


@dataclass(frozen=True, slots=True)
class JobRequested:
    """A job was registered and waits for an annotator (``job.requested`` v1)."""

    job_id: str
    user_id: str
    VERSION = 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": JOB_REQUESTED,
                "version": self.VERSION,
                "job_id": self.job_id,
                "user_id": self.user_id,
            }
        )

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> JobRequested:
        _check_type(document, (JOB_REQUESTED,), cls.VERSION)
        job_id, user_id = _string_fields(document, "job_id", "user_id")
        return cls(job_id=job_id, user_id=user_id)


@dataclass(frozen=True, slots=True)
class JobFinished:
    """A job ended (``job.completed`` or ``job.failed`` v1); status is the final job_status."""

    job_id: str
    user_id: str
    status: str
    VERSION = 1

    @property
    def type(self) -> str:
        return JOB_COMPLETED if self.status == "COMPLETED" else JOB_FAILED

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": self.type,
                "version": self.VERSION,
                "job_id": self.job_id,
                "user_id": self.user_id,
                "status": self.status,
            }
        )

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> JobFinished:
        _check_type(document, (JOB_COMPLETED, JOB_FAILED), cls.VERSION)
        job_id, user_id, status = _string_fields(document, "job_id", "user_id", "status")
        return cls(job_id=job_id, user_id=user_id, status=status)


# Retention (issue 5): archive, restore and thaw ------------------------------------------

JOB_ARCHIVE = "job.archive"
USER_DOWNGRADED = "user.downgraded"
USER_UPGRADED = "user.upgraded"
THAW_CHECK = "thaw.check"


def unwrap_any(sqs_body: str) -> dict[str, Any]:
    """The JSON object inside an SQS body, SNS envelope removed, without requiring our
    ``type``/``version``: for queues that also receive AWS's own notices (the thaw queue
    gets Glacier job notices and S3 restore events beside our ``thaw.check``)."""
    document = _json_object(sqs_body, "SQS body")
    if document.get("Type") == "Notification" and "Message" in document:
        document = _json_object(document["Message"], "SNS message")
    return document


@dataclass(frozen=True, slots=True)
class ArchiveJob:
    """Archive one job's results if its owner is (still) on the Free plan (``job.archive`` v1).

    The archiver sends these to its own queue, one per completed job, when it expands a
    ``user.downgraded`` message.
    """

    job_id: str
    user_id: str
    VERSION = 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": JOB_ARCHIVE,
                "version": self.VERSION,
                "job_id": self.job_id,
                "user_id": self.user_id,
            }
        )

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ArchiveJob:
        _check_type(document, (JOB_ARCHIVE,), cls.VERSION)
        job_id, user_id = _string_fields(document, "job_id", "user_id")
        return cls(job_id=job_id, user_id=user_id)


@dataclass(frozen=True, slots=True)
class UserDowngraded:
    """A user went from Premium back to Free (``user.downgraded`` v1), sent to the archive
    queue so that it is delivered after the Free retention delay."""

    user_id: str
    VERSION = 1

    def to_json(self) -> str:
        return json.dumps(
            {"type": USER_DOWNGRADED, "version": self.VERSION, "user_id": self.user_id}
        )

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> UserDowngraded:
        _check_type(document, (USER_DOWNGRADED,), cls.VERSION)
        [user_id] = _string_fields(document, "user_id")
        return cls(user_id=user_id)


@dataclass(frozen=True, slots=True)
class UserUpgraded:
    """A user became Premium: restore their archived results (``user.upgraded`` v1).

    ``restore_id`` names this restore; the jobs it restores record it, and the user gets
    one mail when the last of them is back.
    """

    user_id: str
    restore_id: str
    VERSION = 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": USER_UPGRADED,
                "version": self.VERSION,
                "user_id": self.user_id,
                "restore_id": self.restore_id,
            }
        )

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> UserUpgraded:
        _check_type(document, (USER_UPGRADED,), cls.VERSION)
        user_id, restore_id = _string_fields(document, "user_id", "restore_id")
        return cls(user_id=user_id, restore_id=restore_id)


@dataclass(frozen=True, slots=True)
class ThawCheck:
    """Look whether a job's retrieval is done and, if so, put its results back
    (``thaw.check`` v1). ``attempt`` counts the checks so far (0 for the first), for backoff."""

    job_id: str
    attempt: int = 0
    VERSION = 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "type": THAW_CHECK,
                "version": self.VERSION,
                "job_id": self.job_id,
                "attempt": self.attempt,
            }
        )

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> ThawCheck:
        _check_type(document, (THAW_CHECK,), cls.VERSION)
        [job_id] = _string_fields(document, "job_id")
        attempt = document.get("attempt", 0)
        if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 0:
            raise MalformedMessage("thaw.check needs a whole, non-negative 'attempt'")
        return cls(job_id=job_id, attempt=attempt)
