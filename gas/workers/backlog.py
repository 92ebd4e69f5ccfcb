"""Publishes the annotators' backlog per instance, the metric AWS recommends for scaling
queue workers with target tracking (Terraform's `annotator_scaling = "backlog"`).

BacklogPerInstance = visible job requests / InService annotator instances
(at least one, so an empty group with a backlog still reads as needing work).
Published every minute to namespace GAS with the dimensions the scaling policy names.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from gas.core.aws import AwsClients
from gas.core.settings import Settings
from gas.core.stack import locator_for
from gas.workers.poll import configure_logging

log = logging.getLogger(__name__)

NAMESPACE = "GAS"
METRIC = "BacklogPerInstance"
PERIOD_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Backlog:
    visible_messages: int
    in_service: int

    @property
    def per_instance(self) -> float:
        return self.visible_messages / max(1, self.in_service)


class BacklogPublisher:
    def __init__(
        self, sqs: Any, autoscaling: Any, cloudwatch: Any, queue_url: str, group: str, queue: str
    ) -> None:
        self.sqs, self.autoscaling, self.cloudwatch = sqs, autoscaling, cloudwatch
        self.queue_url, self.group, self.queue = queue_url, group, queue

    def measure(self) -> Backlog:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        groups = self.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[self.group])[
            "AutoScalingGroups"
        ]
        instances = groups[0]["Instances"] if groups else []
        in_service = sum(1 for i in instances if i.get("LifecycleState") == "InService")
        return Backlog(int(attributes["ApproximateNumberOfMessages"]), in_service)

    def publish(self) -> Backlog:
        backlog = self.measure()
        self.cloudwatch.put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {
                    "MetricName": METRIC,
                    "Dimensions": [
                        {"Name": "AutoScalingGroupName", "Value": self.group},
                        {"Name": "QueueName", "Value": self.queue},
                    ],
                    "Value": backlog.per_instance,
                    "Unit": "Count",
                }
            ],
        )
        log.info(
            "job -: backlog %s messages / %s annotators",
            backlog.visible_messages,
            backlog.in_service,
        )
        return backlog

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.publish()
            except Exception:
                log.exception("job -: could not publish the backlog metric")
            stop.wait(PERIOD_SECONDS)


def main() -> None:
    """Publish every minute until SIGTERM."""
    import signal

    from gas.workers.runner import describe_command

    describe_command()
    configure_logging()
    settings = Settings.from_env()
    clients = AwsClients(settings)
    names = settings.names
    publisher = BacklogPublisher(
        clients.sqs,
        clients.autoscaling,
        clients.cloudwatch,
        locator_for(clients).queue_url("job-requests"),
        group=f"{settings.stack}-annotator",  # the tier module's group name
        queue=names.queue("job-requests"),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    publisher.run(stop)


if __name__ == "__main__":
    main()
