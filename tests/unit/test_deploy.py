"""`make deploy` glue: the terraform calls it makes and the settings file it writes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gas.core.settings import Settings
from scripts import deploy

OUTPUTS = {
    "settings": {
        "value": {
            "GAS_STACK": "prod",
            "AWS_REGION": "eu-west-1",
            "GAS_FREE_RETENTION_SECONDS": "600",
            "GAS_WEB_URL": "https://gas.example.org",
        }
    },
    "secret_parameter_names": {"value": {"stripe/secret-key": "/prod/stripe/secret-key"}},
}


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    calls = tmp_path / "calls.log"
    script = tmp_path / "terraform"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        f'if [ "$1" = output ]; then cat {tmp_path / "outputs.json"}; fi\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    monkeypatch.setenv("GAS_TERRAFORM", str(script))
    return calls


def test_deploy_inits_applies_and_writes_settings(
    fake_terraform: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_file = tmp_path / "aws.env"
    assert deploy.main(["--auto-approve", "--settings", str(settings_file)]) == 0
    calls = fake_terraform.read_text().splitlines()
    assert calls[0].startswith("init -input=false")
    assert calls[1] == "apply -input=false -var-file=terraform.tfvars -auto-approve"
    assert calls[2] == "output -json"
    environ = dict(line.split("=", 1) for line in settings_file.read_text().splitlines())
    settings = Settings.from_env(environ)
    assert (settings.stack, settings.region, settings.web_url) == (
        "prod",
        "eu-west-1",
        "https://gas.example.org",
    )
    assert "/prod/stripe/secret-key" in capsys.readouterr().err
