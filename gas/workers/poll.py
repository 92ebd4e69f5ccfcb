"""The shared SQS poll loop, kept apart from the per-message handler functions.

In the manner of Doist/sqs-workers: long polling; each message handled in its
own try/except; a message is deleted only after its handler returned, so a
failure leaves it to reappear when its visibility lapses, and after three
receives the queue's redrive policy moves it to the dead-letter queue. SIGTERM
stops polling; a handler that watches ``Received.stop`` (the annotator does)
ends its work early, the message in hand is then released at once
(visibility 0), and so are any not yet started, for another worker. While the
queue cannot be reached the loop waits longer each time (up to a minute) and
says so once, not once a second.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from gas.core.messages import peek_job_id
from gas.core.topology import LONG_POLL_SECONDS, MAX_RECEIVES_BEFORE_DLQ

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Received:
    """One received SQS message, with what a handler needs to keep it hidden while it works."""

    body: str
    message_id: str
    receipt_handle: str
    receive_count: int
    queue_url: str
    sqs: Any
    stop: threading.Event = field(default_factory=threading.Event)  # set: the worker is stopping

    @property
    def job_id(self) -> str | None:
        """The job this message is about, for log lines (None when the body is not ours)."""
        return peek_job_id(self.body)

    @property
    def is_last_attempt(self) -> bool:
        """True on the receive after which a failure sends the message to the dead-letter queue."""
        return self.receive_count >= MAX_RECEIVES_BEFORE_DLQ

    def set_visibility(self, seconds: int) -> None:
        """Hide the message for ``seconds`` from now (0: make it visible again at once)."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=self.receipt_handle, VisibilityTimeout=seconds
        )

    def heartbeat(
        self,
        visibility_seconds: int,
        every_seconds: float | None = None,
        for_seconds: float | None = None,
    ) -> Heartbeat:
        """A context manager that keeps this message hidden while a long job runs, for at
        most ``for_seconds`` (None: as long as it runs)."""
        return Heartbeat(self, visibility_seconds, every_seconds, for_seconds)


Handler = Callable[[Received], None]


