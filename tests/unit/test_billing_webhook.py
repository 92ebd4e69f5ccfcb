"""Stripe webhook signatures and events (gas.core.billing), and the subscribe page's CSP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from gas.core.billing import (
    WEBHOOK_TOLERANCE_SECONDS,
    SubscriptionEvent,
    WebhookRejected,
    publishable_key,
    stripe_js_url,
    subscription_event,
    verify_webhook,
)
from gas.core.settings import Settings
from gas.web.security import security_headers

SECRET = "whsec_unit_test"
EVENT: dict[str, Any] = {
    "id": "evt_1",
    "object": "event",
    "type": "customer.subscription.deleted",
    "data": {"object": {"id": "sub_1", "customer": "cus_1", "status": "canceled"}},
}
PAYLOAD = json.dumps(EVENT).encode()


def header(payload: bytes = PAYLOAD, secret: str = SECRET, timestamp: int | None = None) -> str:
    """As Stripe signs: HMAC-SHA256 of "<t>.<payload>" under the endpoint's secret."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def test_a_correctly_signed_event_is_returned() -> None:
    assert verify_webhook(PAYLOAD, header(), SECRET) == EVENT


def test_one_good_signature_among_several_is_enough() -> None:
    # Stripe sends one v1 per active secret while a secret is being rolled.
    good = header()
    ts, mac = good.split(",")
    assert verify_webhook(PAYLOAD, f"{ts},v1={'0' * 64},{mac}", SECRET) == EVENT


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "nonsense",
        "t=notanumber,v1=abc",
        header(secret="whsec_other"),
        header(payload=PAYLOAD.replace(b"deleted", b"created")),
        header(timestamp=int(time.time()) - WEBHOOK_TOLERANCE_SECONDS - 60),
        header().replace("v1=", "v0="),
    ],
)
def test_bad_signatures_are_rejected(signature: str | None) -> None:
    with pytest.raises(WebhookRejected):
        verify_webhook(PAYLOAD, signature, SECRET)


def test_signed_bodies_that_are_not_events_are_rejected() -> None:
    for body in (b"not json", b"[1, 2]", b'{"id": "evt"}', b"\xff\xfe"):
        with pytest.raises(WebhookRejected):
            verify_webhook(body, header(payload=body), SECRET)


def test_subscription_events_are_read() -> None:
    assert subscription_event(EVENT) == SubscriptionEvent(
        "evt_1", "customer.subscription.deleted", "sub_1", "cus_1", "canceled"
    )
    subscription = {"id": "sub_1", "customer": {"id": "cus_2"}, "status": "active"}
    expanded = {**EVENT, "data": {"object": subscription}}
    change = subscription_event(expanded)
    assert change is not None and change.customer_id == "cus_2"


def test_other_events_and_malformed_objects_are_skipped() -> None:
    assert subscription_event({**EVENT, "type": "invoice.paid"}) is None
    assert subscription_event({**EVENT, "data": {"object": {"id": "sub_1"}}}) is None
    assert subscription_event({**EVENT, "data": None}) is None


def test_stripe_js_and_the_publishable_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_PUBLISHABLE_KEY", raising=False)
    local = Settings(stripe_api_base="http://127.0.0.1:8420/")
    assert stripe_js_url(local) == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert stripe_js_url(Settings()) == "https://js.stripe.com/v3/"
    assert publishable_key(local) == "pk_test_local"
    assert publishable_key(Settings()) is None  # real Stripe needs the real key
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_live_x")
    assert publishable_key(Settings()) == "pk_live_x"


def test_csp_widens_only_the_directives_asked_for() -> None:
    plain = dict(security_headers([], False))["Content-Security-Policy"]
    assert "frame-src" not in plain and "script-src 'self';" in plain
    origin = "http://127.0.0.1:8420"
    sources = {"script-src": [origin], "frame-src": [origin], "connect-src": [origin]}
    csp = dict(security_headers([], False, sources))["Content-Security-Policy"]
    for directive in ("script-src", "frame-src", "connect-src"):
        assert f"{directive} 'self' {origin};" in csp
    assert "style-src 'self';" in csp and "default-src 'self';" in csp


def test_a_subscribe_form_sent_twice_has_one_idempotency_key() -> None:
    from gas.core.billing import subscribe_key

    assert subscribe_key("u1", "tok_1") == subscribe_key("u1", "tok_1")
    assert (
        len(
            {
                subscribe_key("u1", "tok_1"),
                subscribe_key("u1", "tok_2"),
                subscribe_key("u2", "tok_1"),
            }
        )
        == 3
    )
