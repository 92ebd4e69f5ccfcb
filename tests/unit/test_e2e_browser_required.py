"""Without a browser the e2e suite skips, except with CI set: then it fails, and starts nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run_e2e(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env |= {"GAS_E2E_CHROMIUM": str(tmp_path / "no-such-chromium"), **variables}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/e2e"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_without_ci_a_missing_browser_skips_the_browser_tests(tmp_path: Path) -> None:
    done = run_e2e(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" in done.stdout and "passed" not in done.stdout


def test_with_ci_a_missing_browser_fails_the_run(tmp_path: Path) -> None:
    done = run_e2e(tmp_path, CI="true")
    assert done.returncode != 0
    assert f"no Chromium at {tmp_path / 'no-such-chromium'}" in done.stdout + done.stderr
    assert "with CI set the browser tests must run" in done.stdout + done.stderr


def test_with_ci_a_browser_that_is_not_executable_fails_the_run(tmp_path: Path) -> None:
    not_a_program = tmp_path / "chromium"
    not_a_program.write_text("")
    done = run_e2e(tmp_path, CI="1", GAS_E2E_CHROMIUM=str(not_a_program))
    assert done.returncode != 0
    assert "is not executable" in done.stdout + done.stderr
