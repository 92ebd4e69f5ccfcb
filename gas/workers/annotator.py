"""The annotator: one ``job.requested`` message in, one finished job out.

Per message: claim the job (PENDING → RUNNING, conditional), download the
input, run ``anntools annotate`` as a child process while recording its
progress and keeping the message hidden, upload the four results, mark the
job COMPLETED and publish ``job.completed``. Only after that does the poll
loop delete the message.

- Bad input (anntools exits 1): the job ends FAILED with anntools' own
  one-line reason, ``job.failed`` is published, and the message is deleted.
- Over a limit of the user's plan (settings.PlanLimits: decompressed size and
  records, checked by anntools while streaming; memory and wall time, by the
  bounded child, see gas.workers.child): the job ends FAILED with a reason that
  names the limit (and suggests Premium on the Free plan), on the first try.
- An input that is gone from S3 fails the job on the first receive too.
- SIGTERM ends the child at once and releases the message for another worker.
- Anything unexpected raises: the message comes back after its visibility
  timeout and is retried; on the last receive before the dead-letter queue
  the job is marked FAILED first, so the user is not left waiting.
- A worker killed mid-job (kill -9) stops extending visibility; SQS then
  redelivers the same message, and the claim, which recorded that message's
  id, lets the next worker take the job over (see gas.core.jobs).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gas.core.aws import AwsClients, is_error
from gas.core.jobs import GAVE_UP_REASON, TERMINAL, Job, JobRepository, JobStatus, ResultKeys
from gas.core.keys import InputKey, parse_input_key, result_key_names
from gas.core.messages import JobRequested, unwrap
from gas.core.publisher import announce_job_finished
from gas.core.settings import PlanLimits, Settings
from gas.core.stack import StackLocator
from gas.core.users import Plan, UserRepository
from gas.workers.child import Bounds, bounded_child
from gas.workers.poll import Received
from gas.workers.runner import run_worker

log = logging.getLogger(__name__)

BAD_INPUT_EXIT_CODE = 1  # anntools: the input cannot be annotated; the reason is on stderr
LIMIT_EXIT_CODE = 3  # anntools: a limit was passed; a JSON line on stderr names it
INPUT_GONE_REASON = "The uploaded file is no longer stored; please upload it again."


class AnnotatorCrashed(RuntimeError):
    """anntools ended in a way that is not the input's fault (crash, signal, usage error)."""


class ClaimLost(RuntimeError):
    """Another worker took this job over; this one must stop writing to it."""


class WorkerStopping(RuntimeError):
    """The worker is stopping (SIGTERM): the child was ended and the job is left to another."""


@dataclass(frozen=True, slots=True)
class ChildResult:
    """How an anntools run ended: exit code, its last ``anntools: ...`` error line, the
    limit it reported passing (name, value), and whether it ran out of wall time."""

    returncode: int
    error: str | None
    limit: tuple[str, int] | None = None
    timed_out: bool = False


def anntools_command(
    input_path: Path, out_dir: Path, limits: PlanLimits | None = None
) -> list[str]:
    """The child's argv: this interpreter's anntools, JSON progress on stderr, no shell;
    with ``limits``, anntools stops at the plan's decompressed size and record count."""
    command = [
        sys.executable,
        "-m",
        "anntools",
        "annotate",
        str(input_path),
        "-o",
        str(out_dir),
        "--progress",
        "json",
    ]
    if limits is not None:
        command += ["--max-bytes", str(limits.input_bytes), "--max-records", str(limits.records)]
    return command


