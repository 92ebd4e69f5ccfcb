"""Stripe: the one place that imports the stripe library.

``STRIPE_API_BASE`` (settings.stripe_api_base) points it at localstripe on
one machine; unset, it talks to Stripe itself. The API key is read from the
environment when a client is made and never stored in settings or logs.
"""

from __future__ import annotations

import os

import stripe

from handlers.settings import Settings

PREMIUM_PRODUCT_ID = "gas-premium"
PREMIUM_PLAN_ID = "gas-premium-monthly"
PREMIUM_MONTHLY_CENTS = 999


class BillingError(RuntimeError):
    """Stripe is not configured or refused a request."""


def stripe_client(settings: Settings) -> stripe.StripeClient:
    api_key = os.environ.get("STRIPE_API_KEY")
    if not api_key:
        raise BillingError("STRIPE_API_KEY is not set")
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
