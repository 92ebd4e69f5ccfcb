"""Boot the user_data Terraform renders for envs/aws, far enough to see what a unit would get.

The script comes from the offline plan (each tier's launch template), runs under bash with its
absolute paths moved into a scratch root and the commands an instance has (dnf, aws, systemctl,
python3.11, ...) replaced by stand-ins: `aws s3 cp` hands over a release holding the local bundle,
`aws ssm get-parameter` answers from a table or fails. What the script writes for the units is
then what they would start with.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from anntools.bundle import default_bundle_dir
from tests.terraform.offline import check

pytestmark = pytest.mark.slow

# A certificate and its URL make the web URL, and so every tier's settings, known at plan time.
VARIABLES = {
    "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0000",
    "web_url": "https://gas.example.com",
}
MOVED = ("/opt/gas", "/opt/aws", "/etc/gas", "/etc/systemd", "/var/log/gas")
_STAND_INS = {
    "dnf": "exit 0",
    "id": "exit 0",
    "useradd": "exit 0",
    "chown": "exit 0",
    "systemctl": 'echo "$@" >> "$ROOT/systemctl.log"',
    # install(1) as root would set owners; here only the modes and directories matter.
    "install": """args=()
while [ $# -gt 0 ]; do
  case "$1" in -o|-g) shift 2 ;; *) args+=("$1"); shift ;; esac
done
exec /usr/bin/install "${args[@]}\"""",
    # `python3.11 -m venv DIR` makes DIR/bin/pip, which installs nothing here.
    "python3.11": """venv="${@: -1}"
mkdir -p "$venv/bin" && printf '#!/bin/sh\\nexit 0\\n' > "$venv/bin/pip"
chmod +x "$venv/bin/pip\"""",
    "aws": """case "$1 $2" in
  "s3 cp") cp "$ROOT/release.tar.gz" "${@: -1}" ;;
  "ssm get-parameter")
    while [ "$1" != "--name" ]; do shift; done
    value="$(grep -F "$2=" "$ROOT/parameters" | cut -d= -f2-)"
    [ -n "$value" ] || { echo "ParameterNotFound: $2" >&2; exit 254; }
    echo "$value" ;;
  *) echo "unexpected aws $*" >&2; exit 2 ;;
esac""",
}


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return check.planned("aws", tmp_path_factory.mktemp("plan"), VARIABLES)


def user_data(plan: dict[str, Any], tier: str) -> str:
    address = f"module.{tier}.module.instances.aws_launch_template.this"
    (change,) = [c for c in plan["resource_changes"] if c["address"] == address]
    encoded = change["change"]["after"]["user_data"]
    assert isinstance(encoded, str), f"{tier}'s user_data is unknown at plan time"
    return base64.b64decode(encoded).decode()


def boot(script: str, root: Path, parameters: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with its paths under ``root``; stand-ins for the instance's commands."""
    for moved in MOVED:
        script = script.replace(moved, f"{root}{moved}")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    for name, body in _STAND_INS.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    (root / "etc/systemd/system").mkdir(parents=True)  # what the AMI and dnf provide
    agent = root / "opt/aws/amazon-cloudwatch-agent"
    (agent / "etc").mkdir(parents=True)
    (agent / "bin").mkdir()
    shutil.copy(bin_dir / "dnf", agent / "bin/amazon-cloudwatch-agent-ctl")
    (root / "parameters").write_text("".join(f"{k}={v}\n" for k, v in parameters.items()))
    with tarfile.open(root / "release.tar.gz", "w:gz", compresslevel=1) as release:
        release.add(default_bundle_dir(), arcname="bundle")
        release.add(root / "parameters", arcname="wheels/placeholder")
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ROOT": str(root), "HOME": str(root)}
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)


def unit_environment(root: Path) -> dict[str, str]:
    """/etc/gas/gas.env (its paths already under ``root``, like the rest of the script)."""
    settings = (root / "etc/gas/gas.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in settings if line)


def test_the_annotator_unit_finds_the_bundle_the_release_carries(
    plan: dict[str, Any], tmp_path: Path
) -> None:
    script = user_data(plan, "annotator")
    assert "ANNTOOLS_BUNDLE_DIR=/opt/gas/bundle\n" in script
    booted = boot(script, tmp_path, {})
    assert booted.returncode == 0, booted.stderr
    assert "enable --now gas-annotator-0.service" in (tmp_path / "systemctl.log").read_text()
    environment = unit_environment(tmp_path)
    # The unit's own environment, nothing from this machine: ~/.cache is an empty folder here.
    code = (
        "from anntools.bundle import Bundle, default_bundle_dir;"
        "Bundle.load(); print(default_bundle_dir())"
    )
    empty_home = tmp_path / "home"
    empty_home.mkdir()
    found = subprocess.run(
        [sys.executable, "-c", code],
        env={**environment, "HOME": str(empty_home), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == f"{tmp_path}/opt/gas/bundle"


def test_the_web_tier_writes_its_secrets_from_ssm(plan: dict[str, Any], tmp_path: Path) -> None:
    prefix = "/gas-123456789012/"
    parameters = {
        f"{prefix}stripe/secret-key": "sk_test_1",
        f"{prefix}stripe/publishable-key": "pk_test_1",
        f"{prefix}stripe/webhook-secret": "whsec_1",
        f"{prefix}session-secret": "s" * 48,
    }
    booted = boot(user_data(plan, "web"), tmp_path, parameters)
    assert booted.returncode == 0, booted.stderr
    secrets = (tmp_path / "etc/gas/secrets.env").read_text().splitlines()
    assert "STRIPE_API_KEY=sk_test_1" in secrets
    assert f"GAS_SESSION_SECRET={'s' * 48}" in secrets
    assert oct((tmp_path / "etc/gas/secrets.env").stat().st_mode & 0o777) == "0o600"


def test_a_missing_secret_stops_the_boot_before_any_unit_starts(
    plan: dict[str, Any], tmp_path: Path
) -> None:
    booted = boot(user_data(plan, "web"), tmp_path, {})
    assert booted.returncode != 0
    assert "cannot read SSM parameter /gas-123456789012/" in booted.stderr
    assert not (tmp_path / "systemctl.log").exists()