def progress_percent(line: str) -> int | None:
    """Percent of input bytes read, from one JSON progress line; None for other lines.

    Capped at 99: 100 means the results are stored, which only completion records.
    """
    try:
        data = json.loads(line)
        read, total = int(data["bytes_read"]), int(data["bytes_total"])
    except (ValueError, TypeError, KeyError):
        return None
    if total <= 0:
        return None
    return max(0, min(99, read * 100 // total))


def limit_passed(line: str) -> tuple[str, int] | None:
    """(limit, value) from anntools' JSON line for a limit passed; None for other lines."""
    try:
        data = json.loads(line)
        return str(data["limit"]), int(data["value"])
    except (ValueError, TypeError, KeyError):
        return None


def limit_reason(plan: Plan, limits: PlanLimits, result: ChildResult) -> str | None:
    """The user's reason for a run stopped by a limit of their plan; None if none was."""
    name = "Free" if plan == "free" else "Premium"
    if result.timed_out:
        text = f"The annotation took longer than {_duration(limits.seconds)}"
        what = "limit per job"
    elif result.limit is None:
        return None
    elif result.limit[0] == "max_bytes":
        text = f"The file is larger than {_size(limits.input_bytes)} once decompressed"
        what = "limit for one input"
    elif result.limit[0] == "max_records":
        text = f"The file has more than {limits.records:,} variant records"
        what = "limit per job"
    else:
        text = f"The annotation needed more than {_size(limits.memory_bytes)} of memory"
        what = "limit per job"
    hint = " Subscribe to Premium for larger jobs." if plan == "free" else ""
    return f"{text}, the {name} plan's {what}; it was not annotated.{hint}"


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit} ({size:,} bytes)"
    return f"{size:,} bytes"


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour{'s' if seconds != 3600 else ''}"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute{'s' if seconds != 60 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def error_reason(line: str) -> str | None:
    """The user-readable part of an ``anntools: NAME: reason`` line, else None."""
    prefix = "anntools: "
    return line[len(prefix) :].strip() if line.startswith(prefix) else None


def run_anntools(
    input_path: Path,
    out_dir: Path,
    on_progress: Callable[[int], bool],
    env: Mapping[str, str] | None = None,
    limits: PlanLimits | None = None,
    stop: threading.Event | None = None,
) -> ChildResult:
    """Run anntools on one file, calling ``on_progress(percent)`` per progress line.

    The child is bounded by ``limits`` (all four) and ended when ``stop`` is
    set (WorkerStopping is raised then). ``on_progress`` returns False to
    abandon the run (the child is ended and ClaimLost raised).
    """
    limits = limits or PlanLimits(0, 0, 0, 0)
    error, limit = None, None
    command = anntools_command(input_path, out_dir, limits if limits.records else None)
    bounds = Bounds(limits.memory_bytes, limits.seconds or float("inf"))
    with bounded_child(command, bounds, stop or threading.Event(), env, out_dir.parent) as (
        child,
        watchdog,
    ):
        assert child.stderr is not None  # stderr=PIPE
        for raw in child.stderr:
            line = raw.rstrip("\n")
            percent = progress_percent(line)
            if percent is not None and not on_progress(percent):
                raise ClaimLost("the job was taken over by another worker")
            error = error_reason(line) or error
            limit = limit_passed(line) or limit
        returncode = child.wait()
    if watchdog.stopped:
        raise WorkerStopping("the worker is stopping; the job is left for another worker")
    return ChildResult(returncode, error, limit, watchdog.timed_out)


class ProgressRecorder:
    """Writes a job's progress at most every ``every_seconds``, and only when it changed."""

    def __init__(
        self,
        jobs: JobRepository,
        job_id: str,
        token: str,
        every_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jobs, self.job_id, self.token = jobs, job_id, token
        self.every_seconds = every_seconds
        self._clock = clock
        self._last_time = float("-inf")
        self._last_percent = 0

    def __call__(self, percent: int) -> bool:
        """Record ``percent`` if due; False when the claim was lost."""
        now = self._clock()
        if percent == self._last_percent or now - self._last_time < self.every_seconds:
            return True
        self._last_time, self._last_percent = now, percent
        return self.jobs.update_progress(self.job_id, self.token, percent)


class Annotator:
    """The per-message function for the job-requests queue (call it with a Received)."""

    def __init__(
        self,
        clients: AwsClients,
        jobs: JobRepository,
        locator: StackLocator,
        *,
        progress_seconds: float = 2.0,
        child_env: Mapping[str, str] | None = None,
    ) -> None:
        self.settings: Settings = clients.settings
        self._s3 = clients.s3
        self._sns = clients.sns
        self.jobs = jobs
        self.users = UserRepository(clients.dynamodb, self.settings.names.users_table)
        self.locator = locator
        self.progress_seconds = progress_seconds
        self.child_env = {**os.environ, **child_env} if child_env else None

    def __call__(self, message: Received) -> None:
        request = JobRequested.from_document(unwrap(message.body))
        token = str(uuid.uuid4())
        claim = self.jobs.claim(request.job_id, message.message_id, token)
        if not claim.claimed or claim.job is None:
            self._not_claimed(request, message, claim.job)
            return
        job = claim.job
        log.info("job %s: claimed (attempt %s)", job.job_id, job.attempts)
        try:
            self._run(job, token, message)
        except Exception:
            if message.is_last_attempt:
                self._give_up(job, token)
            raise

    def _not_claimed(self, request: JobRequested, message: Received, job: Job | None) -> None:
        """Someone else has (or had) this job; the message can go."""
        if job is None:
            log.warning("job %s: no such job; dropping the request", request.job_id)
        elif job.job_status in TERMINAL and job.claim_message_id == message.message_id:
            # This message already ran the job; the crash came before the delete, and
            # maybe before the publish, so publish again (at least once).
            log.info(
                "job %s: already %s by this message; notifying again", job.job_id, job.job_status
            )
            self._publish_outcome(job)
        else:
            log.info("job %s: already %s; duplicate request dropped", job.job_id, job.job_status)

    def _run(self, job: Job, token: str, message: Received) -> None:
        input_key = parse_input_key(job.s3_key_input_file)
        plan = self.users.plan(job.user_id)
        limits = self.settings.limits(plan)
        visibility = self.settings.job_visibility_seconds
        # The heartbeat covers download and upload too: either may be slow for a big file;
        # it ends a little after the plan's wall time, which ends the child.
        with (
            message.heartbeat(visibility, for_seconds=limits.seconds + 2 * visibility),
            tempfile.TemporaryDirectory(prefix="gas-annotate-") as tmp,
        ):
            input_path = Path(tmp, "in", job.input_file_name)
            out_dir = Path(tmp, "out")
            input_path.parent.mkdir()
            out_dir.mkdir()
            if not self._download(job, input_path):
                self._reject_input(job, token, input_key, out_dir, INPUT_GONE_REASON)
                return
            recorder = ProgressRecorder(self.jobs, job.job_id, token, self.progress_seconds)
            result = run_anntools(
                input_path, out_dir, recorder, self.child_env, limits, message.stop
            )
            over_limit = limit_reason(plan, limits, result)
            if result.returncode == 0:
                self._complete(job, token, input_key, out_dir)
            elif over_limit:
                self._reject_input(job, token, input_key, out_dir, over_limit)
            elif result.returncode == BAD_INPUT_EXIT_CODE and result.error:
                self._reject_input(job, token, input_key, out_dir, result.error)
            else:  # a crash (a traceback has no "anntools:" line), a signal, a usage error
                raise AnnotatorCrashed(
                    f"anntools exited with {result.returncode}: {result.error or 'no message'}"
                )

    def _download(self, job: Job, path: Path) -> bool:
        """Fetch the input; False when S3 no longer has it (retrying cannot help)."""
        try:
            self._s3.download_file(job.s3_inputs_bucket, job.s3_key_input_file, str(path))
        except Exception as exc:
            if is_error(exc, "404", "NoSuchKey", "NotFound"):
                log.warning("job %s: input %s is gone", job.job_id, job.s3_key_input_file)
                return False
            raise
        return True

    def _upload_results(self, input_key: InputKey, out_dir: Path) -> ResultKeys:
        bucket = self.settings.names.results_bucket
        keys = result_key_names(input_key)
        for key in keys.values():
            local = out_dir / key.split("~", 1)[1]  # anntools names it <stem><suffix>
            self._s3.upload_file(str(local), bucket, key)
        return ResultKeys(bucket, keys["vcf"], keys["log"], keys["tsv"], keys["summary"])

    def _complete(self, job: Job, token: str, input_key: InputKey, out_dir: Path) -> None:
        results = self._upload_results(input_key, out_dir)
        if not self.jobs.complete(job.job_id, token, results):
            raise ClaimLost(f"job {job.job_id} was taken over before it completed")
        log.info("job %s: completed", job.job_id)
        self._publish_outcome(job, JobStatus.COMPLETED)

    def _reject_input(
        self, job: Job, token: str, input_key: InputKey, out_dir: Path, reason: str | None
    ) -> None:
        log_key = result_key_names(input_key)["log"]
        local_log = out_dir / log_key.split("~", 1)[1]
        uploaded_log = None
        if local_log.is_file():
            self._s3.upload_file(str(local_log), self.settings.names.results_bucket, log_key)
            uploaded_log = (self.settings.names.results_bucket, log_key)
        reason = reason or "the file could not be annotated"
        if not self.jobs.fail(job.job_id, token, reason, uploaded_log):
            raise ClaimLost(f"job {job.job_id} was taken over before it failed")
        log.info("job %s: failed on bad input: %s", job.job_id, reason)
        self._publish_outcome(job, JobStatus.FAILED)

    def _give_up(self, job: Job, token: str) -> None:
        """Last receive before the DLQ: tell the user it failed rather than leave it RUNNING."""
        try:
            if self.jobs.fail(job.job_id, token, GAVE_UP_REASON):
                log.error("job %s: marked FAILED after its last attempt", job.job_id)
                self._publish_outcome(job, JobStatus.FAILED)
        except Exception:
            log.exception("job %s: could not mark the job FAILED", job.job_id)

    def _publish_outcome(self, job: Job, status: JobStatus | None = None) -> None:
        announce_job_finished(
            self._sns, self.locator, job.job_id, job.user_id, status or job.job_status
        )


def main() -> None:
    """Run the annotator on the job-requests queue until SIGTERM."""
    run_worker(
        lambda locator: locator.queue_url("job-requests"),
        lambda s: Annotator(s.clients, s.jobs, s.locator),
    )


if __name__ == "__main__":
    main()
