"""The load-test report: charts, measured capacities and a summary, from the generators' CSVs.

    python -m loadtest.report results/load

Reads what the two load generators wrote in one folder: Locust's ``web_stats.csv``,
``web_stats_history.csv`` (written with ``--csv-full-history``) and
``web_failures.csv``, and ann_load's ``annotator/jobs.csv`` and ``annotator/depth.csv``.
Writes ``charts/*.png``, ``capacity.json`` (what the scaling replay reads) and
``report.md``.

How capacity is measured:

- **Web, one process**: the run is split into stages where Locust's user count is
  constant. Each new user signs in first (an argon2id hash or two: about 0.15 s of CPU
  each), so a stage's steady part starts 10 s (Locust's percentile window) after the
  last sign-in in it. Over the steady part the stage's rate is the growth of the
  request count over the time, and its p50/p95/p99 the median of Locust's 10-second
  percentiles. The sustainable rate is where p95 reaches 200 ms: between the
  fastest stage under 200 ms (and no failure) and the next one, on the straight line
  through their p95s; the fastest stage's own rate when the next one failed requests.
- **Annotator, one process**: with one annotator taking one job at a time, the i-th
  job to finish started when the one before it finished, or when it was sent if the
  annotator was idle; so its service time is ``finished_i - max(finished_i-1,
  sent_i)``. That includes everything the annotator does for a job (receive, claim,
  download, annotate, upload four results, complete, publish); jobs per minute for a
  file is 60 over its mean service time. Times come from polling the job's status every
  0.25 s, so they carry that much uncertainty.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

P95_LIMIT_MS = 200.0
WINDOW_SECONDS = 10  # Locust's window for its "current" percentiles
MIN_STEADY_ROWS = 3
MIN_PLATEAU_ROWS = 5
SIGN_IN_REQUESTS = ("/login (POST)", "/register (POST)")
BAR_USERS = 50  # the bar: no failed request at this many users or fewer


# --- reading Locust's history ---------------------------------------------------------


@dataclass(frozen=True)
class Second:
    """One row of Locust's history for the aggregate of all requests."""

    t: float  # seconds since the first row
    users: int
    rps: float
    fails_per_s: float
    p50: float | None
    p95: float | None
    p99: float | None
    requests: int
    failures: int
    mean_ms: float
    sign_ins: int  # sign-in requests so far (from the per-request rows)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def read_history(path: Path) -> list[Second]:
    rows = read_rows(path)
    sign_ins: dict[str, int] = {}
    seconds: list[Second] = []
    start = float(rows[0]["Timestamp"]) if rows else 0.0
    for row in rows:
        if row["Name"] in SIGN_IN_REQUESTS:
            sign_ins[row["Timestamp"]] = sign_ins.get(row["Timestamp"], 0) + int(
                row["Total Request Count"]
            )
        if row["Name"] != "Aggregated":
            continue
        seconds.append(
            Second(
                t=float(row["Timestamp"]) - start,
                users=int(row["User Count"]),
                rps=float(row["Requests/s"]),
                fails_per_s=float(row["Failures/s"]),
                p50=_number(row["50%"]),
                p95=_number(row["95%"]),
                p99=_number(row["99%"]),
                requests=int(row["Total Request Count"]),
                failures=int(row["Total Failure Count"]),
                mean_ms=float(row["Total Average Response Time"]),
                sign_ins=sign_ins.get(row["Timestamp"], 0),
            )
        )
    return _carry_sign_ins(seconds)


def _carry_sign_ins(seconds: list[Second]) -> list[Second]:
    """Per-request rows appear only once a request of that name was made: carry counts on."""
    carried, best = [], 0
    for second in seconds:
        best = max(best, second.sign_ins)
        carried.append(Second(**{**asdict(second), "sign_ins": best}))
    return carried


# --- web stages -------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    users: int
    start: float
    end: float
    steady_from: float | None  # None: too short to measure after the sign-ins
    rps: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    mean: float | None
    failures: int

    @property
    def sustainable(self) -> bool:
        return self.p95 is not None and self.p95 < P95_LIMIT_MS and self.failures == 0


