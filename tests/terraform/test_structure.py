"""Structural checks on terraform/: conventions, encryption, dead letters, alarms, IAM."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gas.core.topology import QUEUES
from gas.workers import backlog
from tests.terraform import tfconfig
from tests.terraform.tfconfig import Evaluator

CONFIGS = [*tfconfig.module_dirs(), tfconfig.ENVS / "aws", tfconfig.ENVS / "local"]


# --- conventions (terraform-aws-modules) -----------------------------------------


@pytest.mark.parametrize("path", tfconfig.module_dirs(), ids=lambda p: p.name)
def test_module_has_the_four_files(path: Path) -> None:
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        assert (path / name).is_file(), f"{path.name}/{name}"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_variable_and_output_has_a_description(path: Path) -> None:
    config = tfconfig.load(path)
    for kind, blocks in (("variable", config.variables), ("output", config.outputs)):
        for name, body in blocks.items():
            assert str(body.get("description", "")).strip(), f"{kind} {name} in {path.name}"


def test_every_checkov_skip_says_why() -> None:
    skips = 0
    for tf in tfconfig.ROOT.rglob("*.tf"):
        for line in tf.read_text().splitlines():
            if "checkov:skip=" in line:
                skips += 1
                assert re.search(r"checkov:skip=CKV2?_AWS_\d+:\S.{20,}", line), (
                    f"{tf}: {line.strip()}"
                )
    assert skips > 0


# --- queues: dead letters and encryption ------------------------------------------


def test_every_queue_has_a_dead_letter_queue_and_encryption() -> None:
    messaging = tfconfig.module("messaging")
    queues = messaging.resources["aws_sqs_queue"]
    assert set(queues) == {"this", "dead_letters"}
    assert list(messaging.locals["queues"]) == list(QUEUES)
    for name, queue in queues.items():
        assert queue["for_each"] == "${local.queues}", name
        assert queue["sqs_managed_sse_enabled"] is True or "kms_master_key_id" in queue, name
    assert "aws_sqs_queue.dead_letters[each.key].arn" in queues["this"]["redrive_policy"]
    for topic in messaging.resources["aws_sns_topic"].values():
        assert topic.get("kms_master_key_id"), "topics are encrypted"


def test_no_other_module_declares_queues() -> None:
    for path in tfconfig.module_dirs():
        if path.name != "messaging":
            assert "aws_sqs_queue" not in tfconfig.load(path).resources, path.name


def test_archive_delay_is_the_free_retention_variable() -> None:
    messaging = tfconfig.module("messaging")
    evaluate = Evaluator(messaging, {"free_retention_seconds": 123})
    queue = messaging.resource("aws_sqs_queue", "this")
    scope = {"each": {"key": "archive", "value": messaging.locals["queues"]["archive"]}}
    assert evaluate(queue["delay_seconds"], scope) == 123
    assert evaluate(queue["receive_wait_time_seconds"], scope) == 20


# --- buckets ----------------------------------------------------------------------


def test_buckets_are_versioned_and_inputs_expire() -> None:
    storage = tfconfig.module("storage")
    (versioning,) = storage.resource("aws_s3_bucket_versioning", "this")["versioning_configuration"]
    assert versioning["status"] == "Enabled"
    (rule,) = storage.resource("aws_s3_bucket_lifecycle_configuration", "inputs")["rule"]
    assert rule["status"] == "Enabled" and rule["expiration"]


def test_results_lifecycle_matches_the_in_place_glacier_copy() -> None:
    # The archiver changes the storage class itself: no tag rule, and the Standard copy it
    # leaves behind as a noncurrent version is gone after a day.
    storage = tfconfig.module("storage")
    results = storage.resource("aws_s3_bucket_lifecycle_configuration", "results")
    assert "dynamic" not in results
    (rule,) = results["rule"]
    assert "transition" not in rule and rule["filter"] == [{}]
    (expiry,) = rule["noncurrent_version_expiration"]
    assert expiry["noncurrent_days"] == "${var.results_noncurrent_version_expiration_days}"
    assert storage.defaults()["results_noncurrent_version_expiration_days"] == 1


def test_vault_only_with_the_vault_backend() -> None:
    archive = tfconfig.module("archive")
    assert archive.resource("aws_glacier_vault", "this")["count"] == "${var.create ? 1 : 0}"
    assert tfconfig.env("aws").modules["archive"]["create"] == '${var.archive_backend == "vault"}'
    assert tfconfig.env("local").modules["archive"]["create"] is False
    (notification,) = archive.resource("aws_glacier_vault", "this")["notification"]
    assert notification["sns_topic"] == "${var.thaw_topic_arn}"
    assert (
        tfconfig.env("aws").modules["archive"]["thaw_topic_arn"]
        == '${module.messaging.topic_arns["thaw"]}'
    )


# --- scaling: the seed's values ---------------------------------------------------

SEED_ALARMS = {
    # alarm: (metric, statistic, period s, evaluation periods, threshold, comparison)
    "web_scale_out": ("RequestCount", "Sum", 60, 1, 200, "GreaterThanThreshold"),
    "web_scale_in": ("TargetResponseTime", "Average", 60, 1, 0.01, "LessThanThreshold"),
    "annotator_scale_out": ("NumberOfMessagesSent", "Sum", 300, 1, 10, "GreaterThanThreshold"),
    "annotator_scale_in": ("NumberOfMessagesSent", "Sum", 300, 2, 5, "LessThanThreshold"),
}


@pytest.mark.parametrize("alarm", SEED_ALARMS)
def test_alarms_carry_the_seeds_thresholds(alarm: str) -> None:
    scaling = tfconfig.module("scaling")
    evaluate = Evaluator(scaling)
    body = scaling.resource("aws_cloudwatch_metric_alarm", alarm)
    declared = (
        body["metric_name"],
        body["statistic"],
        evaluate(body["period"]),
        evaluate(body["evaluation_periods"]),
        evaluate(body["threshold"]),
        body["comparison_operator"],
    )
    assert declared == SEED_ALARMS[alarm]
    assert evaluate(body["datapoints_to_alarm"]) == SEED_ALARMS[alarm][3]
    policy = scaling.resource("aws_autoscaling_policy", alarm)
    assert body["alarm_actions"][0].startswith(f"${{aws_autoscaling_policy.{alarm}")
    assert evaluate(policy["cooldown"]) == 300
    assert policy["scaling_adjustment"] == (1 if alarm.endswith("out") else -1)


def test_backlog_option_is_target_tracking() -> None:
    scaling = tfconfig.module("scaling")
    policy = scaling.resource("aws_autoscaling_policy", "annotator_backlog")
    assert policy["policy_type"] == "TargetTrackingScaling"
    assert policy["count"] == '${var.annotator_scaling == "backlog" ? 1 : 0}'
    (tracking,) = policy["target_tracking_configuration"]
    (metric,) = tracking["customized_metric_specification"]
    assert metric["metric_name"] == backlog.METRIC
    assert scaling.defaults()["backlog_metric_namespace"] == backlog.NAMESPACE
    dimensions = {d["name"] for d in metric["metric_dimension"]}
    assert dimensions == {"AutoScalingGroupName", "QueueName"}  # as gas.workers.backlog publishes
    assert scaling.defaults()["annotator_scaling"] == "step"
    # the workers tier publishes the metric, in the one namespace IAM lets it use
    workers = tfconfig.module("workers")
    assert 'var.publish_backlog_metric ? ["backlog"]' in workers.locals["handlers"]
    assert (
        tfconfig.module("iam").defaults()["metric_namespace"]
        == scaling.defaults()["backlog_metric_namespace"]
    )


def test_group_sizes() -> None:
    for name in ("web", "annotator"):
        defaults = tfconfig.module(name).defaults()
        assert (defaults["min_size"], defaults["max_size"]) == (2, 10), name
    assert tfconfig.module("workers").defaults()["size"] == 1


# --- IAM: no "*" actions on "*" resources -----------------------------------------

# Actions without resource-level permissions: "*" is the only resource they take.
UNSCOPED_ACTIONS = {"autoscaling:DescribeAutoScalingGroups", "cloudwatch:PutMetricData"}


def _policy_documents() -> list[tuple[str, str, dict[str, Any]]]:
    documents = []
    for path in CONFIGS:
        config = tfconfig.load(path)
        for name, body in config.data.get("aws_iam_policy_document", {}).items():
            documents.append((path.name, name, body))
    return documents


def _is_key_policy(module_name: str, document: str) -> bool:
    keys = tfconfig.load(tfconfig.MODULES / module_name).resources.get("aws_kms_key", {})
    return any(
        key.get("policy") == f"${{data.aws_iam_policy_document.{document}.json}}"
        for key in keys.values()
    )


def test_no_policy_allows_star_actions_on_star_resources() -> None:
    documents = _policy_documents()
    assert len(documents) >= 5
    for module_name, name, body in documents:
        statements = list(body.get("statement", []))
        statements += [d["statement"]["content"][0] for d in body.get("dynamic", [])]
        for statement in statements:
            actions = statement.get("actions", [])
            resources = statement.get("resources", [])
            where = f"{module_name}.{name}: {statement.get('sid')}"
            assert "*" not in actions, where
            if "*" in resources and statement.get("effect", "Allow") == "Allow":
                if _is_key_policy(module_name, name):
                    continue  # in a key policy "*" is the key itself
                assert set(actions) <= UNSCOPED_ACTIONS, where


def test_one_instance_profile_per_tier() -> None:
    iam = tfconfig.module("iam")
    assert iam.locals["tiers"] == ["web", "annotator", "workers"]
    assert set(iam.locals["policies"]) == set(iam.locals["tiers"])
    assert iam.resource("aws_iam_instance_profile", "this")["for_each"] == "${toset(local.tiers)}"
