"""The poll loop with an in-memory SQS: delete on success only, release on stop, heartbeat."""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

import pytest

from gas.workers.poll import Heartbeat, Received, Worker


class FakeSqs:
    """Records calls; serves the given batches, then nothing."""

    def __init__(self, *batches: list[str]) -> None:
        self.batches = list(batches)
        self.deleted: list[str] = []
        self.visibility: list[tuple[str, int]] = []

    def receive_message(self, **request: Any) -> dict[str, Any]:
        if not self.batches:
            return {}
        bodies = self.batches.pop(0)
        return {
            "Messages": [
                {
                    "MessageId": f"m-{body}",
                    "ReceiptHandle": f"r-{body}",
                    "Body": body,
                    "Attributes": {"ApproximateReceiveCount": "2"},
                }
                for body in bodies
            ]
        }

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)

    def change_message_visibility(
        self,
        QueueUrl: str,
        ReceiptHandle: str,
        VisibilityTimeout: int,
    ) -> None:
        self.visibility.append((ReceiptHandle, VisibilityTimeout))


def _failing_on(bad: str) -> Any:
    def handler(message: Received) -> None:
        if message.body == bad:
            raise RuntimeError("boom")

    return handler


def test_only_messages_whose_handler_returned_are_deleted() -> None:
    sqs = FakeSqs(["ok", "bad", "fine"])
    worker = Worker(sqs, "q", _failing_on("bad"), max_messages=10)
    assert worker.poll_once() == 2
    assert sqs.deleted == ["r-ok", "r-fine"]
    assert sqs.visibility == []  # the failure waits out its visibility, then comes back


def test_receive_count_and_last_attempt_come_from_the_attributes() -> None:
    seen: list[Received] = []
    Worker(FakeSqs(["a"]), "q", seen.append).poll_once()
    [message] = seen
    assert (message.message_id, message.receive_count, message.is_last_attempt) == ("m-a", 2, False)


def test_stop_releases_the_messages_not_yet_started() -> None:
    stop = threading.Event()
    sqs = FakeSqs(["first", "second", "third"])

    def handler(message: Received) -> None:
        stop.set()  # SIGTERM arrives while the first message is being handled

    worker = Worker(sqs, "q", handler, max_messages=10, stop=stop)
    assert worker.poll_once() == 1
    assert sqs.deleted == ["r-first"]
    assert sqs.visibility == [("r-second", 0), ("r-third", 0)]


def test_run_returns_once_stopped() -> None:
    stop = threading.Event()
    handled: list[str] = []

    def handler(message: Received) -> None:
        handled.append(message.body)
        stop.set()

    Worker(FakeSqs([], ["a"]), "q", handler, wait_seconds=0, stop=stop).run()
    assert handled == ["a"]


def test_sigterm_while_idle_exits_at_once() -> None:
    worker = Worker(FakeSqs(), "q", lambda _: None)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        worker.install_signal_handlers()
        with pytest.raises(SystemExit):
            signal.raise_signal(signal.SIGTERM)
        assert worker.stop.is_set()
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def test_sigterm_while_busy_finishes_the_message_then_stops() -> None:
    # GIVEN a worker handling a message when SIGTERM arrives
    sqs = FakeSqs(["a", "b"])
    handled: list[str] = []

    def handler(message: Received) -> None:
        signal.raise_signal(signal.SIGTERM)
        handled.append(message.body)

    worker = Worker(sqs, "q", handler, wait_seconds=0, max_messages=2)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        worker.install_signal_handlers()
        # WHEN it polls THEN the message in hand is finished and deleted, the next released
        assert worker.poll_once() == 1
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert handled == ["a"]
    assert worker.stop.is_set()
    assert sqs.deleted == ["r-a"]
    assert sqs.visibility == [("r-b", 0)]


def test_heartbeat_extends_visibility_while_the_job_runs() -> None:
    sqs = FakeSqs()
    message = Received("{}", "m", "r", 1, "q", sqs)
    with Heartbeat(message, visibility_seconds=30, every_seconds=0.05):
        time.sleep(0.3)
    count = len(sqs.visibility)
    assert count >= 2
    assert set(sqs.visibility) == {("r", 30)}
    time.sleep(0.1)
    assert len(sqs.visibility) == count  # stopped with the block


@pytest.mark.parametrize(("count", "last"), [(1, False), (2, False), (3, True), (4, True)])
def test_last_attempt_is_the_third_receive(count: int, last: bool) -> None:
    assert Received("", "m", "r", count, "q", None).is_last_attempt is last
