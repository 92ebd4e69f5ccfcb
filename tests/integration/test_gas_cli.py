"""The `gas` CLI against the emulator: --user takes an email address, `gas download` fetches a
job's results for its owner only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gas.core.aws import AwsClients
from gas.core.settings import Settings
from gas.local import cli
from gas.local.bootstrap import Stack
from tests.integration.retention import completed_job
from tests.integration.services import FREE_SAMPLE, Services, services


@pytest.fixture
def found(
    settings: Settings, clients: AwsClients, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> Services:
    monkeypatch.setenv("GAS_STACK", settings.stack)  # the CLI reads its settings from here
    return services(clients)


def account(found: Services, email: str) -> str:
    return found.users.create_user(email, "Ada", "not-a-real-hash", int(time.time())).user_id


def test_jobs_by_email_lists_the_accounts_jobs(
    found: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = account(found, "ada@example.org")
    made = completed_job(found, user_id)
    assert cli.main(["jobs", "--user", "Ada@Example.org"]) == 0
    assert made.job.job_id in capsys.readouterr().out
    assert cli.main(["jobs", "--user", user_id]) == 0  # ids still work
    assert made.job.job_id in capsys.readouterr().out


def test_an_unknown_email_is_one_clear_line(
    found: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["jobs", "--user", "nobody@example.org"]) == 2
    assert capsys.readouterr().err == (
        "gas: no account is registered with nobody@example.org; give a user id instead\n"
    )


def test_submit_by_email_makes_the_job_the_accounts(
    found: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = account(found, "bo@example.org")
    assert cli.main(["submit", str(FREE_SAMPLE), "--user", "bo@example.org", "--no-wait"]) == 0
    job_id = capsys.readouterr().out.split()[1]
    job = found.jobs.get(job_id)
    assert job is not None and job.user_id == user_id


def test_download_fetches_the_results_the_web_offers(
    found: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user_id = account(found, "cy@example.org")
    made = completed_job(found, user_id)
    out = tmp_path / "results"
    assert cli.main(["download", made.job.job_id, "--user", "cy@example.org", "-o", str(out)]) == 0
    job = made.job
    keys = {"vcf": job.s3_key_result_file, "tsv": job.s3_key_tsv_file, "log": job.s3_key_log_file}
    names = {kind: str(key).rsplit("~", 1)[1] for kind, key in keys.items()}
    for kind, name in names.items():
        assert (out / name).read_bytes() == made.contents[kind]
    assert sorted(p.name for p in out.iterdir()) == sorted(names.values())
    assert str(out) in capsys.readouterr().out


def test_download_refuses_another_users_job(
    found: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = completed_job(found, account(found, "owner@example.org"))
    account(found, "other@example.org")
    out = tmp_path / "results"
    assert (
        cli.main(["download", made.job.job_id, "--user", "other@example.org", "-o", str(out)]) == 1
    )
    assert "other@example.org has no job" in capsys.readouterr().err
    assert not out.exists()


def test_download_of_an_archived_job_leaves_the_archived_files_out(
    found: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    made = completed_job(found, account(found, "dee@example.org"))
    assert found.jobs.mark_archived(
        made.job.job_id, {"vcf": ("a1", "0" * 64), "tsv": ("a2", "0" * 64)}
    )
    out = tmp_path / "results"
    assert cli.main(["download", made.job.job_id, "--user", "dee@example.org", "-o", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["sample.vcf.count.log"]
    assert "cold storage" in capsys.readouterr().err
