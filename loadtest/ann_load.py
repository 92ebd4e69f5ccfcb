"""The annotators' load, as the seed ran it: a job request every N seconds (seed: 10).

    python -m loadtest.ann_load --web-url http://127.0.0.1:8080 --every 10 --count 12
    python -m loadtest.ann_load --web-url https://gas.example.org --email you@example.org \\
        --password ... --queue-url https://sqs.REGION.amazonaws.com/ACCOUNT/gas-job-requests

Every job request is a real one: a sample VCF is uploaded first, so the annotators do
real work. Each tick sends ``--batch`` requests (default 1), cycling through
``--files`` (default: every file in data/samples). Sending stops after ``--count``
requests or ``--duration`` seconds, whichever comes first; then it waits at most
``--drain`` seconds for the jobs still running, and exits. It prints each request it
sent and, as it goes, the job_requests queue's depth and the jobs finished so far.

Why through the web app, not by publishing to SNS directly: an annotator only takes
a job request whose job is registered (a PENDING item in the annotations table, the
input in the inputs bucket, its key checked against the owner and the plan's size
limit); registering is the web app's work (``/annotate/uploaded``). Going through
the app's public HTTP endpoints, as the browser does (``/annotate/form`` for the
presigned POST, the upload to S3, the redirect back), keeps this generator
black-box: it holds no copy of the job item's schema or the message format, the
message on job_requests is the one the app itself publishes (``job.requested`` v1),
and the same command works against a deployment given only its URL and an account.
The queue depth comes from SQS's GetQueueAttributes (``--queue-url``; credentials and
endpoint as boto3 finds them), and each job's progress from the app's status endpoint.

Results: ``--out DIR`` gets ``jobs.csv`` (one row per request: file, bytes, when it
was sent, first seen RUNNING, finished, final status) and ``depth.csv`` (visible and
in-flight messages over time). Times are seconds since the start. The exit status is
0 when every request sent ended COMPLETED.

Only loopback and the hosts named by the user are sent to (loadtest.targets): the
``--web-url``, the ``--queue-url``, and ``GAS_LOAD_ALLOW_HOSTS`` (e.g. the inputs
bucket's S3 host on a deployment).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from loadtest import targets, webforms

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
FINISHED = ("COMPLETED", "FAILED")
POLL_SECONDS = 0.25  # status polls for running jobs: the resolution of the job timings
DEPTH_SECONDS = 2.0
TIMEOUT_SECONDS = 60


@dataclass
class Job:
    """One job request sent; times in seconds since the generator started (None: not yet)."""

    job_id: str
    file: str
    size: int
    sent: float
    running: float | None = None
    finished: float | None = None
    status: str = "PENDING"

    @property
    def latency(self) -> float | None:
        return None if self.finished is None else self.finished - self.sent


class Refused(RuntimeError):
    """The app did not accept an upload (the message says why)."""


class JobSubmitter(Protocol):
    def submit(self, path: Path) -> str: ...

    def status(self, job_id: str) -> str: ...


class DepthReader(Protocol):
    def read(self) -> tuple[int, int] | None: ...


class GasWeb:
    """The web app as one signed-in browser sees it (a requests session with its cookie)."""

    def __init__(self, base_url: str, allowed: set[str]) -> None:
        self.base = targets.check(base_url.rstrip("/"), allowed)
        self.allowed = allowed
        self.http = requests.Session()

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base + path, timeout=TIMEOUT_SECONDS, **kwargs)

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        return self.http.post(
            self.base + path, data=data, allow_redirects=False, timeout=TIMEOUT_SECONDS
        )

    def sign_in(self, email: str, password: str) -> None:
        """Log in; register the account first if it does not exist yet."""
        if self._log_in(email, password):
            return
        page = self.get("/register").text
        answer = self.post("/register", webforms.register_data(page, "Load Test", email, password))
        if answer.status_code != 303 and not self._log_in(email, password):
            raise Refused(f"could not sign in or register {email} (HTTP {answer.status_code})")

    def _log_in(self, email: str, password: str) -> bool:
        page = self.get("/login").text
        answer = self.post("/login", webforms.login_data(page, email, password))
        if answer.status_code == 429:
            raise Refused(f"sign-in for {email} is throttled: {answer.text[:200]}")
        return answer.status_code == 303

    def upload_limit(self) -> int | None:
        return webforms.upload_limit(self.get("/annotate").text)

    def submit(self, path: Path) -> str:
        """Upload ``path`` as the annotate page does and register it; returns the job id."""
        form = self.get("/annotate/form", params={"filename": path.name})
        if form.status_code != 200:
            raise Refused(form.json().get("error", f"HTTP {form.status_code}"))
        upload = form.json()
        with path.open("rb") as handle:
            stored = self.http.post(
                targets.check(upload["url"], self.allowed),
                data=upload["fields"],
                files={"file": (path.name, handle)},
                allow_redirects=False,
                timeout=TIMEOUT_SECONDS,
            )
        if stored.status_code != 303:
            raise Refused(f"S3 answered {stored.status_code}: {stored.text[:200]}")
        back = urlsplit(stored.headers["Location"])  # the app's /annotate/uploaded
        registered = self.get(f"{back.path}?{back.query}", allow_redirects=False)
        job_id = webforms.job_id_from_location(registered.headers.get("Location", ""))
        if registered.status_code != 303 or job_id is None:
            raise Refused(f"registration answered {registered.status_code}")
        return job_id

    def status(self, job_id: str) -> str:
        return str(self.get(f"/annotations/{job_id}/status").json()["status"])


class QueueDepth:
    """job_requests' visible and in-flight messages, from SQS (None when not configured)."""

    def __init__(self, queue_url: str | None, allowed: set[str]) -> None:
        self.queue_url = queue_url and targets.check(queue_url, allowed)
        self.sqs: Any = None
        if self.queue_url:
            import boto3

            self.sqs = boto3.client("sqs")

    def read(self) -> tuple[int, int] | None:
        if self.sqs is None:
            return None
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )


