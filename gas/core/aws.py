"""AWS clients: the one place that imports boto3.

boto3 reads ``AWS_ENDPOINT_URL`` by itself, so the same code talks to real
AWS, moto's server or LocalStack. Clients are made on first use, never at
import time, and passed to whatever needs them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from gas.core.settings import Settings

# Retries with backoff for throttling; the handlers' own idempotency covers the rest.
_CONFIG = Config(retries={"max_attempts": 5, "mode": "standard"}, signature_version="s3v4")
# Health checks: one quick try, so that an outage shows in seconds, not minutes.
_PROBE_CONFIG = Config(
    connect_timeout=2,
    read_timeout=2,
    retries={"max_attempts": 1, "mode": "standard"},
    signature_version="s3v4",
)


class AwsClients:
    """Lazily created clients for one region."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._session = boto3.session.Session(region_name=settings.region)

    def _client(self, service: str) -> Any:
        return self._session.client(service, config=_CONFIG)

    def probe(self, service: str) -> Any:
        """A client for health checks: short timeouts, no retries (made on each call)."""
        return self._session.client(service, config=_PROBE_CONFIG)

    @cached_property
    def s3(self) -> Any:
        return self._client("s3")

    @cached_property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def sns(self) -> Any:
        return self._client("sns")

    @cached_property
    def sqs(self) -> Any:
        return self._client("sqs")

    @cached_property
    def ses(self) -> Any:
        return self._client("ses")

    @cached_property
    def glacier(self) -> Any:
        return self._client("glacier")

    @cached_property
    def cloudwatch(self) -> Any:
        return self._client("cloudwatch")

    @cached_property
    def autoscaling(self) -> Any:
        return self._client("autoscaling")

    @cached_property
    def sts(self) -> Any:
        return self._client("sts")


def is_error(exc: Exception, *codes: str) -> bool:
    """True when a botocore ClientError carries one of the given error codes."""
    response = getattr(exc, "response", None)
    code = (response or {}).get("Error", {}).get("Code")
    return code in codes
