"""`gas local up|status|down` on free ports: the local cloud starts, is usable, and stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gas.local.localcloud import free_port

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


def test_local_up_status_down(tmp_path: Path) -> None:
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
    try:
        up = gas(env, "local", "up")
        assert up.returncode == 0, up.stderr
        assert f"aws: started on http://127.0.0.1:{aws}" in up.stdout
        assert "Stripe plan gas-premium-monthly" in up.stdout
        again = gas(env, "local", "up")  # idempotent
        assert again.returncode == 0 and "already listening" in again.stdout
        status = gas(env, "local", "status")
        assert status.returncode == 0
        for queue in ("job-requests", "job-results", "archive", "restore", "thaw"):
            assert f"  {queue + '-dlq':<18}0 waiting" in status.stdout
        assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{aws}" in status.stdout
    finally:
        down = gas(env, "local", "down")
    assert "aws: stopped" in down.stdout and "stripe: stopped" in down.stdout
    assert gas(env, "local", "status").returncode == 1
