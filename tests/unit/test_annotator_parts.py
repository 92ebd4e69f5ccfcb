"""The annotator's pure parts: progress lines, error lines, progress throttling, job items."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gas.core.jobs import Job, JobStatus
from gas.workers.annotator import ProgressRecorder, anntools_command, error_reason, progress_percent


def _line(read: int, total: int) -> str:
    return json.dumps({"records": 1, "bytes_read": read, "bytes_total": total})


@pytest.mark.parametrize(
    ("line", "percent"),
    [
        (_line(0, 200), 0),
        (_line(50, 200), 25),
        (_line(199, 200), 99),
        (_line(200, 200), 99),  # 100 is for stored results
        (_line(1, 0), None),
        ("anntools: x.vcf: bad", None),
        ('{"records": 3}', None),
        ("[1]", None),
    ],
)
def test_progress_percent_reads_bytes(line: str, percent: int | None) -> None:
    assert progress_percent(line) == percent


def test_error_reason_is_the_line_without_the_program_name() -> None:
    assert error_reason("anntools: x.vcf: line 1: not a VCF") == "x.vcf: line 1: not a VCF"
    assert error_reason("Traceback (most recent call last):") is None


def test_the_child_runs_this_interpreter_without_a_shell() -> None:
    command = anntools_command(Path("in.vcf"), Path("out"))
    assert command[:4] == [sys.executable, "-m", "anntools", "annotate"]
    assert command[-2:] == ["--progress", "json"]


class FakeJobs:
    def __init__(self, claim_holds: bool = True) -> None:
        self.writes: list[int] = []
        self.claim_holds = claim_holds

    def update_progress(self, job_id: str, token: str, percent: int) -> bool:
        self.writes.append(percent)
        return self.claim_holds


def test_progress_is_written_at_most_every_interval_and_only_when_changed() -> None:
    jobs = FakeJobs()
    now = [0.0]
    recorder = ProgressRecorder(jobs, "j", "t", 2.0, clock=lambda: now[0])  # type: ignore[arg-type]
    steps = [(0.0, 10), (1.0, 20), (2.5, 30), (2.6, 40), (5.0, 40), (8.0, 40), (11.0, 50)]
    for at, percent in steps:
        now[0] = at
        assert recorder(percent)
    # 20 and the first 40 came too soon; the 40 at 8.0 s had already been written
    assert jobs.writes == [10, 30, 40, 50]


def test_a_lost_claim_stops_the_run() -> None:
    recorder = ProgressRecorder(FakeJobs(claim_holds=False), "j", "t", 0)  # type: ignore[arg-type]
    assert recorder(5) is False


def test_job_items_round_trip_with_numbers_as_numbers() -> None:
    job = Job(
        job_id="j",
        user_id="u",
        input_file_name="s.vcf",
        s3_inputs_bucket="b",
        s3_key_input_file="u/j~s.vcf",
        submit_time=1700000000,
    )
    item = job.to_item()
    assert item["submit_time"] == {"N": "1700000000"}
    assert item["job_status"] == {"S": "PENDING"}
    assert item["progress"] == {"N": "0"}
    assert "complete_time" not in item  # absent, not null
    assert Job.from_item(item) == job
    assert Job.from_item({**item, "unknown": {"S": "kept out"}}).job_status is JobStatus.PENDING