@dataclass
class Run:
    """What one run sent and saw."""

    jobs: list[Job] = field(default_factory=list)
    depth: list[tuple[float, int, int]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def open_jobs(self) -> list[Job]:
        return [job for job in self.jobs if job.status not in FINISHED]

    def done(self) -> int:
        return sum(1 for job in self.jobs if job.status in FINISHED)


class Generator:
    """Sends the job requests on schedule and follows them until they finish."""

    def __init__(
        self,
        web: JobSubmitter,
        queue: DepthReader,
        files: Sequence[Path],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        say: Callable[[str], None] = print,
    ) -> None:
        self.web, self.queue, self.files = web, queue, itertools.cycle(files)
        self.clock, self.sleep, self.say = clock, sleep, say
        self.started = clock()
        self.run = Run()
        self.next_depth = 0.0

    def now(self) -> float:
        return self.clock() - self.started

    def send_batch(self, batch: int) -> None:
        for _ in range(batch):
            path = next(self.files)
            try:
                job_id = self.web.submit(path)
            except Refused as refused:
                self.run.refused.append((path.name, str(refused)))
                self.say(f"{self.now():7.1f}s  {path.name}: refused: {refused}")
                continue
            size = path.stat().st_size
            self.run.jobs.append(Job(job_id, path.name, size, self.now()))
            self.say(f"{self.now():7.1f}s  sent {path.name} ({size:,} bytes) as job {job_id}")

    def follow_until(self, deadline: float) -> None:
        """Poll running jobs and the queue depth until ``deadline`` (seconds since start)."""
        while self.now() < deadline:
            for job in self.run.open_jobs():
                status = job.status = self.web.status(job.job_id)
                if status == "RUNNING" and job.running is None:
                    job.running = self.now()
                if status in FINISHED:
                    job.finished = self.now()
                    if job.running is None:  # finished between two polls
                        job.running = job.finished
                    self.say(
                        f"{self.now():7.1f}s  job {job.job_id} ({job.file}) {status} "
                        f"{job.latency:.1f} s after it was sent"
                    )
            if self.now() >= self.next_depth:
                self.record_depth()
            self.sleep(POLL_SECONDS)

    def record_depth(self) -> None:
        self.next_depth = self.now() + DEPTH_SECONDS
        depth = self.queue.read()
        if depth is None:
            return
        self.run.depth.append((round(self.now(), 2), *depth))
        self.say(
            f"{self.now():7.1f}s  job_requests: {depth[0]} waiting, {depth[1]} in flight; "
            f"{self.run.done()} of {len(self.run.jobs)} finished"
        )

    def execute(self, every: float, batch: int, count: int, duration: float, drain: float) -> Run:
        """Send every ``every`` s until ``count`` or ``duration``; then drain; both bounded."""
        for tick in ticks(every, duration):
            if len(self.run.jobs) + len(self.run.refused) >= count:
                break
            self.follow_until(tick)
            self.send_batch(min(batch, count - len(self.run.jobs) - len(self.run.refused)))
        stop = min(self.now(), duration) + drain
        while self.run.open_jobs() and self.now() < stop:
            self.follow_until(min(stop, self.now() + 1))
        return self.run


def ticks(every: float, duration: float) -> Iterator[float]:
    """Seconds since the start at which batches are sent: 0, every, 2*every, ... < duration."""
    n = 0
    while n * every < duration:
        yield n * every
        n += 1


def write_results(run: Run, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "jobs.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["job_id", "file", "bytes", "sent_s", "running_s", "finished_s", "status"])
        for job in run.jobs:
            writer.writerow(
                [job.job_id, job.file, job.size, job.sent, job.running, job.finished, job.status]
            )
    with (out / "depth.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t_s", "visible", "in_flight"])
        writer.writerows(run.depth)


def within_limit(
    files: Sequence[Path], limit: int | None, say: Callable[[str], None]
) -> list[Path]:
    """The files the account may upload; says which are skipped and why."""
    if limit is None:
        return list(files)
    kept = [path for path in files if path.stat().st_size <= limit]
    for path in files:
        if path not in kept:
            say(
                f"skipping {path.name}: {path.stat().st_size:,} bytes is over this account's "
                f"{limit:,}-byte limit (use a Premium account to send it)"
            )
    return kept


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--web-url", default="http://127.0.0.1:8080", help="the GAS web app")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between batches")
    parser.add_argument("--batch", type=int, default=1, help="job requests per batch")
    parser.add_argument("--count", type=int, default=12, help="most job requests to send")
    parser.add_argument("--duration", type=float, default=120.0, help="most seconds of sending")
    parser.add_argument("--drain", type=float, default=60.0, help="most seconds to wait after")
    parser.add_argument("--files", type=Path, nargs="+", help="VCF files (default: data/samples)")
    parser.add_argument("--email", default="annload@example.org", help="the account to use")
    parser.add_argument("--password", default="gas load test password")
    parser.add_argument("--queue-url", help="job_requests' SQS URL, to print its depth")
    parser.add_argument("--out", type=Path, help="folder for jobs.csv and depth.csv")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.every <= 0 or args.batch < 1 or args.count < 1 or args.duration <= 0:
        print(
            "ann_load: --every, --batch, --count and --duration must be positive", file=sys.stderr
        )
        return 2
    named = [args.web_url, *([args.queue_url] if args.queue_url else [])]
    allowed = targets.allowed_hosts(named)
    try:
        web = GasWeb(args.web_url, allowed)
        queue = QueueDepth(args.queue_url, allowed)
        web.sign_in(args.email, args.password)
        files = within_limit(
            args.files or sorted(SAMPLES.glob("*.vcf*")), web.upload_limit(), print
        )
    except (targets.RefusedTarget, Refused) as refused:
        print(f"ann_load: {refused}", file=sys.stderr)
        return 2
    if not files:
        print("ann_load: no file to send", file=sys.stderr)
        return 2
    run = Generator(web, queue, files).execute(
        args.every, args.batch, args.count, args.duration, args.drain
    )
    if args.out:
        write_results(run, args.out)
    completed = sum(1 for job in run.jobs if job.status == "COMPLETED")
    print(
        f"sent {len(run.jobs)} job requests ({len(run.refused)} refused): "
        f"{completed} COMPLETED, {len(run.jobs) - completed} not"
    )
    return 0 if run.jobs and completed == len(run.jobs) and not run.refused else 1


if __name__ == "__main__":
    sys.exit(main())
