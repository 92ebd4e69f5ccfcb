"""`gas local up|status|down` and `gas run` on free ports: the local cloud starts, is usable
from another shell, and stops; bad settings stop `gas` before anything starts."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from gas.local.localcloud import free_port, port_open

PROJECT_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def gas(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gas.local.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_environment(tmp_path: Path) -> tuple[dict[str, str], int, int]:
    """This process's environment without GAS's variables, and the local cloud on free ports."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "STRIPE_", "GAS_"))
    }
    aws, stripe = free_port(), free_port()
    env |= {
        "GAS_LOCAL_AWS_PORT": str(aws),
        "GAS_LOCAL_STRIPE_PORT": str(stripe),
        "GAS_LOCAL_STATE_DIR": str(tmp_path / "state"),
    }
    return env, aws, stripe


def exports(status_output: str) -> dict[str, str]:
    """The variables `gas local status` tells a shell to export."""
    found = {}
    for line in status_output.splitlines():
        if line.strip().startswith("export "):
            name, _, value = line.strip().removeprefix("export ").partition("=")
            found[name] = shlex.split(value)[0] if value else ""
    return found


def test_local_up_status_down(tmp_path: Path) -> None:
    env, aws, _ = clean_environment(tmp_path)
    stack = f"s{uuid.uuid4().hex[:8]}"
    try:
        up = gas(env | {"GAS_STACK": stack}, "local", "up")
        assert up.returncode == 0, up.stderr
        assert f"aws: started on http://127.0.0.1:{aws}" in up.stdout
        assert "Stripe plan gas-premium-monthly" in up.stdout
        again = gas(env | {"GAS_STACK": stack}, "local", "up")  # idempotent
        assert again.returncode == 0 and "already listening" in again.stdout
        status = gas(env, "local", "status")  # another shell: no GAS_STACK of its own
        assert status.returncode == 0
        for queue in ("job-requests", "job-results", "archive", "restore", "thaw"):
            assert f"  {queue + '-dlq':<18}0 waiting" in status.stdout
        assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{aws}" in status.stdout
        shell = exports(status.stdout)
        assert shell["GAS_STACK"] == stack
        # everything `gas jobs` needs: it reaches the stack's tables and answers
        jobs = gas(env | shell, "jobs", "--user", "demo")
        assert (jobs.returncode, jobs.stdout, jobs.stderr) == (0, "no jobs for demo\n", "")
    finally:
        down = gas(env, "local", "down")
    assert "aws: stopped" in down.stdout and "stripe: stopped" in down.stdout
    assert gas(env, "local", "status").returncode == 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GAS_STACK", "ux", "gas: GAS_STACK: stack name 'ux' must be 3-32 lowercase letters"),
        ("GAS_STACK", "My_Stack!", "gas: GAS_STACK: stack name 'My_Stack!' must be"),
        ("GAS_FREE_RETENTION_SECONDS", "soon", "gas: GAS_FREE_RETENTION_SECONDS must be a whole"),
        ("GAS_LOCAL_AWS_PORT", "http", "gas: GAS_LOCAL_AWS_PORT must be a port number"),
        ("GAS_WEB_URL", "127.0.0.1:8080", "gas: GAS_WEB_URL must be an http(s) URL"),
    ],
)
def test_a_bad_setting_stops_gas_run_before_anything_starts(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    env, aws, stripe = clean_environment(tmp_path)
    ran = gas(env | {variable: value}, "run")
    assert ran.returncode == 2
    assert ran.stderr.startswith(message) and ran.stderr.count("\n") == 1, ran.stderr
    assert ran.stdout == ""
    assert not (tmp_path / "state").exists()  # no pid file, no log: nothing was started
    assert not port_open(aws) and not port_open(stripe)
