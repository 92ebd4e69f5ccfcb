"""The app factory: ``create_app(settings) -> bottle.Bottle``.

Every response, error pages and redirects included, gets the security
headers and (when the session changed) the session cookie in ``GasBottle.wsgi``:
Bottle copies a raised HTTPResponse's headers over the response's late in its
pipeline, so an ``after_request`` hook would lose them on redirects.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import bottle
from argon2 import PasswordHasher

import gas.web.annotations as annotation_pages
import gas.web.billing as billing_pages
from gas.core.aws import AwsClients
from gas.core.jobs import JobRepository
from gas.core.login_throttle import LoginThrottle
from gas.core.settings import Settings, SettingsError, check_secret
from gas.core.stack import locator_for
from gas.core.users import UserRepository
from gas.services.results_store import ResultsStore
from gas.services.submission import SubmissionService
from gas.web import accounts, annotate, results, security
from gas.web.context import STATIC, WebContext, template_environment

log = logging.getLogger(__name__)

SECRET_ENV = "GAS_SESSION_SECRET"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ERROR_TITLES = {
    400: ("Bad request", "GAS could not understand that request."),
    403: ("Forbidden", "You may not do that."),
    404: ("Page not found", "There is nothing at this address."),
    405: ("Method not allowed", "This page does not accept that kind of request."),
    429: ("Too many attempts", "Please wait a little and try again."),
    500: ("Something went wrong", "GAS hit an error. It has been logged; please try again."),
}
# Statuses whose message GAS writes itself (so it may be shown to the user).
_OWN_MESSAGES = frozenset({400, 403, 429})
_FALLBACK_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Error</title>"
    "<h1>Something went wrong</h1><p>Please try again later.</p></html>"
)

StartResponse = Callable[..., Any]


class SessionSecretMissing(RuntimeError):
    """GAS_SESSION_SECRET is unset where a per-process secret would break sessions."""


def session_secret(settings: Settings, given: str | None = None) -> str:
    """The secret that signs sessions: given, else GAS_SESSION_SECRET.

    Unset on a loopback web_url (one machine, one process), a random secret
    is made for this process, with a warning: sessions end when it restarts.
    Anywhere else GAS refuses to start: instances behind a load balancer must
    share one secret, or every request landing elsewhere would log users out.
    """
    secret = given or os.environ.get(SECRET_ENV)
    if secret:
        try:
            return check_secret(SECRET_ENV, secret)
        except SettingsError as exc:
            raise SessionSecretMissing(str(exc)) from None
    if urlsplit(settings.web_url).hostname in LOCAL_HOSTS:
        log.warning(
            "%s is unset: using a random secret for this process (sessions end on restart)",
            SECRET_ENV,
        )
        return secrets.token_urlsafe(32)
    raise SessionSecretMissing(f"set {SECRET_ENV} (a long random string shared by all web servers)")


class GasBottle(bottle.Bottle):
    """Bottle plus GAS's response headers and template error pages."""

    def __init__(self, context: WebContext, codec: security.SessionCodec) -> None:
        super().__init__(catchall=True)
        self.gas = context
        self.codec = codec

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        environ["gas.codec"] = self.codec

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Only the annotate page may post a form elsewhere: to the inputs bucket.
            extra = security.security_headers(
                environ.get(security.FORM_ACTION_KEY, []),
                self.codec.secure,
                environ.get(security.SOURCES_KEY),  # the subscribe page's Stripe.js
            )
            if not environ.get("PATH_INFO", "").startswith("/static/"):
                extra.append(("Cache-Control", "no-store"))
            used = security.request_session(environ)
            if used is not None and used.modified:
                extra.append(self.codec.set_cookie_header(used))
            names = {name.lower() for name, _ in extra}
            kept = [(n, v) for n, v in headers if n.lower() not in names or n == "Set-Cookie"]
            return start_response(status, kept + extra, exc_info)

        result: Iterable[bytes] = super().wsgi(environ, start)
        return result

    def default_error_handler(self, res: bottle.HTTPError) -> str:
        """Every error status renders the error template; never a traceback."""
        code = res.status_code
        if code >= 500:
            log.error("%s %s: %s", bottle.request.method, bottle.request.path, res.exception)
        title, message = ERROR_TITLES.get(code, (res.status_line, "That did not work."))
        if code in _OWN_MESSAGES and isinstance(res.body, str) and res.body:
            message = res.body
        try:
            return self.gas.render("errors/error.html", status=code, title=title, message=message)
        except Exception:
            log.exception("the error page itself failed")
            bottle.response.content_type = "text/html; charset=utf-8"
            return _FALLBACK_PAGE


def unreachable_services(clients: AwsClients, settings: Settings) -> list[str]:
    """Which of the services every page needs do not answer: DynamoDB (the users table)
    and S3 (the inputs bucket). A load balancer then stops sending users here."""
    names = settings.names
    checks: dict[str, Callable[[], object]] = {
        "dynamodb": lambda: clients.probe("dynamodb").describe_table(TableName=names.users_table),
        "s3": lambda: clients.probe("s3").head_bucket(Bucket=names.inputs_bucket),
    }
    failing = []
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:
            log.warning("health check: %s does not answer (%s)", name, type(exc).__name__)
            failing.append(name)
    return failing


def create_app(
    settings: Settings,
    clients: AwsClients | None = None,
    *,
    secret: str | None = None,
    throttle: LoginThrottle | None = None,
) -> GasBottle:
    """The GAS web app for these settings (clients default to ones made from them)."""
    clients = clients or AwsClients(settings)
    names = settings.names
    jobs = JobRepository(clients.dynamodb, names.annotations_table)
    users = UserRepository(clients.dynamodb, names.users_table)
    signing_secret = session_secret(settings, secret)
    context = WebContext(
        settings=settings,
        clients=clients,
        users=users,
        jobs=jobs,
        submission=SubmissionService(clients, jobs, users, locator_for(clients)),
        results=ResultsStore(clients.s3, settings.presigned_download_seconds),
        templates=template_environment(),
        hasher=PasswordHasher(),
        throttle=throttle or LoginThrottle(clients.dynamodb, names.users_table),
        page_secret=signing_secret,
    )
    codec = security.SessionCodec(signing_secret, secure=settings.web_url.startswith("https://"))
    app = GasBottle(context, codec)
    app.add_hook("before_request", security.check_csrf)
    app.add_hook("before_request", context.check_session)

    @app.get("/static/<path:path>")
    def static(path: str) -> Any:
        return bottle.static_file(path, root=str(STATIC), headers={"Cache-Control": "max-age=3600"})

    @app.get("/healthz")
    def health() -> dict[str, Any]:
        failing = unreachable_services(clients, settings)
        if failing:
            bottle.response.status = 503
            return {"status": "unavailable", "failing": failing}
        return {"status": "ok"}

    accounts.register(app, context)
    annotate.register(app, context)
    annotation_pages.register(app, context)
    results.register(app, context)
    billing_pages.register(app, context)
    return app
