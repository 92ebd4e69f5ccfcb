"""Benchmark: GAS's jobs list (GET /annotations) under waitress and gunicorn.

1. Starts moto's server on a free loopback port, bootstraps a fresh stack,
   creates one user and writes N jobs for that user (default 500; COMPLETED,
   RUNNING and FAILED, with varied submit times) straight into DynamoDB.
2. For each WSGI server, started with the same environment on a free
   loopback port -- waitress (``python -m gas.web``, GAS_WEB_THREADS threads) and
   gunicorn (``gunicorn -w 2*cores gas.web.wsgi:app``, sync workers) -- it logs in
   over HTTP, warms up, then runs a closed-loop load on the first page of the
   list and on a later page (reached through the "Older" links): for each
   concurrency level, that many client threads share a fixed number of
   requests, under a time cap.
   As a control it also loads GET /login logged out (no AWS call), and it
   times the list's DynamoDB Query alone against moto.
3. Prints a table (requests/s, p50, p95, p99, max in ms, errors) and whether
   the jobs list's p95 stays under the bar (150 ms) at each concurrency level.
   Exit status 0 only when it does under the chosen server (--chosen) at every
   level, with no failed request.

Everything listens on 127.0.0.1 and is stopped at the end, also on Ctrl-C.

    python -m scripts.bench_web                    # 500 jobs, 1 and 8 clients, 300 requests
    python -m scripts.bench_web --levels 1,4,16 --requests 500 --servers gunicorn
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from types import FrameType

import requests

from gas.core.aws import AwsClients
from gas.core.jobs import Job, JobRepository, JobStatus
from gas.core.settings import Settings
from gas.core.users import UserRepository
from gas.local.bootstrap import bootstrap
from gas.local.localcloud import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
EMAIL = "bench@example.com"
PASSWORD = "bench password 0123456789"
BAR_MS = 150.0
SERVERS = ("waitress", "gunicorn")
STATUSES = (JobStatus.COMPLETED,) * 6 + (JobStatus.RUNNING,) * 2 + (JobStatus.FAILED,) * 2
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OLDER = re.compile(r'<a href="(/annotations\?page=[^"]+)" rel="next">')
ROW = re.compile(r'<a class="mono" href="/annotations/[0-9a-f-]{36}">')


@dataclass
class Result:
    server: str
    page: str
    clients: int
    requests: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the successful requests' latencies (nan: none)."""
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
        return ordered[int(rank) - 1]


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
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
def running(
    command: list[str], url: str, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in its own process group until the block ends; stop the group then."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=PROJECT_ROOT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches only this script, which stops it
        )
        try:
            wait_until_up(url, process)
            yield process
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (gunicorn's master then stops its workers); SIGKILL the group if it hangs."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):  # still unreaped, so the group is still ours
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def seed(settings: Settings, jobs: int, rng: random.Random) -> str:
    """Bootstrap the stack, create the user and write its jobs; returns the user_id."""
    from argon2 import PasswordHasher

    clients = AwsClients(settings)
    bootstrap(clients)
    names = settings.names
    users = UserRepository(clients.dynamodb, names.users_table)
    repo = JobRepository(clients.dynamodb, names.annotations_table)
    now = repo.now()
    account = users.create_user(EMAIL, "Bench User", PasswordHasher().hash(PASSWORD), now)
    submit = now
    for n in range(jobs):
        submit -= rng.randint(30, 6 * 3600)  # newest first; some hours apart, a few months in all
        status = rng.choice(STATUSES)
        job_id = str(uuid.uuid4())
        prefix = f"{account.user_id}/{job_id}~sample-{n:04d}"
        finished = status in (JobStatus.COMPLETED, JobStatus.FAILED)
        job = Job(
            job_id=job_id,
            user_id=account.user_id,
            input_file_name=f"sample-{n:04d}.vcf",
            s3_inputs_bucket=names.inputs_bucket,
            s3_key_input_file=f"{prefix}.vcf",
            submit_time=submit,
            job_status=status,
            progress=100 if finished else rng.randint(1, 99),
            s3_results_bucket=names.results_bucket if status == JobStatus.COMPLETED else None,
            s3_key_result_file=f"{prefix}.annot.vcf" if status == JobStatus.COMPLETED else None,
            s3_key_log_file=f"{prefix}.vcf.count.log" if finished else None,
            s3_key_tsv_file=f"{prefix}.annot.tsv" if status == JobStatus.COMPLETED else None,
            s3_key_summary_file=f"{prefix}.summary.json" if status == JobStatus.COMPLETED else None,
            complete_time=submit + rng.randint(5, 600) if finished else None,
            failure_reason="the input is not a VCF file" if status == JobStatus.FAILED else None,
            storage_status="AVAILABLE" if status == JobStatus.COMPLETED else None,
            attempts=1,
        )
        if not repo.create(job):
            raise RuntimeError(f"job {job_id} already exists")
    return account.user_id


def time_queries(settings: Settings, user_id: str, page: int, calls: int) -> dict[str, Result]:
    """moto's own share: the list's Query alone, sent one at a time from this process."""
    clients = AwsClients(settings)
    repo = JobRepository(clients.dynamodb, settings.names.annotations_table)
    start_key = None
    for _ in range(page - 1):
        start_key = repo.list_for_user(user_id, 20, start_key).next_key
    timed = {}
    for label, key in (("first", None), (f"page {page}", start_key)):
        latencies = []
        began = time.perf_counter()
        for _ in range(calls):
            sent = time.perf_counter()
            repo.list_for_user(user_id, 20, key)
            latencies.append((time.perf_counter() - sent) * 1000)
        timed[label] = Result("moto", label, 1, calls, time.perf_counter() - began, latencies, 0)
    return timed


def log_in(base: str) -> requests.Session:
    client = requests.Session()
    page = client.get(f"{base}/login", timeout=10)
    page.raise_for_status()
    match = CSRF.search(page.text)
    if not match:
        raise RuntimeError("no CSRF field on the login page")
    answer = client.post(
        f"{base}/login",
        data={
            "email": EMAIL,
            "password": PASSWORD,
            "csrf_token": unescape(match.group(1)),
            "next": "/annotations",
        },
        timeout=10,
        allow_redirects=False,
    )
    if answer.status_code != 303:
        raise RuntimeError(f"login answered {answer.status_code}, not 303")
    return client


def cookie_values(jar: requests.cookies.RequestsCookieJar) -> dict[str, str]:
    return {name: value for name, value in jar.get_dict().items() if value is not None}


def later_page(client: requests.Session, base: str, hops: int) -> str:
    """The path of the list's page hops + 1, reached through the "Older" links."""
    path = "/annotations"
    for _ in range(hops):
        page = client.get(f"{base}{path}", timeout=10)
        page.raise_for_status()
        match = OLDER.search(page.text)
        if not match:
            raise RuntimeError(f"no Older link on {path}: fewer jobs than pages asked for?")
        path = unescape(match.group(1))
    return path


@dataclass(frozen=True)
class Target:
    """A page to load: its path, the session cookies to send and the text a good answer has."""

    label: str
    path: str
    cookies: dict[str, str]
    expect: re.Pattern[str]
    count: int  # how many times `expect` matches a good answer

    def good(self, answer: requests.Response) -> bool:
        return answer.status_code == 200 and len(self.expect.findall(answer.text)) == self.count


def load(
    base: str,
    target: Target,
    clients: int,
    total: int,
    cap_seconds: float,
    stopping: threading.Event,
) -> tuple[list[float], int, int, float]:
    """Closed loop: `clients` threads share `total` requests, until done or the cap.

    Returns (latencies in ms of good answers, errors, requests sent, seconds).
    """
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"left": total, "errors": 0, "sent": 0}
    url = f"{base}{target.path}"
    start = time.perf_counter()
    deadline = start + cap_seconds

    def worker() -> None:
        with requests.Session() as session:
            session.cookies.update(target.cookies)
            while not stopping.is_set():
                with lock:
                    if counts["left"] <= 0 or time.perf_counter() > deadline:
                        return
                    counts["left"] -= 1
                    counts["sent"] += 1
                began = time.perf_counter()
                try:
                    answer = session.get(url, timeout=30, allow_redirects=False)
                    good = target.good(answer)
                except requests.RequestException:
                    good = False
                took = (time.perf_counter() - began) * 1000
                with lock:
                    if good:
                        latencies.append(took)
                    else:
                        counts["errors"] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.2)  # short joins, so Ctrl-C gets through
    return latencies, counts["errors"], counts["sent"], time.perf_counter() - start


