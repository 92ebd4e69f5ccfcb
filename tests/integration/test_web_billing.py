"""Premium subscriptions through the web app, against moto and localstripe.

Card tokens are made through localstripe's API, as its Stripe.js mock does in
the browser; webhooks are signed here as Stripe signs them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
import requests

from gas.core.aws import AwsClients
from gas.core.billing import PREMIUM_PLAN_ID, create_subscription, stripe_client
from gas.core.messages import USER_DOWNGRADED, USER_UPGRADED
from gas.core.settings import Settings
from gas.core.stack import locator_for
from gas.core.users import Account
from gas.web.app import GasBottle
from tests.integration.retention import completed_job
from tests.integration.services import receive_documents, services
from tests.integration.web_helpers import AuthActions, TestApp, TestResponse, csrf_from

pytest_plugins = ["tests.integration.web_fixtures"]

API_KEY = "sk_test_local"
WEBHOOK_SECRET = "whsec_test_gas_0123456789"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


@pytest.fixture
def settings(settings: Settings, stripe_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The emulator's settings, with Stripe at localstripe and its keys in the environment."""
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.delenv("STRIPE_PUBLISHABLE_KEY", raising=False)
    return dataclasses.replace(settings, stripe_api_base=stripe_endpoint)


def card_token(endpoint: str, number: str) -> str:
    """A token for a test card, made as Stripe.js makes one: with the publishable key."""
    response = requests.post(
        f"{endpoint}/v1/tokens",
        data={
            "card[number]": number,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
            "key": "pk_test_local",
        },
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def stripe_get(endpoint: str, path: str) -> dict[str, Any]:
    response = requests.get(f"{endpoint}/v1/{path}", auth=(API_KEY, ""), timeout=10)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: ``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event_for(endpoint: str, kind: str, subscription_id: str, event_id: str) -> bytes:
    """An event as Stripe sends it, carrying the subscription as Stripe (localstripe) has it."""
    subscription = stripe_get(endpoint, f"subscriptions/{subscription_id}")
    event = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": subscription},
    }
    return json.dumps(event).encode()


def post_webhook(client: TestApp, payload: bytes, signature: str | None) -> TestResponse:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post("/stripe/webhook", payload, headers=headers, expect_errors=True)


def account(app: GasBottle, email: str = "alice@example.com") -> Account:
    found = app.gas.users.account_by_email(email)
    assert found is not None
    return found


def messages(clients: AwsClients, queue: str, wait_seconds: int = 1) -> list[dict[str, Any]]:
    return receive_documents(clients, locator_for(clients).queue_url(queue), wait_seconds)


def archive_messages(clients: AwsClients, expected: int) -> list[dict[str, Any]]:
    """The archive queue's messages, waiting out its delay (the 2 s Free retention in tests).

    For ``expected`` messages, until they are in (15 s at most); for none, long enough
    that any message sent already would have shown.
    """
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + (15 if expected else 4)
    while time.monotonic() < deadline and (not expected or len(found) < expected):
        found += messages(clients, "archive")
    return found


def subscribe(client: TestApp, token: str) -> TestResponse:
    form = client.get("/subscribe").forms["subscribe-form"]
    form["stripe_token"].force_value(token)
    return form.submit(expect_errors=True)


def test_subscribe_page_loads_stripe_js_from_localstripe(
    client: TestApp, auth: AuthActions, stripe_endpoint: str
) -> None:
    auth.register()
    page = client.get("/subscribe")
    js = f"{stripe_endpoint}/js.stripe.com/v3/"
    # THEN Stripe.js comes from localstripe, and the page's own script is a static file
    assert f'<script src="{js}"></script>' in page.text
    assert '<script src="/static/subscribe.js" defer></script>' in page.text
    assert "<script>" not in page.text
    assert 'data-stripe-key="pk_test_local"' in page.text
    # AND this page's CSP (only this page's) lets the script load, frame and call home
    csp = page.headers["Content-Security-Policy"]
    for directive in ("script-src", "frame-src", "connect-src"):
        assert f"{directive} 'self' {stripe_endpoint};" in csp
    assert "style-src 'self';" in csp
    assert stripe_endpoint not in client.get("/profile").headers["Content-Security-Policy"]
    # AND localstripe really serves the mock there
    served = requests.get(js, timeout=10)
    assert served.status_code == 200 and "createToken" in served.text


