"""The web app's accounts, sessions and security headers, against the emulator."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from gas.core.aws import AwsClients
from gas.core.settings import Settings
from gas.core.users import EmailTaken, UserRepository
from gas.local.bootstrap import Stack
from gas.web.app import GasBottle, SessionSecretMissing, create_app
from tests.integration.web_helpers import (
    PASSWORD,
    SECRET,
    AuthActions,
    TestApp,
    csrf_from,
)

pytest_plugins = ["tests.integration.web_fixtures"]


def test_register_logs_in_and_shows_the_profile(client: TestApp, auth: AuthActions) -> None:
    # WHEN a visitor registers
    response = auth.register(email="Alice@Example.com", name="Alice Liddell")
    # THEN they are logged in and sent to the upload page
    assert response.status_int == 303
    assert response.location.endswith("/annotate")
    profile = client.get("/profile")
    assert "Alice Liddell" in profile.text
    assert "alice@example.com" in profile.text  # addresses are stored lower-cased
    assert '<span class="badge plan-free" id="plan">Free</span>' in profile.text
    assert "Member since" in profile.text and " UTC" in profile.text


def test_profile_shows_a_premium_plan(client: TestApp, auth: AuthActions, app: GasBottle) -> None:
    auth.register()
    account = app.gas.users.account_by_email("alice@example.com")
    assert account is not None
    app.gas.users.set_plan(account.user_id, "premium")
    assert '<span class="badge plan-premium" id="plan">Premium</span>' in client.get("/profile")


def test_an_email_address_registers_once(client: TestApp, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    again = auth.register(email="ALICE@example.com")
    assert again.status_int == 400
    assert "already exists" in again.text


def test_register_validates_its_fields(auth: AuthActions) -> None:
    response = auth.register(email="not-an-address", password="short", name="")
    assert response.status_int == 400
    assert "valid email address" in response.text
    assert "at least 10 characters" in response.text.lower()
    assert 'aria-invalid="true"' in response.text


def test_login_and_logout(client: TestApp, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    # logged out: the profile sends you to the login page, remembering where you were
    to_login = client.get("/profile")
    assert to_login.status_int == 303
    assert to_login.location.endswith("/login?next=%2Fprofile")
    # WHEN logging in from there, THEN you land back on the profile
    form = client.get("/login?next=%2Fprofile").forms["login-form"]
    form["email"], form["password"] = "alice@example.com", PASSWORD
    response = form.submit()
    assert response.status_int == 303 and response.location.endswith("/profile")
    assert "Log out" in client.get("/profile").text
    # WHEN logging out, THEN the session no longer opens the profile
    assert auth.logout().status_int == 303
    assert client.get("/profile").status_int == 303


def test_login_never_redirects_off_site(client: TestApp, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    form = client.get("/login?next=//evil.example.com/").forms["login-form"]
    form["email"], form["password"] = "alice@example.com", PASSWORD
    location = urlsplit(form.submit().location)
    assert (location.hostname, location.path) == ("localhost", "/")


def test_a_wrong_password_is_refused(client: TestApp, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    response = auth.login(password="not the password")
    assert response.status_int == 400
    assert "do not match an account" in response.text
    unknown = auth.login(email="nobody@example.com")
    assert unknown.status_int == 400
    assert "do not match an account" in unknown.text  # same answer: no account enumeration
    assert client.get("/profile").status_int == 303


def test_failed_logins_are_throttled(client: TestApp, auth: AuthActions) -> None:
    auth.register()
    auth.logout()
    for _ in range(5):
        assert auth.login(password="wrong password!").status_int == 400
    # THEN the next try must wait a moment, even with the right password, and is told so
    throttled = auth.login()
    assert throttled.status_int == 429
    assert "Too many failed sign-ins" in throttled.text
    assert 0 < int(throttled.headers["Retry-After"]) <= 60
    assert client.get("/profile").status_int == 303
    # other addresses are not affected
    assert auth.login(email="bob@example.com").status_int == 400


def test_a_post_without_the_csrf_token_is_forbidden(client: TestApp, auth: AuthActions) -> None:
    client.get("/login")  # a session with a token exists
    response = client.post(
        "/login", {"email": "a@example.com", "password": "x"}, expect_errors=True
    )
    assert response.status_int == 403
    assert "did not come from GAS" in response.text
    forged = client.post("/logout", {"csrf_token": "forged"}, expect_errors=True)
    assert forged.status_int == 403
    # and a real token works
    auth.register()
    assert client.post("/logout", {"csrf_token": csrf_from(client.get("/"))}).status_int == 303


def test_the_session_cookie_is_signed_and_http_only(client: TestApp) -> None:
    response = client.get("/")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("gas_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    # a tampered cookie is a new anonymous session, not an error
    client.set_cookie("gas_session", "tampered.value.sig")
    assert client.get("/profile").status_int == 303


def test_the_cookie_is_secure_on_https(
    settings: Settings, clients: AwsClients, stack: Stack
) -> None:
    app = create_app(replace(settings, web_url="https://gas.example.com"), clients, secret=SECRET)
    cookie = TestApp(app).get("/", extra_environ={"wsgi.url_scheme": "https"})
    assert "Secure" in cookie.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in cookie.headers


def test_a_session_secret_is_required_off_this_machine(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAS_SESSION_SECRET", raising=False)
    with pytest.raises(SessionSecretMissing):
        create_app(replace(settings, web_url="https://gas.example.com"))
    create_app(settings)  # loopback web_url: a per-process secret, with a warning


def test_security_headers_on_every_response(client: TestApp, auth: AuthActions) -> None:
    responses = [
        client.get("/"),
        client.get("/missing", expect_errors=True),
        client.get("/profile"),  # a redirect
        client.get("/static/gas.css"),
    ]
    for response in responses:
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "form-action 'self'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_error_pages_render_without_a_traceback(client: TestApp, app: GasBottle) -> None:
    missing = client.get("/no/such/page", expect_errors=True)
    assert missing.status_int == 404
    assert "<h1>Page not found</h1>" in missing.text
    wrong_method = client.put("/login", expect_errors=True)
    assert wrong_method.status_int == 405
    assert "<h1>Method not allowed</h1>" in wrong_method.text

    def boom() -> str:
        raise RuntimeError("secret internals")

    app.route("/boom", callback=boom)
    failed = client.get("/boom", expect_errors=True)
    assert failed.status_int == 500
    assert "<h1>Something went wrong</h1>" in failed.text
    for page in (missing, wrong_method, failed):
        assert "Traceback" not in page.text and "secret internals" not in page.text


def test_accounts_need_unique_addresses_in_the_repository(
    clients: AwsClients, stack: Stack
) -> None:
    users = UserRepository(clients.dynamodb, clients.settings.names.users_table)
    first = users.create_user("Carol@example.com", "Carol", "hash", 100)
    with pytest.raises(EmailTaken):
        users.create_user("carol@example.com", "Other Carol", "hash", 200)
    assert users.account_by_email("CAROL@example.com") == first
    assert users.account(first.user_id) == first
    assert users.plan(first.user_id) == "free"
    assert users.email(first.user_id) == "carol@example.com"  # the notifier's lookup
    assert users.account("email#carol@example.com") is None
    assert users.account_by_email("nobody@example.com") is None
