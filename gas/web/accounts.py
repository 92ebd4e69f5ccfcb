"""Accounts: home, register, login, logout, profile (subscriptions: gas.web.billing)."""

from __future__ import annotations

import logging
from typing import Any

import bottle
from argon2.exceptions import InvalidHashError, VerificationError

from gas.core.users import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, EmailTaken, normalize_email
from gas.web import security
from gas.web.context import WebContext

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


def register(app: bottle.Bottle, ctx: WebContext) -> None:
    # Verified against when the email is unknown, so both answers take as long.
    dummy_hash = ctx.hasher.hash("not a real password, only for timing")

    @app.get("/")
    def home() -> str:
        return ctx.render("accounts/home.html")

    @app.get("/register")
    def register_form() -> Any:
        if ctx.current_account():
            bottle.redirect("/profile", 303)
        return ctx.render("accounts/register.html", values={}, errors={})

    @app.post("/register")
    def register_submit() -> Any:
        form = bottle.request.forms
        values = {
            "name": form.getunicode("name", "").strip(),
            "email": form.getunicode("email", ""),
        }
        password = form.getunicode("password", "")
        errors: dict[str, str] = {}
        if not 1 <= len(values["name"]) <= MAX_NAME_LENGTH:
            errors["name"] = f"Please enter your name (at most {MAX_NAME_LENGTH} characters)."
        try:
            values["email"] = normalize_email(values["email"])
        except ValueError:
            errors["email"] = "Please enter a valid email address."
        if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
            errors["password"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
        if not errors:
            try:
                account = ctx.users.create_user(
                    values["email"], values["name"], ctx.hasher.hash(password), ctx.jobs.now()
                )
            except EmailTaken:
                errors["email"] = "An account with this email address already exists."
            else:
                log.info("user %s: registered", account.user_id)
                security.log_in(account.user_id, account.session_version)
                security.flash(f"Welcome to GAS, {account.name}.")
                bottle.redirect("/annotate", 303)
        return ctx.render("accounts/register.html", status=400, values=values, errors=errors)

    @app.get("/login")
    def login_form() -> str:
        next_path = security.safe_next(bottle.request.query.getunicode("next"))
        return ctx.render("accounts/login.html", email="", next_path=next_path, error=None)

    @app.post("/login")
    def login_submit() -> str:
        form = bottle.request.forms
        email = form.getunicode("email", "").strip()
        password = form.getunicode("password", "")
        next_path = security.safe_next(form.getunicode("next"))
        if len(email) > MAX_EMAIL_LENGTH or len(password) > MAX_PASSWORD_LENGTH:
            return _login_refused(ctx, email[:MAX_EMAIL_LENGTH], next_path)
        key = email.lower()
        wait = ctx.throttle.retry_after(key)
        if wait:
            raise bottle.HTTPError(
                429,
                "Too many failed sign-ins for this email address. "
                f"Please wait {wait} second{'s' if wait != 1 else ''} and try again.",
                headers={"Retry-After": str(wait)},
            )
        account = ctx.users.account_by_email(email)
        if account is not None and _verify(ctx, account.password_hash, password):
            ctx.throttle.succeeded(key)
            if ctx.hasher.check_needs_rehash(account.password_hash):
                ctx.users.set_password_hash(account.user_id, ctx.hasher.hash(password))
            security.log_in(account.user_id, account.session_version)
            log.info("user %s: logged in", account.user_id)
            bottle.redirect(next_path, 303)
        if account is None:
            _verify(ctx, dummy_hash, password)
        ctx.throttle.failed(key)
        return _login_refused(ctx, email, next_path)

    @app.post("/logout")
    def logout() -> None:
        account = ctx.current_account()
        if account is not None:  # ends this session and any other, on every server
            ctx.users.end_sessions(account.user_id)
        security.log_out()
        security.flash("You are logged out.")
        bottle.redirect("/", 303)

    @app.get("/profile")
    @security.login_required
    def profile() -> str:
        account = ctx.require_account()
        return ctx.render("accounts/profile.html", profile=account)


def _login_refused(ctx: WebContext, email: str, next_path: str) -> str:
    return ctx.render(
        "accounts/login.html",
        status=400,
        email=email,
        next_path=next_path,
        error="That email address and password do not match an account.",
    )


def _verify(ctx: WebContext, password_hash: str, password: str) -> bool:
    try:
        return bool(ctx.hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