def test_subscribing_makes_the_user_premium(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, stripe_endpoint: str
) -> None:
    # GIVEN a Free user
    auth.register()
    user = account(app)
    assert user.plan == "free"
    # WHEN they subscribe with a good card
    page = subscribe(client, card_token(stripe_endpoint, GOOD_CARD))
    # THEN they see the confirmation and are Premium
    assert page.status_int == 200 and "Welcome to Premium" in page.text
    assert account(app).plan == "premium"
    # AND Stripe has their customer and an active Premium subscription
    ids = app.gas.users.stripe_ids(user.user_id)
    assert ids.customer_id and ids.subscription_id
    customer = stripe_get(stripe_endpoint, f"customers/{ids.customer_id}")
    assert customer["email"] == "alice@example.com"
    assert customer["metadata"]["gas_user_id"] == user.user_id
    subscription = stripe_get(stripe_endpoint, f"subscriptions/{ids.subscription_id}")
    assert subscription["status"] == "active"
    assert subscription["customer"] == ids.customer_id
    assert subscription["plan"]["id"] == PREMIUM_PLAN_ID
    # AND the restorer is asked, once, to bring back their archived results
    restores = messages(clients, "restore")
    assert [(m["type"], m["user_id"]) for m in restores] == [(USER_UPGRADED, user.user_id)]
    # AND the profile says Premium and offers to cancel; the subscribe page loads no Stripe.js
    profile = client.get("/profile")
    assert ">Premium</span>" in profile.text and 'href="/subscribe/cancel"' in profile.text
    again = client.get("/subscribe")
    assert "You are on the Premium plan" in again.text and "js.stripe.com" not in again.text


def test_a_declined_card_changes_nothing(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, stripe_endpoint: str
) -> None:
    auth.register()
    user = account(app)
    page = subscribe(client, card_token(stripe_endpoint, DECLINED_CARD))
    # THEN a clear message, the card form again, and the user is still Free
    assert page.status_int == 402
    assert "Your card was declined." in page.text and "Nothing was charged." in page.text
    assert "subscribe-form" in page.forms
    assert account(app).plan == "free"
    ids = app.gas.users.stripe_ids(user.user_id)
    assert ids.customer_id is None and ids.subscription_id is None
    assert messages(clients, "restore") == []
    # AND a good card afterwards still works
    assert "Welcome to Premium" in subscribe(client, card_token(stripe_endpoint, GOOD_CARD)).text
    assert account(app).plan == "premium"


def test_a_missing_token_is_refused(client: TestApp, auth: AuthActions, app: GasBottle) -> None:
    auth.register()
    page = subscribe(client, "")
    assert page.status_int == 400 and "enter your card details" in page.text
    assert account(app).plan == "free"


