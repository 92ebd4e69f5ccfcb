"""Operations in terraform/: dead-letter alarms, and expiry of login-throttle items."""

from __future__ import annotations

from tests.terraform import tfconfig
from tests.terraform.tfconfig import Evaluator


def test_every_dead_letter_queue_has_an_alarm() -> None:
    messaging = tfconfig.module("messaging")
    alarm = messaging.resource("aws_cloudwatch_metric_alarm", "dead_letters")
    evaluate = Evaluator(messaging)
    assert alarm["for_each"] == "${local.queues}"  # the same map as the queues themselves
    assert alarm["namespace"] == "AWS/SQS"
    assert alarm["metric_name"] == "ApproximateNumberOfMessagesVisible"
    assert "aws_sqs_queue.dead_letters[each.key].name" in alarm["dimensions"]["QueueName"]
    assert (evaluate(alarm["threshold"]), alarm["comparison_operator"]) == (
        0,
        "GreaterThanThreshold",
    )
    assert evaluate(alarm["evaluation_periods"]) == 1


def test_the_aws_env_can_route_the_alarms() -> None:
    env = tfconfig.load(tfconfig.ENVS / "aws")
    messaging = env.modules["messaging"]
    assert messaging["alarm_actions"] == "${var.dead_letter_alarm_actions}"


def test_login_throttle_items_expire() -> None:
    users = tfconfig.module("data").resource("aws_dynamodb_table", "users")
    [ttl] = users["ttl"] if isinstance(users["ttl"], list) else [users["ttl"]]
    assert (ttl["attribute_name"], ttl["enabled"]) == ("expires_at", True)
