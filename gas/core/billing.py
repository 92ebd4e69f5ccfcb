"""Stripe: the one place that imports the stripe library.

``STRIPE_API_BASE`` (settings.stripe_api_base) points it at localstripe on
one machine; unset, it talks to Stripe itself. The API key is read from the
environment when a client is made and never stored in settings or logs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, replace
from typing import Any, cast

import stripe

from gas.core.settings import Settings

PREMIUM_PRODUCT_ID = "gas-premium"
PREMIUM_PLAN_ID = "gas-premium-monthly"
PREMIUM_MONTHLY_CENTS = 999


class BillingError(RuntimeError):
    """Stripe is not configured or refused a request."""


def stripe_client(settings: Settings) -> stripe.StripeClient:
    api_key = os.environ.get("STRIPE_API_KEY")
    if not api_key:
        raise BillingError("STRIPE_API_KEY is not set")
    if not re.match(r"(sk|rk)_(test|live)_", api_key):
        raise BillingError(
            "STRIPE_API_KEY is not a Stripe secret key (sk_… or rk_…): a placeholder?"
        )
    if settings.stripe_api_base:
        return stripe.StripeClient(api_key, base_addresses={"api": settings.stripe_api_base})
    return stripe.StripeClient(api_key)


def ensure_premium_plan(client: stripe.StripeClient) -> str:
    """Create the Premium product and its monthly plan unless they exist; returns the plan id."""
    try:
        return str(client.v1.plans.retrieve(PREMIUM_PLAN_ID).id)
    except stripe.InvalidRequestError:
        pass
    try:
        client.v1.products.retrieve(PREMIUM_PRODUCT_ID)
    except stripe.InvalidRequestError:
        client.v1.products.create(params={"id": PREMIUM_PRODUCT_ID, "name": "GAS Premium"})
    plan = client.v1.plans.create(
        params={
            "id": PREMIUM_PLAN_ID,
            "product": PREMIUM_PRODUCT_ID,
            "amount": PREMIUM_MONTHLY_CENTS,
            "currency": "usd",
            "interval": "month",
        }
    )
    return str(plan.id)


# Subscriptions (issue 4) ---------------------------------------------------------------

WEBHOOK_TOLERANCE_SECONDS = 300
LOCAL_PUBLISHABLE_KEY = "pk_test_local"
STRIPE_JS_URL = "https://js.stripe.com/v3/"
# Statuses in which a subscription pays for Premium; "past_due" keeps it while Stripe retries.
PAYING_STATUSES = frozenset({"active", "trialing", "past_due"})
ENDED_STATUSES = frozenset({"canceled", "unpaid", "incomplete_expired"})
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)


class CardDeclined(BillingError):
    """Stripe refused the card; the message is Stripe's, fit to show the customer."""


class WebhookRejected(ValueError):
    """A webhook request whose Stripe-Signature does not verify (or that is not an event)."""


@dataclass(frozen=True, slots=True)
class SubscriptionEvent:
    """What GAS needs from a ``customer.subscription.*`` event."""

    event_id: str
    type: str
    subscription_id: str
    customer_id: str
    status: str


def publishable_key(settings: Settings) -> str | None:
    """STRIPE_PUBLISHABLE_KEY; localstripe takes any ``pk_test_…``, so it has a default there."""
    key = os.environ.get("STRIPE_PUBLISHABLE_KEY")
    if key:
        return key
    return LOCAL_PUBLISHABLE_KEY if settings.stripe_api_base else None


def webhook_secret() -> str | None:
    """STRIPE_WEBHOOK_SECRET: the endpoint's signing secret (``whsec_…``), None when unset."""
    return os.environ.get("STRIPE_WEBHOOK_SECRET") or None


def stripe_js_url(settings: Settings) -> str:
    """Where the browser loads Stripe.js: localstripe's mock when STRIPE_API_BASE is set."""
    if settings.stripe_api_base:
        return settings.stripe_api_base.rstrip("/") + "/js.stripe.com/v3/"
    return STRIPE_JS_URL


def _card_message(error: stripe.StripeError) -> str:
    return str(error.user_message or "Your card was declined.")


def create_customer(client: stripe.StripeClient, user_id: str, email: str, token: str) -> str:
    """A Customer paying with the card behind ``token``; CardDeclined if Stripe refuses it.

    Stripe creates nothing when the card is declined, so a refused card leaves no
    customer to remember.
    """
    try:
        customer = client.v1.customers.create(
            params={"email": email, "source": token, "metadata": {"gas_user_id": user_id}}
        )
    except stripe.CardError as exc:
        raise CardDeclined(_card_message(exc)) from None
    return str(customer.id)


