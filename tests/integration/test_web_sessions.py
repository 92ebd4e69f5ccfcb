"""Sessions end when the user logs out, everywhere; sign-in is throttled across every
web process without locking the owner out; login never returns off the site."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from gas.core.aws import AwsClients
from gas.core.login_throttle import LoginThrottle, ThrottlePolicy
from gas.core.settings import Settings
from gas.local.bootstrap import Stack
from gas.web.app import GasBottle, create_app
from tests.integration.web_helpers import PASSWORD, SECRET, AuthActions, TestApp

pytest_plugins = ["tests.integration.web_fixtures"]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_cookie_saved_before_logout_opens_nothing(client: TestApp, auth: AuthActions) -> None:
    # GIVEN a logged-in user whose cookie an attacker copied
    auth.register()
    saved = client.cookies["gas_session"]
    assert client.get("/profile").status_int == 200
    # WHEN the user logs out, and the copied cookie is replayed
    auth.logout()
    client.set_cookie("gas_session", saved)
    # THEN it opens nothing
    replayed = client.get("/profile")
    assert replayed.status_int == 303 and "/login" in replayed.location


def test_logging_out_ends_the_user_s_other_sessions(app: GasBottle, auth: AuthActions) -> None:
    auth.register()
    other = TestApp(app)
    AuthActions(other).login()
    assert other.get("/profile").status_int == 200
    auth.logout()
    assert other.get("/profile").status_int == 303  # on another device, or another server


def test_the_throttle_is_shared_and_backs_off_without_locking_out(
    settings: Settings, clients: AwsClients, stack: Stack
) -> None:
    # GIVEN two web processes (two apps) sharing one users table, and a clock
    clock = Clock()

    def web_process() -> AuthActions:
        throttle = LoginThrottle(
            clients.dynamodb, settings.names.users_table, ThrottlePolicy(), clock
        )
        return AuthActions(TestApp(create_app(settings, clients, secret=SECRET, throttle=throttle)))

    first, second = web_process(), web_process()
    first.register()
    first.logout()
    # WHEN an attacker spreads five wrong guesses over both
    for web in (first, second, first, second, first):
        assert web.login(password="wrong password!").status_int == 400
    # THEN both make the next try wait, even with the right password
    for web in (first, second):
        waiting = web.login()
        assert waiting.status_int == 429
        assert waiting.headers["Retry-After"] == "2"
    # AND the waits double with each further failure, up to a minute, never longer
    for expected in (4, 8, 16, 32, 60, 60):
        clock.now += 61
        assert first.login(password="wrong password!").status_int == 400
        assert second.login().headers["Retry-After"] == str(expected)
    # WHEN the owner waits that long, THEN the right password works
    clock.now += 60
    assert second.login().status_int == 303


def test_a_huge_email_is_refused_without_being_kept(
    auth: AuthActions, clients: AwsClients, settings: Settings
) -> None:
    before = clients.dynamodb.scan(TableName=settings.names.users_table)["Count"]
    for _ in range(3):
        assert auth.login(email="a" * 90_000 + "@example.com").status_int == 400
    assert clients.dynamodb.scan(TableName=settings.names.users_table)["Count"] == before


@pytest.mark.parametrize(
    "target", ["/\t/evil.com", "//evil.com", "/\\evil.com", "https:evil.com", "/%2F/evil.com"]
)
def test_login_returns_only_to_this_site(client: TestApp, auth: AuthActions, target: str) -> None:
    auth.register()
    auth.logout()
    form = client.get("/login?next=" + quote(target, safe="")).forms["login-form"]
    form["email"], form["password"] = "alice@example.com", PASSWORD
    location = urlsplit(form.submit().location)
    assert (location.hostname, location.path) == ("localhost", "/")
