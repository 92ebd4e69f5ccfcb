"""The load generators against a real local stack: the web app under gunicorn and an
annotator on the suite's emulator, Locust for a few seconds, ann_load for three jobs,
then the report on what they wrote."""

from __future__ import annotations

import csv
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gas.core.settings import Settings
from gas.local.bootstrap import Stack
from gas.local.localcloud import free_port
from loadtest import report
from tests.integration.conftest import _server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = PROJECT_ROOT / "data" / "samples"
pytestmark = pytest.mark.slow


@pytest.fixture
def environment(
    settings: Settings, stack: Stack, bundle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """This test's stack for every process it starts (they inherit the environment)."""
    monkeypatch.setenv("GAS_STACK", settings.stack)
    monkeypatch.setenv("GAS_WEB_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("GAS_SESSION_SECRET", secrets.token_hex(32))
    monkeypatch.setenv("ANNTOOLS_BUNDLE_DIR", str(bundle_dir))
    return dict(os.environ)


@pytest.fixture
def web_app(environment: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """The web app under gunicorn, one worker, and one annotator, as make load runs them."""
    url = environment["GAS_WEB_URL"]
    gunicorn = [sys.executable, "-m", "gunicorn", "--bind", url.removeprefix("http://"),
                "--workers", "1", "gas.web.wsgi:app"]  # fmt: skip
    annotator = [sys.executable, "-m", "gas.workers.annotator"]
    with (
        _server(gunicorn, f"{url}/login", tmp_path / "web.log"),
        (tmp_path / "annotator.log").open("wb") as log,
    ):
        worker = subprocess.Popen(annotator, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield url
        finally:
            worker.terminate()
            worker.wait(timeout=30)


def run(
    command: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_locust_and_ann_load_on_a_local_stack(
    web_app: str, environment: dict[str, str], settings: Settings, stack: Stack, tmp_path: Path
) -> None:
    # GIVEN the app and an annotator; WHEN 5 Locust users browse for 10 s
    locust = run(
        [str(Path(sys.executable).with_name("locust")), "-f", "loadtest/locustfile.py",
         "--host", web_app, "--headless", "-u", "5", "-r", "5", "-t", "10s",
         "--csv", str(tmp_path / "web"), "--csv-full-history", "--only-summary"],
        {**environment, "GAS_LOAD_ACCOUNTS": "2"},
        timeout=60,
    )  # fmt: skip
    # THEN they signed in through the forms and read every kind of page, without a failure
    assert locust.returncode == 0, locust.stderr[-2000:]
    with (tmp_path / "web_stats.csv").open() as handle:
        stats = {row["Name"]: row for row in csv.DictReader(handle)}
    for page in (
        "/",
        "/annotations",
        "/annotations/[id]",
        "/register (POST)",
        "/login (POST)",
        "S3 upload (presigned POST)",
        "/annotate/uploaded",
    ):
        assert int(stats[page]["Request Count"]) > 0, page
    assert stats["Aggregated"]["Failure Count"] == "0"

    # WHEN ann_load sends three real job requests, one every 2 s
    ann = run(
        [sys.executable, "-m", "loadtest.ann_load", "--web-url", web_app,
         "--queue-url", stack.queue_urls["job-requests"], "--every", "2", "--count", "3",
         "--duration", "20", "--drain", "30", "--out", str(tmp_path / "annotator"),
         "--files", str(SAMPLES / "test.vcf"), str(SAMPLES / "free_1.vcf")],
        environment,
        timeout=90,
    )  # fmt: skip
    # THEN the annotator completed all three, and it said what it sent and saw
    assert ann.returncode == 0, ann.stdout[-2000:] + ann.stderr[-2000:]
    assert "sent test.vcf (10,154 bytes) as job" in ann.stdout
    assert "job_requests:" in ann.stdout
    with (tmp_path / "annotator" / "jobs.csv").open() as handle:
        jobs = list(csv.DictReader(handle))
    assert [j["file"] for j in jobs] == ["test.vcf", "free_1.vcf", "test.vcf"]
    assert {j["status"] for j in jobs} == {"COMPLETED"}

    # AND the report reads what both wrote
    summary = report.write(tmp_path)
    assert summary.passed
    assert (tmp_path / "charts" / "annotator_job_latency.png").is_file()
    assert "test.vcf" in (tmp_path / "report.md").read_text()


def test_locust_refuses_a_host_it_cannot_load_safely() -> None:
    refused = run(
        [str(Path(sys.executable).with_name("locust")), "-f", "loadtest/locustfile.py",
         "--host", "ftp://127.0.0.1:21", "--headless", "-u", "1", "-t", "5s"],
        dict(os.environ),
        timeout=30,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "is not an http(s) URL" in refused.stderr + refused.stdout
