"""The web tier's load, as the seed ran it: users log in once, then browse at 1-3 s intervals.

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8080              # web UI on :8089
    locust -f loadtest/locustfile.py --host https://ALB-DNS-NAME \\
        --headless -u 300 -r 30 -t 2m --csv results/web                       # the seed's load

Each simulated user signs in on start (``on_start``) the way a browser does: it reads
the CSRF token from the login form, posts it with the email and password, and keeps
the session cookie. An account that does not exist yet is created through the app's
own registration form, so a fresh deployment needs no seeding. Then the user browses
the pages a real user visits: home, My annotations, an annotation's details and its
log. An account with no annotation yet submits one sample file first, through the
same presigned S3 POST the annotate page uses, so the details and log pages have
something to show.

Accounts are ``<GAS_LOAD_ACCOUNT_PREFIX><n>@example.org`` for n in 0 ..
``GAS_LOAD_ACCOUNTS``-1 (default 25), shared round-robin by the simulated users, with
the password ``GAS_LOAD_PASSWORD``; set your own for a deployment. Sharing is harmless
(sessions are cookies) and keeps the number of accounts and seed jobs small.

Login throttling counts failed sign-ins per email address (5 per 15 minutes), not per
client address, so hundreds of users from one load generator are not blocked; a wrong
``GAS_LOAD_PASSWORD`` for existing accounts is, and shows up as 429 failures.

``GAS_LOAD_STAGES`` (e.g. ``10:20,25:20,50:30``: users:seconds, in order) replaces
``-u``/``-t`` with a staircase, which is how ``make load`` finds the sustainable rate.

Only loopback and the host given to Locust are ever sent to (loadtest.targets); a
deployment's S3 upload host must be named in ``GAS_LOAD_ALLOW_HOSTS``.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import HttpUser, LoadTestShape, between, events, task
from locust.env import Environment
from locust.exception import StopUser

# Locust runs this file by path and loadtest/ is not an installed package (it is run from the
# checkout), so the checkout goes on the path for the imports below.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtest import stages, targets, webforms

PASSWORD = os.environ.get("GAS_LOAD_PASSWORD", "gas load test password")
ACCOUNT_PREFIX = os.environ.get("GAS_LOAD_ACCOUNT_PREFIX", "loadtest-")
ACCOUNTS = int(os.environ.get("GAS_LOAD_ACCOUNTS", "25"))
SAMPLE = Path(
    os.environ.get(
        "GAS_LOAD_SAMPLE", Path(__file__).resolve().parents[1] / "data/samples/free_1.vcf"
    )
)
TIMEOUT_SECONDS = 30  # a request slower than this counts as failed rather than hanging a user
_account_numbers = itertools.count()


@events.init.add_listener
def refuse_unnamed_hosts(environment: Environment, **_: Any) -> None:
    """Exit before the first request if the host is not one we may send load to."""
    host = environment.host or GasUser.host
    try:
        targets.check(host, targets.allowed_hosts([host]))
    except targets.RefusedTarget as refused:
        raise SystemExit(f"locustfile: {refused}") from None


class GasUser(HttpUser):
    """One person using GAS: signs in once, then reads their annotations."""

    host = "http://127.0.0.1:8080"
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.allowed = targets.allowed_hosts([self.host])
        self.email = f"{ACCOUNT_PREFIX}{next(_account_numbers) % ACCOUNTS}@example.org"
        self.job_ids: list[str] = []
        self.logs: set[str] = set()
        if not (self.log_in() or self.register() or self.log_in()):
            raise StopUser()  # the failed answers are in the statistics
        self.job_ids = self.read_job_ids()
        if not self.job_ids:
            self.submit_sample()

    # --- signing in -----------------------------------------------------------------

    def log_in(self) -> bool:
        page = self.client.get("/login", name="/login", timeout=TIMEOUT_SECONDS).text
        data = webforms.login_data(page, self.email, PASSWORD)
        # An account not registered yet is refused with this sentence: not a failure.
        return self.post_form("/login", data, expected_refusal="do not match an account")

    def register(self) -> bool:
        page = self.client.get("/register", name="/register", timeout=TIMEOUT_SECONDS).text
        data = webforms.register_data(page, "Load Test", self.email, PASSWORD)
        # Another simulated user may have registered the shared account a moment ago.
        return self.post_form("/register", data, expected_refusal="already exists")

    def post_form(self, path: str, data: dict[str, str], expected_refusal: str) -> bool:
        """POST a form as a browser does: True on its 303; False on a 400 saying
        ``expected_refusal`` (counted as a success); any other answer is a failure."""
        with self.client.post(
            path,
            data=data,
            name=f"{path} (POST)",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT_SECONDS,
        ) as response:
            if response.status_code == 303:
                response.success()
                return True
            if response.status_code == 400 and expected_refusal in response.text:
                response.success()
                return False
            response.failure(f"{path} answered {response.status_code}")
            return False

    # --- a sample job, so that details and log have something to show ----------------

    def submit_sample(self) -> None:
        """Upload the sample as the annotate page does: presigned POST to S3, then register."""
        form = self.client.get(
            "/annotate/form",
            params={"filename": SAMPLE.name},
            name="/annotate/form",
            timeout=TIMEOUT_SECONDS,
        ).json()
        upload_url = targets.check(form["url"], self.allowed)
        with self.client.post(
            upload_url,
            data=form["fields"],
            files={"file": (SAMPLE.name, SAMPLE.read_bytes())},
            name="S3 upload (presigned POST)",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT_SECONDS,
        ) as response:
            if response.status_code != 303:
                response.failure(f"S3 answered {response.status_code}")
                return
            back = urlsplit(response.headers["Location"])
        # S3 sends the browser back to the app's own URL; follow it on the host we test.
        self.client.get(
            f"{back.path}?{back.query}",
            name="/annotate/uploaded",
            timeout=TIMEOUT_SECONDS,
        )
        self.job_ids = self.read_job_ids()

    def read_job_ids(self) -> list[str]:
        page = self.client.get("/annotations", name="/annotations", timeout=TIMEOUT_SECONDS)
        return webforms.job_ids(page.text)

    # --- browsing -----------------------------------------------------------------------

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="/", timeout=TIMEOUT_SECONDS)

    @task(3)
    def my_annotations(self) -> None:
        self.job_ids = self.read_job_ids() or self.job_ids

    @task(3)
    def details(self) -> None:
        if not self.job_ids:
            return
        job_id = random.choice(self.job_ids)
        page = self.client.get(
            f"/annotations/{job_id}", name="/annotations/[id]", timeout=TIMEOUT_SECONDS
        )
        if f"/annotations/{job_id}/log" in page.text:
            self.logs.add(job_id)

    @task(1)
    def log(self) -> None:
        if not self.logs:  # the log exists once a job has finished; read details until then
            self.details()
            return
        job_id = random.choice(sorted(self.logs))
        self.client.get(
            f"/annotations/{job_id}/log", name="/annotations/[id]/log", timeout=TIMEOUT_SECONDS
        )


STAGES = (
    stages.parse_stages(os.environ.get("GAS_LOAD_STAGES", ""))
    if os.environ.get("GAS_LOAD_STAGES")
    else []
)

if STAGES:

    class Staircase(LoadTestShape):
        """Hold each user count of GAS_LOAD_STAGES for its time, then stop."""

        spawn_rate = float(os.environ.get("GAS_LOAD_SPAWN_RATE", "10"))

        def tick(self) -> tuple[int, float] | None:
            users = stages.users_at(STAGES, self.get_run_time())
            return None if users is None else (users, self.spawn_rate)
