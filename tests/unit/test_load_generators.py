"""The load generators stay within bounds: only loopback or named hosts, bounded loops,
and pages read as a browser reads them. No network: fakes stand in for the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtest import ann_load, targets, webforms
from loadtest.stages import parse_stages, total_seconds, users_at

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


# --- which hosts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/", "http://127.9.9.9/x", "http://localhost:4566/b", "http://[::1]:80/"],
)
def test_loopback_is_always_allowed(url: str) -> None:
    assert targets.check(url, set()) == url


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5/", "http://192.168.1.1/", "https://example.org/", "http://8.8.8.8/"]
)
def test_other_hosts_are_refused_unless_named(url: str) -> None:
    with pytest.raises(targets.RefusedTarget):
        targets.check(url, set())
    assert targets.check(url, targets.allowed_hosts([url], environ={})) == url


def test_hosts_can_be_named_in_the_environment() -> None:
    allowed = targets.allowed_hosts(
        ["https://gas.example.org"],
        environ={targets.ALLOW_ENV: "gas-inputs.s3.amazonaws.com, x.io"},
    )
    assert allowed == {"gas.example.org", "gas-inputs.s3.amazonaws.com", "x.io"}
    with pytest.raises(targets.RefusedTarget):
        targets.check("https://other-bucket.s3.amazonaws.com/", allowed)


def test_only_http_is_sent_to() -> None:
    for url in ("file:///etc/passwd", "ftp://127.0.0.1/", "127.0.0.1:8080"):
        with pytest.raises(targets.RefusedTarget):
            targets.check(url, {"127.0.0.1"})


class FakeResponse:
    def __init__(self, status: int, document: dict[str, Any] | None = None) -> None:
        self.status_code, self.document, self.text = status, document, ""
        self.headers: dict[str, str] = {}

    def json(self) -> dict[str, Any]:
        return self.document or {}


class FakeSession:
    """A web app whose upload form points at a host the user never named."""

    def __init__(self) -> None:
        self.posted: list[str] = []

    def get(self, url: str, **_: Any) -> FakeResponse:
        return FakeResponse(200, {"url": "http://10.20.30.40/gas-inputs", "fields": {}})

    def post(self, url: str, **_: Any) -> FakeResponse:
        self.posted.append(url)
        return FakeResponse(303)


def test_an_upload_form_pointing_elsewhere_is_refused_before_sending() -> None:
    web = ann_load.GasWeb("http://127.0.0.1:8080", allowed=set())
    session = FakeSession()
    web.http = session  # type: ignore[assignment]
    with pytest.raises(targets.RefusedTarget, match=r"10\.20\.30\.40"):
        web.submit(SAMPLES / "test.vcf")
    assert session.posted == []


def test_ann_load_refuses_an_unnamed_queue_host() -> None:
    with pytest.raises(targets.RefusedTarget):
        ann_load.QueueDepth("https://sqs.us-east-1.amazonaws.com/1/q", allowed=set())


# --- bounded loops ----------------------------------------------------------------------


class Clock:
    """Time that passes only when the generator sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeApp:
    """Accepts every upload; a job finishes ``seconds`` after it was sent (never: None)."""

    def __init__(self, clock: Clock, seconds: float | None) -> None:
        self.clock, self.seconds = clock, seconds
        self.sent: dict[str, float] = {}

    def submit(self, path: Path) -> str:
        job_id = f"job-{len(self.sent)}"
        self.sent[job_id] = self.clock()
        return job_id

    def status(self, job_id: str) -> str:
        if self.seconds is None or self.clock() < self.sent[job_id] + self.seconds:
            return "RUNNING"
        return "COMPLETED"


class NoDepth:
    def read(self) -> tuple[int, int] | None:
        return None


def generator(clock: Clock, app: FakeApp) -> ann_load.Generator:
    files = [SAMPLES / "test.vcf", SAMPLES / "free_1.vcf"]
    return ann_load.Generator(app, NoDepth(), files, clock, clock.sleep, say=lambda _: None)


