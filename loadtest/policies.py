"""The scaling parameters as terraform/ declares them, read with python-hcl2.

What is read, so that the replay follows the code:

- ``modules/scaling``: every ``aws_cloudwatch_metric_alarm`` (metric, statistic,
  period, evaluation periods, datapoints to alarm, threshold, comparison, missing
  data) and the ``aws_autoscaling_policy`` its ``alarm_actions`` name (adjustment,
  cooldown), and the target-tracking policy (metric, statistic, target, warm-up).
  ``${var.x}`` references are resolved against the module's variable defaults, then
  against what ``envs/aws`` passes to the module.
- ``envs/aws``: the groups' min and max sizes.
- ``modules/web`` and ``modules/annotator``: processes per instance (gunicorn
  workers, annotator processes).

``overrides`` (the replay's ``--var NAME=VALUE``) replace variable values of any of
these, which is how a change to the policies is tried before it is made.
The alarms' ``count`` (which annotator policy a deployment gets) is ignored: the
replay runs both to compare them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from loadtest.alarms import AlarmRule

TERRAFORM = Path(__file__).resolve().parents[1] / "terraform"
_OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False)
_VARIABLE = re.compile(r"\$\{var\.([A-Za-z0-9_]+)\}")
_POLICY = re.compile(r"aws_autoscaling_policy\.([A-Za-z0-9_]+)")
# Not in Terraform: how late each namespace's samples reach CloudWatch (see loadtest.alarms).
PUBLICATION_DELAY = {"AWS/ApplicationELB": 60, "AWS/SQS": 60, "GAS": 60}


class TerraformShapeError(ValueError):
    """A scaling setting is written in a form this reader does not evaluate."""


@dataclass(frozen=True)
class SimplePolicy:
    name: str
    adjustment: int
    cooldown: int


@dataclass(frozen=True)
class StepAlarm:
    """An alarm and the simple-scaling policy it triggers."""

    rule: AlarmRule
    policy: SimplePolicy


@dataclass(frozen=True)
class TargetTracking:
    name: str
    metric: str
    statistic: str
    target: float
    warmup: int
    delay: int


@dataclass(frozen=True)
class Group:
    name: str
    min_size: int
    max_size: int
    processes: int  # per instance


@dataclass(frozen=True)
class Policies:
    web: Group
    annotator: Group
    web_alarms: tuple[StepAlarm, ...]
    annotator_alarms: tuple[StepAlarm, ...]
    annotator_tracking: TargetTracking


def _blocks(directory: Path) -> dict[str, Any]:
    """Every top-level block of a directory's .tf files, merged by kind."""
    merged: dict[str, Any] = {"variable": {}, "resource": {}, "module": {}}
    for tf in sorted(directory.glob("*.tf")):
        with tf.open() as handle:
            parsed = hcl2.load(handle, serialization_options=_OPTIONS)
        for kind in ("variable", "module"):
            for block in parsed.get(kind, []):
                merged[kind].update(block)
        for block in parsed.get("resource", []):
            for type_, named in block.items():
                merged["resource"].setdefault(type_, {}).update(named)
    return merged


def _defaults(blocks: dict[str, Any]) -> dict[str, Any]:
    return {name: body["default"] for name, body in blocks["variable"].items() if "default" in body}


class Resolver:
    """Resolves ``${var.x}`` against variables; anything else is TerraformShapeError."""

    def __init__(self, variables: dict[str, Any]) -> None:
        self.variables = variables

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or "${" not in value:
            return value
        match = _VARIABLE.fullmatch(value)
        if not match or match.group(1) not in self.variables:
            raise TerraformShapeError(f"cannot evaluate {value!r}")
        return self(self.variables[match.group(1)])

    def number(self, value: Any) -> float:
        return float(self(value))