def plateaus(seconds: Sequence[Second]) -> list[list[Second]]:
    """Runs of at least MIN_PLATEAU_ROWS rows with the same non-zero user count.

    Shorter runs are the spawning in between (Locust adds users at its spawn rate).
    """
    runs: list[list[Second]] = []
    for second in seconds:
        if runs and runs[-1][-1].users == second.users:
            runs[-1].append(second)
        else:
            runs.append([second])
    return [run for run in runs if run[0].users > 0 and len(run) >= MIN_PLATEAU_ROWS]


def last_sign_in(rows: Sequence[Second], previous: Second | None) -> float:
    """When the stage's last sign-in finished (its first row if none happened in it)."""
    count, last = (previous.sign_ins if previous else 0), rows[0].t
    for row in rows:
        if row.sign_ins > count:
            count, last = row.sign_ins, row.t
    return last


def measure_stage(rows: list[Second], previous: Second | None) -> Stage:
    failures = rows[-1].failures - (previous.failures if previous else 0)
    settled = last_sign_in(rows, previous) + WINDOW_SECONDS
    steady = [r for r in rows if r.t >= settled and r.p95 is not None]
    if len(steady) < MIN_STEADY_ROWS:
        return Stage(
            rows[0].users, rows[0].t, rows[-1].t, None, None, None, None, None, None, failures
        )
    span = steady[-1].t - steady[0].t
    return Stage(
        users=rows[0].users,
        start=rows[0].t,
        end=rows[-1].t,
        steady_from=steady[0].t,
        rps=round((steady[-1].requests - steady[0].requests) / span, 2),
        p50=statistics.median(r.p50 for r in steady if r.p50 is not None),
        p95=statistics.median(r.p95 for r in steady if r.p95 is not None),
        p99=statistics.median(r.p99 for r in steady if r.p99 is not None),
        mean=_mean_between(steady[0], steady[-1]),
        failures=failures,
    )


def _mean_between(first: Second, last: Second) -> float | None:
    """Mean response time of the requests made between two rows (from the running means)."""
    count = last.requests - first.requests
    if count <= 0:
        return None
    return round((last.mean_ms * last.requests - first.mean_ms * first.requests) / count, 1)


def web_stages(seconds: Sequence[Second]) -> list[Stage]:
    stages, previous = [], None
    for rows in plateaus(seconds):
        stages.append(measure_stage(rows, previous))
        previous = rows[-1]
    return stages


# --- annotator jobs ---------------------------------------------------------------------


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    file: str
    size: int
    sent: float
    finished: float | None
    status: str


def read_jobs(path: Path) -> list[JobRecord]:
    return [
        JobRecord(
            row["job_id"],
            row["file"],
            int(row["bytes"]),
            float(row["sent_s"]),
            _number(row["finished_s"]),
            row["status"],
        )
        for row in read_rows(path)
    ]


def service_times(jobs: Sequence[JobRecord]) -> list[tuple[JobRecord, float]]:
    """Each finished job's service time on a single annotator (see the module's notes)."""
    done = sorted((j for j in jobs if j.finished is not None), key=lambda j: j.finished or 0)
    times, previous_end = [], 0.0
    for job in done:
        assert job.finished is not None
        times.append((job, job.finished - max(previous_end, job.sent)))
        previous_end = job.finished
    return times


@dataclass(frozen=True)
class FileCapacity:
    file: str
    bytes: int
    jobs: int
    service_seconds: float
    jobs_per_minute: float


def annotator_capacity(jobs: Sequence[JobRecord]) -> list[FileCapacity]:
    by_file: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    for job, seconds in service_times(jobs):
        if job.status == "COMPLETED":
            by_file.setdefault(job.file, []).append(seconds)
            sizes[job.file] = job.size
    result = []
    for name in sorted(by_file, key=lambda n: sizes[n]):
        mean = statistics.mean(by_file[name])
        result.append(
            FileCapacity(name, sizes[name], len(by_file[name]), round(mean, 3), round(60 / mean, 1))
        )
    return result