def use_card(client: stripe.StripeClient, customer_id: str, token: str) -> None:
    """Make the card behind ``token`` the customer's default; CardDeclined if refused."""
    try:
        card = client.v1.customers.payment_sources.create(customer_id, params={"source": token})
        client.v1.customers.update(customer_id, params={"default_source": str(card.id)})
    except stripe.CardError as exc:
        raise CardDeclined(_card_message(exc)) from None


def subscribe_key(user_id: str, token: str) -> str:
    """The idempotency key of one subscribe form post: the same user and card token (a
    token is good for one use) always give the same key, so a resent form (a double
    click, a retried request) gets back the subscription the first one made."""
    digest = hashlib.sha256(f"{user_id}:{token}".encode()).hexdigest()[:32]
    return f"gas-subscribe-{digest}"


def create_subscription(
    client: stripe.StripeClient, customer_id: str, user_id: str, idempotency_key: str | None = None
) -> str:
    """Subscribe the customer to Premium, charging the default card now; its id.

    ``error_if_incomplete``: a first payment that fails raises CardDeclined and
    leaves no subscription behind. The plan is created first if it is missing.
    With ``idempotency_key`` Stripe answers a repeat of the same request with
    the first one's subscription instead of making a second.
    """
    ensure_premium_plan(client)
    params: dict[str, Any] = {
        "customer": customer_id,
        # localstripe has Plans but no Prices; Stripe still takes a plan id here.
        "items": [{"plan": PREMIUM_PLAN_ID}],
        "payment_behavior": "error_if_incomplete",
        "metadata": {"gas_user_id": user_id},
    }
    options: dict[str, Any] = {"idempotency_key": idempotency_key} if idempotency_key else {}
    try:
        subscription = client.v1.subscriptions.create(
            params=cast(Any, params), options=cast(Any, options)
        )
    except stripe.CardError as exc:
        raise CardDeclined(_card_message(exc)) from None
    if subscription.status not in PAYING_STATUSES:
        cancel_subscription(client, str(subscription.id))
        raise CardDeclined("Your card could not be charged.")
    return str(subscription.id)


def cancel_subscription(client: stripe.StripeClient, subscription_id: str) -> None:
    """Cancel at once; a subscription that is already canceled (or gone) is left as it is."""
    try:
        current = client.v1.subscriptions.retrieve(subscription_id)
    except stripe.InvalidRequestError:
        return  # unknown to Stripe: nothing to cancel
    if current.status in ENDED_STATUSES:
        return
    client.v1.subscriptions.cancel(subscription_id)


def subscription_status(client: stripe.StripeClient, subscription_id: str) -> str | None:
    """The subscription's status; None when Stripe does not know it."""
    try:
        return str(client.v1.subscriptions.retrieve(subscription_id).status)
    except stripe.InvalidRequestError:
        return None


def as_stripe_holds_it(client: stripe.StripeClient, change: SubscriptionEvent) -> SubscriptionEvent:
    """The change with the subscription's status and customer as Stripe holds them now.

    An event's own copy of the subscription may be stale: events arrive late,
    out of order, or replayed. Only its subscription id is trusted; a
    subscription Stripe does not know is treated as canceled.
    """
    try:
        subscription = client.v1.subscriptions.retrieve(change.subscription_id)
    except stripe.InvalidRequestError:
        return replace(change, status="canceled")
    customer = subscription.customer
    customer_id = customer if isinstance(customer, str) else customer.id
    return replace(change, status=str(subscription.status), customer_id=str(customer_id))


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event a webhook request carries, once its Stripe-Signature header checks out.

    The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`` under the
    endpoint's signing secret; stripe's own verification also refuses timestamps more
    than WEBHOOK_TOLERANCE_SECONDS old (replays). WebhookRejected otherwise.
    """
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise WebhookRejected(str(exc).split("\n", 1)[0]) from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise WebhookRejected("not a Stripe event")
    return event


def subscription_event(event: dict[str, Any]) -> SubscriptionEvent | None:
    """The subscription change a verified event describes; None for any other event."""
    if event.get("type") not in SUBSCRIPTION_EVENTS:
        return None
    obj = (event.get("data") or {}).get("object") or {}
    customer = obj.get("customer")
    if isinstance(customer, dict):  # an expanded customer
        customer = customer.get("id")
    subscription_id, status = obj.get("id"), obj.get("status")
    if not all(isinstance(value, str) for value in (customer, subscription_id, status)):
        return None
    return SubscriptionEvent(
        event_id=str(event.get("id", "")),
        type=str(event["type"]),
        subscription_id=str(subscription_id),
        customer_id=str(customer),
        status=str(status),
    )
