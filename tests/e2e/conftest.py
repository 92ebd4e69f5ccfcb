"""Browser tests: the whole GAS stack on loopback, driven by headless Chromium.

One session fixture (``gas``) starts everything ``gas run`` starts, each on a
free 127.0.0.1 port, under a stack name of its own: moto's server as AWS,
localstripe as Stripe, the bootstrap, the Premium plan and the Stripe webhook,
the annotator, notifier, archiver, restorer and thawer workers, and the web
app. The end of the session stops them all (workers get SIGTERM and finish
their current message, as ``gas`` stops them).

Chromium is Debian's (``/usr/bin/chromium``, or ``GAS_E2E_CHROMIUM``; ``make install``
installs it where apt is usable), driven by Playwright for Python; ``playwright install`` is
never needed. Without it the browser tests are skipped, unless ``CI`` is set: then a missing
browser stops the run with an error, so CI cannot pass without its browser tests. Each
test gets fresh browser contexts (cookie jars), one per user it plays, and saves a
full-page screenshot of every page it visits under ``test-artifacts/screenshots/<test>/``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect  # noqa: E402

from gas.local import localcloud  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = PROJECT_ROOT / "data" / "samples"
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("GAS_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WORKERS = ("annotator", "notifier", "archiver", "restorer", "thawer")
JOB_SECONDS = 60  # a sample VCF is annotated in a few seconds; this bounds a stuck job
PASSWORD = "correct horse battery"
TEST_CARD = "4242424242424242"  # Stripe's test Visa


@dataclass
class Processes:
    """Child processes of the session, each with its log file; stopped in reverse order."""

    log_dir: Path
    running: list[tuple[str, subprocess.Popen[bytes], IO[bytes]]] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running.append((name, process, log))
        return process

    def check_alive(self) -> None:
        for name, process, _ in self.running:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}: {self.tail(name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        text = (self.log_dir / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        for _, process, _ in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 25  # a worker may be in a 20 s long poll
        for _, process, log in reversed(self.running):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        self.running.clear()


def wait_for_url(url: str, processes: Processes, seconds: float = 30) -> None:
    """Until something answers at ``url`` (any HTTP status), or a child process dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        processes.check_alive()
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # it answers, if only to say no
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url} within {seconds} s")


