"""The Terraform declares the topology (gas/core/topology.py) identically.

The topology is declared once, in Python; the emulator bootstrap (gas/local/bootstrap.py)
builds exactly it. Here the bootstrap runs against recording clients, so every call it makes
is the topology made concrete; each is then looked up in the parsed Terraform, evaluated
with the default ``name_prefix = "gas"`` and the modules' defaults. Changing the topology
without Terraform, or Terraform without the topology, breaks these tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gas.core import topology
from gas.core.settings import MAX_SQS_DELAY_SECONDS, Settings
from gas.core.topology import _STACK, QUEUES, SUBSCRIPTIONS, TOPICS, ResourceNames
from gas.local import bootstrap as bootstrap_module
from tests.terraform import tfconfig
from tests.terraform.tfconfig import Evaluator

SETTINGS = Settings()
NAMES = SETTINGS.names
ACCOUNT = "123456789012"


@dataclass
class Recorder:
    """A fake boto3 client: records every call, answers what the bootstrap reads back."""

    service: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if args:
                kwargs = {"_args": list(args), **kwargs}
            self.calls.append((method, kwargs))
            return self._answer(method, kwargs)

        return call

    def _answer(self, method: str, kwargs: dict[str, Any]) -> Any:
        if method == "create_topic":
            return {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:{kwargs['Name']}"}
        if method == "create_queue":
            return {
                "QueueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{kwargs['QueueName']}"
            }
        if method == "get_queue_attributes":
            name = kwargs["QueueUrl"].rsplit("/", 1)[1]
            return {"Attributes": {"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"}}
        if method == "get_waiter":
            return Recorder("waiter")
        return {}

    def named(self, method: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == method]


@dataclass
class RecordingClients:
    settings: Settings
    s3: Recorder = field(default_factory=lambda: Recorder("s3"))
    dynamodb: Recorder = field(default_factory=lambda: Recorder("dynamodb"))
    sqs: Recorder = field(default_factory=lambda: Recorder("sqs"))
    sns: Recorder = field(default_factory=lambda: Recorder("sns"))
    glacier: Recorder = field(default_factory=lambda: Recorder("glacier"))
    ses: Recorder = field(default_factory=lambda: Recorder("ses"))


@pytest.fixture(scope="module")
def recorded() -> RecordingClients:
    clients = RecordingClients(SETTINGS)
    fake: Any = clients
    bootstrap_module.bootstrap(fake)
    return clients


def aws_default(name: str) -> Any:
    return tfconfig.env("aws").variables[name]["default"]


def prefix() -> dict[str, Any]:
    return {"name_prefix": tfconfig.env("local").variables["name_prefix"]["default"]}


def snake(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


# --- one stack name ---------------------------------------------------------------


def test_name_prefix_defaults_to_the_default_stack_only_in_the_emulator() -> None:
    # Bucket names are global across AWS: a real stack's name is chosen, never defaulted.
    assert "default" not in tfconfig.env("aws").variables["name_prefix"]
    assert tfconfig.env("local").variables["name_prefix"]["default"] == SETTINGS.stack == "gas"


WITH_PREFIX = [
    path
    for path in [*tfconfig.module_dirs(), tfconfig.ENVS / "aws", tfconfig.ENVS / "local"]
    if "name_prefix" in tfconfig.load(path).variables
]


@pytest.mark.parametrize("path", WITH_PREFIX, ids=lambda p: p.name)
def test_name_prefix_validation_is_the_stack_pattern(path: Path) -> None:
    variable = tfconfig.load(path).variables["name_prefix"]
    (validation,) = variable["validation"]
    match = re.search(r'regex\("\^(.*)\$", var\.name_prefix\)', validation["condition"])
    assert match, validation["condition"]
    assert match.group(1).replace("\\\\", "\\") == _STACK.pattern


def test_every_env_passes_its_own_name_prefix_to_every_module() -> None:
    for name in ("aws", "local"):
        for module_name, block in tfconfig.env(name).modules.items():
            source = block["source"].rsplit("/", 1)[1]
            if "name_prefix" in tfconfig.module(source).variables:
                assert block["name_prefix"] == "${var.name_prefix}", (name, module_name)


# --- buckets ----------------------------------------------------------------------


def test_bucket_names(recorded: RecordingClients) -> None:
    storage = tfconfig.module("storage")
    evaluate = Evaluator(storage, prefix())
    bucket = storage.resource("aws_s3_bucket", "this")
    declared = {
        evaluate(bucket["bucket"], {"each": {"key": key}}) for key in storage.locals["buckets"]
    }
    created = {call["Bucket"] for call in recorded.s3.named("create_bucket")}
    assert declared == created == {NAMES.inputs_bucket, NAMES.results_bucket}


def test_public_access_block_and_encryption_on_every_bucket(recorded: RecordingClients) -> None:
    storage = tfconfig.module("storage")
    block = storage.resource("aws_s3_bucket_public_access_block", "this")
    assert block["for_each"] == "${toset(local.buckets)}"
    for call in recorded.s3.named("put_public_access_block"):
        for setting, value in call["PublicAccessBlockConfiguration"].items():
            assert block[snake(setting)] is value, setting
    sse = storage.resource("aws_s3_bucket_server_side_encryption_configuration", "this")
    assert sse["for_each"] == "${toset(local.buckets)}"
    (rule,) = sse["rule"]
    (default,) = rule["apply_server_side_encryption_by_default"]
    algorithms = {
        call["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
        for call in recorded.s3.named("put_bucket_encryption")
    }
    assert algorithms == {default["sse_algorithm"]}


def test_inputs_cors_allows_the_web_origin_to_post(recorded: RecordingClients) -> None:
    storage = tfconfig.module("storage")
    cors = storage.resource("aws_s3_bucket_cors_configuration", "inputs")
    assert cors["bucket"] == '${aws_s3_bucket.this["inputs"].id}'
    (call,) = recorded.s3.named("put_bucket_cors")
    assert call["Bucket"] == NAMES.inputs_bucket
    (expected,) = call["CORSConfiguration"]["CORSRules"]
    (rule,) = cors["cors_rule"]
    assert rule["allowed_origins"] == "${var.cors_allowed_origins}"
    for key in ("AllowedMethods", "AllowedHeaders", "ExposeHeaders", "MaxAgeSeconds"):
        assert rule[snake(key)] == expected[key], key
    # the origin: the local env passes its web_url, whose default is the settings' default
    local = tfconfig.env("local")
    assert local.modules["storage"]["cors_allowed_origins"] == ["${var.web_url}"]
    assert [local.variables["web_url"]["default"]] == expected["AllowedOrigins"]
    assert tfconfig.env("aws").modules["storage"]["cors_allowed_origins"] == ["${module.web.url}"]


# --- tables -----------------------------------------------------------------------


def _table(resource: dict[str, Any]) -> dict[str, Any]:
    """A Terraform table in CreateTable's shape."""
    shape: dict[str, Any] = {
        "BillingMode": resource["billing_mode"],
        "AttributeDefinitions": sorted(
            (
                {"AttributeName": a["name"], "AttributeType": a["type"]}
                for a in resource["attribute"]
            ),
            key=lambda a: a["AttributeName"],
        ),
        "KeySchema": [{"AttributeName": resource["hash_key"], "KeyType": "HASH"}],
    }
    indexes = [
        {
            "IndexName": index["name"],
            "KeySchema": [
                {"AttributeName": index["hash_key"], "KeyType": "HASH"},
                *(
                    [{"AttributeName": index["range_key"], "KeyType": "RANGE"}]
                    if "range_key" in index
                    else []
                ),
            ],
            "Projection": {"ProjectionType": index["projection_type"]},
        }
        for index in resource.get("global_secondary_index", [])
    ]
    if indexes:
        shape["GlobalSecondaryIndexes"] = indexes
    return shape


