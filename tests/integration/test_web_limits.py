"""A job that failed on a Free plan's limit offers Premium on its page."""

from __future__ import annotations

import uuid

from gas.core.jobs import Job, JobStatus
from gas.web.app import GasBottle
from tests.integration.web_helpers import AuthActions, TestApp

pytest_plugins = ["tests.integration.web_fixtures"]

OVER_LIMIT = (
    "The file is larger than 1.5 MiB (1,536,000 bytes) once decompressed, the Free plan's "
    "limit for one input; it was not annotated. Subscribe to Premium for larger jobs."
)


def _failed_job(app: GasBottle, user_id: str, reason: str) -> str:
    job_id = str(uuid.uuid4())
    job = Job(
        job_id=job_id,
        user_id=user_id,
        input_file_name="big.vcf.gz",
        s3_inputs_bucket="inputs",
        s3_key_input_file=f"{user_id}/{job_id}~big.vcf.gz",
        submit_time=app.gas.jobs.now(),
        job_status=JobStatus.FAILED,
        failure_reason=reason,
    )
    assert app.gas.jobs.create(job)
    return job_id


def test_a_free_job_over_a_limit_offers_premium(
    app: GasBottle, client: TestApp, auth: AuthActions
) -> None:
    auth.register()
    account = app.gas.users.account_by_email("alice@example.com")
    assert account is not None
    over = client.get(f"/annotations/{_failed_job(app, account.user_id, OVER_LIMIT)}")
    assert OVER_LIMIT in over.html.find("dd", class_="error").get_text()
    assert over.html.find(id="premium-offer")["href"] == "/subscribe"
    bad = client.get(f"/annotations/{_failed_job(app, account.user_id, 'line 3: bad POS')}")
    assert bad.html.find(id="premium-offer") is None  # Premium would not help
