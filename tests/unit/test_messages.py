"""Message documents and the one place SNS envelopes are unwrapped."""

from __future__ import annotations

import json

import pytest

from gas.core.messages import JobFinished, JobRequested, MalformedMessage, peek_job_id, unwrap

REQUEST = JobRequested(job_id="j1", user_id="u1")


def _sns_envelope(message: str) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "m",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:gas-job-requests",
            "Message": message,
        }
    )


def test_unwrap_accepts_an_sns_envelope_and_raw_delivery_alike() -> None:
    assert unwrap(_sns_envelope(REQUEST.to_json())) == unwrap(REQUEST.to_json())
    assert unwrap(REQUEST.to_json()) == {
        "type": "job.requested",
        "version": 1,
        "job_id": "j1",
        "user_id": "u1",
    }


@pytest.mark.parametrize(
    "body",
    [
        "not JSON",
        "[1, 2]",
        '{"job_id": "j1"}',
        '{"type": "job.requested", "version": "1"}',
        _sns_envelope("not JSON"),
        json.dumps({"Type": "Notification", "Message": 5}),
    ],
)
def test_unwrap_refuses_what_is_not_a_message(body: str) -> None:
    with pytest.raises(MalformedMessage):
        unwrap(body)


def test_job_requested_round_trips() -> None:
    assert JobRequested.from_document(unwrap(REQUEST.to_json())) == REQUEST


def test_job_requested_needs_its_fields_and_its_version() -> None:
    document = unwrap(REQUEST.to_json())
    with pytest.raises(MalformedMessage, match="job_id"):
        JobRequested.from_document({**document, "job_id": ""})
    with pytest.raises(MalformedMessage, match="version 2 is not supported"):
        JobRequested.from_document({**document, "version": 2})
    with pytest.raises(MalformedMessage, match=r"expected a job\.requested"):
        JobRequested.from_document({**document, "type": "job.completed"})


@pytest.mark.parametrize(
    ("status", "kind"), [("COMPLETED", "job.completed"), ("FAILED", "job.failed")]
)
def test_job_finished_type_follows_status(status: str, kind: str) -> None:
    finished = JobFinished("j1", "u1", status)
    document = unwrap(finished.to_json())
    assert document["type"] == kind
    assert JobFinished.from_document(document) == finished


def test_peek_job_id_never_raises() -> None:
    assert peek_job_id(_sns_envelope(REQUEST.to_json())) == "j1"
    assert peek_job_id("garbage") is None
