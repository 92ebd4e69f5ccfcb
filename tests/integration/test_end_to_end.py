"""GAS end to end on the emulator: real worker processes, the `gas` command, every sample.

Each sample goes through the presigned POST over HTTP, the annotator and
notifier run as their own processes, and the test sees the job COMPLETED,
its results in S3 and its email sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import JobRepository, JobStatus
from gas.core.users import UserRepository
from gas.local.bootstrap import Stack

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((PROJECT_ROOT / "data" / "samples").iterdir())
GAS = [sys.executable, "-m", "gas.local.cli"]


@pytest.fixture
def environment(clients: AwsClients, stack: Stack, bundle_dir: Path) -> dict[str, str]:
    """The environment a deployed process gets: the stack's name and the emulator."""
    return {
        **os.environ,
        "GAS_STACK": clients.settings.stack,
        "ANNTOOLS_BUNDLE_DIR": str(bundle_dir),
        "GAS_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def workers(environment: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes = [
        subprocess.Popen([sys.executable, "-m", module], env=environment, cwd=PROJECT_ROOT)
        for module in ("gas.workers.annotator", "gas.workers.notifier")
    ]
    yield processes
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def gas(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GAS, *args],
        env=environment,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def mails_to(aws_endpoint: str, address: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{aws_endpoint}/moto-api/data.json", timeout=10) as response:
        messages = json.load(response).get("ses", {}).get("Message", [])
    return [m for m in messages if address in m["destinations"]["ToAddresses"]]


def test_every_sample_is_annotated_stored_and_mailed(
    clients: AwsClients,
    environment: dict[str, str],
    workers: list[subprocess.Popen[bytes]],
    aws_endpoint: str,
) -> None:
    names = clients.settings.names
    users = UserRepository(clients.dynamodb, names.users_table)
    users.set_plan("carol", "premium")  # the premium samples are over the Free limit
    address = f"carol-{names.stack}@example.org"
    for sample in SAMPLES:
        done = gas(
            environment,
            "submit",
            str(sample),
            "--user",
            "carol",
            "--email",
            address,
            "--timeout",
            "240",
        )
        assert done.returncode == 0, done.stderr
        assert "COMPLETED" in done.stdout
    jobs = JobRepository(clients.dynamodb, names.annotations_table).list_for_user("carol", 20)
    assert len(jobs.jobs) == len(SAMPLES)
    assert all(job.job_status == JobStatus.COMPLETED for job in jobs.jobs)
    stored = clients.s3.list_objects_v2(Bucket=names.results_bucket, Prefix="carol/")
    assert stored["KeyCount"] == 4 * len(SAMPLES)
    listing = gas(environment, "jobs", "--user", "carol")
    assert listing.returncode == 0
    assert all(sample.name in listing.stdout for sample in SAMPLES)
    assert all(worker.poll() is None for worker in workers)
    # mail is sent after the job completes: give the notifier its poll
    deadline = time.monotonic() + 30
    while len(mails_to(aws_endpoint, address)) < len(SAMPLES):
        assert time.monotonic() < deadline, "not every job was mailed"
        time.sleep(0.5)


def test_a_free_user_is_refused_a_premium_sized_file(
    clients: AwsClients, environment: dict[str, str]
) -> None:
    done = gas(
        environment,
        "submit",
        str(PROJECT_ROOT / "data" / "samples" / "premium_1.vcf"),
        "--user",
        "dave",
        "--no-wait",
    )
    assert done.returncode == 1
    assert "at most 153,600 bytes" in done.stderr
    assert "Subscribe" in done.stderr
