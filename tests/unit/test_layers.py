"""The layer rules of docs/architecture.md, read from the code's own imports (ast, so imports
inside functions count too).

- anntools imports nothing of gas; gas takes from it only the result formats
  (anntools.output) and the one plain helper named in ENGINE_HELPERS: the engine is otherwise
  reached through its command line.
- gas.core is the bottom: it imports no other layer of gas.
- gas.services imports only gas.core.
- gas.web imports only gas.core and gas.services: never a worker, never gas.local.
- Nothing outside gas.local imports gas.local (the emulator, its bootstrap, the dev CLI).
- A queue worker never imports another: they share only the poll loop and the wiring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The worker modules every queue worker shares; every other module of gas/workers is a queue's.
WORKER_INFRASTRUCTURE = frozenset(
    {"gas.workers", "gas.workers.poll", "gas.workers.runner", "gas.workers.child"}
)
# What gas may import from anntools besides anntools.output, and why.
ENGINE_HELPERS = {
    # the bounded anntools child dies with its worker, as anntools' own pool workers do
    "anntools.runner.die_with_parent",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``module``'s source imports, relative imports resolved; for ``from X
    import name`` both X and X.name (name may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_by_module(top: str) -> dict[str, set[str]]:
    return {
        module_name(path): imported_modules(
            path.read_text(), module_name(path), path.name == "__init__.py"
        )
        for path in sorted((ROOT / top).rglob("*.py"))
    }


def within(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


GAS = imports_by_module("gas")
ANNTOOLS = imports_by_module("anntools")
LAYERS = ("gas.core", "gas.services", "gas.workers", "gas.web", "gas.local")


def breaches(modules: dict[str, set[str]], allowed: tuple[str, ...]) -> dict[str, list[str]]:
    """For each module, the gas modules it imports from outside ``allowed`` (and itself)."""
    found = {}
    for module, imports in modules.items():
        own = next(layer for layer in LAYERS if within(module, layer))
        bad = sorted(
            name for name in imports if within(name, *LAYERS) and not within(name, own, *allowed)
        )
        if bad:
            found[module] = bad
    return found


def layer(name: str) -> dict[str, set[str]]:
    return {module: imports for module, imports in GAS.items() if within(module, name)}


def test_every_gas_module_is_in_a_layer() -> None:
    assert [m for m in GAS if m != "gas" and not within(m, *LAYERS)] == []
    assert layer("gas.workers") and layer("gas.web") and layer("gas.local")


def test_anntools_imports_nothing_of_gas() -> None:
    assert {
        m: sorted(i for i in imports if within(i, "gas")) for m, imports in ANNTOOLS.items()
    } == {m: [] for m in ANNTOOLS}


def test_gas_takes_only_the_result_formats_from_anntools() -> None:
    engine = {
        module: sorted(
            name
            for name in imports
            if within(name, "anntools")
            and not within(name, "anntools.output", *ENGINE_HELPERS)
            and not any(helper.startswith(name + ".") for helper in ENGINE_HELPERS)
        )
        for module, imports in GAS.items()
    }
    assert {module: names for module, names in engine.items() if names} == {}


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("gas.core", ()),
        ("gas.services", ("gas.core",)),
        ("gas.web", ("gas.core", "gas.services")),
        ("gas.workers", ("gas.core", "gas.services")),
    ],
)
def test_layer_imports_only_the_layers_below(name: str, allowed: tuple[str, ...]) -> None:
    assert breaches(layer(name), allowed) == {}


def test_queue_workers_never_import_each_other() -> None:
    queue_workers = set(layer("gas.workers")) - WORKER_INFRASTRUCTURE
    assert len(queue_workers) >= 7
    crossings = {
        module: sorted(imports & (queue_workers - {module}))
        for module, imports in layer("gas.workers").items()
    }
    assert {m: names for m, names in crossings.items() if names} == {}


# --- the reader itself: a rule that reads imports wrongly could never fail ------------------


def test_imports_inside_functions_and_relative_imports_are_read() -> None:
    source = (
        "from . import poll\n"
        "from .annotator import run\n"
        "def main():\n"
        "    import gas.local.cli\n"
        "    from ..core import jobs\n"
    )
    assert imported_modules(source, "gas.workers.archiver") >= {
        "gas.workers.poll",
        "gas.workers.annotator",
        "gas.local.cli",
        "gas.core.jobs",
    }


def test_a_web_module_importing_a_worker_is_a_breach() -> None:
    modules = {
        "gas.web.billing": imported_modules("from gas.workers import restorer\n", "gas.web.billing")
    }
    assert breaches(modules, ("gas.core", "gas.services")) == {
        "gas.web.billing": ["gas.workers", "gas.workers.restorer"]
    }
