"""The load-test report: stages and capacity from Locust's history, annotator service times
from ann_load's job timings, and the charts, on CSVs with hand-computed answers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from loadtest import report

HISTORY_COLUMNS = [
    "Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", "50%", "66%", "75%",
    "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%", "Total Request Count",
    "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
    "Total Min Response Time", "Total Max Response Time", "Total Average Content Size",
]  # fmt: skip


def history_row(
    t: int, users: int, name: str, rps: float, p95: float, requests: int, failures: int, mean: float
) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(HISTORY_COLUMNS, 0)
    row.update(
        {
            "Timestamp": 1_000 + t,
            "User Count": users,
            "Name": name,
            "Requests/s": rps,
            "50%": p95 / 2,
            "95%": p95,
            "99%": p95 * 1.5,
            "Total Request Count": requests,
            "Total Failure Count": failures,
            "Total Average Response Time": mean,
        }
    )
    return row


def write_history(path: Path, failing: bool = True) -> None:
    """GIVEN 10 users for 30 s (5 req/s, p95 100 ms, 20 ms mean), a 1-second spawn step at
    15 users, then 20 users for 30 s (10 req/s, p95 300 ms, 2 failures unless not
    ``failing``); each stage's users finish signing in 3 s after it starts."""
    rows, requests, failures, sign_ins, weighted = [], 0, 0, 0, 0.0
    for t in range(62):
        users = 10 if t < 30 else 15 if t == 30 else 20
        rps, p95, mean = (5, 100, 20.0) if users == 10 else (10, 300, 60.0)
        requests += rps
        weighted += rps * mean
        if t in (1, 2, 3, 32, 33):
            sign_ins += 5
        if failing and t in (40, 41):
            failures += 1
        running_mean = weighted / requests
        rows.append(history_row(t, users, "/login (POST)", 0, 0, sign_ins, 0, 0))
        rows.append(history_row(t, users, "Aggregated", rps, p95, requests, failures, running_mean))
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, HISTORY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_stages_are_measured_after_their_sign_ins(tmp_path: Path) -> None:
    write_history(tmp_path / "web_stats_history.csv")
    stages = report.web_stages(report.read_history(tmp_path / "web_stats_history.csv"))
    # The 1-second step at 15 users is spawning, not a stage.
    assert [s.users for s in stages] == [10, 20]
    first, second = stages
    # Last sign-in at 3 s, plus Locust's 10 s percentile window.
    assert first.steady_from == 13 and second.steady_from == 43
    assert (first.rps, first.p95, first.mean, first.failures) == (5.0, 100, 20.0, 0)
    assert (second.rps, second.p95, second.mean, second.failures) == (10.0, 300, 60.0, 2)
    assert first.sustainable and not second.sustainable


def test_capacity_is_the_best_stage_under_200_ms(tmp_path: Path) -> None:
    write_history(tmp_path / "web_stats_history.csv")
    stages = report.web_stages(report.read_history(tmp_path / "web_stats_history.csv"))
    capacity = report.web_capacity(stages)
    assert (capacity["sustainable_rps"], capacity["at_users"]) == (5.0, 10)
    assert capacity["limited_by_offered_load"] is False
    # Had the last stage passed too, the rate would only be a lower bound.
    passed = report.web_capacity(stages[:1])
    assert passed["limited_by_offered_load"] is True


def stage(users: int, rps: float, p95: float, failures: int = 0) -> report.Stage:
    return report.Stage(users, 0, 60, 10, rps, p95 / 2, p95, p95 * 1.2, p95 / 2, failures)


def test_capacity_is_where_p95_crosses_200_ms_between_stages() -> None:
    # GIVEN stages at 5 req/s (p95 100 ms) and 10 req/s (p95 300 ms), no failures
    capacity = report.web_capacity([stage(10, 5.0, 100), stage(20, 10.0, 300)])
    # THEN the rate is where the straight line between them reaches 200 ms
    assert (capacity["sustainable_rps"], capacity["at_users"], capacity["next_users"]) == (
        7.5,
        10,
        20,
    )
    # AND a stage that failed requests is no point to draw that line to
    failed = report.web_capacity([stage(10, 5.0, 100), stage(20, 10.0, 300, failures=1)])
    assert (failed["sustainable_rps"], failed["next_users"]) == (5.0, None)


def job(job_id: str, file: str, sent: float, finished: float | None) -> report.JobRecord:
    return report.JobRecord(
        job_id,
        file,
        100 if file == "a.vcf" else 200,
        sent,
        finished,
        "COMPLETED" if finished is not None else "RUNNING",
    )


def test_service_time_of_one_annotator() -> None:
    # Three jobs sent together and one 7 s later, when the annotator was idle again.
    jobs = [
        job("1", "a.vcf", 0, 1.0),
        job("2", "b.vcf", 0, 2.5),
        job("3", "a.vcf", 0, 3.0),
        job("4", "b.vcf", 10, 11.5),
        job("5", "a.vcf", 12, None),
    ]
    services = {j.job_id: round(s, 6) for j, s in report.service_times(jobs)}
    assert services == {"1": 1.0, "2": 1.5, "3": 0.5, "4": 1.5}
    capacity = {f.file: f for f in report.annotator_capacity(jobs)}
    assert capacity["a.vcf"].service_seconds == 0.75 and capacity["a.vcf"].jobs_per_minute == 80
    assert capacity["b.vcf"].service_seconds == 1.5 and capacity["b.vcf"].jobs_per_minute == 40


def test_write_makes_the_charts_the_capacity_and_the_report(tmp_path: Path) -> None:
    write_history(tmp_path / "web_stats_history.csv")
    (tmp_path / "annotator").mkdir()
    (tmp_path / "annotator" / "jobs.csv").write_text(
        "job_id,file,bytes,sent_s,running_s,finished_s,status\n"
        "1,a.vcf,100,0,0.1,1.0,COMPLETED\n2,b.vcf,200,0,1.0,2.5,COMPLETED\n"
    )
    (tmp_path / "annotator" / "depth.csv").write_text("t_s,visible,in_flight\n0,1,1\n2,0,1\n")
    summary = report.write(tmp_path)
    for name in (
        "web_requests",
        "web_latency",
        "web_failures",
        "annotator_queue_depth",
        "annotator_jobs_per_minute",
        "annotator_job_latency",
    ):
        assert (tmp_path / "charts" / f"{name}.png").read_bytes()[:4] == b"\x89PNG", name
    capacity = json.loads((tmp_path / "capacity.json").read_text())
    assert capacity["web"]["sustainable_rps"] == 5.0
    assert [f["jobs_per_minute"] for f in capacity["annotator"]["files"]] == [60.0, 40.0]
    text = (tmp_path / "report.md").read_text()
    assert "**5.0 requests/s** with a p95 under 200 ms, at 10 users" in text
    assert "| a.vcf | 100 | 1 | 1.00 | 60 |" in text
    # The 2 failures were at 20 users, within the bar's 50: it fails.
    assert not summary.passed


def test_passes_without_failures_or_unfinished_jobs(tmp_path: Path) -> None:
    write_history(tmp_path / "web_stats_history.csv", failing=False)
    (tmp_path / "annotator").mkdir()
    (tmp_path / "annotator" / "jobs.csv").write_text(
        "job_id,file,bytes,sent_s,running_s,finished_s,status\n1,a.vcf,100,0,0.1,1.0,COMPLETED\n"
    )
    (tmp_path / "annotator" / "depth.csv").write_text("t_s,visible,in_flight\n0,1,0\n")
    assert report.write(tmp_path).passed