def _module_variables(module: str, root: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """A module's variables as envs/aws sets them: defaults, then the env's inputs."""
    env = _blocks(root / "envs" / "aws")
    env_vars = {**_defaults(env), **overrides}
    variables = _defaults(_blocks(root / "modules" / module))
    given = env["module"].get(module, {})
    for name, value in given.items():
        match = _VARIABLE.fullmatch(value) if isinstance(value, str) else None
        if match and match.group(1) in env_vars:
            variables[name] = env_vars[match.group(1)]
        elif not isinstance(value, str) or "${" not in value:
            variables[name] = value
    return {**variables, **overrides}


def _group(name: str, root: Path, overrides: dict[str, Any], processes_var: str) -> Group:
    resolve = Resolver(_module_variables(name, root, overrides))
    return Group(
        name,
        int(resolve.number("${var.min_size}")),
        int(resolve.number("${var.max_size}")),
        int(resolve.number(f"${{var.{processes_var}}}")),
    )


def _step_alarm(
    name: str,
    body: dict[str, Any],
    policies: dict[str, Any],
    resolve: Resolver,
    delays: dict[str, int],
) -> StepAlarm:
    (action,) = body["alarm_actions"]
    policy_name = _POLICY.search(action)
    if not policy_name:
        raise TerraformShapeError(f"alarm {name}: no scaling policy in {action!r}")
    policy = policies[policy_name.group(1)]
    rule = AlarmRule(
        name=name,
        metric=body["metric_name"],
        statistic=body["statistic"],
        period=int(resolve.number(body["period"])),
        evaluation_periods=int(resolve.number(body["evaluation_periods"])),
        datapoints_to_alarm=int(
            resolve.number(body.get("datapoints_to_alarm", body["evaluation_periods"]))
        ),
        threshold=resolve.number(body["threshold"]),
        comparison=body["comparison_operator"],
        treat_missing_data=body.get("treat_missing_data", "missing"),
        delay=delays[body["namespace"]],
    )
    simple = SimplePolicy(
        policy_name.group(1),
        int(resolve.number(policy["scaling_adjustment"])),
        int(resolve.number(policy["cooldown"])),
    )
    if policy["adjustment_type"] != "ChangeInCapacity":
        raise TerraformShapeError(f"policy {simple.name}: only ChangeInCapacity is replayed")
    return StepAlarm(rule, simple)


def _tracking(policy: dict[str, Any], resolve: Resolver, delays: dict[str, int]) -> TargetTracking:
    (config,) = policy["target_tracking_configuration"]
    (metric,) = config["customized_metric_specification"]
    namespace = resolve(metric["namespace"])
    return TargetTracking(
        name="annotator_backlog",
        metric=metric["metric_name"],
        statistic=metric["statistic"],
        target=resolve.number(config["target_value"]),
        warmup=int(resolve.number(policy["estimated_instance_warmup"])),
        delay=delays[namespace],
    )


def read(
    root: Path = TERRAFORM,
    overrides: dict[str, Any] | None = None,
    delays: dict[str, int] | None = None,
) -> Policies:
    """The web and annotator scaling, as terraform/ (with ``overrides``) declares it;
    ``delays`` replaces publication delays by namespace."""
    overrides = overrides or {}
    delays = {**PUBLICATION_DELAY, **(delays or {})}
    scaling = _blocks(root / "modules" / "scaling")
    resolve = Resolver(_module_variables("scaling", root, overrides))
    alarms = scaling["resource"]["aws_cloudwatch_metric_alarm"]
    policies = scaling["resource"]["aws_autoscaling_policy"]
    steps = [_step_alarm(name, body, policies, resolve, delays) for name, body in alarms.items()]
    return Policies(
        web=_group("web", root, overrides, "workers"),
        annotator=_group("annotator", root, overrides, "workers_per_instance"),
        web_alarms=tuple(s for s in steps if s.rule.name.startswith("web_")),
        annotator_alarms=tuple(s for s in steps if s.rule.name.startswith("annotator_")),
        annotator_tracking=_tracking(policies["annotator_backlog"], resolve, delays),
    )
