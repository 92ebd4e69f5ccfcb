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