def test_sending_stops_at_the_count() -> None:
    clock = Clock()
    app = FakeApp(clock, seconds=1.0)
    run = generator(clock, app).execute(every=2, batch=3, count=7, duration=600, drain=60)
    assert len(run.jobs) == 7
    assert [job.file for job in run.jobs[:3]] == ["test.vcf", "free_1.vcf", "test.vcf"]
    assert all(job.status == "COMPLETED" for job in run.jobs)
    assert clock.now < 10  # three batches (0, 2, 4 s) and the last job's second


def test_sending_stops_at_the_duration_and_waiting_at_the_drain() -> None:
    clock = Clock()
    app = FakeApp(clock, seconds=None)  # jobs that never finish
    run = generator(clock, app).execute(every=10, batch=1, count=1000, duration=35, drain=20)
    assert [round(job.sent) for job in run.jobs] == [0, 10, 20, 30]
    assert 35 <= clock.now <= 35 + 20 + 1  # gave up on the running jobs after the drain
    assert all(job.status == "RUNNING" for job in run.jobs)


def test_job_latency_is_measured_from_sending() -> None:
    clock = Clock()
    run = generator(clock, FakeApp(clock, seconds=1.6)).execute(1, 1, 1, 10, 10)
    (job,) = run.jobs
    assert job.latency == pytest.approx(1.75)  # seen at the first poll after 1.6 s


def test_files_over_the_accounts_limit_are_skipped_with_a_reason() -> None:
    said: list[str] = []
    files = [SAMPLES / "test.vcf", SAMPLES / "premium_1.vcf"]
    assert ann_load.within_limit(files, 153_600, said.append) == [SAMPLES / "test.vcf"]
    assert "premium_1.vcf" in said[0] and "153,600-byte limit" in said[0]
    assert ann_load.within_limit(files, None, said.append) == files


def test_the_command_refuses_nonsense_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    assert ann_load.main(["--every", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err


def test_locust_stages_end_by_themselves() -> None:
    stages = parse_stages("10:20, 25:30")
    assert stages == [(10, 20.0), (25, 30.0)]
    assert [users_at(stages, t) for t in (0, 19.9, 20, 49.9, 50)] == [10, 10, 25, 25, None]
    assert total_seconds(stages) == 50
    for text in ("10", "10:0", "-1:5", "a:b"):
        with pytest.raises(ValueError):
            parse_stages(text)


# --- pages read as a browser reads them ---------------------------------------------------

LOGIN_PAGE = """<form id="search"><input type="hidden" name="csrf_token" value="other"></form>
<form id="login-form" class="card stack" method="post" action="/login">
  <input type="hidden" name="csrf_token" value="tok-123">
  <input type="hidden" name="next" value="/annotations">
  <input id="email" name="email" type="email">
</form>"""


def test_login_posts_the_forms_own_csrf_token() -> None:
    data = webforms.login_data(LOGIN_PAGE, "a@example.org", "secret secret")
    assert data == {"csrf_token": "tok-123", "next": "/", "email": "a@example.org",
                    "password": "secret secret"}  # fmt: skip


def test_a_page_without_the_form_is_an_error() -> None:
    with pytest.raises(LookupError):
        webforms.register_data(LOGIN_PAGE, "n", "e@example.org", "p")


def test_job_links_limits_and_redirects() -> None:
    page = (
        '<a href="/annotations/0f8fad5b-d9cb-469f-a165-70867728950e">x</a>'
        '<a href="/annotations/0f8fad5b-d9cb-469f-a165-70867728950e/log">log</a>'
        '<form id="upload-form" method="post"\n action="http://s3" data-plan="free" '
        'data-limit="153600">'
    )
    assert webforms.job_ids(page) == ["0f8fad5b-d9cb-469f-a165-70867728950e"]
    assert webforms.upload_limit(page) == 153_600
    location = "http://127.0.0.1:8080/annotations/0f8fad5b-d9cb-469f-a165-70867728950e"
    assert webforms.job_id_from_location(location) == "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert webforms.job_id_from_location("http://127.0.0.1:8080/annotate") is None
