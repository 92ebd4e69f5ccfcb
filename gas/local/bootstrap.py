"""Create every resource of a stack in an emulator (moto, LocalStack), idempotently.

Everything it makes is declared in gas/core/topology.py; on AWS, Terraform creates the
same resources with the same names and attributes. This module is for the local cloud and
the tests only: nothing that runs in production imports it. Running it twice changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gas.core.aws import AwsClients, is_error
from gas.core.settings import Settings
from gas.core.topology import (
    DLQ_RETENTION_SECONDS,
    MAX_RECEIVES_BEFORE_DLQ,
    QUEUES,
    SUBSCRIPTIONS,
    TOPICS,
    ResourceNames,
    queue_attributes,
    table_schemas,
)


@dataclass(frozen=True, slots=True)
class Stack:
    """What the bootstrap made: the ARNs and URLs the services need."""

    topic_arns: dict[str, str]
    queue_urls: dict[str, str]
    dead_letter_queue_urls: dict[str, str]


def bootstrap(clients: AwsClients) -> Stack:
    settings = clients.settings
    names = settings.names
    _buckets(clients, names, settings)
    _tables(clients, names)
    topic_arns = {
        topic: clients.sns.create_topic(Name=names.topic(topic))["TopicArn"] for topic in TOPICS
    }
    dlq_urls, queue_urls = {}, {}
    for queue in QUEUES:
        dlq_urls[queue], queue_urls[queue] = _queue_with_dlq(clients, names, settings, queue)
    for topic, queue in SUBSCRIPTIONS:
        _subscribe(clients, topic_arns[topic], queue_urls[queue])
    clients.glacier.create_vault(accountId="-", vaultName=names.archive_vault)
    clients.ses.verify_email_identity(EmailAddress=settings.mail_sender)
    return Stack(topic_arns, queue_urls, dlq_urls)


def _buckets(clients: AwsClients, names: ResourceNames, settings: Settings) -> None:
    for bucket in (names.inputs_bucket, names.results_bucket):
        try:
            if settings.region == "us-east-1":
                clients.s3.create_bucket(Bucket=bucket)
            else:
                clients.s3.create_bucket(
                    Bucket=bucket,
                    CreateBucketConfiguration={"LocationConstraint": settings.region},
                )
        except Exception as exc:
            if not is_error(exc, "BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        clients.s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        clients.s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    # Browsers POST uploads straight to the inputs bucket from the web app's origin.
    clients.s3.put_bucket_cors(
        Bucket=names.inputs_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [settings.web_url],
                    "AllowedMethods": ["POST"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag", "Location"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )


def _tables(clients: AwsClients, names: ResourceNames) -> None:
    for table, schema in table_schemas(names).items():
        _create_table(clients, table, schema)


def _create_table(clients: AwsClients, name: str, schema: dict[str, Any]) -> None:
    try:
        clients.dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **schema)
    except Exception as exc:
        if not is_error(exc, "ResourceInUseException"):
            raise
    clients.dynamodb.get_waiter("table_exists").wait(TableName=name)


def _queue_with_dlq(
    clients: AwsClients, names: ResourceNames, settings: Settings, queue: str
) -> tuple[str, str]:
    dlq_url = clients.sqs.create_queue(
        QueueName=names.dead_letter_queue(queue),
        Attributes={"MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)},
    )["QueueUrl"]
    dlq_arn = _queue_arn(clients, dlq_url)
    attributes = queue_attributes(settings, queue)
    attributes["RedrivePolicy"] = json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES_BEFORE_DLQ)}
    )
    url = clients.sqs.create_queue(QueueName=names.queue(queue))["QueueUrl"]
    # set_queue_attributes rather than create_queue's: re-running with new values updates them
    clients.sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return dlq_url, url


def _queue_arn(clients: AwsClients, url: str) -> str:
    attributes = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _subscribe(clients: AwsClients, topic_arn: str, queue_url: str) -> None:
    """Subscribe the queue, allowing only this topic (and queues it already allows) to send."""
    queue_arn = _queue_arn(clients, queue_url)
    current = clients.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["Policy"])
    policy = json.loads(current.get("Attributes", {}).get("Policy", "null")) or {
        "Version": "2012-10-17",
        "Statement": [],
    }
    sid = "from-" + topic_arn.rsplit(":", 1)[1]
    if not any(statement.get("Sid") == sid for statement in policy["Statement"]):
        policy["Statement"].append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        )
        clients.sqs.set_queue_attributes(
            QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)}
        )
    clients.sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
