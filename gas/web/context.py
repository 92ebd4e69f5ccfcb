"""What every route needs: settings, repositories, services, templates; and render()."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bottle
from argon2 import PasswordHasher
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gas.core.aws import AwsClients
from gas.core.jobs import JobRepository
from gas.core.login_throttle import LoginThrottle
from gas.core.settings import Settings
from gas.core.users import Account, UserRepository
from gas.services.results_store import ResultsStore
from gas.services.submission import SubmissionService
from gas.web import security

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"


def format_time(epoch: int | None) -> str:
    """Whole epoch seconds as 'YYYY-MM-DD HH:MM UTC'; an em dash when absent."""
    if epoch is None:
        return "—"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_bytes(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024**2:
        return f"{size / 1024:,.0f} KiB"
    return f"{size / 1024**2:,.1f} MiB"


def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["bytes"] = format_bytes
    env.globals["csrf_field"] = security.CSRF_FIELD
    return env


@dataclass
class WebContext:
    settings: Settings
    clients: AwsClients
    users: UserRepository
    jobs: JobRepository
    submission: SubmissionService
    results: ResultsStore
    templates: Environment
    hasher: PasswordHasher
    throttle: LoginThrottle
    page_secret: str

    def current_account(self) -> Account | None:
        """The logged-in account, read once per request; None if the account vanished or
        this session was ended (logout elsewhere: its session version moved on)."""
        environ = bottle.request.environ
        if "gas.account" not in environ:
            user_id = security.current_user_id()
            account = self.users.account(user_id) if user_id else None
            if account is not None and security.session_version() != account.session_version:
                security.log_out()
                account = None
            environ["gas.account"] = account
        found: Account | None = environ["gas.account"]
        return found

    def check_session(self) -> None:
        """Every request (but static files and health checks): end a session that was
        ended elsewhere before any page can trust its user id."""
        if bottle.request.path.startswith(("/static/", "/healthz")):
            return
        if bottle.request.get_cookie(security.SESSION_COOKIE) is None:
            return  # no session to check (and none is started here: no Set-Cookie)
        if security.current_user_id() is not None:
            self.current_account()

    def require_account(self) -> Account:
        """The logged-in account; a session for a deleted account is logged out."""
        account = self.current_account()
        if account is None:
            security.log_out()
            bottle.redirect("/login", 303)
        assert account is not None
        return account

    def render(self, name: str, status: int = 200, **values: Any) -> str:
        bottle.response.status = status
        bottle.response.content_type = "text/html; charset=utf-8"
        template = self.templates.get_template(name)
        return template.render(
            account=self.current_account(),
            csrf_token=security.csrf_token(),
            flashes=security.take_flashes(),
            path=bottle.request.path,
            settings=self.settings,
            **values,
        )
