"""Every page at a phone's width, the variant table at a laptop's, and canceling Premium.

Pages are found by following the links of each page visited (one page per path shape,
job ids taken as one), so a page added later is measured without being listed here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    SAMPLES,
    Gas,
    NewContext,
    Shots,
    log_in,
    register,
    subscribe,
    upload,
    wait_completed,
)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}
SAMPLE = SAMPLES / "premium_1.vcf"  # nuclear: long gene names, protein changes, rsIDs
JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# What reaches past the window, for the failure message: a table scroll box holds its
# table in, but not what is positioned outside it.
WIDEST = """width => [...document.querySelectorAll("body *")]
  .filter(el => el.getBoundingClientRect().right > width + 0.5)
  .filter(el => !el.closest(".table-scroll") || getComputedStyle(el).position === "absolute")
  .slice(0, 5)
  .map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + "." + el.className
       + " right " + Math.round(el.getBoundingClientRect().right))"""


def assert_fits(page: Page, width: int) -> None:
    """The page is no wider than the window: nothing to scroll sideways."""
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= min(inner, width), (
        f"{urlsplit(page.url).path} is {scroll} px wide in a {width} px window: "
        f"{page.evaluate(WIDEST, width)}"
    )


def shape(url: str) -> str:
    return JOB_ID.sub("<job>", urlsplit(url).path)


def visit_all(page: Page, gas: Gas, shots: Shots, width: int) -> list[str]:
    """Every page reachable by links from the home page, each checked to fit; their shapes."""
    queue, seen = [f"{gas.web_url}/"], set()
    while queue:
        url = queue.pop(0)
        if shape(url) in seen:
            continue
        seen.add(shape(url))
        page.goto(url)
        assert_fits(page, width)
        shots.take(page, shape(url).strip("/").replace("/", "-").replace("<job>", "job") or "home")
        links = page.eval_on_selector_all("a[href]:not([download])", "els => els.map(e => e.href)")
        queue += [link for link in links if link.startswith(f"{gas.web_url}/")]
    return sorted(seen)


def test_no_page_is_wider_than_a_phone_and_the_table_fits_a_laptop(
    gas: Gas, new_context: NewContext, shots: Shots
) -> None:
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()

    # GIVEN the pages a visitor can reach, at 390 px
    assert visit_all(phone, gas, shots, PHONE["width"]) == ["/", "/login", "/register"]

    # AND a Premium user's, with an annotated premium_1.vcf, and the pages forms lead to
    email = register(phone, shots)
    phone.goto("/subscribe")  # measured now: a Premium user has no link to it
    expect(phone.locator("#card-element input").first).to_be_visible()  # Stripe.js drew it
    assert_fits(phone, PHONE["width"])
    subscribe(phone, shots)
    assert_fits(phone, PHONE["width"])
    phone.goto("/annotate")
    job_id = upload(phone, SAMPLE)
    assert_fits(phone, PHONE["width"])  # the details page while the job runs
    wait_completed(phone)
    pages = visit_all(phone, gas, shots, PHONE["width"])
    expected = {"/annotate", "/annotations", "/annotations/<job>", "/annotations/<job>/variants"}
    expected |= {"/annotations/<job>/log", "/profile", "/subscribe/cancel"}
    assert expected <= set(pages), pages
    for path in ("/no-such-page", "/annotate/uploaded?bucket=elsewhere&key=x"):
        phone.goto(path)
        assert_fits(phone, PHONE["width"])
        shots.take(phone, "error")

    # WHEN the same user opens the variant table at 1280 px
    laptop = new_context(viewport=LAPTOP).new_page()
    log_in(laptop, email)
    for path in (f"/annotations/{job_id}", f"/annotations/{job_id}/variants"):
        laptop.goto(path)
        shots.take(laptop, "laptop-table")
        # THEN every column is in view, none behind a sideways scroll
        assert_fits(laptop, LAPTOP["width"])
        box = laptop.locator(".table-scroll")
        scroll, client = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
        assert scroll <= client, f"{path}: the table is {scroll} px wide in {client} px"
        headers = laptop.eval_on_selector_all(
            "#variant-table thead th",
            """els => els.map(el => [el.textContent.trim(), el.getBoundingClientRect().left,
                                     el.getBoundingClientRect().right])""",
        )
        outside = [name for name, left, right in headers if left < 0 or right > LAPTOP["width"]]
        assert not outside, f"{path}: columns out of the window: {outside}"
        names = [name for name, _, _ in headers]
        assert {"Transcript", "HGVS c.", "HGVS p.", "ClinVar"} <= set(names)
        assert headers[-1][0].startswith("AF"), headers  # the rightmost, once out of view
    # AND the charts' labels (long Sequence Ontology terms here) are whole at the left edge
    laptop.goto(f"/annotations/{job_id}")
    clipped = laptop.evaluate(
        """() => [...document.querySelectorAll("svg.chart text")]
              .filter(t => t.getBBox().x < 0).map(t => t.textContent)"""
    )
    assert not clipped, f"chart labels cut off at the left edge: {clipped}"

    # AND canceling Premium asks first: one click cancels nothing
    phone.goto("/profile")
    phone.get_by_role("link", name="Cancel Premium").click()
    expect(phone.locator("h1")).to_have_text("Cancel Premium?")
    shots.take(phone, "cancel-asked")
    phone.goto("/profile")
    expect(phone.locator("#plan")).to_have_text("Premium")
    phone.get_by_role("link", name="Cancel Premium").click()
    phone.get_by_role("button", name="Yes, cancel Premium").click()
    expect(phone.locator("h1")).to_have_text("Premium canceled")
    assert_fits(phone, PHONE["width"])
    shots.take(phone, "canceled")
    phone.goto("/profile")
    expect(phone.locator("#plan")).to_have_text("Free")
