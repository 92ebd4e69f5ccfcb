"""Build the release artifact the instances install (terraform/modules/tier's user_data).

    python -m scripts.release --out dist

writes dist/gas-<version>.tar.gz holding

- wheels/: GAS's own wheel, its record loop compiled here for CPython 3.11 and tagged
  manylinux for the newest glibc it needs (read from its symbol versions), and every
  dependency's wheel for CPython 3.11 on manylinux x86_64 (compiled and tagged the same way
  where PyPI has none), as Amazon Linux 2023 (glibc 2.34) installs them with
  `pip install --no-index --find-links wheels gas`;
- bundle/: the default annotation bundle, which the annotators find through
  ANNTOOLS_BUNDLE_DIR=/opt/gas/bundle.

Upload it to the artifact bucket and key that envs/aws names (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from anntools.bundle import Bundle, default_bundle_dir

REPO = Path(__file__).resolve().parents[1]
PYTHON_VERSION = "3.11"
ABI = "cp311"
# Amazon Linux 2023 has glibc 2.34; wheels for any manylinux up to it install there.
TARGET_GLIBC = (2, 34)
TARGET_PLATFORM = "manylinux_{}_{}_x86_64".format(*TARGET_GLIBC)
OLDEST_MANYLINUX = (2, 17)


class ReleaseError(RuntimeError):
    """The artifact cannot be built as promised; the message says what is wrong."""


def _run(*command: str | Path) -> str:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if result.returncode != 0:
        raise ReleaseError(f"{' '.join(map(str, command))} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def project() -> dict[str, object]:
    return dict(tomllib.loads((REPO / "pyproject.toml").read_text())["project"])


def glibc_needed(extension: bytes, scratch: Path) -> tuple[int, int]:
    """The newest GLIBC_x.y symbol version an extension module asks for."""
    so = scratch / "extension.so"
    so.write_bytes(extension)
    versions = re.findall(r"GLIBC_(\d+)\.(\d+)", _run("objdump", "-T", so))
    return max(((int(a), int(b)) for a, b in versions), default=(2, 0))


def compile_wheel(requirement: str | Path, wheels: Path, scratch: Path) -> Path:
    """A wheel compiled here for ``requirement``, tagged manylinux once its extensions are
    tagged with the newest glibc its extensions need (GAS's record loop, or a dependency PyPI
    has no fitting wheel of); one needing a glibc newer than Amazon Linux 2023's is refused."""
    if sys.version_info[:2] != (3, 11):
        raise ReleaseError(f"build with CPython {PYTHON_VERSION}: the instances run it")
    built = Path(tempfile.mkdtemp(dir=scratch))
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", built, requirement)
    (wheel,) = built.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        extensions = [n for n in archive.namelist() if n.endswith(".so")]
        glibc = max(
            [glibc_needed(archive.read(n), scratch) for n in extensions] + [OLDEST_MANYLINUX]
        )
        if glibc > TARGET_GLIBC:
            raise ReleaseError(f"{wheel.name} needs glibc {glibc}, newer than {TARGET_GLIBC}")
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = _runtime_requirements(archive.read(metadata).decode())
    if extensions:
        platform = "manylinux_{}_{}_x86_64".format(*glibc)
        retag = ["-m", "wheel", "tags", "--remove", "--platform-tag", platform]
        wheel = built / _run(sys.executable, *retag, wheel).strip().splitlines()[-1]
    download_wheels(requires, wheels, scratch)
    return Path(shutil.copy(wheel, wheels))


def _runtime_requirements(metadata: str) -> list[str]:
    """Requires-Dist entries that apply on the instances (CPython 3.11, Linux, no extras)."""
    found = []
    for line in re.findall(r"^Requires-Dist: (.+)$", metadata, re.M):
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            requirement.marker = None
            found.append(str(requirement))
    return found


def download_wheels(requirements: list[str], wheels: Path, scratch: Path) -> None:
    """Each requirement's wheels, with their dependencies', for CPython 3.11 on manylinux
    x86_64; one PyPI has no such wheel of is compiled here (nothing builds on an instance)."""
    for requirement in requirements:
        try:
            _run(
                sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                "--platform", TARGET_PLATFORM, "--python-version", PYTHON_VERSION,
                "--implementation", "cp", "--abi", ABI, "--abi", "abi3", "--abi", "none",
                "--dest", wheels, requirement,
            )  # fmt: skip
        except ReleaseError:
            compile_wheel(requirement, wheels, scratch)


def build(out: Path, bundle: Path | None = None) -> Path:
    """The artifact's path: ``out``/gas-<version>.tar.gz."""
    bundle = bundle or default_bundle_dir()
    Bundle.load(bundle)  # a missing or broken bundle stops the build, with anntools' message
    out.mkdir(parents=True, exist_ok=True)
    artifact = out / f"gas-{project()['version']}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="gas-release-") as tmp:
        scratch = Path(tmp)
        wheels = scratch / "wheels"
        wheels.mkdir()
        compile_wheel(REPO, wheels, scratch)
        requirements = [str(r) for r in project()["dependencies"]]  # type: ignore[attr-defined]
        download_wheels(requirements, wheels, scratch)
        partial = artifact.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(wheels, arcname="wheels")
            tar.add(bundle, arcname="bundle")
        partial.replace(artifact)
    return artifact


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="folder for the artifact")
    parser.add_argument("--bundle", type=Path, help="bundle to ship (default: the default one)")
    args = parser.parse_args(argv)
    try:
        artifact = build(args.out, args.bundle)
    except ReleaseError as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 1
    print(artifact)
    return 0


if __name__ == "__main__":
    sys.exit(main())