def configure_logging() -> None:
    """Log lines for a worker process: level from GAS_LOG_LEVEL; the AWS SDK's chatter off."""
    logging.basicConfig(
        level=os.environ.get("GAS_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class Heartbeat:
    """Extends a message's visibility every few seconds from a background thread.

    Extending early (by default every third of the timeout) leaves room for a
    slow call or two; if the process dies the extensions stop, and the message
    reappears for another worker within one timeout. After ``for_seconds`` (the
    job's wall-time limit) the extensions stop too: a worker stuck past its
    limit cannot keep the message from the others.
    """

    def __init__(
        self,
        message: Received,
        visibility_seconds: int,
        every_seconds: float | None = None,
        for_seconds: float | None = None,
    ) -> None:
        self.message = message
        self.visibility_seconds = visibility_seconds
        self.every_seconds = every_seconds or max(1.0, visibility_seconds / 3)
        self._until = None if for_seconds is None else time.monotonic() + for_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqs-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every_seconds):
            if self._until is not None and time.monotonic() >= self._until:
                log.warning(
                    "job %s: past its time limit; visibility no longer extended",
                    self.message.job_id,
                )
                return
            try:
                self.message.set_visibility(self.visibility_seconds)
            except Exception:
                # The job goes on; if visibility lapses, the claim rules handle the redelivery.
                log.exception("job %s: could not extend visibility", self.message.job_id)


class Worker:
    """Polls one queue and hands each message to ``handler``; deletes it only on success."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        handler: Handler,
        *,
        wait_seconds: int = LONG_POLL_SECONDS,
        max_messages: int = 1,
        stop: threading.Event | None = None,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.handler = handler
        self.wait_seconds = wait_seconds
        self.max_messages = max_messages
        self.stop = stop or threading.Event()
        self._busy = False  # handling a message (a signal then waits for it to finish)

    def run(self) -> None:
        """Poll until ``stop`` is set (by a test, or by SIGTERM/SIGINT)."""
        log.info("job -: polling %s", self.queue_url)
        backoff = Backoff()
        while not self.stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:
                # A failed receive (network, throttling, the emulator down) must not end
                # the worker, nor fill its log: wait longer each time, say so once.
                wait = backoff.failed()
                if backoff.failures == 1:
                    log.warning(
                        "job -: cannot receive from %s (%s); retrying, waiting up to %.0f s",
                        self.queue_url,
                        _short(exc),
                        MAX_BACKOFF_SECONDS,
                    )
                self.stop.wait(wait)
            else:
                if backoff.failures:
                    log.info(
                        "job -: %s reachable again after %s failed receives",
                        self.queue_url,
                        backoff.failures,
                    )
                backoff.reset()
        log.info("job -: stopped polling %s", self.queue_url)

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT stop the loop after the current message."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop.set()
        if not self._busy:
            # Idle in a long poll: leave at once rather than wait up to 20 s. A message
            # SQS hands out in that instant reappears after its visibility timeout.
            log.info("job -: signal %s while idle, exiting", signum)
            raise SystemExit(0)
        log.info("job -: signal %s, finishing the current message", signum)

    def poll_once(self) -> int:
        """Receive one batch and handle it; returns how many messages were deleted."""
        messages = self.receive()
        deleted = 0
        for index, message in enumerate(messages):
            if self.stop.is_set():
                self._release(messages[index:])
                break
            deleted += self.handle(message)
        return deleted

    def receive(self) -> list[Received]:
        """Long-poll for up to ``max_messages`` messages, with their receive counts."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.max_messages,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [self._received(raw) for raw in response.get("Messages", [])]

    def handle(self, message: Received) -> bool:
        """Run the handler on one message; delete it if the handler returned. True if deleted."""
        self._busy = True
        try:
            return self._handle(message)
        finally:
            self._busy = False

    def _handle(self, message: Received) -> bool:
        job_id = message.job_id or "-"
        try:
            self.handler(message)
        except Exception:
            if self.stop.is_set():  # stopped mid-message: another worker takes it now
                log.info("job %s: stopped mid-message; releasing it", job_id)
                self._release([message])
                return False
            log.exception(
                "job %s: message %s failed on receive %s; left for redelivery",
                job_id,
                message.message_id,
                message.receive_count,
            )
            return False
        try:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message.receipt_handle)
        except Exception:
            # The work is done and idempotent; a redelivery will find it done.
            log.exception("job %s: could not delete message %s", job_id, message.message_id)
            return False
        log.info("job %s: message %s done", job_id, message.message_id)
        return True

    def _received(self, raw: dict[str, Any]) -> Received:
        attributes = raw.get("Attributes", {})
        return Received(
            body=raw.get("Body", ""),
            message_id=raw["MessageId"],
            receipt_handle=raw["ReceiptHandle"],
            receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
            queue_url=self.queue_url,
            sqs=self.sqs,
            stop=self.stop,
        )

    def _release(self, messages: list[Received]) -> None:
        for message in messages:
            try:
                message.set_visibility(0)
                log.info("job %s: released message %s", message.job_id or "-", message.message_id)
            except Exception:
                log.exception("job %s: could not release message", message.job_id or "-")


class Backoff:
    """Waits that double after each failure, from one second up to MAX_BACKOFF_SECONDS."""

    def __init__(self) -> None:
        self.failures = 0

    def failed(self) -> float:
        """Count a failure; the seconds to wait before the next try."""
        self.failures += 1
        return float(min(2 ** (self.failures - 1), MAX_BACKOFF_SECONDS))

    def reset(self) -> None:
        self.failures = 0


def _short(exc: Exception) -> str:
    """One line of an exception, for a log line that is not a traceback."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]
