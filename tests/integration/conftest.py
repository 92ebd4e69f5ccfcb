"""The local cloud for integration tests.

The suite starts moto's server on a free loopback port for the session,
unless GAS_TEST_AWS_ENDPOINT names an emulator that is already running
(LocalStack, another moto): then the same tests run against that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.settings import Settings
from gas.local.bootstrap import Stack, bootstrap
from gas.local.localcloud import free_port

pytestmark = pytest.mark.integration
LOCALSTRIPE = Path(__file__).resolve().parents[2] / "gas" / "local" / "localstripe_loopback.py"


def _wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers, if only to say no
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url} within {seconds} s")


@contextmanager
def _server(command: list[str], url: str, log_path: Path) -> Iterator[str]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=log)
        try:
            _wait_until_up(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def aws_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    given = os.environ.get("GAS_TEST_AWS_ENDPOINT")
    if given:
        yield given.rstrip("/")
        return
    port = free_port()
    moto_server = str(Path(sys.executable).with_name("moto_server"))
    command = [moto_server, "-H", "127.0.0.1", "-p", str(port)]
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with _server(command, f"http://127.0.0.1:{port}/moto-api/", log):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def stripe_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """localstripe on a free loopback port (its own launcher would listen on all interfaces)."""
    given = os.environ.get("GAS_TEST_STRIPE_ENDPOINT")
    if given:
        yield given.rstrip("/")
        return
    port = free_port()
    command = [sys.executable, str(LOCALSTRIPE), str(port)]
    log = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    with _server(command, f"http://127.0.0.1:{port}/v1/plans", log):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def aws_environment(aws_endpoint: str) -> Iterator[None]:
    """Point boto3 at the emulator with throwaway credentials, for the session."""
    values = {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def settings(aws_environment: None) -> Settings:
    """A fresh stack name per test, so tests never see each other's resources."""
    return Settings(stack=f"t{uuid.uuid4().hex[:10]}", free_retention_seconds=2)


@pytest.fixture
def clients(settings: Settings) -> AwsClients:
    return AwsClients(settings)


@pytest.fixture
def stack(clients: AwsClients) -> Stack:
    return bootstrap(clients)