def server_command(server: str, port: int, workers: int) -> list[str]:
    if server == "waitress":
        return [sys.executable, "-m", "gas.web"]
    return [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "gas.web.wsgi:app",
    ]


def bench_server(
    server: str,
    args: argparse.Namespace,
    base_env: dict[str, str],
    workdir: Path,
    stopping: threading.Event,
) -> list[Result]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **base_env,
        "GAS_WEB_URL": base,
        "GAS_WEB_PORT": str(port),
        "GAS_WEB_THREADS": str(args.threads),
    }
    command = server_command(server, port, args.workers)
    shape = f"{args.threads} threads" if server == "waitress" else f"{args.workers} sync workers"
    print(f"\n{server} ({shape}) on {base}", flush=True)
    results = []
    with running(command, f"{base}/healthz", workdir / f"{server}.log", env):
        client = log_in(base)
        cookies = cookie_values(client.cookies)
        later = later_page(client, base, args.page - 1)
        targets = [
            Target("first", "/annotations", cookies, ROW, 20),
            Target(f"page {args.page}", later, cookies, ROW, 20),
        ]
        if args.control:
            anonymous = cookie_values(requests.get(f"{base}/login", timeout=10).cookies)
            targets.append(Target("login*", "/login", anonymous, CSRF, 1))
        most = max(args.levels)
        for target in targets:  # templates compiled and pools opened in every worker
            load(base, target, most, args.warmup, args.cap, stopping)
        for target in targets:
            for clients in args.levels:
                latencies, errors, sent, seconds = load(
                    base, target, clients, args.requests, args.cap, stopping
                )
                result = Result(server, target.label, clients, sent, seconds, latencies, errors)
                results.append(result)
                print(row(result), flush=True)
    return results


