"""``make load``: both load tests against a private local stack, then the report and the replay.

    python -m scripts.load [--out results/load] [--stages 25:20,50:25,100:35,150:40]

1. Starts a local stack of its own on free loopback ports (moto, localstripe, the
   bootstrap), **one** annotator process and the web app under gunicorn with **one**
   worker process, so the figures are each tier's capacity for one process.
   The Free upload limit is raised to 1 MiB for this stack only, so that the Free
   accounts the load tests register may send the Premium samples too.
2. Runs Locust headless (loadtest/locustfile.py) through a staircase of user counts,
   120 s by default (``--stages``; 2 minutes at most).
3. Runs loadtest/ann_load.py: every 10 s a batch of 5 job requests cycling through the
   sample files, at most ``--annotator-seconds`` (default 90, draining included; 2 minutes at most).
4. Writes the report (loadtest/report.py) and replays the Terraform scaling policies
   with the measured capacities (loadtest/scaling_replay.py), then stops everything.

Exit status 0 only when no web request failed at 50 users or fewer and every job
completed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

from gas.local import cli as gas
from gas.local import localcloud
from loadtest.stages import parse_stages, total_seconds

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = PROJECT_ROOT / "loadtest" / "locustfile.py"
DEFAULT_STAGES = "25:20,50:25,100:35,150:40"
ACCOUNTS = 10  # shared by the simulated users: 10 accounts, 10 seed jobs
MAX_PHASE_SECONDS = 120  # each load test is bounded to 2 minutes
UPLOAD_LIMIT_BYTES = 1024 * 1024  # above premium_3.vcf.gz (648 KB)


@contextmanager
def local_stack(state: Path) -> Iterator[dict[str, str]]:
    """moto, localstripe and a bootstrapped stack on free ports; the environment to use it."""
    web_port = localcloud.free_port()
    os.environ.update(
        {
            "GAS_LOCAL_AWS_PORT": str(localcloud.free_port()),
            "GAS_LOCAL_STRIPE_PORT": str(localcloud.free_port()),
            "GAS_LOCAL_STATE_DIR": str(state),
            "GAS_STACK": f"load{secrets.token_hex(3)}",
            "GAS_WEB_URL": f"http://127.0.0.1:{web_port}",
            "GAS_FREE_UPLOAD_LIMIT_BYTES": str(UPLOAD_LIMIT_BYTES),
            "GAS_SESSION_SECRET": secrets.token_hex(32),
        }
    )
    try:
        gas.local_up()
        yield dict(os.environ)
    finally:
        gas.local_down()


@contextmanager
def process(command: list[str], log: IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, sent SIGTERM (then SIGKILL) when the block ends."""
    child = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        yield child
    finally:
        gas.stop_processes([child])


def run_bounded(command: list[str], seconds: float, env: dict[str, str], log: Path) -> int:
    """Run a load generator with its output teed to ``log``; killed if it overruns."""
    print(f"$ {' '.join(command)}")
    with log.open("w") as out:
        child = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + seconds
        assert child.stdout is not None
        for line in child.stdout:
            out.write(line)
            if not line.startswith("Type ") and "|" not in line:  # skip Locust's tables
                print("  " + line.rstrip())
            if time.monotonic() > deadline:
                child.send_signal(signal.SIGINT)
        try:
            return child.wait(timeout=max(1.0, deadline + 15 - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()


def web_load(out: Path, web_url: str, stages: str, env: dict[str, str]) -> int:
    seconds = total_seconds(parse_stages(stages))
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(LOCUSTFILE),
        "--host",
        web_url,
        "--headless",
        "--csv",
        str(out / "web"),
        "--csv-full-history",
        "--run-time",
        f"{int(seconds) + 5}s",
        "--stop-timeout",
        "5",
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {**env, "GAS_LOAD_STAGES": stages, "GAS_LOAD_SPAWN_RATE": "25"}
    return run_bounded(
        command, seconds + 20, {**env, "GAS_LOAD_ACCOUNTS": str(ACCOUNTS)}, out / "web.log"
    )


def annotator_load(out: Path, web_url: str, queue_url: str, seconds: float, env: dict) -> int:
    drain = 25.0
    command = [
        sys.executable,
        "-m",
        "loadtest.ann_load",
        "--web-url",
        web_url,
        "--queue-url",
        queue_url,
        "--every",
        "10",
        "--batch",
        "5",  # one fewer than the sample files, so each batch starts with another file
        "--count",
        "200",
        "--duration",
        str(seconds - drain),
        "--drain",
        str(drain),
        "--out",
        str(out / "annotator"),
    ]
    return run_bounded(command, seconds + 10, env, out / "annotator.log")


def replay(out: Path) -> bool:
    """The seed's scaling scenarios with the capacities just measured."""
    from loadtest import policies, scaling_replay

    try:
        web, annotators = scaling_replay.read_capacity(out / "capacity.json")
    except ValueError as missing:
        print(f"replay skipped: {missing}")
        return False
    report = scaling_replay.seed_report(
        policies.read(), web, annotators, scaling_replay.Fleet, out / "replay"
    )
    print(f"scaling replay of terraform/'s policies: {report}")
    return True


def job_requests_url() -> str:
    from gas.core.aws import AwsClients
    from gas.core.settings import Settings
    from gas.core.stack import locator_for

    return locator_for(AwsClients(Settings.from_env())).queue_url("job-requests")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="make load: both load tests, report, replay")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "results" / "load")
    parser.add_argument("--stages", default=DEFAULT_STAGES, help="Locust users:seconds, in order")
    parser.add_argument("--annotator-seconds", type=float, default=90.0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if (
        total_seconds(parse_stages(args.stages)) > MAX_PHASE_SECONDS
        or args.annotator_seconds > MAX_PHASE_SECONDS
    ):
        print(f"load: each load test is limited to {MAX_PHASE_SECONDS} s", file=sys.stderr)
        return 2
    started = time.monotonic()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        env = stack.enter_context(local_stack(out / "stack"))
        web_url = env["GAS_WEB_URL"]
        annotator_log = stack.enter_context((out / "stack" / "annotator.log").open("wb"))
        stack.enter_context(
            process([sys.executable, "-m", gas.WORKERS["annotator"]], annotator_log)
        )
        web_log = stack.enter_context((out / "stack" / "web.log").open("wb"))
        web, _ = gas.start_web(workers=1, log=web_log)
        stack.callback(gas.stop_processes, [web])
        queue_url = job_requests_url()
        print(f"\n== web tier: Locust, stages {args.stages} (users:seconds) ==")
        web_status = web_load(out, web_url, args.stages, env)
        print("\n== annotators: a batch of job requests every 10 s ==")
        annotator_status = annotator_load(out, web_url, queue_url, args.annotator_seconds, env)
    print("\n== report ==")
    from loadtest import report

    summary = report.write(out)
    print(summary.text)
    replayed = replay(out)
    print(f"\nmake load took {time.monotonic() - started:.0f} s; report in {out}")
    locust_ran = web_status in (0, 1)  # 1: some request failed, which the report judges
    return 0 if locust_ran and summary.passed and annotator_status == 0 and replayed else 1


if __name__ == "__main__":
    sys.exit(main())
