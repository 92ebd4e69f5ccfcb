"""Find a stack's queue URLs and topic ARNs at run time, without creating anything.

Terraform (on AWS) or the bootstrap (in an emulator) made the resources; the
services only look them up by name, once, and remember the answers.
"""

from __future__ import annotations

from typing import Any

from gas.core.aws import AwsClients
from gas.core.topology import ResourceNames


class StackLocator:
    """Cached look-ups of one stack's queue URLs and topic ARNs."""

    def __init__(self, names: ResourceNames, sqs: Any, sts: Any, region: str) -> None:
        self.names = names
        self._sqs = sqs
        self._sts = sts
        self._region = region
        self._queue_urls: dict[str, str] = {}
        self._account: str | None = None

    def queue_url(self, queue: str) -> str:
        """URL of a work queue, e.g. ``queue_url("job-requests")``."""
        return self._url(self.names.queue(queue))

    def dead_letter_queue_url(self, queue: str) -> str:
        """URL of the dead-letter queue behind a work queue."""
        return self._url(self.names.dead_letter_queue(queue))

    def topic_arn(self, topic: str) -> str:
        """ARN of a topic, built from the caller's account: SNS has no get-by-name call."""
        if self._account is None:
            self._account = str(self._sts.get_caller_identity()["Account"])
        return f"arn:aws:sns:{self._region}:{self._account}:{self.names.topic(topic)}"

    def _url(self, queue_name: str) -> str:
        if queue_name not in self._queue_urls:
            self._queue_urls[queue_name] = str(
                self._sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            )
        return self._queue_urls[queue_name]


def locator_for(clients: AwsClients) -> StackLocator:
    """A locator using the clients' SQS and STS."""
    settings = clients.settings
    return StackLocator(settings.names, clients.sqs, clients.sts, settings.region)
