"""The ``gas`` command: run and operate GAS.

    gas run                          local cloud, every worker and the web app; Ctrl-C stops all
    gas local up|down|status         the local cloud (moto as AWS, localstripe as Stripe)
    gas workers [NAME ...]           run workers (default: all of WORKERS) until Ctrl-C
    gas submit FILE --user U         upload as a browser does, register, wait for the result
    gas jobs --user U                a user's jobs, newest first
    gas download JOB --user U [-o D] a finished job's result files, into D

``--user`` takes a user id or the email address of an account registered in the web app.
Settings are checked before anything starts: a bad one is one line on stderr and exit
status 2. Every command but ``local`` and ``run`` uses the environment as it is:
``AWS_ENDPOINT_URL`` set means an emulator, unset means real AWS.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from gas.core.settings import Settings, SettingsError
from gas.local import localcloud

WORKERS = {
    "annotator": "gas.workers.annotator",
    "notifier": "gas.workers.notifier",
    "dead-letters": "gas.workers.dead_letters",
    "archiver": "gas.workers.archiver",
    "restorer": "gas.workers.restorer",
    "thawer": "gas.workers.thawer",
}
USER_HELP = "a user id, or the email address of an account registered in the web app"
STOP_GRACE_SECONDS = 25  # a worker may be in a 20 s long poll when asked to stop


def local_up(_: argparse.Namespace | None = None) -> int:
    for service in localcloud.services():
        print(localcloud.start(service))
    os.environ.update(shell_environment())
    from gas.core.aws import AwsClients
    from gas.core.billing import ensure_premium_plan, stripe_client
    from gas.local.bootstrap import bootstrap

    settings = Settings.from_env()
    stack = bootstrap(AwsClients(settings))
    localcloud.record_stack(settings.stack)
    plan = ensure_premium_plan(stripe_client(settings))
    localcloud.register_stripe_webhook(settings.web_url)
    print(
        f"stack {settings.stack}: {len(stack.queue_urls)} queues, "
        f"{len(stack.topic_arns)} topics, buckets, tables, vault and mail sender ready; "
        f"Stripe plan {plan}"
    )
    return 0


def local_down(_: argparse.Namespace | None = None) -> int:
    # Stop everything before saying so: a closed terminal or pipe must not leave
    # a service running because a print failed.
    done = [localcloud.stop(service) for service in reversed(localcloud.services())]
    with contextlib.suppress(BrokenPipeError):
        print("\n".join(done))
    return 0


def local_status(_: argparse.Namespace) -> int:
    all_up = True
    for service in localcloud.services():
        up = localcloud.port_open(service.port)
        pid = localcloud.running_pid(service)
        owner = f"pid {pid}" if pid else "not started by gas"
        print(f"{service.name:<7}{'up' if up else 'down':<6}{service.url}  ({owner})")
        all_up = all_up and up
    if all_up:
        print("\n".join(dead_letter_lines()))
        print("To use it from a shell:")
        for key, value in shell_environment().items():
            print(f"  export {key}={shlex.quote(value)}")
    return 0 if all_up else 1


def dead_letter_lines() -> list[str]:
    """One line per dead-letter queue: how many messages wait there (work that failed
    every attempt and needs a look; in AWS each queue has an alarm for this)."""
    os.environ.update(shell_environment())
    from gas.core.aws import AwsClients
    from gas.core.stack import locator_for
    from gas.core.topology import QUEUES

    clients = AwsClients(Settings.from_env())
    locator = locator_for(clients)
    lines = ["dead letters:"]
    for queue in QUEUES:
        try:
            attributes = clients.sqs.get_queue_attributes(
                QueueUrl=locator.dead_letter_queue_url(queue),
                AttributeNames=["ApproximateNumberOfMessages"],
            )["Attributes"]
            count = int(attributes["ApproximateNumberOfMessages"])
            state = f"{count} waiting" + (" <- needs a look" if count else "")
        except Exception as exc:  # not bootstrapped yet, or the emulator is unwell
            state = f"unknown ({type(exc).__name__})"
        lines.append(f"  {queue + '-dlq':<18}{state}")
    return lines


def shell_environment() -> dict[str, str]:
    """Everything `gas submit`, `gas jobs` and `gas download` need to reach the local cloud:
    its endpoints and credentials, and the stack `local up` bootstrapped (or GAS_STACK)."""
    stack = os.environ.get("GAS_STACK") or localcloud.recorded_stack() or Settings().stack
    settings = Settings.from_env({**os.environ, "GAS_STACK": stack})
    return {
        **localcloud.local_environment(),
        "GAS_STACK": settings.stack,
        "GAS_WEB_URL": settings.web_url,
    }


def start_workers(names: Sequence[str]) -> list[subprocess.Popen[bytes]]:
    processes = []
    for name in names:
        processes.append(subprocess.Popen([sys.executable, "-m", WORKERS[name]]))
        print(f"{name}: started (pid {processes[-1].pid})")
    return processes


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM (finish the current message), then SIGKILL after the grace period."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()  # its message reappears after the visibility timeout
            process.wait()


def wait_for_interrupt(processes: list[subprocess.Popen[bytes]]) -> None:
    """Until Ctrl-C, SIGTERM or SIGHUP, or until a process dies (then say so)."""
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # HUP: terminal closed
        signal.signal(signum, on_signal)
    while not stop:
        for process in processes:
            if process.poll() is not None:
                print(f"pid {process.pid} exited with {process.returncode}; stopping")
                return
        time.sleep(0.5)


def workers(args: argparse.Namespace) -> int:
    unknown = [name for name in args.names if name not in WORKERS]
    if unknown:
        print(
            f"gas: unknown worker {', '.join(unknown)}; workers: {', '.join(WORKERS)}",
            file=sys.stderr,
        )
        return 2
    processes = start_workers(args.names or list(WORKERS))
    wait_for_interrupt(processes)
    print("stopping workers (each finishes its current message) …")
    stop_processes(processes)
    return 0


def start_web(
    workers: int = 2, log: IO[bytes] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The web app under gunicorn on loopback, with a session secret made for this run.

    ``workers`` gunicorn processes; ``log`` takes its output (default: this terminal).
    """
    from urllib.parse import urlsplit

    url = os.environ.setdefault("GAS_WEB_URL", "http://127.0.0.1:8080").rstrip("/")
    port = urlsplit(url).port or 80
    env = {
        **os.environ,
        "GAS_WEB_PORT": str(port),
        "GAS_SESSION_SECRET": os.environ.get("GAS_SESSION_SECRET") or secrets.token_hex(32),
    }
    # gunicorn, as on AWS (docs/web-server.md); bound to loopback here.
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--access-logfile",
        "-",
        "gas.web.wsgi:app",
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while not localcloud.port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.1)
    print(f"web: started on {url} (pid {process.pid})")
    return process, url


