"""The backlog-per-instance metric the annotators' target tracking reads."""

from __future__ import annotations

from gas.core.aws import AwsClients
from gas.local.bootstrap import Stack
from gas.workers.backlog import METRIC, NAMESPACE, BacklogPublisher


def test_backlog_per_instance_is_published(clients: AwsClients, stack: Stack) -> None:
    # GIVEN three waiting job requests and an annotator group with no instance yet
    url = stack.queue_urls["job-requests"]
    for n in range(3):
        clients.sqs.send_message(QueueUrl=url, MessageBody=f'{{"n": {n}}}')
    group = f"{clients.settings.stack}-annotator"
    clients.autoscaling.create_launch_configuration(
        LaunchConfigurationName=group, ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    clients.autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=group,
        LaunchConfigurationName=group,
        MinSize=0,
        MaxSize=2,
        AvailabilityZones=["us-east-1a"],
    )
    queue = clients.settings.names.queue("job-requests")
    publisher = BacklogPublisher(
        clients.sqs, clients.autoscaling, clients.cloudwatch, url, group, queue
    )
    # WHEN it publishes
    backlog = publisher.publish()
    # THEN the metric holds the backlog for at least one instance, with the policy's dimensions
    assert (backlog.visible_messages, backlog.in_service, backlog.per_instance) == (3, 0, 3.0)
    metrics = clients.cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=METRIC)["Metrics"]
    dimensions = {d["Name"]: d["Value"] for d in metrics[0]["Dimensions"]}
    assert dimensions == {"AutoScalingGroupName": group, "QueueName": queue}