def test_tables_names_keys_and_index(recorded: RecordingClients) -> None:
    data = tfconfig.module("data")
    evaluate = Evaluator(data, prefix())
    declared = {
        evaluate(resource["name"]): _table(resource)
        for resource in data.resources["aws_dynamodb_table"].values()
    }
    created = {}
    for call in recorded.dynamodb.named("create_table"):
        shape = {k: v for k, v in call.items() if k != "TableName"}
        shape["AttributeDefinitions"] = sorted(
            shape["AttributeDefinitions"], key=lambda a: a["AttributeName"]
        )
        created[call["TableName"]] = shape
    assert declared == created
    assert set(created) == {NAMES.annotations_table, NAMES.users_table}
    assert topology.JOBS_BY_USER_INDEX == "user_id-submit_time-index"
    assert (
        tfconfig.module("data").outputs["jobs_by_user_index_name"]["value"]
        == topology.JOBS_BY_USER_INDEX
    )


def test_tables_have_point_in_time_recovery() -> None:
    for name, resource in tfconfig.module("data").resources["aws_dynamodb_table"].items():
        (pitr,) = resource["point_in_time_recovery"]
        assert pitr["enabled"] is True, name


# --- topics, queues, subscriptions ------------------------------------------------


def test_topic_names(recorded: RecordingClients) -> None:
    messaging = tfconfig.module("messaging")
    evaluate = Evaluator(messaging, prefix())
    topic = messaging.resource("aws_sns_topic", "this")
    assert messaging.locals["topics"] == list(TOPICS)
    declared = {
        evaluate(topic["name"], {"each": {"key": key}}) for key in messaging.locals["topics"]
    }
    assert declared == {call["Name"] for call in recorded.sns.named("create_topic")}


