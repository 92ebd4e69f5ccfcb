"""Premium subscriptions: subscribe, cancel, and Stripe's webhook.

The browser turns the card into a Stripe token with Stripe.js (loaded from
Stripe, or from localstripe's mock when STRIPE_API_BASE is set) and posts
only the token, with the CSRF token; card numbers never reach GAS. These pages
turn requests into calls of the subscription service (gas.services.subscriptions),
which makes the Customer and the Subscription, records the plan and sends the
follow-up message, and turn its errors into pages.

The webhook (``POST /stripe/webhook``) keeps GAS in step with subscriptions
changed outside the app (Stripe's dashboard, failed renewals): it is
authenticated by its Stripe-Signature header, never by a session, and is
idempotent, since Stripe delivers an event at least once.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import bottle

from gas.core import billing
from gas.core.stack import locator_for
from gas.core.users import Account
from gas.services.subscriptions import Subscriptions
from gas.web import security
from gas.web.context import WebContext

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/stripe/webhook"
TOKEN_FIELD = "stripe_token"
_TOKEN = re.compile(r"tok_[A-Za-z0-9_]{1,255}")
UNAVAILABLE = "Subscriptions are not available right now. Please try again later."


def register(app: bottle.Bottle, ctx: WebContext) -> None:
    subscriptions = Subscriptions(
        ctx.settings, ctx.users, ctx.clients.sns, ctx.clients.sqs, locator_for(ctx.clients)
    )
    assert WEBHOOK_PATH in security.CSRF_EXEMPT_PATHS

    def subscribe_page(account: Account, error: str | None = None, status: int = 200) -> str:
        key = billing.publishable_key(ctx.settings)
        js_url = billing.stripe_js_url(ctx.settings)
        if account.plan == "free" and key:
            # Stripe.js comes from Stripe (or localstripe): widen the CSP for this page only.
            for directive in ("script-src", "frame-src", "connect-src"):
                security.allow_sources(directive, js_url)
            if not ctx.settings.stripe_api_base:
                security.allow_sources("frame-src", "https://hooks.stripe.com")
                security.allow_sources("connect-src", "https://api.stripe.com")
        return ctx.render(
            "billing/subscribe.html",
            status=status,
            publishable_key=key,
            stripe_js_url=js_url,
            token_field=TOKEN_FIELD,
            error=error,
            price=billing.PREMIUM_MONTHLY_CENTS,
        )

    @app.get("/subscribe")
    @security.login_required
    def subscribe_form() -> str:
        return subscribe_page(ctx.require_account())

    @app.post("/subscribe")
    @security.login_required
    def subscribe() -> str:
        account = ctx.require_account()
        if account.plan == "premium":
            security.flash("You are already on the Premium plan.")
            bottle.redirect("/profile", 303)
        token = bottle.request.forms.getunicode(TOKEN_FIELD, "") or ""
        if not _TOKEN.fullmatch(token):
            return subscribe_page(
                account, "Please enter your card details and try again.", status=400
            )
        try:
            subscriptions.subscribe(account.user_id, account.email, token)
        except billing.CardDeclined as exc:
            log.info("user %s: card declined (%s)", account.user_id, exc)
            return subscribe_page(account, f"{exc} Nothing was charged.", status=402)
        except billing.BillingError:
            log.exception("user %s: Stripe is not configured", account.user_id)
            return subscribe_page(account, UNAVAILABLE, status=503)
        except Exception:
            log.exception("user %s: Stripe failed", account.user_id)
            return subscribe_page(account, UNAVAILABLE, status=503)
        bottle.request.environ.pop("gas.account", None)  # re-read: the plan changed
        return ctx.render("billing/subscribed.html")

    def premium_account() -> Account:
        """The logged-in Premium account; a Free one is sent to its profile with a message."""
        account = ctx.require_account()
        if account.plan != "premium":
            security.flash("You have no subscription to cancel.")
            bottle.redirect("/profile", 303)
        return account

    @app.get("/subscribe/cancel")
    @security.login_required
    def confirm_cancel() -> str:
        premium_account()
        return ctx.render("billing/cancel.html")

    @app.post("/subscribe/cancel")
    @security.login_required
    def cancel() -> str:
        account = premium_account()
        if bottle.request.forms.get("confirm") != "yes":  # not from the confirmation page
            bottle.redirect("/subscribe/cancel", 303)
        try:
            subscriptions.cancel(account.user_id)
        except Exception:
            log.exception("user %s: could not cancel the subscription", account.user_id)
            security.flash(UNAVAILABLE)
            bottle.redirect("/profile", 303)
        bottle.request.environ.pop("gas.account", None)
        return ctx.render("billing/canceled.html")

    @app.post(WEBHOOK_PATH)
    def webhook() -> dict[str, Any]:
        secret = billing.webhook_secret()
        if secret is None:
            log.error("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set")
            return _answer(503, "webhooks are not configured")
        payload = bottle.request.body.read()
        try:
            event = billing.verify_webhook(
                payload, bottle.request.get_header("Stripe-Signature"), secret
            )
        except billing.WebhookRejected as exc:
            log.warning("Stripe webhook refused: %s", exc)
            return _answer(400, "bad signature")
        change = billing.subscription_event(event)
        if change is None:
            return _answer(200, "ignored")
        try:
            known = subscriptions.apply_event(change)
        except Exception:
            log.exception("event %s: could not follow %s", change.event_id, change.type)
            return _answer(503, "Stripe could not be asked; send it again")  # Stripe retries
        if not known:
            return _answer(200, "ignored")
        return _answer(200, "ok")


def _answer(status: int, result: str) -> dict[str, Any]:
    bottle.response.status = status
    return {"result": result}
