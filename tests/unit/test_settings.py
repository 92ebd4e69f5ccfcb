import pytest

from gas.core.settings import Settings, SettingsError
from gas.core.topology import ResourceNames


def test_defaults_name_the_gas_stack() -> None:
    settings = Settings.from_env({})
    names = settings.names
    assert (names.inputs_bucket, names.results_bucket) == ("gas-inputs", "gas-results")
    assert (names.annotations_table, names.users_table) == ("gas-annotations", "gas-users")
    assert names.queue("job-requests") == "gas-job-requests"
    assert names.dead_letter_queue("archive") == "gas-archive-dlq"
    assert settings.free_upload_limit_bytes == 153_600
    assert settings.free_retention_seconds == 600


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {"GAS_STACK": "demo", "GAS_FREE_RETENTION_SECONDS": "30", "GAS_WEB_URL": "http://x:1/"}
    )
    assert settings.names.results_bucket == "demo-results"
    assert settings.free_retention_seconds == 30
    assert settings.web_url == "http://x:1"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"GAS_FREE_RETENTION_SECONDS": "901"}, "0 to 900"),
        ({"GAS_FREE_RETENTION_SECONDS": "ten"}, "GAS_FREE_RETENTION_SECONDS must be a whole"),
        ({"GAS_STACK": "Bad_Name"}, "stack name"),
    ],
)
def test_bad_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(environ)


def test_unknown_queue_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown queue"):
        ResourceNames("gas").queue("jobs")
    assert issubclass(SettingsError, ValueError)
