"""The annotator bounds each job by its plan: size once decompressed, wall time, and a
child that never outlives its worker (SIGTERM or kill -9)."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import JobStatus
from gas.core.settings import FREE_LIMITS, Settings
from gas.local.bootstrap import Stack, bootstrap
from gas.workers.annotator import Annotator
from gas.workers.poll import Worker
from tests.integration.services import Services, receive_documents, services, submit

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HEADER = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n"
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
# Makes a `python -m anntools` process sleep before it starts work (the launcher that
# bounds it is not slowed): a child that runs "forever", for the wall-time and signal tests.
SLEEPY_SITE = (
    "import sys, time\nif sys.orig_argv[1:3] == ['-m', 'anntools']:\n    time.sleep(600)\n"
)


def _expanding_gzip(path: Path, expanded_bytes: int) -> Path:
    """A small gzip of one record and enough blank lines to expand to ``expanded_bytes``,
    in two members, the last one tiny: its trailer hides the size from registration's
    check, as a bgzip file's empty last block does, so only streaming can catch it."""
    body = (HEADER + COLUMNS + "chr1\t100\t.\tA\tG\t.\t.\t.\n").encode() + b"\n" * expanded_bytes
    path.write_bytes(gzip.compress(body) + gzip.compress(b"\n"))
    return path


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        found.update(children)
        frontier += children
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                    alive.add(pid)
        except FileNotFoundError:
            pass
    return alive


def _wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def found(clients: AwsClients, stack: Stack) -> Services:
    return services(clients)


@pytest.fixture
def sleepy_site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(SLEEPY_SITE)
    return folder


def test_a_free_gzip_that_expands_past_the_cap_fails_naming_the_limit(
    clients: AwsClients, stack: Stack, found: Services, bundle_dir: Path, tmp_path: Path
) -> None:
    # GIVEN a Free user's 2 KB gzip that expands past the Free cap on decompressed input
    cap = clients.settings.free_limits.input_bytes
    path = _expanding_gzip(tmp_path / "small.vcf.gz", cap + 1)
    assert path.stat().st_size < clients.settings.free_upload_limit_bytes
    job_id = submit(found, "alice", path)
    # WHEN the annotator handles it
    annotator = Annotator(
        clients, found.jobs, found.locator, child_env={"ANNTOOLS_BUNDLE_DIR": str(bundle_dir)}
    )
    assert Worker(clients.sqs, stack.queue_urls["job-requests"], annotator).poll_once() == 1
    # THEN the job is FAILED with a reason naming the limit and Premium; nothing annotated
    job = found.jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.FAILED
    assert job.failure_reason == (
        f"The file is larger than 1.5 MiB ({cap:,} bytes) once decompressed, the Free plan's "
        "limit for one input; it was not annotated. Subscribe to Premium for larger jobs."
    )
    listed = clients.s3.list_objects_v2(Bucket=clients.settings.names.results_bucket)
    assert listed.get("KeyCount", 0) == 0
    [notice] = receive_documents(clients, stack.queue_urls["job-results"])
    assert notice["status"] == "FAILED"


def test_a_job_past_its_wall_time_fails_and_its_child_is_gone(
    settings: Settings, found: Services, sleepy_site: Path
) -> None:
    # GIVEN a Free plan allowing 2 s per job, and an anntools that would run for minutes
    quick = replace(settings, free_limits=replace(FREE_LIMITS, seconds=2))
    clients = AwsClients(quick)
    stack = bootstrap(clients)
    annotator = Annotator(
        clients, found.jobs, found.locator, child_env={"PYTHONPATH": str(sleepy_site)}
    )
    job_id = submit(services(clients), "alice")
    worker = Worker(clients.sqs, stack.queue_urls["job-requests"], annotator, wait_seconds=5)
    # WHEN the annotator handles it
    servers = _descendants(os.getpid())  # the emulators this test session started
    started = time.monotonic()
    assert worker.poll_once() == 1
    # THEN it ends soon after the limit, FAILED with a reason naming it, and no child is left
    assert time.monotonic() - started < 30
    job = found.jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.FAILED
    assert job.failure_reason is not None
    assert job.failure_reason.startswith(
        "The annotation took longer than 2 seconds, the Free plan's limit per job"
    )
    assert _descendants(os.getpid()) == servers


@pytest.fixture
def annotator_process(
    settings: Settings, sleepy_site: Path, found: Services
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "GAS_STACK": settings.stack,
            "GAS_JOB_VISIBILITY_SECONDS": "120",
            "PYTHONPATH": str(sleepy_site),
            "GAS_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "gas.workers.annotator"], env=env, cwd=PROJECT_ROOT
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _running_with_child(found: Services, job_id: str, worker: subprocess.Popen[bytes]) -> set[int]:
    _wait_for(
        lambda: (job := found.jobs.get(job_id)) and job.job_status == JobStatus.RUNNING,
        60,
        "the claim",
    )
    _wait_for(lambda: _descendants(worker.pid), 30, "the anntools child")
    return _descendants(worker.pid)


def test_sigterm_ends_the_child_and_releases_the_message(
    clients: AwsClients,
    stack: Stack,
    found: Services,
    annotator_process: Callable[[], subprocess.Popen[bytes]],
) -> None:
    # GIVEN an annotator process whose anntools child is mid-job
    job_id = submit(found, "alice")
    worker = annotator_process()
    children = _running_with_child(found, job_id, worker)
    # WHEN it gets SIGTERM
    worker.send_signal(signal.SIGTERM)
    # THEN it exits promptly, its child group with it
    assert worker.wait(timeout=20) == 0
    _wait_for(lambda: not _alive(children), 10, "the child to end")
    # AND the job's message is visible again at once (not after the 120 s timeout)
    messages = clients.sqs.receive_message(
        QueueUrl=stack.queue_urls["job-requests"], WaitTimeSeconds=5
    ).get("Messages", [])
    assert len(messages) == 1
    job = found.jobs.get(job_id)
    assert job is not None and job.job_status == JobStatus.RUNNING  # for the next worker


def test_kill_9_of_the_worker_takes_its_child_with_it(
    found: Services,
    stack: Stack,
    annotator_process: Callable[[], subprocess.Popen[bytes]],
) -> None:
    job_id = submit(found, "alice")
    worker = annotator_process()
    children = _running_with_child(found, job_id, worker)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    _wait_for(lambda: not _alive(children), 10, "the orphaned child to end")
