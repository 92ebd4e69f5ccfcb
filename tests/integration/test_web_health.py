"""/healthz answers 200 only while DynamoDB and S3 answer: a load balancer's probe."""

from __future__ import annotations

import time

import pytest

from gas.core.aws import AwsClients
from gas.core.settings import Settings
from gas.local.bootstrap import Stack
from gas.web.app import create_app
from tests.integration.web_helpers import SECRET, TestApp

pytest_plugins = ["tests.integration.web_fixtures"]


def test_healthy_when_the_stack_answers(client: TestApp) -> None:
    answer = client.get("/healthz")
    assert answer.status_int == 200 and answer.json == {"status": "ok"}


def test_unavailable_when_aws_does_not_answer(
    settings: Settings, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a web app whose AWS endpoint is down (nothing listens on port 9 here)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    client = TestApp(create_app(settings, AwsClients(settings), secret=SECRET))
    # WHEN the load balancer probes it, THEN it says so within seconds
    started = time.monotonic()
    answer = client.get("/healthz", expect_errors=True)
    assert answer.status_int == 503
    assert answer.json == {"status": "unavailable", "failing": ["dynamodb", "s3"]}
    assert time.monotonic() - started < 20


def test_unavailable_when_a_table_is_gone(
    client: TestApp, clients: AwsClients, settings: Settings
) -> None:
    clients.dynamodb.delete_table(TableName=settings.names.users_table)
    answer = client.get("/healthz", expect_errors=True)
    assert answer.status_int == 503 and answer.json["failing"] == ["dynamodb"]
