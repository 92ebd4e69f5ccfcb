"""Every AWS resource name, derived from one stack name.

Terraform's ``name_prefix`` and the emulator bootstrap both come from here
(a test reads the Terraform code and compares), so the two cannot drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STACK = re.compile(r"[a-z][a-z0-9-]{1,30}[a-z0-9]")

# Topics, each with the queue of the same name subscribed to it; the archive
# queue listens to job_results too (see DESIGN.md's data flow).
TOPICS = ("job-requests", "job-results", "restore", "thaw")
QUEUES = ("job-requests", "job-results", "archive", "restore", "thaw")
SUBSCRIPTIONS = (
    ("job-requests", "job-requests"),
    ("job-results", "job-results"),
    ("job-results", "archive"),
    ("restore", "restore"),
    ("thaw", "thaw"),
)


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
