import secrets

import pytest

from gas.core.settings import Settings, SettingsError, check_secret
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


# --- secrets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "placeholder",
    [
        "entered-outside-terraform",
        "entered-outside-terraform-entered-outside-terraform",
        "CHANGEME-please-0123456789abcdefghijklmnop",
        "replace_me_with_a_long_random_string_of_48_chars",
        "this-is-an-example-session-signing-key-0123456",
    ],
)
def test_a_placeholder_secret_is_refused_by_name(placeholder: str) -> None:
    with pytest.raises(SettingsError, match="GAS_SESSION_SECRET is a placeholder"):
        check_secret("GAS_SESSION_SECRET", placeholder)


@pytest.mark.parametrize("weak", ["s3cr3t-but-short", "a" * 64, "abababababababababababababababab"])
def test_a_short_or_repetitive_secret_is_refused(weak: str) -> None:
    with pytest.raises(SettingsError, match="at least 32 varied characters"):
        check_secret("GAS_SESSION_SECRET", weak)


def test_a_random_secret_is_accepted() -> None:
    value = secrets.token_urlsafe(36)
    assert check_secret("GAS_SESSION_SECRET", value) == value


def test_the_web_app_refuses_to_start_on_a_placeholder_session_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gas.web.app import SessionSecretMissing, session_secret

    monkeypatch.setenv("GAS_SESSION_SECRET", "entered-outside-terraform")
    settings = Settings(web_url="https://gas.example.com")
    with pytest.raises(SessionSecretMissing, match="placeholder"):
        session_secret(settings)
