"""kill -9 of the annotator mid-job: the job still completes, exactly once, after the
visibility timeout, in a second annotator process."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import JobStatus
from gas.core.settings import Settings
from gas.local.bootstrap import bootstrap
from tests.integration.services import receive_documents, services, submit

pytestmark = pytest.mark.slow

VISIBILITY_SECONDS = 4
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def slow_input(path: Path, records: int = 150_000) -> Path:
    """A GRCh38 VCF big enough to take a few seconds to annotate."""
    rng = random.Random(5)
    lines = [
        "##fileformat=VCFv4.2",
        "##reference=GRCh38",
        "##contig=<ID=chr1,length=248956422>",
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    for pos in sorted(rng.sample(range(1, 248_000_000), records)):
        ref = rng.choice("ACGT")
        alt = rng.choice([b for b in "ACGT" if b != ref])
        lines.append(f"chr1\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.")
    path.write_text("\n".join(lines) + "\n")
    return path


def annotator_process(settings: Settings, bundle_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GAS_STACK": settings.stack,
        "GAS_JOB_VISIBILITY_SECONDS": str(VISIBILITY_SECONDS),
        "ANNTOOLS_BUNDLE_DIR": str(bundle_dir),
        "GAS_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gas.workers.annotator"], env=env, cwd=PROJECT_ROOT
    )


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_killed_annotator_s_job_completes_once_after_the_visibility_timeout(
    aws_environment: None, bundle_dir: Path, tmp_path: Path
) -> None:
    # GIVEN a stack whose job messages hide for only a few seconds, and a premium user
    settings = Settings(
        stack=f"k{uuid.uuid4().hex[:10]}", job_visibility_seconds=VISIBILITY_SECONDS
    )
    clients = AwsClients(settings)
    stack = bootstrap(clients)
    found = services(clients)
    found.users.set_plan("erin", "premium")
    job_id = submit(found, "erin", slow_input(tmp_path / "slow.vcf"))
    # WHEN the first annotator is killed with SIGKILL while the job runs
    first = annotator_process(settings, bundle_dir)
    try:
        wait_for(
            lambda: found.jobs.get(job_id).job_status == JobStatus.RUNNING,  # type: ignore[union-attr]
            60,
            "the first claim",
        )
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_while = found.jobs.get(job_id)
        assert killed_while is not None and killed_while.job_status == JobStatus.RUNNING
        # THEN a second annotator takes the job over once the message reappears
        second = annotator_process(settings, bundle_dir)
        try:
            wait_for(
                lambda: found.jobs.get(job_id).job_status == JobStatus.COMPLETED,  # type: ignore[union-attr]
                180,
                "completion by the second annotator",
            )
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    job = found.jobs.get(job_id)
    assert job is not None and job.attempts == 2
    # exactly once: one completion notice, no request left behind
    notices = receive_documents(clients, stack.queue_urls["job-results"])
    assert [n["job_id"] for n in notices] == [job_id]
    assert receive_documents(clients, stack.queue_urls["job-requests"], wait_seconds=0) == []