def test_canceling_makes_the_user_free(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, stripe_endpoint: str
) -> None:
    # GIVEN a Premium subscriber
    auth.register()
    user = account(app)
    subscribe(client, card_token(stripe_endpoint, GOOD_CARD))
    subscription_id = app.gas.users.stripe_ids(user.user_id).subscription_id
    assert subscription_id
    messages(clients, "restore")
    # WHEN they cancel from their profile, and confirm
    asked = client.get("/profile").click(href="/subscribe/cancel")
    assert "Cancel Premium?" in asked.text and account(app).plan == "premium"
    page = asked.forms["cancel-form"].submit()
    # THEN they are Free, Stripe's subscription is canceled, and the archive is asked
    assert "Premium canceled" in page.text
    assert account(app).plan == "free"
    assert stripe_get(stripe_endpoint, f"subscriptions/{subscription_id}")["status"] == "canceled"
    ids = app.gas.users.stripe_ids(user.user_id)
    assert ids.subscription_id is None and ids.customer_id
    archived = archive_messages(clients, 1)
    assert [(m["type"], m["user_id"]) for m in archived] == [(USER_DOWNGRADED, user.user_id)]
    # AND the profile offers Premium again; a second cancel is refused politely
    profile = client.get("/profile")
    assert ">Free</span>" in profile.text and 'href="/subscribe"' in profile.text
    token = csrf_from(profile)
    again = client.post("/subscribe/cancel", {"csrf_token": token}).follow()
    assert "no subscription to cancel" in again.text
    # AND Stripe's own deletion event, arriving later, changes nothing more
    payload = event_for(stripe_endpoint, "customer.subscription.deleted", subscription_id, "evt_d")
    assert post_webhook(client, payload, sign(payload)).status_int == 200
    assert archive_messages(clients, 0) == []
    # AND subscribing again reuses the Stripe customer
    subscribe(client, card_token(stripe_endpoint, GOOD_CARD))
    assert app.gas.users.stripe_ids(user.user_id).customer_id == ids.customer_id
    assert account(app).plan == "premium"


def test_one_click_does_not_cancel_premium(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, stripe_endpoint: str
) -> None:
    # GIVEN a Premium subscriber
    auth.register()
    user = account(app)
    subscribe(client, card_token(stripe_endpoint, GOOD_CARD))
    subscription_id = app.gas.users.stripe_ids(user.user_id).subscription_id
    # WHEN they click Cancel Premium once, or something posts a cancel without confirming
    asked = client.get("/profile").click(href="/subscribe/cancel")
    token = csrf_from(asked)
    posted = client.post("/subscribe/cancel", {"csrf_token": token})
    # THEN they are asked to confirm, and nothing is canceled
    assert posted.status_int == 303 and posted.location.endswith("/subscribe/cancel")
    confirm = posted.follow()
    assert "Cancel Premium?" in confirm.text and "Keep Premium" in confirm.text
    assert account(app).plan == "premium"
    assert stripe_get(stripe_endpoint, f"subscriptions/{subscription_id}")["status"] == "active"
    assert archive_messages(clients, 0) == []


def test_posts_without_the_csrf_token_are_refused(
    client: TestApp, auth: AuthActions, app: GasBottle, stripe_endpoint: str
) -> None:
    auth.register()
    token = card_token(stripe_endpoint, GOOD_CARD)
    refused = client.post("/subscribe", {"stripe_token": token}, expect_errors=True)
    assert refused.status_int == 403
    forged = {"stripe_token": token, "csrf_token": "forged"}
    assert client.post("/subscribe", forged, expect_errors=True).status_int == 403
    assert client.post("/subscribe/cancel", expect_errors=True).status_int == 403
    assert account(app).plan == "free"


def test_subscribing_needs_a_login(client: TestApp) -> None:
    page = client.get("/subscribe")
    assert page.status_int == 303 and "/login?next=%2Fsubscribe" in page.location


def _outside_subscription(app: GasBottle, stripe_endpoint: str, user: Account) -> str:
    """A GAS customer subscribed to Premium in Stripe itself (its dashboard), not in GAS."""
    stripe = stripe_client(app.gas.settings)
    customer = stripe.v1.customers.create(
        params={"email": user.email, "source": card_token(stripe_endpoint, GOOD_CARD)}
    )
    app.gas.users.set_stripe_customer(user.user_id, str(customer.id))
    return create_subscription(stripe, str(customer.id), user.user_id)


