"""The transcript engine's compiled modules: built from the current .py files, and giving
byte for byte the calls those .py files give when run as Python."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# setup.py's lists of .py modules it compiles as they are, and the package of each list
COMPILED_SOURCES = {"ENGINE_MODULES": "anntools.csq", "FULL_BUNDLE_MODULES": "anntools"}


def compiled_modules(listed: str = "ENGINE_MODULES") -> tuple[str, ...]:
    """The modules setup.py compiles from their .py files, as its list ``listed`` names them."""
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == listed:
            value = ast.literal_eval(node.value)
            assert isinstance(value, tuple)
            return value
    raise AssertionError(f"setup.py names no {listed}")


def test_every_compiled_module_is_imported_compiled_from_its_current_source() -> None:
    """A module imported from a build older than its .py (or .pxd) would silently run
    the old code: the engine's and the full bundle's compiled modules alike."""
    assert {"engine", "coding"} <= set(compiled_modules("ENGINE_MODULES"))
    assert {"hgvs", "full_annotation"} <= set(compiled_modules("FULL_BUNDLE_MODULES"))
    for listed, package in COMPILED_SOURCES.items():
        folder = ROOT.joinpath(*package.split("."))
        for name in compiled_modules(listed):
            module = importlib.import_module(f"{package}.{name}")
            built, source = Path(str(module.__file__)), folder / f"{name}.py"
            where = source.relative_to(ROOT)
            assert built.suffix == ".so", f"{package}.{name} is not compiled: run make install"
            assert built.stat().st_mtime >= source.stat().st_mtime, (
                f"{where} changed after it was compiled: run make install"
            )
            types = source.with_suffix(".pxd")  # declarations typing the compiled module
            if types.exists():
                assert built.stat().st_mtime >= types.stat().st_mtime, (
                    f"{where.with_suffix('.pxd')} changed after it was compiled: run make install"
                )


def _calls(*flags: str) -> str:
    command = [sys.executable, "-m", "tests.unit.csq_random_calls", *flags]
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def test_compiled_calls_equal_the_python_sources_calls_on_random_variants() -> None:
    # GIVEN random SNVs, MNVs and indels over every case gene model, called one by one and
    # haplotype-aware, by the compiled modules and by their .py sources run as Python
    compiled, source = _calls(), _calls("--source")
    # THEN the two print the same bytes
    assert compiled == source
    # AND the variants reached both strands, coding changes and combined haplotypes
    calls = [line.split("\t")[5] for line in compiled.splitlines()]
    assert len(calls) > 20_000
    assert any("|+|" in c for c in calls) and any("|-|" in c for c in calls)
    assert any("frameshift" in c for c in calls) and any("splice_donor" in c for c in calls)
    assert any(c.startswith("@") for c in calls)
    assert any(re.search(r"\d[ACGT]+>[ACGT]+\+\d", c) for c in calls)  # 107G>A+108T>A
