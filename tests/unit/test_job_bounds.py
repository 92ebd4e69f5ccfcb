"""Bounds on one job: plan limits and their reasons, the heartbeat's end, the poll loop's
backoff while AWS is unreachable, and a stop that releases the message in hand."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from gas.core.settings import FREE_LIMITS, PREMIUM_LIMITS, Settings, SettingsError
from gas.workers.annotator import ChildResult, limit_passed, limit_reason
from gas.workers.poll import Backoff, Heartbeat, Received, Worker


def test_limits_come_from_settings_per_plan() -> None:
    settings = Settings.from_env({"GAS_FREE_JOB_SECONDS": "30", "GAS_PREMIUM_MAX_RECORDS": "7"})
    assert settings.limits("free") == replace(FREE_LIMITS, seconds=30)
    assert settings.limits("premium") == replace(PREMIUM_LIMITS, records=7)
    assert FREE_LIMITS.input_bytes == 10 * settings.free_upload_limit_bytes
    with pytest.raises(SettingsError, match="GAS_FREE_"):
        Settings.from_env({"GAS_FREE_CHILD_MEMORY_BYTES": "0"})


def test_a_limit_line_is_read_and_others_are_not() -> None:
    assert limit_passed('{"limit": "max_bytes", "value": 1536000}') == ("max_bytes", 1536000)
    assert limit_passed('{"records": 1, "bytes_read": 2, "bytes_total": 3}') is None
    assert limit_passed("anntools: x.vcf: line 3: bad") is None


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (
            ChildResult(3, None, ("max_bytes", 1_536_000)),
            "The file is larger than 1.5 MiB (1,536,000 bytes) once decompressed, "
            "the Free plan's limit for one input",
        ),
        (
            ChildResult(3, None, ("max_records", 100_000)),
            "The file has more than 100,000 variant records, the Free plan's limit per job",
        ),
        (
            ChildResult(3, None, ("memory", 2 * 1024**3)),
            "The annotation needed more than 2.0 GiB (2,147,483,648 bytes) of memory, "
            "the Free plan's limit per job",
        ),
        (
            ChildResult(-15, None, None, timed_out=True),
            "The annotation took longer than 10 minutes, the Free plan's limit per job",
        ),
    ],
)
def test_a_limit_passed_is_named_with_a_hint_on_free(result: ChildResult, reason: str) -> None:
    assert limit_reason("free", FREE_LIMITS, result) == (
        f"{reason}; it was not annotated. Subscribe to Premium for larger jobs."
    )


def test_premium_gets_no_premium_hint_and_other_failures_are_not_limits() -> None:
    timed_out = ChildResult(-15, None, None, timed_out=True)
    assert limit_reason("premium", PREMIUM_LIMITS, timed_out) == (
        "The annotation took longer than 12 hours, the Premium plan's limit per job; "
        "it was not annotated."
    )
    assert limit_reason("free", FREE_LIMITS, ChildResult(1, "line 3: bad")) is None


class CountingSqs:
    def __init__(self) -> None:
        self.extensions = 0

    def change_message_visibility(self, **_request: Any) -> None:
        self.extensions += 1


def _message(sqs: Any) -> Received:
    return Received("{}", "m-1", "r-1", 1, "queue", sqs)


def test_the_heartbeat_stops_extending_after_its_time() -> None:
    sqs = CountingSqs()
    with Heartbeat(_message(sqs), 30, every_seconds=0.05, for_seconds=0.3):
        time.sleep(0.6)
        settled = sqs.extensions
        time.sleep(0.3)
        assert sqs.extensions == settled
    assert 1 <= settled <= 6


def test_backoff_doubles_up_to_a_minute() -> None:
    backoff = Backoff()
    assert [backoff.failed() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    backoff.reset()
    assert backoff.failed() == 1


class RecordingStop(threading.Event):
    """A stop event whose waits are recorded instead of slept."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0)
        return self.is_set()


class UnreachableSqs:
    def __init__(self, failures: int, stop: threading.Event) -> None:
        self.failures = failures
        self.stop = stop

    def receive_message(self, **_request: Any) -> dict[str, Any]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("Could not connect to the endpoint URL\nmore detail")
        self.stop.set()
        return {}


def test_an_unreachable_queue_is_logged_once_and_polled_less_often(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = RecordingStop()
    worker = Worker(UnreachableSqs(5, stop), "queue", lambda _m: None, stop=stop)
    with caplog.at_level(logging.INFO, logger="gas.workers.poll"):
        worker.run()
    assert stop.waits == [1, 2, 4, 8, 16]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "job -: cannot receive from queue (ConnectionError: Could not connect to the endpoint "
        "URL); retrying, waiting up to 60 s"
    ]
    assert not any(r.exc_info for r in caplog.records)  # no traceback
    assert "reachable again after 5 failed receives" in caplog.text


class ReleasingSqs:
    def __init__(self) -> None:
        self.visibility: list[int] = []
        self.deleted = 0

    def change_message_visibility(self, VisibilityTimeout: int, **_request: Any) -> None:
        self.visibility.append(VisibilityTimeout)

    def delete_message(self, **_request: Any) -> None:
        self.deleted += 1


def test_a_handler_stopped_mid_message_releases_it() -> None:
    sqs = ReleasingSqs()

    def stopped(message: Received) -> None:
        message.stop.set()  # as SIGTERM does, while the handler works
        raise RuntimeError("the worker is stopping")

    worker = Worker(sqs, "queue", stopped)
    message = replace(_message(sqs), stop=worker.stop)
    assert worker.handle(message) is False
    assert sqs.visibility == [0]  # visible again at once, for another worker
    assert sqs.deleted == 0