def test_signed_webhooks_follow_subscriptions_made_outside_gas(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, stripe_endpoint: str
) -> None:
    # GIVEN a Free user whom the operator subscribed in Stripe's dashboard
    auth.register()
    user = account(app)
    subscription_id = _outside_subscription(app, stripe_endpoint, user)
    # WHEN Stripe reports the subscription, signed, without any session or CSRF token
    created = event_for(stripe_endpoint, "customer.subscription.created", subscription_id, "evt_1")
    client.reset()
    answer = post_webhook(client, created, sign(created))
    # THEN the user is Premium, their restore is asked for, and the subscription recorded
    assert answer.status_int == 200 and answer.json == {"result": "ok"}
    assert "Set-Cookie" not in answer.headers
    assert account(app).plan == "premium"
    assert app.gas.users.stripe_ids(user.user_id).subscription_id == subscription_id
    assert [m["type"] for m in messages(clients, "restore")] == [USER_UPGRADED]
    # AND the same event again (Stripe retries), or an update, changes nothing more
    assert post_webhook(client, created, sign(created)).status_int == 200
    updated = event_for(stripe_endpoint, "customer.subscription.updated", subscription_id, "evt_2")
    assert post_webhook(client, updated, sign(updated)).status_int == 200
    assert messages(clients, "restore") == []
    # WHEN the subscription is canceled in Stripe
    stripe_client(app.gas.settings).v1.subscriptions.cancel(subscription_id)
    deleted = event_for(stripe_endpoint, "customer.subscription.deleted", subscription_id, "evt_3")
    assert post_webhook(client, deleted, sign(deleted)).status_int == 200
    # THEN the user is Free and their results go to the archive after the retention
    assert account(app).plan == "free"
    assert [m["type"] for m in archive_messages(clients, 1)] == [USER_DOWNGRADED]
    # AND the deletion again changes nothing more
    assert post_webhook(client, deleted, sign(deleted)).status_int == 200
    assert archive_messages(clients, 0) == []
    assert account(app).plan == "free"


def test_webhooks_with_a_bad_signature_are_refused(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, stripe_endpoint: str
) -> None:
    auth.register()
    user = account(app)
    subscription_id = _outside_subscription(app, stripe_endpoint, user)
    payload = event_for(stripe_endpoint, "customer.subscription.created", subscription_id, "evt_b")
    stale = int(time.time()) - 3600
    for signature in (
        None,  # no header
        "",
        "garbage",
        sign(payload, secret="whsec_someone_else"),
        sign(payload + b" "),  # signed another body
        sign(payload, timestamp=stale),  # a replay
        "t=1,v0=" + "0" * 64,
    ):
        refused = post_webhook(client, payload, signature)
        assert refused.status_int == 400, signature
        assert refused.json == {"result": "bad signature"}
    assert account(app).plan == "free"
    assert messages(clients, "restore") == []