def run(_: argparse.Namespace) -> int:
    """Everything on this machine, in the foreground; Ctrl-C stops it all (and a failure
    while starting stops what had started)."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        local_up()
        processes.extend(start_workers(list(WORKERS)))
        web, url = start_web()
        processes.append(web)
        print(f"\nGAS is running on the local cloud: open {url}")
        print("Or submit from another shell:")
        print('  eval "$(.venv/bin/gas local status | grep export)"')
        print("  .venv/bin/gas submit data/samples/free_1.vcf --user demo --email demo@example.org")
        print("Ctrl-C stops everything.")
        wait_for_interrupt(processes)
    finally:
        with contextlib.suppress(BrokenPipeError):
            print("\nstopping …")
        stop_processes(processes)
        local_down()
    return 0


class UnknownUser(LookupError):
    """--user names an email address no account is registered with."""


def _services() -> Any:
    from gas.services.submission import SubmissionService
    from gas.workers.runner import Service

    service = Service.from_env()
    submission = SubmissionService(service.clients, service.jobs, service.users, service.locator)
    return service.jobs, service.users, submission


def resolve_user(users: Any, user: str) -> str:
    """The user id ``--user`` names: an email address names the account registered with it
    (as the web app's login does); anything else is a user id."""
    if "@" not in user:
        return user
    account = users.account_by_email(user)
    if account is None:
        raise UnknownUser(f"no account is registered with {user}; give a user id instead")
    return str(account.user_id)


def submit(args: argparse.Namespace) -> int:
    import requests

    from gas.services.submission import SubmissionRefused

    path: Path = args.file
    if not path.is_file():
        print(f"gas: no such file: {path}", file=sys.stderr)
        return 2
    jobs, users, submission = _services()
    user_id = resolve_user(users, args.user)
    if args.email:
        users.set_email(user_id, args.email)
    try:
        started = time.monotonic()
        upload = submission.new_upload(user_id, path.name, users.plan(user_id))
        with path.open("rb") as handle:
            response = requests.post(
                upload.url, data=upload.fields, files={"file": (path.name, handle)}, timeout=300
            )
        if response.status_code >= 300:
            print(
                f"gas: S3 refused the upload ({response.status_code}): {response.text[:300]}",
                file=sys.stderr,
            )
            return 1
        job = submission.register(user_id, upload.key)
    except SubmissionRefused as refused:
        print(f"gas: {refused}", file=sys.stderr)
        return 1
    print(f"job {job.job_id} submitted")
    return 0 if args.no_wait else wait_for_job(jobs.get, job.job_id, args.timeout, started)


def wait_for_job(get: Callable[[str], Any], job_id: str, timeout: float, started: float) -> int:
    """Show a progress bar until the job ends; exit status 0 only when it COMPLETED."""
    from tqdm import tqdm

    deadline = time.monotonic() + timeout
    with tqdm(total=100, unit="%", desc="waiting", file=sys.stderr) as bar:
        while time.monotonic() < deadline:
            job = get(job_id)
            bar.set_description(str(job.job_status).lower())
            bar.n = job.progress
            bar.refresh()
            if job.job_status in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.5)
        else:
            print(
                f"gas: job {job_id} still {job.job_status} after {timeout:.0f} s", file=sys.stderr
            )
            return 1
    if job.job_status == "FAILED":
        print(f"job {job_id} FAILED: {job.failure_reason}")
        return 1
    elapsed = time.monotonic() - started
    print(
        f"job {job_id} COMPLETED {elapsed:.1f} s after the upload began; "
        f"results in s3://{job.s3_results_bucket}/:"
    )
    for key in (
        job.s3_key_result_file,
        job.s3_key_log_file,
        job.s3_key_tsv_file,
        job.s3_key_summary_file,
    ):
        print(f"  {key}")
    return 0