# --- charts -----------------------------------------------------------------------------


def _save(figure: Any, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _users_axis(axis: Any, seconds: Sequence[Second]) -> None:
    twin = axis.twinx()
    twin.step(
        [s.t for s in seconds],
        [s.users for s in seconds],
        where="post",
        color="grey",
        alpha=0.5,
        label="users",
    )
    twin.set_ylabel("Locust users", color="grey")


def chart_requests(seconds: Sequence[Second], stages: Sequence[Stage], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.plot([s.t for s in seconds], [s.rps for s in seconds], label="requests/s (10 s window)")
    for stage in stages:
        if stage.rps is not None and stage.steady_from is not None:
            axis.hlines(stage.rps, stage.steady_from, stage.end, colors="C1", linewidth=3)
    axis.plot([], [], color="C1", linewidth=3, label="stage rate (steady part)")
    axis.set(xlabel="seconds", ylabel="requests/s", title="Web: requests per second")
    axis.legend(loc="upper left")
    _users_axis(axis, seconds)
    _save(figure, path)


def chart_latency(seconds: Sequence[Second], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(9, 4))
    t = [s.t for s in seconds]
    for name, values in (
        ("p50", [s.p50 for s in seconds]),
        ("p95", [s.p95 for s in seconds]),
        ("p99", [s.p99 for s in seconds]),
    ):
        axis.plot(t, [v if v is not None else float("nan") for v in values], label=name)
    axis.axhline(P95_LIMIT_MS, color="red", linestyle="--", label="p95 limit, 200 ms")
    axis.set_yscale("log")
    axis.set(xlabel="seconds", ylabel="ms (log scale)", title="Web: latency, 10-second percentiles")
    axis.legend(loc="upper left")
    _users_axis(axis, seconds)
    _save(figure, path)


def chart_failures(seconds: Sequence[Second], stages: Sequence[Stage], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.step(
        [s.t for s in seconds],
        [s.failures for s in seconds],
        where="post",
        color="C3",
        label="failed requests so far",
    )
    for stage in stages:
        axis.annotate(
            f"{stage.users} users: {stage.failures} failed",
            (stage.start, 0),
            xytext=(2, 8 + 12 * (stages.index(stage) % 3)),
            textcoords="offset points",
            fontsize=8,
        )
    axis.set_ylim(bottom=0, top=max(5, max((s.failures for s in seconds), default=0) * 1.3))
    axis.set(xlabel="seconds", ylabel="failed requests", title="Web: failures")
    axis.legend(loc="upper right")
    _save(figure, path)


def chart_depth(depth: Sequence[tuple[float, int, int]], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.step([d[0] for d in depth], [d[1] for d in depth], where="post", label="waiting (visible)")
    axis.step([d[0] for d in depth], [d[2] for d in depth], where="post", label="in flight")
    axis.set(xlabel="seconds", ylabel="messages", title="job_requests queue depth")
    axis.legend()
    _save(figure, path)


def chart_throughput(jobs: Sequence[JobRecord], path: Path, bin_seconds: int = 10) -> None:
    """Jobs finished per minute: each 10-second bin as a rate, and the trailing minute."""
    finished = sorted(j.finished for j in jobs if j.finished is not None)
    end = int(max(finished, default=0)) + 1
    bins = range(0, end + bin_seconds, bin_seconds)
    rates = [sum(1 for f in finished if b <= f < b + bin_seconds) * 60 / bin_seconds for b in bins]
    trailing = [sum(1 for f in finished if s - 60 < f <= s) for s in range(60, end + 1)]
    figure, axis = plt.subplots(figsize=(9, 4))
    axis.bar(
        list(bins),
        rates,
        width=bin_seconds * 0.9,
        align="edge",
        alpha=0.5,
        label=f"finished in each {bin_seconds} s, as a rate per minute",
    )
    axis.plot(range(60, end + 1), trailing, color="C1", label="finished in the last 60 s")
    axis.set(
        xlabel="seconds", ylabel="jobs per minute", title="Annotator: jobs completed per minute"
    )
    axis.legend()
    _save(figure, path)


def chart_job_latency(jobs: Sequence[JobRecord], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(9, 4))
    service = dict((job.job_id, seconds) for job, seconds in service_times(jobs))
    files = sorted({j.file for j in jobs}, key=lambda n: next(j.size for j in jobs if j.file == n))
    for index, name in enumerate(files):
        mine = [j for j in jobs if j.file == name and j.finished is not None]
        axis.scatter(
            [j.sent for j in mine],
            [(j.finished or 0) - j.sent for j in mine],
            color=f"C{index}",
            label=f"{name}: sent to finished",
        )
        axis.scatter(
            [j.sent for j in mine], [service[j.job_id] for j in mine], color=f"C{index}", marker="x"
        )
    axis.scatter([], [], color="black", marker="x", label="x: service time alone")
    axis.set(xlabel="sent at (seconds)", ylabel="seconds", title="Annotator: job latency")
    axis.legend(fontsize=7, ncol=2)
    _save(figure, path)


# --- the report -------------------------------------------------------------------------


@dataclass
class Summary:
    text: str
    passed: bool
    capacity: dict[str, Any] = field(default_factory=dict)


def web_capacity(stages: Sequence[Stage]) -> dict[str, Any]:
    measured = [s for s in stages if s.rps is not None]
    best = max((s for s in measured if s.sustainable), key=_rate, default=None)
    above = min((s for s in measured if best and _rate(s) > _rate(best)), key=_rate, default=None)
    rate = best.rps if best else None
    if best and above and above.failures == 0:
        rate = _rate_at_limit(best, above)
    return {
        "processes": 1,
        "p95_limit_ms": P95_LIMIT_MS,
        "sustainable_rps": rate,
        "at_users": best.users if best else None,
        "next_users": above.users if best and above and above.failures == 0 else None,
        "limited_by_offered_load": bool(best and measured and best is measured[-1]),
        "stages": [asdict(s) for s in stages],
    }


def _rate(stage: Stage) -> float:
    return stage.rps or 0.0


def _rate_at_limit(under: Stage, over: Stage) -> float:
    """Where p95 reaches the limit between a stage under it and the next stage, over it.

    Linear between the two: latency grows faster than linearly with the rate as
    requests start to queue, so the straight line crosses the limit first and the
    rate it gives errs low.
    """
    assert under.p95 is not None and over.p95 is not None
    share = (P95_LIMIT_MS - under.p95) / (over.p95 - under.p95)
    return round(_rate(under) + share * (_rate(over) - _rate(under)), 1)


def _cell(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _stage_table(stages: Sequence[Stage]) -> list[str]:
    lines = [
        "| users | steady from (s) | req/s | mean ms | p50 ms | p95 ms | p99 ms | failed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in stages:
        cells = [_cell(s.steady_from), _cell(s.rps, 1), _cell(s.mean)]
        cells += [_cell(s.p50), _cell(s.p95), _cell(s.p99)]
        lines.append(f"| {s.users} | {' | '.join(cells)} | {s.failures} |")
    return lines


def _capacity_sentence(web: dict[str, Any]) -> str:
    measured = [s for s in web["stages"] if s["rps"] is not None]
    if not measured:
        return "not measured: no stage lasted 10 s past its sign-ins."
    if web["sustainable_rps"] is None:
        return "below the lowest stage: none kept its p95 under 200 ms without failures."
    bound = "at least " if web["limited_by_offered_load"] else ""
    if bound:
        where = f"at {web['at_users']} users (the highest load offered, so the limit lies above it)"
    elif web["next_users"]:
        where = (
            f"between the {web['at_users']}- and {web['next_users']}-user stages, "
            "on the straight line through their p95s (which errs low)"
        )
    else:
        where = f"at {web['at_users']} users"
    return f"**{bound}{web['sustainable_rps']:.1f} requests/s** with a p95 under 200 ms, {where}."


def _file_row(f: FileCapacity) -> str:
    return (
        f"| {f.file} | {f.bytes:,} | {f.jobs} | {f.service_seconds:.2f} | {f.jobs_per_minute:.0f} |"
    )


def write(folder: Path) -> Summary:
    """Charts, capacity.json and report.md in ``folder``; returns the summary text."""
    charts = folder / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    seconds = read_history(folder / "web_stats_history.csv")
    stages = web_stages(seconds)
    jobs = read_jobs(folder / "annotator" / "jobs.csv")
    depth = [
        (float(r["t_s"]), int(r["visible"]), int(r["in_flight"]))
        for r in read_rows(folder / "annotator" / "depth.csv")
    ]
    chart_requests(seconds, stages, charts / "web_requests.png")
    chart_latency(seconds, charts / "web_latency.png")
    chart_failures(seconds, stages, charts / "web_failures.png")
    chart_depth(depth, charts / "annotator_queue_depth.png")
    chart_throughput(jobs, charts / "annotator_jobs_per_minute.png")
    chart_job_latency(jobs, charts / "annotator_job_latency.png")

    web = web_capacity(stages)
    files = annotator_capacity(jobs)
    capacity = {"web": web, "annotator": {"processes": 1, "files": [asdict(f) for f in files]}}
    (folder / "capacity.json").write_text(json.dumps(capacity, indent=2) + "\n")

    failures_at_bar = sum(s.failures for s in stages if s.users <= BAR_USERS)
    not_completed = [j for j in jobs if j.status != "COMPLETED"]
    lines = [
        "# Load test report",
        "",
        "Measured on this machine (2 cores shared by moto, the web app, the annotator and the",
        "load generators; figures vary from run to run by 10-30 %). The web app ran one gunicorn",
        "worker process and the annotators one process, so these are capacities **per process**",
        "against the local emulator (moto answers every DynamoDB, S3 and SQS call, and is part",
        "of every figure).",
        "",
        "## Web tier (Locust, users browse at 1-3 s intervals)",
        "",
        *_stage_table(stages),
        "",
        f"Sustainable rate for one process: {_capacity_sentence(web)}",
        f"Failed requests at {BAR_USERS} users or fewer: {failures_at_bar}.",
        "",
        "![requests](charts/web_requests.png)",
        "![latency](charts/web_latency.png)",
        "![failures](charts/web_failures.png)",
        "",
        "## Annotator (a batch of job requests every 10 s, every sample file)",
        "",
        "| file | bytes | jobs | service s | jobs/minute, one annotator |",
        "|---|---:|---:|---:|---:|",
        *[_file_row(f) for f in files],
        "",
        f"Job requests sent: {len(jobs)}; not COMPLETED: {len(not_completed)}.",
        "",
        "![queue depth](charts/annotator_queue_depth.png)",
        "![jobs per minute](charts/annotator_jobs_per_minute.png)",
        "![job latency](charts/annotator_job_latency.png)",
        "",
    ]
    (folder / "report.md").write_text("\n".join(lines))
    text = "\n".join(
        [
            f"web, one process: {_capacity_sentence(web)}",
            f"web: {failures_at_bar} failed requests at {BAR_USERS} users or fewer",
            *[
                f"annotator, one process: {f.jobs_per_minute:.0f} jobs/minute on {f.file} "
                f"({f.service_seconds:.2f} s a job, {f.jobs} jobs)"
                for f in files
            ],
            f"annotator: {len(jobs)} job requests sent, {len(not_completed)} not COMPLETED",
        ]
    )
    return Summary(text, failures_at_bar == 0 and not not_completed and bool(jobs), capacity)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m loadtest.report FOLDER", file=sys.stderr)
        return 2
    summary = write(Path(args[0]))
    print(summary.text)
    return 0 if summary.passed else 1


if __name__ == "__main__":
    sys.exit(main())
