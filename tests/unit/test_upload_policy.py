"""The presigned POST's signed policy: what real S3 enforces, checked without any network."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gas.core.aws import AwsClients
from gas.core.jobs import JobRepository
from gas.core.settings import Settings
from gas.core.stack import locator_for
from gas.core.users import UserRepository
from gas.services.submission import SubmissionRefused, SubmissionService, Upload


@pytest.fixture
def submission(monkeypatch: pytest.MonkeyPatch) -> SubmissionService:
    """A service whose clients only sign (no call leaves the process)."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    clients = AwsClients(Settings(stack="gas", premium_upload_limit_bytes=10**9))
    names = clients.settings.names
    jobs = JobRepository(clients.dynamodb, names.annotations_table)
    users = UserRepository(clients.dynamodb, names.users_table)
    return SubmissionService(clients, jobs, users, locator_for(clients))


def _policy(upload: Upload) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(upload.fields["policy"]))
    return document


def _condition(policy: dict[str, Any], name: str) -> Any:
    for condition in policy["conditions"]:
        if isinstance(condition, dict) and name in condition:
            return condition[name]
        if isinstance(condition, list) and condition[0] == name:
            return condition[1:]
    raise AssertionError(f"no {name} condition in {policy['conditions']}")


def test_free_policy_pins_the_key_and_caps_the_size(submission: SubmissionService) -> None:
    upload = submission.new_upload("alice", "sample.vcf", "free")
    policy = _policy(upload)
    assert upload.fields["key"] == upload.key == f"alice/{upload.job_id}~sample.vcf"
    assert _condition(policy, "key") == upload.key  # exact match, not starts-with
    assert _condition(policy, "bucket") == "gas-inputs"
    assert _condition(policy, "content-length-range") == [1, 153600]


def test_premium_policy_allows_the_premium_limit(submission: SubmissionService) -> None:
    policy = _policy(submission.new_upload("bob", "big.vcf", "premium"))
    assert _condition(policy, "content-length-range") == [1, 10**9]


def test_policy_expires_after_the_configured_time(submission: SubmissionService) -> None:
    before = datetime.now(UTC)
    policy = _policy(submission.new_upload("alice", "s.vcf", "free"))
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    allowed = timedelta(seconds=submission.settings.presigned_upload_seconds)
    assert (
        before + allowed - timedelta(seconds=2)
        <= expires
        <= before + allowed + timedelta(seconds=2)
    )


def test_redirect_is_signed_too(submission: SubmissionService) -> None:
    upload = submission.new_upload("alice", "s.vcf", "free", redirect_url="http://web/jobs/new")
    assert upload.fields["success_action_redirect"] == "http://web/jobs/new"
    assert _condition(_policy(upload), "success_action_redirect") == "http://web/jobs/new"


def test_each_upload_gets_its_own_job(submission: SubmissionService) -> None:
    first = submission.new_upload("alice", "s.vcf", "free")
    second = submission.new_upload("alice", "s.vcf", "free")
    assert first.job_id != second.job_id


@pytest.mark.parametrize("name", ["", "..", ".env"])
def test_odd_file_names_are_refused(submission: SubmissionService, name: str) -> None:
    with pytest.raises(SubmissionRefused):
        submission.new_upload("alice", name, "free")
