"""Each tier's IAM policy allows exactly the actions its code calls: nothing missing, nothing extra.

The calls are found in the code, not listed by hand: every boto3 client method called in gas/
(presigned URL and POST generation, transfers and paginators included) is read with `ast`, and
a tier reaches the functions its entry modules (the systemd units terraform/ starts) refer to,
following names through the modules they import. Each call becomes the IAM actions botocore's
service model names for it (plus the few that AWS requires beside them, below); the boot script
adds what it runs with the instance role (`aws s3 cp`, `aws ssm get-parameter`). The policies
are terraform/modules/iam's policy documents; each action must also be granted on the stack's
resources of its service, never on "*" unless AWS offers no resource for it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import botocore.session
import pytest

from tests.terraform import tfconfig

GAS = Path(__file__).resolve().parents[2] / "gas"
TIERS = ("web", "annotator", "workers")

# The name a client is held under -> its boto3 service.
RECEIVERS = {
    "s3": "s3",
    "_s3": "s3",
    "sqs": "sqs",
    "_sqs": "sqs",
    "sns": "sns",
    "_sns": "sns",
    "ses": "ses",
    "_ses": "ses",
    "glacier": "glacier",
    "_glacier": "glacier",
    "sts": "sts",
    "_sts": "sts",
    "cloudwatch": "cloudwatch",
    "autoscaling": "autoscaling",
    "dynamodb": "dynamodb",
    "_db": "dynamodb",
}
# AwsClients methods that make a client for the service they are given.
CLIENT_FACTORIES = {"probe", "_client"}
# Client methods that are not API operations: what each one signs or runs.
HELPERS = {
    ("s3", "generate_presigned_post"): ["s3:PutObject"],
    ("s3", "upload_file"): ["s3:PutObject"],
    ("s3", "download_file"): ["s3:GetObject"],
    ("s3", "head_object"): ["s3:GetObject"],
    ("s3", "copy_object"): ["s3:GetObject", "s3:PutObject"],
    ("s3", "list_objects_v2"): ["s3:ListBucket"],
    ("s3", "head_bucket"): ["s3:ListBucket"],
    ("sts", "get_caller_identity"): [],  # needs no permission
    # SQS authorises its batch calls with the single call's action.
    ("sqs", "send_message_batch"): ["sqs:SendMessage"],
    ("sqs", "delete_message_batch"): ["sqs:DeleteMessage"],
    ("sqs", "change_message_visibility_batch"): ["sqs:ChangeMessageVisibility"],
}
# What AWS checks beside the call itself.
IMPLIED = {
    # Without ListBucket a missing key answers 403 instead of 404.
    "s3:GetObject": ["s3:ListBucket"],
    # The topics are encrypted with the stack's KMS key.
    "sns:Publish": ["kms:GenerateDataKey", "kms:Decrypt"],
}
# Resources each service's actions may name (the iam module's inputs), "*" where AWS has none.
RESOURCES = {
    "s3": ("var.bucket_arns", "local.artifact_arn"),
    "dynamodb": ("var.table_arns",),
    "sqs": ("var.queue_arns", "var.dead_letter_queue_arns"),
    "sns": ("var.topic_arns",),
    "kms": ("var.topic_kms_key_arn",),
    "ses": ("var.ses_identity_arn",),
    "glacier": ("statement.value",),
    "ssm": ("var.parameter_arns",),
    "autoscaling": ("*",),
    "cloudwatch": ("*",),
}
_BOTO_EXTRAS = {"generate_presigned_url", "get_paginator"}
# Calls named like an API operation on something that is not a client (a Jinja environment's
# get_template, a worker's own publish, Bottle's request.query, the billing service's
# subscribe): checked below, so that no
# client hides among them.
NOT_CLIENTS = {
    "subscriptions.subscribe",
    "templates.get_template",
    "self.publish",
    "self.query",
    "page.query",
    "request.query",
}
UNATTRIBUTED: set[str] = set()
CALLS: dict[ast.AST, ast.Call] = {}


@cache
def operations(service: str) -> dict[str, str]:
    """boto3 method name -> API operation name, from botocore's model (no network)."""
    client = botocore.session.get_session().create_client(
        service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return dict(client.meta.method_to_api_mapping)


@dataclass
class Function:
    """One function or method: the boto3 calls in it and every name it refers to."""

    calls: list[tuple[str, str, ast.Attribute]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)


@dataclass
class Module:
    name: str
    functions: dict[str, list[Function]]
    top: Function
    imports: set[str]


def _receiver(attribute: ast.Attribute) -> str | None:
    value = attribute.value
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in CLIENT_FACTORIES
        and value.args
        and isinstance(value.args[0], ast.Constant)
    ):
        return str(value.args[0].value)  # clients.probe("s3").head_bucket(...)
    if isinstance(value, ast.Attribute):
        return value.attr
    if isinstance(value, ast.Name):
        return value.id
    return None