def list_jobs(args: argparse.Namespace) -> int:
    jobs, users, _ = _services()
    page = jobs.list_for_user(resolve_user(users, args.user), limit=args.limit)
    if not page.jobs:
        print(f"no jobs for {args.user}")
        return 0
    print(f"{'request id':<38}{'submitted (UTC)':<21}{'status':<11}{'progress':>8}  file")
    for job in page.jobs:
        when = datetime.fromtimestamp(job.submit_time, UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(
            f"{job.job_id:<38}{when:<21}{job.job_status:<11}{job.progress:>7}%  "
            f"{job.input_file_name}"
        )
    if page.next_key:
        print(f"(more; showing the newest {args.limit})")
    return 0


def download(args: argparse.Namespace) -> int:
    """Fetch a finished job's result files (those the web app offers) into ``args.out``."""
    from gas.core.keys import looks_like_job_id
    from gas.services.results_store import ResultsStore, is_archived
    from gas.workers.runner import Service

    service = Service.from_env()
    user_id = resolve_user(service.users, args.user)
    job = service.jobs.get(args.job_id) if looks_like_job_id(args.job_id) else None
    if job is None or job.user_id != user_id:
        print(f"gas: {args.user} has no job {args.job_id}", file=sys.stderr)
        return 1
    if job.job_status != "COMPLETED":
        print(f"gas: job {job.job_id} is {job.job_status}; nothing to download", file=sys.stderr)
        return 1
    store = ResultsStore(service.clients.s3, service.settings.presigned_download_seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    for link in store.downloads(job):
        print(_fetch(link.url, args.out / link.name))
    if is_archived(job):
        print(
            f"the annotated VCF and TSV of job {job.job_id} are in cold storage "
            f"({job.storage_status}); they come back when the user subscribes to Premium",
            file=sys.stderr,
        )
    return 0


def _fetch(url: str, target: Path) -> Path:
    """GET ``url`` into ``target``, through a temporary file renamed when complete."""
    import requests

    partial = target.with_name(target.name + ".part")
    with requests.get(url, stream=True, timeout=300) as response:
        response.raise_for_status()
        with partial.open("wb") as handle:
            for chunk in response.iter_content(chunk_size=1 << 16):
                handle.write(chunk)
    partial.replace(target)
    return target


def check_settings(args: argparse.Namespace) -> None:
    """Read every setting the command uses, so a bad one stops it before anything starts.

    `run` and `local` use the local cloud's environment on top of this one, as they will.
    """
    localcloud.services()  # the local ports
    if args.command == "local" and args.action == "down":
        return  # stopping needs no settings: a bad one must not keep services running
    environ: dict[str, str] = dict(os.environ)
    if args.command in ("run", "local"):
        environ |= localcloud.local_environment()
    Settings.from_env(environ)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gas", description="Run and operate GAS.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="local cloud and every worker; Ctrl-C stops it all")
    local = commands.add_parser("local", help="the local cloud on this machine")
    actions = local.add_subparsers(dest="action", required=True)
    actions.add_parser("up", help="start moto and localstripe on loopback, create every resource")
    actions.add_parser("down", help="stop what `up` started")
    actions.add_parser("status", help="which local services answer, and the environment to use")
    worker_parser = commands.add_parser("workers", help="run workers until Ctrl-C")
    worker_parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(WORKERS)} (default: all)"
    )
    submit_parser = commands.add_parser("submit", help="submit a VCF and wait for its result")
    submit_parser.add_argument("file", type=Path)
    submit_parser.add_argument("--user", required=True, help=USER_HELP)
    submit_parser.add_argument("--email", help="record this address for the user's mail")
    submit_parser.add_argument("--no-wait", action="store_true", help="print the job id and exit")
    submit_parser.add_argument("--timeout", type=float, default=600, help="seconds to wait")
    jobs_parser = commands.add_parser("jobs", help="a user's jobs, newest first")
    jobs_parser.add_argument("--user", required=True, help=USER_HELP)
    jobs_parser.add_argument("--limit", type=int, default=20)
    download_parser = commands.add_parser("download", help="a finished job's result files")
    download_parser.add_argument("job_id", metavar="JOB", help="the job's id (see `gas jobs`)")
    download_parser.add_argument("--user", required=True, help=USER_HELP)
    download_parser.add_argument(
        "-o", "--out", type=Path, default=Path("."), help="folder to write into (default: here)"
    )
    return parser


_LOCAL: dict[str, Callable[[argparse.Namespace], int]] = {
    "up": local_up,
    "down": local_down,
    "status": local_status,
}
_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": run,
    "workers": workers,
    "submit": submit,
    "jobs": list_jobs,
    "download": download,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_settings(args)
        if args.command == "local":
            return _LOCAL[args.action](args)
        return _COMMANDS[args.command](args)
    except (SettingsError, UnknownUser) as exc:
        print(f"gas: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
