"""The Stripe bootstrap against localstripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gas.core.billing import (
    PREMIUM_MONTHLY_CENTS,
    PREMIUM_PLAN_ID,
    BillingError,
    ensure_premium_plan,
    stripe_client,
)
from gas.core.settings import Settings


@pytest.fixture
def stripe_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    yield


def test_premium_plan_is_created_once(stripe_endpoint: str, stripe_key: None) -> None:
    client = stripe_client(Settings(stripe_api_base=stripe_endpoint))
    assert ensure_premium_plan(client) == PREMIUM_PLAN_ID
    assert ensure_premium_plan(client) == PREMIUM_PLAN_ID  # idempotent
    plan = client.v1.plans.retrieve(PREMIUM_PLAN_ID)
    assert (plan.amount, plan.interval) == (PREMIUM_MONTHLY_CENTS, "month")
    assert len(client.v1.plans.list().data) == 1


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with pytest.raises(BillingError, match="STRIPE_API_KEY"):
        stripe_client(Settings())