def _scan(node: ast.AST, into: Function, where: str) -> None:
    """Record the names ``node`` refers to, and each client method it calls or hands on.

    A method handed on uncalled (``retry(self._db.update_item, ...)``) counts as a call.
    """
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            into.names.add(child.id)
        if not isinstance(child, ast.Attribute):
            continue
        into.names.add(child.attr)
        method = child.attr
        service = RECEIVERS.get(_receiver(child) or "")
        if service is not None:
            if (
                method in operations(service)
                or (service, method) in HELPERS
                or method in _BOTO_EXTRAS
            ):
                into.calls.append((service, method, child))
            continue
        if any(method in operations(s) for s in set(RECEIVERS.values())):
            UNATTRIBUTED.add(f"{_receiver(child)}.{method}")


def _calls_in(tree: ast.AST) -> dict[ast.AST, ast.Call]:
    """Each called attribute -> its call (for the arguments of presigning and paginators)."""
    return {
        node.func: node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


@cache
def modules() -> dict[str, Module]:
    found = {}
    for path in sorted(GAS.rglob("*.py")):
        name = ".".join(path.relative_to(GAS.parent).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        tree = ast.parse(path.read_text())
        CALLS.update(_calls_in(tree))
        functions: dict[str, list[Function]] = {}
        top = Function()
        imports = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gas"):
                imports.add(node.module)
                imports.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                imports.update(a.name for a in node.names if a.name.startswith("gas"))
        for node in tree.body:
            _collect(node, functions, top, str(path))
        found[name] = Module(name, functions, top, imports)
    return found


def _collect(
    node: ast.stmt, functions: dict[str, list[Function]], top: Function, where: str
) -> None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        function = Function()
        _scan(node, function, where)
        functions.setdefault(node.name, []).append(function)
    elif isinstance(node, ast.ClassDef):
        for item in node.body:
            _collect(item, functions, top, where)
        # Building an instance runs its initialisers.
        functions.setdefault(node.name, []).extend(
            f for name in ("__init__", "__post_init__") for f in functions.get(name, [])
        )
    else:
        _scan(node, top, where)


def closure(entry: str) -> list[Module]:
    """The entry module and every gas module it imports, directly or not."""
    seen: dict[str, Module] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen or name not in modules():
            continue
        seen[name] = modules()[name]
        todo.extend(seen[name].imports)
    return list(seen.values())


def reached_calls(entry: str) -> Iterator[tuple[str, str, ast.Attribute]]:
    """boto3 calls in the functions reachable, by name, from the entry module."""
    scope = closure(entry)
    by_name: dict[str, list[Function]] = {}
    for module in scope:
        for name, functions in module.functions.items():
            by_name.setdefault(name, []).extend(functions)
    entry_module = modules()[entry]
    todo = [entry_module.top, *(f for fs in entry_module.functions.values() for f in fs)]
    done: set[int] = set()
    while todo:
        function = todo.pop()
        if id(function) in done:
            continue
        done.add(id(function))
        yield from function.calls
        for name in function.names:
            todo.extend(by_name.get(name, []))


def _literal_argument(call: ast.Call, keyword: str) -> str:
    for kw in call.keywords:
        if kw.arg == keyword and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    if call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    raise AssertionError(f"line {call.lineno}: {keyword} is not a literal")


def actions_of(service: str, method: str, attribute: ast.Attribute) -> list[str]:
    call = CALLS.get(attribute)
    if method in _BOTO_EXTRAS:
        assert call is not None, f"line {attribute.lineno}: {method} not called"
        keyword = "ClientMethod" if method == "generate_presigned_url" else "operation_name"
        method = _literal_argument(call, keyword)
    if (service, method) in HELPERS:
        actions = list(HELPERS[service, method])
    elif method == "transact_write_items":
        assert call is not None, f"line {attribute.lineno}: transact_write_items not called"
        kinds = re.findall(r"'(Put|Update|Delete|ConditionCheck)':", ast.unparse(call))
        actions = [f"dynamodb:{kind}Item" for kind in sorted(set(kinds))]
    else:
        actions = [f"{service}:{operations(service)[method]}"]
    return actions + [implied for action in actions for implied in IMPLIED.get(action, [])]


def entry_modules(tier: str) -> list[str]:
    """The Python modules the tier's systemd units run, as terraform/ declares them."""
    if tier == "web":
        units = str(tfconfig.module("web").modules["instances"]["units"])
        (app,) = re.findall(r"(gas\.web\.\w+):app", units)
        return [app]
    if tier == "annotator":
        return ["gas.workers.annotator"]
    handlers = re.findall(r'"(\w+)"', tfconfig.module("workers").locals["handlers"])
    return [f"gas.workers.{handler}" for handler in handlers]


def boot_actions(tier: str) -> set[str]:
    """What user_data runs with the instance role."""
    script = (tfconfig.MODULES / "tier" / "templates" / "user_data.sh.tftpl").read_text()
    actions = {"s3:GetObject"} if "aws s3 cp" in script else set()
    has_secrets = "secret_parameters" in tfconfig.module(tier).modules["instances"]
    if has_secrets and "aws ssm get-parameter" in script:
        actions.add("ssm:GetParameter")
    return actions


def needed(tier: str) -> set[str]:
    actions = boot_actions(tier)
    for entry in entry_modules(tier):
        for service, method, attribute in reached_calls(entry):
            actions.update(actions_of(service, method, attribute))
    return actions


def statements(tier: str) -> list[dict[str, list[str]]]:
    iam = tfconfig.module("iam")
    document = iam.data["aws_iam_policy_document"][tier]
    found = list(document.get("statement", []))
    for dynamic in document.get("dynamic", []):
        found.extend(dynamic["statement"]["content"])
    for statement in found:
        if statement["actions"] == "${local.consume}":
            statement["actions"] = iam.locals["consume"]
    return found


def granted(tier: str) -> set[str]:
    return {action for statement in statements(tier) for action in statement["actions"]}


@pytest.mark.parametrize("tier", TIERS)
def test_the_policy_allows_every_action_the_code_calls(tier: str) -> None:
    missing = needed(tier) - granted(tier)
    assert not missing, f"{tier} calls these without permission: {sorted(missing)}"


@pytest.mark.parametrize("tier", TIERS)
def test_the_policy_allows_nothing_the_code_does_not_call(tier: str) -> None:
    extra = granted(tier) - needed(tier)
    assert not extra, f"{tier} is allowed these but never calls them: {sorted(extra)}"


@pytest.mark.parametrize("tier", TIERS)
def test_each_action_names_only_its_services_stack_resources(tier: str) -> None:
    for statement in statements(tier):
        for action in statement["actions"]:
            allowed = RESOURCES[action.split(":")[0]]
            resources = statement["resources"]
            for resource in [resources] if isinstance(resources, str) else resources:
                assert resource.removeprefix("${").startswith(allowed) or (
                    "values(" in resource and any(a in resource for a in allowed)
                ), f"{tier}: {action} on {resource}"


def test_every_call_named_like_an_api_operation_is_attributed() -> None:
    modules()
    assert UNATTRIBUTED <= NOT_CLIENTS, "add the client's name to RECEIVERS"


def test_the_scan_sees_each_kind_of_call() -> None:
    # The code paths above are exercised by the service code itself: a scan that found nothing
    # would pass every comparison vacuously.
    web = needed("web")
    assert {"s3:PutObject", "s3:GetObject", "dynamodb:Query", "sns:Publish"} <= web
    assert "sqs:ReceiveMessage" in needed("annotator")
    assert {"glacier:UploadArchive", "ses:SendEmail", "cloudwatch:PutMetricData"} <= needed(
        "workers"
    )
