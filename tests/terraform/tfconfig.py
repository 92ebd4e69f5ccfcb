"""Read the Terraform under terraform/ with python-hcl2 and evaluate the simple expressions in it.

Only what the checks need: references (``var.x``, ``local.x["k"].y``, ``each.key``,
``each.value.x``, ``statement.value``), ``tostring(...)`` and string templates made of
them. Anything else raises ``Unresolvable``, so a check never passes by guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2] / "terraform"
MODULES = ROOT / "modules"
ENVS = ROOT / "envs"

_OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False)
_WHOLE = re.compile(r"\$\{([^{}]*)\}")
_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[\"([^\"]*)\"\]|\[([0-9]+)\]")


class Unresolvable(ValueError):
    """An expression the checks do not evaluate: keep the Terraform simple there."""


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


@dataclass
class Config:
    """One directory of .tf files, blocks merged by kind."""

    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        return self.resources[kind][name]

    def defaults(self) -> dict[str, Any]:
        """Variable defaults (variables without one are left out)."""
        return {name: body["default"] for name, body in self.variables.items() if "default" in body}


@cache
def load(path: Path) -> Config:
    config = Config(path)
    for tf in sorted(path.glob("*.tf")):
        with tf.open() as handle:
            parsed = _clean(hcl2.load(handle, serialization_options=_OPTIONS))
        for block in parsed.get("variable", []):
            config.variables.update(block)
        for block in parsed.get("output", []):
            config.outputs.update(block)
        for block in parsed.get("locals", []):
            config.locals.update(block)
        for block in parsed.get("module", []):
            config.modules.update(block)
        for kind, target in (("resource", config.resources), ("data", config.data)):
            for block in parsed.get(kind, []):
                for type_, named in block.items():
                    target.setdefault(type_, {}).update(named)
    return config


def module(name: str) -> Config:
    return load(MODULES / name)


def env(name: str) -> Config:
    return load(ENVS / name)


def module_dirs() -> list[Path]:
    return sorted(p for p in MODULES.iterdir() if p.is_dir())


def walk(value: Any) -> Iterator[Any]:
    """Every value nested in a parsed block."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


class Evaluator:
    """Evaluates references against variable values, locals and an iteration scope."""

    def __init__(self, config: Config, variables: Mapping[str, Any] | None = None) -> None:
        self.config = config
        self.variables = {**config.defaults(), **(variables or {})}

    def __call__(self, value: Any, scope: Mapping[str, Any] | None = None) -> Any:
        scope = scope or {}
        if isinstance(value, dict):
            return {k: self(v, scope) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, scope) for v in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = _WHOLE.fullmatch(value)
        if whole:
            return self._expression(whole.group(1).strip(), scope)
        return _WHOLE.sub(lambda m: str(self._expression(m.group(1).strip(), scope)), value)

    def _expression(self, text: str, scope: Mapping[str, Any]) -> Any:
        call = re.fullmatch(r"tostring\((.*)\)", text)
        if call:
            return str(self._expression(call.group(1).strip(), scope))
        if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
            return float(text) if "." in text else int(text)
        head = re.match(r"[A-Za-z_][A-Za-z0-9_]*", text)
        if not head:
            raise Unresolvable(text)
        root = head.group(0)
        roots: dict[str, Any] = {"var": self.variables, "local": self.config.locals, **scope}
        if root not in roots:
            raise Unresolvable(text)
        current: Any = roots[root]
        rest = text[head.end() :]
        while rest:
            part = _PART.match(rest)
            if not part:
                raise Unresolvable(text)
            key: Any = next(g for g in part.groups() if g is not None)
            if part.group(3) is not None:
                key = int(key)
            try:
                current = current[key]
            except (KeyError, IndexError, TypeError):
                raise Unresolvable(text) from None
            rest = rest[part.end() :]
        return self(current, scope)
