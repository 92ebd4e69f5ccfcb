"""The Free upload limit, as the browser shows it and as GAS enforces it; Premium via Stripe."""

from __future__ import annotations

import base64
import json

import pytest
from playwright.sync_api import Page, expect

from gas.core.settings import FREE_UPLOAD_LIMIT_BYTES
from tests.e2e.conftest import (
    SAMPLES,
    Gas,
    Shots,
    choose_file,
    register,
    subscribe,
    upload,
    wait_completed,
)

PREMIUM_SAMPLE = SAMPLES / "premium_1.vcf"


def test_free_user_picking_a_large_file_is_asked_to_subscribe(page: Page, shots: Shots) -> None:
    # GIVEN a Free user on the annotate page, and a file over the Free limit
    assert PREMIUM_SAMPLE.stat().st_size > FREE_UPLOAD_LIMIT_BYTES
    register(page, shots)
    shots.take(page, "annotate")

    # WHEN they pick it
    choose_file(page, PREMIUM_SAMPLE)

    # THEN the submit button is disabled and the message offers Premium
    expect(page.locator("#upload-submit")).to_be_disabled()
    message = page.locator("#upload-message")
    expect(message).to_be_visible()
    expect(message).to_contain_text("the Free plan accepts up to 150 KiB")
    expect(message.get_by_role("link")).to_have_attribute("href", "/subscribe")
    shots.take(page, "annotate-over-limit")


def test_crafted_post_over_the_free_limit_is_refused_at_registration(
    gas: Gas, page: Page, shots: Shots
) -> None:
    """A Free user bypasses the page's check and POSTs premium_1.vcf to S3 under their policy.

    Real S3 refuses that POST itself: the signed policy carries
    ``["content-length-range", 1, 153600]`` (asserted here). moto, the emulator
    these tests run against, does NOT enforce POST policy conditions (see
    docs/architecture.md, "Known emulator gaps"), so here the crafted POST *lands* and S3
    answers with its 303 back to GAS. What protects the user then is the second
    check: registration (/annotate/uploaded) reads the object's size with
    HeadObject, refuses it with the over-limit message, deletes the object and
    creates no job. This test asserts exactly that.
    """
    # GIVEN a Free user and the signed S3 form GAS gives them for premium_1.vcf
    register(page, shots)
    shots.take(page, "annotate")
    answer = page.request.get(f"/annotate/form?filename={PREMIUM_SAMPLE.name}")
    assert answer.ok
    form = answer.json()
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, FREE_UPLOAD_LIMIT_BYTES] in policy["conditions"]
    key = form["fields"]["key"]
    assert key.endswith(f"~{PREMIUM_SAMPLE.name}")

    # WHEN they POST the oversize file straight to S3, outside the page
    posted = page.request.post(
        form["url"],
        multipart={
            **form["fields"],
            "file": {
                "name": PREMIUM_SAMPLE.name,
                "mimeType": "text/plain",
                "buffer": PREMIUM_SAMPLE.read_bytes(),
            },
        },
        max_redirects=0,
    )

    # THEN moto accepts it (the emulator gap) and sends the browser back to GAS ...
    assert posted.status == 303, posted.text()
    location = posted.headers["location"]
    assert location.startswith(f"{gas.web_url}/annotate/uploaded?")
    assert gas.s3().head_object(Bucket=form_bucket(form), Key=key)["ContentLength"] > 0

    # ... where registration refuses it with the over-limit message
    response = page.goto(location)
    assert response is not None and response.status == 400
    expect(page.locator("h1")).to_have_text("That upload could not be used")
    expect(page.get_by_role("alert")).to_contain_text(
        f"your free plan accepts at most {FREE_UPLOAD_LIMIT_BYTES:,} bytes"
    )
    shots.take(page, "upload-refused")

    # AND the object is gone from S3, and no job was made
    with pytest.raises(Exception, match=r"404|Not Found|NoSuchKey"):
        gas.s3().head_object(Bucket=form_bucket(form), Key=key)
    page.goto("/annotations")
    expect(page.locator("h1")).to_have_text("My annotations")
    expect(page.locator("table.jobs")).to_have_count(0)
    shots.take(page, "annotations-empty")


def form_bucket(form: dict[str, object]) -> str:
    """The bucket a path-style presigned POST URL names (``http://host:port/<bucket>``)."""
    return str(form["url"]).rstrip("/").rsplit("/", 1)[-1]


def test_subscribing_with_the_test_card_makes_premium_and_lifts_the_limit(
    page: Page, shots: Shots
) -> None:
    # GIVEN a Free user
    register(page, shots)
    shots.take(page, "annotate")
    page.goto("/profile")
    expect(page.locator("#plan")).to_have_text("Free")
    shots.take(page, "profile-free")

    # WHEN they follow the profile's link and subscribe with Stripe's test card
    page.locator("#subscribe-link").click()
    page.wait_for_url("**/subscribe")
    subscribe(page, shots)

    # THEN they are welcomed to Premium, and the profile says so
    shots.take(page, "subscribed")
    page.goto("/profile")
    expect(page.locator("#plan")).to_have_text("Premium")
    shots.take(page, "profile-premium")

    # AND premium_1.vcf is accepted and annotated
    page.goto("/annotate")
    expect(page.get_by_text("Your Free plan accepts")).to_have_count(0)
    shots.take(page, "annotate-premium")
    upload(page, PREMIUM_SAMPLE)
    shots.take(page, "details-running")
    wait_completed(page)
    expect(page.get_by_role("link", name="Annotated VCF")).to_be_visible()
    shots.take(page, "details-completed")