def _queues(
    recorded: RecordingClients,
) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(dead-letter queue, work queue) attributes by queue name, as the bootstrap set them."""
    dead_letters = {
        call["QueueName"]: call.get("Attributes", {})
        for call in recorded.sqs.named("create_queue")
        if call["QueueName"].endswith("-dlq")
    }
    work: dict[str, dict[str, str]] = {}
    for call in recorded.sqs.named("set_queue_attributes"):
        name = call["QueueUrl"].rsplit("/", 1)[1]
        if "Policy" not in call["Attributes"]:
            work.setdefault(name, {}).update(call["Attributes"])
    return dead_letters, work


def test_queue_and_dead_letter_queue_names(recorded: RecordingClients) -> None:
    messaging = tfconfig.module("messaging")
    evaluate = Evaluator(messaging, prefix())
    assert list(messaging.locals["queues"]) == list(QUEUES)
    dead_letters, work = _queues(recorded)
    queue = messaging.resource("aws_sqs_queue", "this")
    dlq = messaging.resource("aws_sqs_queue", "dead_letters")
    assert {evaluate(queue["name"], {"each": {"key": q}}) for q in QUEUES} == set(work)
    assert {evaluate(dlq["name"], {"each": {"key": q}}) for q in QUEUES} == set(dead_letters)
    assert set(dead_letters) == {NAMES.dead_letter_queue(q) for q in QUEUES}


@pytest.mark.parametrize("queue_name", QUEUES)
def test_queue_attributes(recorded: RecordingClients, queue_name: str) -> None:
    messaging = tfconfig.module("messaging")
    evaluate = Evaluator(messaging, prefix())
    queue = messaging.resource("aws_sqs_queue", "this")
    scope = {"each": {"key": queue_name, "value": messaging.locals["queues"][queue_name]}}
    _, work = _queues(recorded)
    expected = dict(work[NAMES.queue(queue_name)])
    redrive = json.loads(expected.pop("RedrivePolicy"))
    expected.setdefault("DelaySeconds", "0")  # SQS's default
    declared = {
        "ReceiveMessageWaitTimeSeconds": evaluate(queue["receive_wait_time_seconds"], scope),
        "VisibilityTimeout": evaluate(queue["visibility_timeout_seconds"], scope),
        "MessageRetentionPeriod": evaluate(queue["message_retention_seconds"], scope),
        "DelaySeconds": evaluate(queue["delay_seconds"], scope),
    }
    assert {k: str(v) for k, v in declared.items()} == expected
    assert expected == {
        **topology.queue_attributes(SETTINGS, queue_name),
        "DelaySeconds": expected["DelaySeconds"],
    }
    # redrive: to this queue's own DLQ after the bootstrap's number of receives
    policy = queue["redrive_policy"]
    assert "aws_sqs_queue.dead_letters[each.key].arn" in policy
    count = re.search(r"maxReceiveCount\s*=\s*var\.(\w+)", policy)
    assert count, policy
    assert str(evaluate("${var." + count.group(1) + "}")) == redrive["maxReceiveCount"]
    assert redrive["deadLetterTargetArn"].endswith(":" + NAMES.dead_letter_queue(queue_name))


def test_dead_letter_queue_retention(recorded: RecordingClients) -> None:
    messaging = tfconfig.module("messaging")
    evaluate = Evaluator(messaging, prefix())
    dlq = messaging.resource("aws_sqs_queue", "dead_letters")
    dead_letters, _ = _queues(recorded)
    for attributes in dead_letters.values():
        assert attributes == {
            "MessageRetentionPeriod": str(evaluate(dlq["message_retention_seconds"]))
        }
    assert evaluate(dlq["message_retention_seconds"]) == topology.DLQ_RETENTION_SECONDS


def test_retention_and_visibility_are_the_settings_variables() -> None:
    messaging = tfconfig.module("messaging")
    queues = messaging.locals["queues"]
    assert queues["archive"]["delay_seconds"] == "${var.free_retention_seconds}"
    assert queues["job-requests"]["visibility_timeout_seconds"] == "${var.job_visibility_seconds}"
    defaults = messaging.defaults()
    assert defaults["free_retention_seconds"] == SETTINGS.free_retention_seconds
    assert defaults["job_visibility_seconds"] == SETTINGS.job_visibility_seconds
    (validation,) = messaging.variables["free_retention_seconds"]["validation"]
    assert f"<= {MAX_SQS_DELAY_SECONDS}" in validation["condition"]
    aws = tfconfig.env("aws")
    for variable in ("free_retention_seconds", "job_visibility_seconds"):
        assert aws.modules["messaging"][variable] == "${var." + variable + "}"
        assert aws.variables[variable]["default"] == getattr(SETTINGS, variable)


def test_subscriptions(recorded: RecordingClients) -> None:
    messaging = tfconfig.module("messaging")
    declared = {(s["topic"], s["queue"]) for s in messaging.locals["subscriptions"].values()}
    assert declared == set(SUBSCRIPTIONS)
    arn_names = {
        (call["TopicArn"].rsplit(":", 1)[1], call["Endpoint"].rsplit(":", 1)[1])
        for call in recorded.sns.named("subscribe")
    }
    assert arn_names == {(NAMES.topic(t), NAMES.queue(q)) for t, q in declared}
    subscription = messaging.resource("aws_sns_topic_subscription", "this")
    assert {call["Protocol"] for call in recorded.sns.named("subscribe")} == {
        subscription["protocol"]
    }
    assert subscription["raw_message_delivery"] is False


def test_queue_policies_allow_only_their_topics(recorded: RecordingClients) -> None:
    messaging = tfconfig.module("messaging")
    evaluate = Evaluator(messaging, prefix())
    document = messaging.data["aws_iam_policy_document"]["queues"]
    (dynamic,) = document["dynamic"]
    content = dynamic["statement"]["content"][0]
    assert messaging.resource("aws_sqs_queue_policy", "this")["for_each"] == "${local.queues}"
    recorded_policies: dict[str, list[dict[str, Any]]] = {}
    for call in recorded.sqs.named("set_queue_attributes"):
        if "Policy" in call["Attributes"]:
            name = call["QueueUrl"].rsplit("/", 1)[1]
            recorded_policies[name] = json.loads(call["Attributes"]["Policy"])["Statement"]
    for queue_name in QUEUES:
        topics = [t for t, q in SUBSCRIPTIONS if q == queue_name]
        statements = recorded_policies[NAMES.queue(queue_name)]
        assert [s["Sid"] for s in statements] == [
            evaluate(content["sid"], {"statement": {"value": t}}) for t in topics
        ]
        for statement in statements:
            assert statement["Effect"] == content["effect"]
            assert [statement["Action"]] == content["actions"]
            (principal,) = content["principals"]
            assert statement["Principal"] == {principal["type"]: principal["identifiers"][0]}
            (condition,) = content["condition"]
            assert statement["Condition"] == {
                condition["test"]: {
                    condition["variable"]: statement["Condition"]["ArnEquals"]["aws:SourceArn"]
                }
            }
            assert content["resources"] == ["${aws_sqs_queue.this[each.key].arn}"]
            assert condition["values"] == ["${aws_sns_topic.this[statement.value].arn}"]


# --- vault, mail ------------------------------------------------------------------


def test_vault_name(recorded: RecordingClients) -> None:
    archive = tfconfig.module("archive")
    evaluate = Evaluator(archive, prefix())
    (call,) = recorded.glacier.named("create_vault")
    assert evaluate(archive.resource("aws_glacier_vault", "this")["name"]) == call["vaultName"]
    assert call["vaultName"] == ResourceNames(SETTINGS.stack).archive_vault


def test_mail_sender_identity(recorded: RecordingClients) -> None:
    mail = tfconfig.module("mail")
    (call,) = recorded.ses.named("verify_email_identity")
    assert mail.resource("aws_ses_email_identity", "this")["email"] == "${var.mail_sender}"
    assert mail.defaults()["identity_type"] == "email"
    assert tfconfig.env("local").variables["mail_sender"]["default"] == call["EmailAddress"]


def test_bootstrap_makes_nothing_the_terraform_does_not_know(recorded: RecordingClients) -> None:
    """Each client call is one of those compared above: a new call needs a new comparison."""
    compared = {
        "s3": {
            "create_bucket",
            "put_public_access_block",
            "put_bucket_encryption",
            "put_bucket_cors",
        },
        "dynamodb": {"create_table", "get_waiter"},
        "sqs": {"create_queue", "get_queue_attributes", "set_queue_attributes"},
        "sns": {"create_topic", "subscribe"},
        "glacier": {"create_vault"},
        "ses": {"verify_email_identity"},
    }
    for service, methods in compared.items():
        client: Recorder = getattr(recorded, service)
        assert {name for name, _ in client.calls} == methods, service


# --- the instances' settings ------------------------------------------------------


def test_instance_environment_is_what_settings_reads() -> None:
    aws = tfconfig.env("aws")
    evaluate = Evaluator(aws, {"mail_sender": SETTINGS.mail_sender, **prefix()})
    environment = evaluate(aws.locals["environment"])
    environment["GAS_WEB_URL"] = SETTINGS.web_url
    assert Settings.from_env(environment) == SETTINGS
    source = (Path(bootstrap_module.__file__).parents[1] / "core" / "settings.py").read_text()
    for name in environment:
        assert f'"{name}"' in source, name
    web = aws.modules["web"]["secret_parameters"]
    billing = (Path(bootstrap_module.__file__).parents[1] / "core" / "billing.py").read_text()
    assert '"STRIPE_API_KEY"' in billing and "STRIPE_API_KEY" in web


def test_worker_units_run_the_planned_handler_modules() -> None:
    import importlib.util

    annotator = tfconfig.module("annotator").modules["instances"]["units"]
    assert "gas.workers.annotator" in annotator
    workers = tfconfig.module("workers")
    assert workers.locals["handlers"].startswith(
        '${concat(["notifier", "dead_letters", "archiver", "restorer", "thawer"]'
    )
    assert workers.modules["instances"]["units"].count("gas.workers.${handler}") == 1
    for existing in (
        "gas.workers.annotator",
        "gas.workers.notifier",
        "gas.workers.archiver",
        "gas.workers.restorer",
        "gas.workers.thawer",
        "gas.workers.backlog",
    ):
        assert importlib.util.find_spec(existing) is not None