HEADER = (
    f"{'server':<9} {'page':<8} {'clients':>7} {'requests':>8} {'req/s':>7} "
    f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'errors':>6}"
)


def row(r: Result) -> str:
    worst = max(r.latencies_ms) if r.latencies_ms else float("nan")
    return (
        f"{r.server:<9} {r.page:<8} {r.clients:>7} {r.requests:>8} {r.rate:>7.1f} "
        f"{r.percentile(50):>7.1f} {r.percentile(95):>7.1f} {r.percentile(99):>7.1f} "
        f"{worst:>7.1f} {r.errors:>6}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=500, help="jobs of the one user (500)")
    parser.add_argument(
        "--servers", default=",".join(SERVERS), help="comma-separated: waitress,gunicorn"
    )
    parser.add_argument(
        "--chosen", default="gunicorn", choices=SERVERS, help="the server the bar is checked on"
    )
    parser.add_argument("--levels", default="1,8", help="concurrent clients, comma-separated (1,8)")
    parser.add_argument("--requests", type=int, default=300, help="requests per level (300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per page (20)")
    parser.add_argument("--cap", type=float, default=60.0, help="seconds per level at most (60)")
    parser.add_argument("--page", type=int, default=10, help="the later page measured (10)")
    parser.add_argument(
        "--workers", type=int, default=2 * cores, help=f"gunicorn workers ({2 * cores})"
    )
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (8)")
    parser.add_argument(
        "--query-calls", type=int, default=50, help="moto Query calls timed alone (50)"
    )
    parser.add_argument("--seed", type=int, default=4, help="random seed of the jobs")
    parser.add_argument(
        "--control",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also load GET /login logged out, a page with no AWS call (login* in the table)",
    )
    args = parser.parse_args(argv)
    args.servers = [s for s in args.servers.split(",") if s]
    args.levels = [int(n) for n in args.levels.split(",") if n]
    unknown = set(args.servers) - set(SERVERS)
    if unknown or not args.servers or not args.levels or min(args.levels) < 1:
        parser.error(f"servers are {', '.join(SERVERS)}; levels are whole numbers from 1")
    if args.jobs < 20 * args.page:
        parser.error(f"--page {args.page} needs at least {20 * args.page} jobs")
    return args


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM: stop the servers as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    stopping = threading.Event()
    results: list[Result] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-web-")))
        aws_port = free_port()
        aws_url = f"http://127.0.0.1:{aws_port}"
        stack.enter_context(
            running(
                [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(aws_port)],
                f"{aws_url}/moto-api/",
                workdir / "moto.log",
            )
        )
        aws_env = {
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "GAS_STACK": f"bench{secrets.token_hex(4)}",
            "GAS_SESSION_SECRET": secrets.token_urlsafe(32),
        }
        os.environ.update(aws_env)  # this process seeds the stack through boto3 too
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "STRIPE_API_BASE"):
            os.environ.pop(name, None)
        began = time.perf_counter()
        settings = Settings.from_env()
        user_id = seed(settings, args.jobs, random.Random(args.seed))
        print(
            f"moto on {aws_url}: stack {aws_env['GAS_STACK']}, 1 user, {args.jobs} jobs "
            f"({time.perf_counter() - began:.1f} s); {os.cpu_count()} cores",
            flush=True,
        )
        queries = time_queries(settings, user_id, args.page, args.query_calls)
        base_env = dict(os.environ)
        try:
            for server in args.servers:
                results += bench_server(server, args, base_env, workdir, stopping)
        except KeyboardInterrupt:
            stopping.set()
            print("\ninterrupted: stopping the servers", file=sys.stderr)
            return 130
        except Exception:
            stopping.set()
            for log in sorted(workdir.glob("*.log")):
                print(f"--- {log.name} (last lines)", file=sys.stderr)
                print(
                    "\n".join(log.read_text(errors="replace").splitlines()[-20:]), file=sys.stderr
                )
            raise
    return report(results, queries, args)


