"""The one batched sender: ten messages a call, delays clamped to SQS's range, refusals raised."""

from __future__ import annotations

from typing import Any

import pytest

from gas.core.publisher import send_batch


class FakeSqs:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail = fail

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append({"QueueUrl": QueueUrl, "Entries": Entries})
        return {"Failed": [{"Id": Entries[0]["Id"], "Code": "x"}]} if self.fail else {}


def test_sends_every_body_in_batches_of_ten() -> None:
    sqs = FakeSqs()
    bodies = [f"m{i}" for i in range(23)]
    send_batch(sqs, "q", bodies, delay_seconds=5)
    assert [len(call["Entries"]) for call in sqs.calls] == [10, 10, 3]
    sent = [entry["MessageBody"] for call in sqs.calls for entry in call["Entries"]]
    assert sent == bodies
    assert {entry["DelaySeconds"] for call in sqs.calls for entry in call["Entries"]} == {5}


@pytest.mark.parametrize(("asked", "sent"), [(-3, 0), (0, 0), (5000, 900)])
def test_delay_is_clamped_to_what_sqs_accepts(asked: int, sent: int) -> None:
    sqs = FakeSqs()
    send_batch(sqs, "q", ["m"], delay_seconds=asked)
    assert sqs.calls[0]["Entries"][0]["DelaySeconds"] == sent


def test_nothing_to_send_makes_no_call() -> None:
    sqs = FakeSqs()
    send_batch(sqs, "q", [])
    assert sqs.calls == []


def test_a_refused_message_raises() -> None:
    with pytest.raises(RuntimeError, match="could not queue"):
        send_batch(FakeSqs(fail=True), "q", ["m"])
