"""`make release`: the artifact installs into a fresh venv in a clean folder and runs there."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from scripts import release

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "samples" / "free_1.vcf"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The artifact unpacked as user_data does, GAS installed from it alone (no index)."""
    artifact = release.build(tmp_path_factory.mktemp("dist"))
    clean = tmp_path_factory.mktemp("clean")
    with tarfile.open(artifact) as tar:
        tar.extractall(clean, filter="data")
    subprocess.run([sys.executable, "-m", "venv", clean / "venv"], check=True)
    pip = [str(clean / "venv/bin/pip"), "install", "--quiet", "--no-index"]
    subprocess.run([*pip, "--find-links", str(clean / "wheels"), "gas"], check=True, cwd=clean)
    return clean


def _run(clean: Path, *command: str | Path) -> subprocess.CompletedProcess[str]:
    # Only what an instance has: the venv, the unpacked bundle, an empty home.
    env = {
        "PATH": f"{clean}/venv/bin:/usr/bin:/bin",
        "HOME": str(clean),
        "ANNTOOLS_BUNDLE_DIR": str(clean / "bundle"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    return subprocess.run(
        [str(c) for c in command], cwd=clean, env=env, capture_output=True, text=True
    )


def test_the_artifact_holds_manylinux_cp311_wheels_and_the_bundle(installed: Path) -> None:
    wheels = sorted(p.name for p in (installed / "wheels").iterdir())
    (gas,) = [w for w in wheels if w.startswith("gas-")]
    assert "-cp311-cp311-manylinux_" in gas
    compiled = [w for w in wheels if "-none-any" not in w and "-py2.py3-" not in w]
    assert all("manylinux" in w for w in compiled), compiled
    assert (installed / "bundle" / "manifest.json").is_file()


def test_anntools_annotates_a_sample_from_the_installed_release(installed: Path) -> None:
    result = _run(installed, "anntools", "annotate", "-o", "out", SAMPLE)
    assert result.returncode == 0, result.stderr
    annotated = (installed / "out" / "free_1.annot.tsv").read_text()
    rows = list(csv.DictReader(annotated.splitlines(), delimiter="\t"))
    assert any(row["Consequence"] and row["Gene"] for row in rows)
    # Line for line what this checkout's anntools writes with the same bundle.
    here = installed / "here"
    env = {**os.environ, "ANNTOOLS_BUNDLE_DIR": str(installed / "bundle")}
    command: list[str | Path] = [
        Path(sys.executable).parent / "anntools",
        "annotate",
        "-o",
        here,
        SAMPLE,
    ]
    subprocess.run(command, check=True, env=env, capture_output=True)
    assert annotated == (here / "free_1.annot.tsv").read_text()
    # The compiled record loop, not a source checkout, did the work.
    # (anntools.recordloop loads pysam's htslib, whose symbols the compiled loop takes, first.)
    load = "import anntools.recordloop, anntools._recordloop as m; print(m.__file__)"
    probe = _run(installed, "python", "-c", load)
    assert probe.stdout.startswith(f"{installed}/venv/"), probe.stderr


def test_a_worker_answers_help_from_the_installed_release(installed: Path) -> None:
    result = _run(installed, "python", "-m", "gas.workers.notifier", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: python -m gas.workers.notifier" in result.stdout
