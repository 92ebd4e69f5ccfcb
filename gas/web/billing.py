"""Premium subscriptions: subscribe, cancel, and Stripe's webhook.

The browser turns the card into a Stripe token with Stripe.js (loaded from
Stripe, or from localstripe's mock when STRIPE_API_BASE is set) and posts
only the token, with the CSRF token; card numbers never reach GAS. The server
then makes the Customer and the Subscription (gas.core.billing), records the
plan, and only then asks for the user's archived results to come back
(restore) or, on cancel, to go to cold storage after the Free retention
(archive). Plan changes are conditional writes (UserRepository.change_plan):
of the web's own request and Stripe's webhook for the same change, only one
publishes the follow-up message.

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
from gas.core.publisher import request_downgrade_archive, request_restore
from gas.core.stack import locator_for
from gas.core.users import Account
from gas.web import security
from gas.web.context import WebContext

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/stripe/webhook"
TOKEN_FIELD = "stripe_token"
_TOKEN = re.compile(r"tok_[A-Za-z0-9_]{1,255}")
UNAVAILABLE = "Subscriptions are not available right now. Please try again later."


def register(app: bottle.Bottle, ctx: WebContext) -> None:
    locator = locator_for(ctx.clients)
    assert WEBHOOK_PATH in security.CSRF_EXEMPT_PATHS

    def upgrade(user_id: str) -> None:
        """Premium first, then the restore request (only if this call made the change)."""
        if ctx.users.change_plan(user_id, "premium"):
            restore_id = request_restore(ctx.clients.sns, locator, user_id)
            log.info("user %s: now Premium; restore %s requested", user_id, restore_id)

    def downgrade(user_id: str) -> None:
        """Free first, then the archive request (only if this call made the change)."""
        if ctx.users.change_plan(user_id, "free"):
            request_downgrade_archive(ctx.clients.sqs, locator, user_id)
            log.info("user %s: now Free; archive of results requested", user_id)

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
            client = billing.stripe_client(ctx.settings)
            ids = ctx.users.stripe_ids(account.user_id)
            customer_id = ids.customer_id
            if customer_id is None:
                customer_id = billing.create_customer(client, account.user_id, account.email, token)
                ctx.users.set_stripe_customer(account.user_id, customer_id)
            else:
                billing.use_card(client, customer_id, token)
            subscription_id = billing.create_subscription(client, customer_id, account.user_id)
        except billing.CardDeclined as exc:
            log.info("user %s: card declined (%s)", account.user_id, exc)
            return subscribe_page(account, f"{exc} Nothing was charged.", status=402)
        except billing.BillingError:
            log.exception("user %s: Stripe is not configured", account.user_id)
            return subscribe_page(account, UNAVAILABLE, status=503)
        except Exception:
            log.exception("user %s: Stripe failed", account.user_id)
            return subscribe_page(account, UNAVAILABLE, status=503)
        ctx.users.set_stripe_subscription(account.user_id, subscription_id)
        log.info("user %s: subscribed (%s, %s)", account.user_id, customer_id, subscription_id)
        upgrade(account.user_id)
        bottle.request.environ.pop("gas.account", None)  # re-read: the plan changed
        return ctx.render("billing/subscribed.html")

    @app.post("/subscribe/cancel")
    @security.login_required
    def cancel() -> str:
        account = ctx.require_account()
        if account.plan != "premium":
            security.flash("You have no subscription to cancel.")
            bottle.redirect("/profile", 303)
        ids = ctx.users.stripe_ids(account.user_id)
        if ids.subscription_id:
            try:
                client = billing.stripe_client(ctx.settings)
                billing.cancel_subscription(client, ids.subscription_id)
            except Exception:
                log.exception("user %s: could not cancel %s", account.user_id, ids.subscription_id)
                security.flash(UNAVAILABLE)
                bottle.redirect("/profile", 303)
            ctx.users.clear_stripe_subscription(account.user_id, ids.subscription_id)
        log.info("user %s: canceled %s", account.user_id, ids.subscription_id)
        downgrade(account.user_id)
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
        user_id = ctx.users.user_for_stripe_customer(change.customer_id)
        if user_id is None:
            log.info("event %s: customer %s is not a GAS user", change.event_id, change.customer_id)
            return _answer(200, "ignored")
        apply_change(user_id, change)
        return _answer(200, "ok")

    def apply_change(user_id: str, change: billing.SubscriptionEvent) -> None:
        """Follow a subscription's change; the same event twice changes nothing more."""
        current = ctx.users.stripe_ids(user_id).subscription_id
        ended = change.type.endswith(".deleted") or change.status in billing.ENDED_STATUSES
        log.info(
            "event %s: %s %s is %s (user %s, current %s)",
            change.event_id,
            change.type,
            change.subscription_id,
            change.status,
            user_id,
            current,
        )
        if ended:
            # Only the user's current subscription ending makes them Free: a late event
            # for an old one (canceled before a re-subscribe) changes nothing.
            if current == change.subscription_id:
                ctx.users.clear_stripe_subscription(user_id, change.subscription_id)
                downgrade(user_id)
        elif change.status == "active":
            if current != change.subscription_id:
                if current and _still_paying(current):
                    return  # the user already pays through another subscription
                ctx.users.set_stripe_subscription(user_id, change.subscription_id)
            upgrade(user_id)

    def _still_paying(subscription_id: str) -> bool:
        try:
            status = billing.subscription_status(
                billing.stripe_client(ctx.settings), subscription_id
            )
        except billing.BillingError:
            return False
        return status in billing.PAYING_STATUSES


def _answer(status: int, result: str) -> dict[str, Any]:
    bottle.response.status = status
    return {"result": result}