def test_webhooks_need_the_signing_secret(client: TestApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    payload = b'{"type": "customer.subscription.deleted"}'
    assert post_webhook(client, payload, sign(payload)).status_int == 503


def test_webhooks_for_other_events_and_customers_are_ignored(client: TestApp) -> None:
    for event in (
        {"id": "evt_x", "type": "invoice.paid", "data": {"object": {"id": "in_1"}}},
        {
            "id": "evt_y",
            "type": "customer.subscription.deleted",
            "data": {"object": {"id": "sub_1", "customer": "cus_unknown", "status": "canceled"}},
        },
    ):
        payload = json.dumps(event).encode()
        answer = post_webhook(client, payload, sign(payload))
        assert answer.status_int == 200 and answer.json == {"result": "ignored"}


def _set_storage(clients: AwsClients, job_id: str, status: str) -> None:
    clients.dynamodb.update_item(
        TableName=clients.settings.names.annotations_table,
        Key={"job_id": {"S": job_id}},
        UpdateExpression="SET storage_status = :status",
        ExpressionAttributeValues={":status": {"S": status}},
    )


def test_archive_states_on_the_job_pages(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients
) -> None:
    # GIVEN a Free user's completed job, moved to cold storage
    auth.register()
    user = account(app)
    job_id = completed_job(services(clients), user.user_id).job.job_id
    listed = client.get("/annotations")
    assert 'data-storage="AVAILABLE"' in listed.text
    _set_storage(clients, job_id, "ARCHIVED")
    # THEN the list shows it Archived with the upgrade, and the details offer the upgrade
    listed = client.get("/annotations")
    assert 'data-storage="ARCHIVED">Archived</span>' in listed.text
    assert "Upgrade to restore" in listed.text
    page = client.get(f"/annotations/{job_id}")
    assert 'data-storage="ARCHIVED"' in page.text
    assert "Upgrade to Premium</a> to restore them" in page.text
    assert 'download="sample.vcf.annot.vcf"' not in page.text
    assert ".annot.tsv" not in page.text.split('id="downloads"')[1].split("</ul>")[0]
    # WHEN the user is Premium and the restore is under way
    app.gas.users.set_plan(user.user_id, "premium")
    page = client.get(f"/annotations/{job_id}")
    assert "the restore starts shortly" in page.text and "Upgrade to Premium" not in page.text
    _set_storage(clients, job_id, "RESTORING")
    page = client.get(f"/annotations/{job_id}")
    assert 'data-storage="RESTORING">Restoring</span>' in page.text
    assert "being restored from cold" in page.text
    assert ".annot.vcf" not in page.text.split('id="downloads"')[1].split("</ul>")[0]
    listed = client.get("/annotations")
    assert ">Restoring</span>" in listed.text and "Upgrade to restore" not in listed.text
    # WHEN the results are back
    _set_storage(clients, job_id, "AVAILABLE")
    page = client.get(f"/annotations/{job_id}")
    downloads = page.text.split('id="downloads"')[1].split("</ul>")[0]
    assert ".annot.vcf" in downloads and ".annot.tsv" in downloads
    assert 'data-storage="AVAILABLE">Available</span>' in page.text
    assert 'id="archive-state"' not in page.text


def test_a_replayed_creation_event_after_canceling_leaves_the_user_free(
    client: TestApp, auth: AuthActions, app: GasBottle, clients: AwsClients, stripe_endpoint: str
) -> None:
    # GIVEN a subscriber, and the "subscription created" event Stripe sent then (active)
    auth.register()
    user = account(app)
    subscribe(client, card_token(stripe_endpoint, GOOD_CARD))
    subscription_id = app.gas.users.stripe_ids(user.user_id).subscription_id
    assert subscription_id
    created = event_for(stripe_endpoint, "customer.subscription.created", subscription_id, "evt_c")
    assert json.loads(created)["data"]["object"]["status"] == "active"
    # WHEN they cancel, and the old event arrives again, correctly signed (late or replayed)
    client.get("/profile").click(href="/subscribe/cancel").forms["cancel-form"].submit()
    assert account(app).plan == "free"
    messages(clients, "restore")
    answer = post_webhook(client, created, sign(created))
    # THEN Stripe's own state decides: the user stays Free, nothing is restored
    assert answer.status_int == 200
    assert account(app).plan == "free"
    assert app.gas.users.stripe_ids(user.user_id).subscription_id is None
    assert messages(clients, "restore") == []
    # AND a replayed deletion cannot end a live subscription either
    subscribe(client, card_token(stripe_endpoint, GOOD_CARD))
    live = app.gas.users.stripe_ids(user.user_id).subscription_id
    assert live and live != subscription_id
    forged = json.loads(event_for(stripe_endpoint, "customer.subscription.deleted", live, "e"))
    forged["data"]["object"]["status"] = "canceled"
    payload = json.dumps(forged).encode()
    assert post_webhook(client, payload, sign(payload)).status_int == 200
    assert account(app).plan == "premium"
