"""A Terraform provider that serves hashicorp/aws's schema and nothing else, for offline checks.

Terraform runs this as `terraform-provider-aws` (see `mirror.py`). It answers the plugin protocol
(version 6, through the `tf` package's gRPC server) with the schema that `schema.py` rebuilt, so
Terraform itself checks every argument, block, type and reference. Planning a new resource keeps
the configured values and marks every unset computed attribute unknown ("known after apply"), as
the real provider does. A data source is read as its configuration with a placeholder for each
computed attribute (a list gets `PLACEHOLDER_ITEMS` items, so `slice` and indexing work). Nothing is
ever created: apply, import and refresh of existing state are refused.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

import grpc
import tf.provider
import tf.runner
from tf.gen import tfplugin_pb2 as pb
from tf.types import Unknown
from tf.utils import read_dynamic_value, to_dynamic_value

from tests.terraform.offline import schema as offline_schema

PLACEHOLDER_ITEMS = 6
_NESTING = pb.Schema.NestedBlock.NestingMode
_OBJECT_NESTING = pb.Schema.Object.NestingMode


@cache
def _schema() -> dict[str, Any]:
    return offline_schema.load()


def _attribute_pb(attribute: dict[str, Any]) -> pb.Schema.Attribute:
    fields: dict[str, Any] = {
        "name": attribute["name"],
        "required": attribute.get("required", False),
        "optional": attribute.get("optional", False),
        "computed": attribute.get("computed", False),
    }
    if "type" in attribute:
        fields["type"] = json.dumps(attribute["type"]).encode()
    else:
        nested = attribute["nested_type"]
        fields["nested_type"] = pb.Schema.Object(
            attributes=[_attribute_pb(a) for a in nested["attributes"]],
            nesting=_OBJECT_NESTING.Value(nested["nesting"]),
        )
    return pb.Schema.Attribute(**fields)


def _block_pb(block: dict[str, Any]) -> pb.Schema.Block:
    return pb.Schema.Block(
        attributes=[_attribute_pb(a) for a in block["attributes"]],
        block_types=[
            pb.Schema.NestedBlock(
                type_name=nested["type_name"],
                block=_block_pb(nested["block"]),
                nesting=_NESTING.Value(nested["nesting"]),
                min_items=nested.get("min_items", 0),
                max_items=nested.get("max_items", 0),
            )
            for nested in block["block_types"]
        ],
    )


def _fill(block: dict[str, Any], value: Any, fill: Any) -> Any:
    """``value`` (an object of ``block``) with each null computed attribute replaced by ``fill``.

    ``fill(attribute)`` gives the replacement; nested blocks and nested attributes are walked.
    """
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for attribute in block["attributes"]:
        name = attribute["name"]
        current = out.get(name)
        if current is None and attribute.get("computed"):
            out[name] = fill(attribute)
        elif current is not None and "nested_type" in attribute:
            nested = attribute["nested_type"]
            inner = {"attributes": nested["attributes"], "block_types": []}
            out[name] = _fill_nested(nested["nesting"], inner, current, fill)
    for nested in block["block_types"]:
        name = nested["type_name"]
        if out.get(name) is not None:
            out[name] = _fill_nested(nested["nesting"], nested["block"], out[name], fill)
    return out


def _fill_nested(nesting: str, block: dict[str, Any], value: Any, fill: Any) -> Any:
    if value is Unknown or not isinstance(value, list | dict):
        return value
    if nesting == "SINGLE":
        return _fill(block, value, fill)
    if nesting == "MAP" and isinstance(value, dict):
        return {k: _fill(block, v, fill) for k, v in value.items()}
    return [_fill(block, v, fill) for v in value]


def _unknown(attribute: dict[str, Any]) -> Any:
    return Unknown


def _placeholder(attribute: dict[str, Any]) -> Any:
    """A known stand-in of the attribute's type (data sources must return known values)."""
    return _placeholder_of(attribute.get("type", "dynamic"), attribute["name"])


def _placeholder_of(kind: Any, name: str) -> Any:
    if kind == "string" or kind == "dynamic":
        return f"placeholder-{name}"
    if kind == "number":
        return 0
    if kind == "bool":
        return False
    if isinstance(kind, list) and kind[0] in ("list", "set") and isinstance(kind[1], str):
        return [f"{_placeholder_of(kind[1], name)}-{i}" for i in range(PLACEHOLDER_ITEMS)]
    if isinstance(kind, list) and kind[0] == "map":
        return {}
    if isinstance(kind, list) and kind[0] == "object":
        return {k: _placeholder_of(v, k) for k, v in kind[1].items()}
    return []


def _error(summary: str) -> list[pb.Diagnostic]:
    return [pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary)]


class SchemaOnlyServicer(tf.provider.ProviderServicer):
    """The protocol's answers, from the rebuilt schema alone."""

    def __init__(self, app: Any = None) -> None:
        super().__init__(app)
        self._response: pb.GetProviderSchema.Response | None = None

    def GetProviderSchema(self, request: Any, context: grpc.ServicerContext) -> Any:
        if self._response is None:
            schema = _schema()
            self._response = pb.GetProviderSchema.Response(
                provider=pb.Schema(block=_block_pb(schema["provider"])),
                provider_meta=pb.Schema(block=pb.Schema.Block()),
                resource_schemas={
                    k: pb.Schema(block=_block_pb(v)) for k, v in schema["resources"].items()
                },
                data_source_schemas={
                    k: pb.Schema(block=_block_pb(v)) for k, v in schema["data_sources"].items()
                },
            )
        return self._response

    def ValidateProviderConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ValidateProviderConfig.Response()

    def ConfigureProvider(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ConfigureProvider.Response()

    def ValidateResourceConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ValidateResourceConfig.Response()

    def ValidateDataResourceConfig(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ValidateDataResourceConfig.Response()

    def GetFunctions(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.GetFunctions.Response()

    def PlanResourceChange(self, request: Any, context: grpc.ServicerContext) -> Any:
        proposed = read_dynamic_value(request.proposed_new_state)
        prior = read_dynamic_value(request.prior_state)
        if proposed is None or prior is not None:
            # Destroying, or a change to existing state: nothing of ours to add.
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state)
        block = _schema()["resources"][request.type_name]
        planned = _fill(block, proposed, _unknown)
        return pb.PlanResourceChange.Response(planned_state=to_dynamic_value(planned))

    def ReadDataSource(self, request: Any, context: grpc.ServicerContext) -> Any:
        block = _schema()["data_sources"][request.type_name]
        state = _fill(block, read_dynamic_value(request.config), _placeholder)
        return pb.ReadDataSource.Response(state=to_dynamic_value(state))

    def ApplyResourceChange(self, request: Any, context: grpc.ServicerContext) -> Any:
        summary = "the offline schema provider plans only: it cannot apply"
        return pb.ApplyResourceChange.Response(diagnostics=_error(summary))

    def ReadResource(self, request: Any, context: grpc.ServicerContext) -> Any:
        summary = "the offline schema provider cannot refresh state: plan with -refresh=false"
        return pb.ReadResource.Response(diagnostics=_error(summary))

    def ImportResourceState(self, request: Any, context: grpc.ServicerContext) -> Any:
        return pb.ImportResourceState.Response(diagnostics=_error("offline: nothing to import"))


def main() -> None:
    # tf's runner builds its own servicer class; ours answers from the rebuilt schema instead.
    tf.provider.ProviderServicer = SchemaOnlyServicer
    tf.runner.run_provider(None, sys.argv)


if __name__ == "__main__":
    main()
