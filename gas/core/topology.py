"""The stack's topology, declared once: every resource name (derived from one stack name),
the topics, queues and subscriptions, the queues' attributes and the tables' keys and indexes.

The emulator bootstrap (gas/local/bootstrap.py) builds exactly this, the services and workers
read their constants from here, and tests/terraform checks that Terraform declares the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

_STACK = re.compile(r"[a-z][a-z0-9-]{1,30}[a-z0-9]")

# Topics, each with the queue of the same name subscribed to it; the archive
# queue listens to job_results too (see docs/architecture.md's data flow).
TOPICS = ("job-requests", "job-results", "restore", "thaw")
QUEUES = ("job-requests", "job-results", "archive", "restore", "thaw")
SUBSCRIPTIONS = (
    ("job-requests", "job-requests"),
    ("job-results", "job-results"),
    ("job-results", "archive"),
    ("restore", "restore"),
    ("thaw", "thaw"),
)

# Workers long-poll; a message received this many times goes to its queue's dead-letter queue.
LONG_POLL_SECONDS = 20
MAX_RECEIVES_BEFORE_DLQ = 3
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
WORK_QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
# Every queue but job-requests (whose timeout is a setting) hides a received message this long;
# its worker extends that while it works.
DEFAULT_VISIBILITY_SECONDS = 60
JOBS_BY_USER_INDEX = "user_id-submit_time-index"


class QueueTimings(Protocol):
    """The settings a queue's attributes depend on (gas.core.settings.Settings has them)."""

    @property
    def job_visibility_seconds(self) -> int: ...

    @property
    def free_retention_seconds(self) -> int: ...


def queue_attributes(settings: QueueTimings, queue: str) -> dict[str, str]:
    """Attributes of a work queue (Terraform declares the same)."""
    attributes = {
        "ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS),
        "VisibilityTimeout": str(
            settings.job_visibility_seconds
            if queue == "job-requests"
            else DEFAULT_VISIBILITY_SECONDS
        ),
        "MessageRetentionPeriod": str(WORK_QUEUE_RETENTION_SECONDS),
    }
    if queue == "archive":
        attributes["DelaySeconds"] = str(settings.free_retention_seconds)
    return attributes


def table_schemas(names: ResourceNames) -> dict[str, dict[str, Any]]:
    """Keys and indexes of each table, by table name, as DynamoDB's create_table takes them."""
    return {
        names.annotations_table: {
            "AttributeDefinitions": [
                {"AttributeName": "job_id", "AttributeType": "S"},
                {"AttributeName": "user_id", "AttributeType": "S"},
                {"AttributeName": "submit_time", "AttributeType": "N"},
            ],
            "KeySchema": [{"AttributeName": "job_id", "KeyType": "HASH"}],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": JOBS_BY_USER_INDEX,
                    "KeySchema": [
                        {"AttributeName": "user_id", "KeyType": "HASH"},
                        {"AttributeName": "submit_time", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        },
        names.users_table: {
            "AttributeDefinitions": [{"AttributeName": "user_id", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
        },
    }


@dataclass(frozen=True, slots=True)
class ResourceNames:
    """Names of one stack's buckets, tables, topics, queues and vault."""

    stack: str

    def __post_init__(self) -> None:
        if not _STACK.fullmatch(self.stack):
            raise ValueError(
                f"stack name {self.stack!r} must be 3-32 lowercase letters, digits or '-', "
                "starting with a letter (it prefixes S3 bucket names)"
            )

    def _name(self, suffix: str) -> str:
        return f"{self.stack}-{suffix}"

    @property
    def inputs_bucket(self) -> str:
        return self._name("inputs")

    @property
    def results_bucket(self) -> str:
        return self._name("results")

    @property
    def annotations_table(self) -> str:
        return self._name("annotations")

    @property
    def users_table(self) -> str:
        return self._name("users")

    @property
    def archive_vault(self) -> str:
        return self._name("archive")

    def topic(self, name: str) -> str:
        if name not in TOPICS:
            raise ValueError(f"unknown topic {name!r}; topics are {', '.join(TOPICS)}")
        return self._name(name)

    def queue(self, name: str) -> str:
        if name not in QUEUES:
            raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUES)}")
        return self._name(name)

    def dead_letter_queue(self, name: str) -> str:
        return self.queue(name) + "-dlq"
