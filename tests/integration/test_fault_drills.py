"""Fault drill: the emulator dies and comes back under a running annotator.

moto keeps everything in memory, so a restart of the emulator is an outage
that also wipes the stack: what matters is that the worker neither dies nor
floods its log while AWS is unreachable, and that it takes work again, without
a restart of its own, once the stack is back (the queue names do not change).
Kill -9 of a worker mid-job is test_worker_killed.py; duplicate messages on
every queue are the duplicate tests of test_annotator, test_notifier,
test_archive and test_restore (docs/operations.md lists them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import JobStatus
from gas.core.settings import Settings
from gas.local.bootstrap import bootstrap
from gas.local.localcloud import free_port
from tests.integration.services import services, submit

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 6


def _wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
    except OSError:
        return False
    return True


class Emulator:
    """A private moto server on a fixed loopback port that can be killed and restarted."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        moto_server = str(Path(sys.executable).with_name("moto_server"))
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [moto_server, "-H", "127.0.0.1", "-p", str(self.port)], stdout=log, stderr=log
            )
        _wait_for(lambda: _answers(self.url + "/moto-api/"), 30, "moto")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def emulator(
    aws_environment: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Emulator]:
    moto = Emulator(tmp_path / "moto.log")
    moto.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
    yield moto
    if moto.process is not None and moto.process.poll() is None:
        moto.kill()


def test_the_annotator_rides_out_an_emulator_restart(
    emulator: Emulator, bundle_dir: Path, tmp_path: Path
) -> None:
    # GIVEN a stack on a private emulator, and an annotator polling it
    settings = Settings(stack=f"f{uuid.uuid4().hex[:10]}")
    bootstrap(AwsClients(settings))
    log_path = tmp_path / "annotator.log"
    env = {
        **os.environ,
        "GAS_STACK": settings.stack,
        "ANNTOOLS_BUNDLE_DIR": str(bundle_dir),
        "GAS_LOG_LEVEL": "INFO",
    }
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "gas.workers.annotator"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=log,
        )
    try:
        _wait_for(lambda: "polling" in log_path.read_text(), 30, "the first poll")
        # WHEN the emulator dies (taking the stack with it) and comes back a while later
        emulator.kill()
        time.sleep(OUTAGE_SECONDS)
        emulator.start()
        clients = AwsClients(settings)
        bootstrap(clients)
        # THEN the same annotator process takes a new job to completion
        found = services(clients)
        job_id = submit(found, "alice")
        _wait_for(
            lambda: (job := found.jobs.get(job_id)) and job.job_status == JobStatus.COMPLETED,
            120,
            "the job after the outage",
        )
        assert worker.poll() is None, "the annotator died during the outage"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    # AND it said so once, without a traceback a second
    text = log_path.read_text()
    assert text.count("cannot receive from") == 1, text[-3000:]
    assert "Traceback" not in text
    assert "reachable again" in text