def report(results: list[Result], queries: dict[str, Result], args: argparse.Namespace) -> int:
    print(f"\nGET /annotations, {args.jobs} jobs for one user, 20 a page; latency in ms")
    print(HEADER)
    for result in results:
        print(row(result))
    if args.control:
        print("login*: GET /login logged out, no AWS call: the server and Bottle/Jinja alone")
    for query in queries.values():
        print(
            f"moto alone: the list's DynamoDB Query, {query.page}, one at a time: "
            f"p50 {query.percentile(50):.1f} ms, p95 {query.percentile(95):.1f} ms"
        )
    failed = any(r.errors for r in results)
    for server in args.servers:
        for clients in args.levels:
            mine = [
                r
                for r in results
                if r.server == server and r.clients == clients and r.page != "login*"
            ]
            if not mine:
                continue
            worst = max(mine, key=lambda r: r.percentile(95))
            p95 = worst.percentile(95)
            holds = p95 < BAR_MS and not any(r.errors for r in mine)
            print(
                f"bar{' (chosen)' if server == args.chosen else ''}: {server}, {clients} clients: "
                f"jobs list p95 {p95:.1f} ms ({worst.page}) "
                f"{'<' if holds else 'NOT <'} {BAR_MS:.0f} ms: {'holds' if holds else 'FAILS'}"
            )
            failed = failed or (server == args.chosen and not holds)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