@dataclass(frozen=True)
class Gas:
    """The running stack: the web app's URL, the emulator's, and the environment used."""

    web_url: str
    aws_url: str
    stripe_url: str
    env: dict[str, str]
    processes: Processes

    @property
    def stack(self) -> str:
        return self.env["GAS_STACK"]

    def s3(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.aws_url,
            region_name=self.env["AWS_DEFAULT_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
        )


@pytest.fixture(scope="session")
def gas(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gas]:
    """The whole stack, as ``gas run`` starts it, on free loopback ports."""
    log_dir = tmp_path_factory.mktemp("gas-e2e-logs")
    aws_port, stripe_port, web_port = (
        localcloud.free_port(),
        localcloud.free_port(),
        localcloud.free_port(),
    )
    web_url = f"http://127.0.0.1:{web_port}"
    ports = {"GAS_LOCAL_AWS_PORT": str(aws_port), "GAS_LOCAL_STRIPE_PORT": str(stripe_port)}
    processes = Processes(log_dir)
    with pytest.MonkeyPatch.context() as patch, ExitStack() as cleanup:
        cleanup.callback(processes.stop)
        for key, value in ports.items():
            patch.setenv(key, value)
        env = {
            **os.environ,
            **localcloud.local_environment(),
            "GAS_STACK": f"e2e{uuid.uuid4().hex[:10]}",
            "GAS_WEB_URL": web_url,
            "GAS_WEB_PORT": str(web_port),
            "GAS_SESSION_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,
            "ANNTOOLS_BUNDLE_DIR": str(bundle_dir),
        }
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        for service in localcloud.services():  # the same commands `gas local up` runs
            processes.start(service.name, service.command, env)
        wait_for_url(f"http://127.0.0.1:{aws_port}/moto-api/", processes)
        wait_for_url(f"http://127.0.0.1:{stripe_port}/v1/plans", processes)

        for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(key, env[key])
        for key in ("AWS_DEFAULT_REGION", "STRIPE_API_BASE", "STRIPE_API_KEY", "GAS_STACK"):
            patch.setenv(key, env[key])
        patch.setenv("GAS_WEB_URL", web_url)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        from gas.core.aws import AwsClients
        from gas.core.billing import ensure_premium_plan, stripe_client
        from gas.core.settings import Settings
        from gas.local.bootstrap import bootstrap

        settings = Settings.from_env()
        bootstrap(AwsClients(settings))
        ensure_premium_plan(stripe_client(settings))
        localcloud.register_stripe_webhook(web_url)

        for name in WORKERS:
            processes.start(name, [sys.executable, "-m", f"gas.workers.{name}"], env)
        processes.start("web", [sys.executable, "-m", "gas.web"], env)
        wait_for_url(f"{web_url}/healthz", processes)
        yield Gas(web_url, env["AWS_ENDPOINT_URL"], env["STRIPE_API_BASE"], env, processes)


def chromium_problem() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (make install, or set GAS_E2E_CHROMIUM to its path)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not executable"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests; without a browser skip them or, with CI set, stop before
    starting anything."""
    here = Path(__file__).parent
    browser_tests = [item for item in items if here in item.path.parents]
    for item in browser_tests:
        item.add_marker(pytest.mark.e2e)
        item.add_marker(pytest.mark.slow)
    problem = chromium_problem() if browser_tests else None
    if problem is None:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{problem}; with CI set the browser tests must run")
    for item in browser_tests:
        item.add_marker(pytest.mark.skip(reason=problem))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium; Playwright gives it a fresh temporary profile (user-data dir)."""
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class Shots:
    """Numbered full-page screenshots of one test: ``<n>-<page>.png``."""

    def __init__(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.folder = folder
        self.count = 0

    def take(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(SCREENSHOTS / request.node.name)


NewContext = Callable[..., BrowserContext]


@pytest.fixture
def new_context(browser: Browser, gas: Gas) -> Iterator[NewContext]:
    """Fresh browser contexts (one per user a test plays), closed after the test."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=gas.web_url, **options)
        context.set_default_timeout(15_000)
        context.on("weberror", lambda error: errors.append(str(error.error)))
        context.on("console", lambda message: _csp_violation(message, errors))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    gas.processes.check_alive()
    assert not errors, f"errors in pages (uncaught, or CSP violations): {errors}"


def _csp_violation(message: ConsoleMessage, errors: list[str]) -> None:
    """A page's Content-Security-Policy blocked something it needs (a script, a form post)."""
    if message.type == "error" and "Content Security Policy" in message.text:
        errors.append(message.text)


@pytest.fixture
def page(new_context: NewContext) -> Page:
    return new_context().new_page()


def register(page: Page, shots: Shots, name: str = "Ada Lovelace") -> str:
    """Create an account through /register (which logs in); returns its email address."""
    email = f"e2e-{uuid.uuid4().hex[:12]}@example.org"
    page.goto("/register")
    page.fill("#name", name)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    shots.take(page, "register")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/annotate")
    return email


def log_in(page: Page, email: str) -> None:
    """Log in through /login with the password every test account has."""
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: urlsplit(url).path != "/login")


def subscribe(page: Page, shots: Shots) -> None:
    """Subscribe to Premium from /subscribe with Stripe's test card, in localstripe's Stripe.js
    mock (plain inputs: number, exp_month, exp_year (two digits), cvc, postal_code)."""
    card = page.locator("#card-element")
    expect(card.locator('input[placeholder="number"]')).to_be_visible()
    card.locator('input[placeholder="number"]').fill(TEST_CARD)
    card.locator('input[placeholder="exp_month"]').fill("12")
    card.locator('input[placeholder="exp_year"]').fill("34")
    card.locator('input[placeholder="cvc"]').fill("123")
    card.locator('input[placeholder="postal_code"]').fill("90210")
    shots.take(page, "subscribe")
    page.locator("#subscribe-submit").click()
    expect(page.locator("h1")).to_have_text("Welcome to Premium", timeout=30_000)


def choose_file(page: Page, sample: Path) -> None:
    """Pick a file on /annotate, as a person would."""
    page.set_input_files("#file", str(sample))


def upload(page: Page, sample: Path) -> str:
    """Pick ``sample`` on /annotate and submit it; returns the job id of the details page."""
    choose_file(page, sample)
    # annotate.js fetched a form for this file's name: the key ends with it, submit is enabled
    expect(page.locator('#s3-fields input[name="key"]')).to_have_value(
        re.compile(rf".*~{re.escape(sample.name)}$")
    )
    expect(page.locator("#upload-submit")).to_be_enabled()
    # S3 must send the browser back to this web app, with a 303 (moto honours
    # success_action_redirect so, adding ?bucket=&key= as S3 does)
    here = urlsplit(page.url)
    back = f"{here.scheme}://{here.netloc}/annotate/uploaded"
    redirect_field = page.locator('#s3-fields input[name="success_action_redirect"]')
    expect(redirect_field).to_have_value(back)
    s3_url = page.locator("#upload-form").evaluate("form => form.action")
    with page.expect_response(lambda r: r.url == s3_url and r.request.method == "POST") as s3:
        page.locator("#upload-submit").click()
    assert s3.value.status == 303, s3.value.status
    assert s3.value.headers["location"].startswith(f"{back}?")
    page.wait_for_url("**/annotations/*", timeout=30_000)
    return page.url.rsplit("/", 1)[-1]


def wait_completed(page: Page) -> None:
    """Until the details page (which reloads itself when the job ends) says Completed."""
    badge = page.locator("[data-badge]").first
    expect(badge).to_have_text("Completed", timeout=JOB_SECONDS * 1000)
    page.wait_for_load_state("load")
