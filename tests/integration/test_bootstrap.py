"""The emulator bootstrap creates every resource with the agreed names and attributes."""

from __future__ import annotations

import json

from gas.core.aws import AwsClients
from gas.core.topology import JOBS_BY_USER_INDEX, QUEUES
from gas.local.bootstrap import Stack, bootstrap


def test_every_named_resource_exists(clients: AwsClients, stack: Stack) -> None:
    names = clients.settings.names
    buckets = {b["Name"] for b in clients.s3.list_buckets()["Buckets"]}
    assert {names.inputs_bucket, names.results_bucket} <= buckets
    table = clients.dynamodb.describe_table(TableName=names.annotations_table)["Table"]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == JOBS_BY_USER_INDEX
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["user_id", "submit_time"]
    clients.dynamodb.describe_table(TableName=names.users_table)
    vaults = {v["VaultName"] for v in clients.glacier.list_vaults()["VaultList"]}
    assert names.archive_vault in vaults
    assert clients.settings.mail_sender in clients.ses.list_identities()["Identities"]
    assert set(stack.queue_urls) == set(QUEUES)


def test_queues_long_poll_and_dead_letter_after_three_receives(
    clients: AwsClients, stack: Stack
) -> None:
    for queue, url in stack.queue_urls.items():
        attributes = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert attributes["ReceiveMessageWaitTimeSeconds"] == "20", queue
        redrive = json.loads(attributes["RedrivePolicy"])
        assert int(redrive["maxReceiveCount"]) == 3
        assert redrive["deadLetterTargetArn"].endswith(queue + "-dlq")
        expected_delay = str(clients.settings.free_retention_seconds) if queue == "archive" else "0"
        assert attributes.get("DelaySeconds", "0") == expected_delay, queue


def test_a_published_job_result_reaches_both_of_its_queues(
    clients: AwsClients, stack: Stack
) -> None:
    clients.sns.publish(TopicArn=stack.topic_arns["job-results"], Message='{"type": "x"}')
    for queue in ("job-results",):
        messages = clients.sqs.receive_message(
            QueueUrl=stack.queue_urls[queue], WaitTimeSeconds=2
        ).get("Messages", [])
        assert messages and json.loads(messages[0]["Body"])["Message"] == '{"type": "x"}'
    archived = clients.sqs.receive_message(QueueUrl=stack.queue_urls["archive"], WaitTimeSeconds=5)
    assert archived.get("Messages"), "the archive queue delays but still receives job results"


def test_bootstrap_twice_changes_nothing(clients: AwsClients, stack: Stack) -> None:
    again = bootstrap(clients)
    assert again == stack
    names = clients.settings.names
    subscriptions = clients.sns.list_subscriptions_by_topic(
        TopicArn=stack.topic_arns["job-results"]
    )["Subscriptions"]
    assert len(subscriptions) == 2
    assert names.queue("archive").endswith("-archive")
