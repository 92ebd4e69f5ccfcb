"""Keyboard use and a phone-width screen."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import NewContext, Shots, register

PHONE = {"width": 390, "height": 844}


def focused(page: Page) -> str:
    """The focused element, as ``tag#id.class "text"`` (enough to tell elements apart)."""
    return str(
        page.evaluate(
            """() => {
              const el = document.activeElement;
              const text = (el.textContent || "").trim().slice(0, 40);
              return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
                + (el.className && typeof el.className === "string" ? "." + el.className : "")
                + (text ? ' "' + text + '"' : "");
            }"""
        )
    )


def tab_until(page: Page, selector: str, limit: int = 15) -> list[str]:
    """Press Tab until ``selector`` has focus; returns what had focus on the way."""
    path = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        path.append(focused(page))
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return path
    raise AssertionError(f"Tab never reached {selector}: {path}")


def test_tab_reaches_the_skip_link_first_then_the_forms(page: Page, shots: Shots) -> None:
    # GIVEN the home page, nothing focused
    page.goto("/")

    # WHEN Tab is pressed, THEN the skip link has focus first, and shows
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    shots.take(page, "home-skip-link")

    # AND Enter on it moves focus to the main content
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    # AND the register form's fields and button are reached by Tab, in order
    page.goto("/register")
    shots.take(page, "register")
    path = tab_until(page, "#name")
    assert path[0].startswith("a.skip-link"), path
    page.keyboard.press("Tab")
    expect(page.locator("#email")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Create account")).to_be_focused()
    shots.take(page, "register-button-focused")

    # AND, logged in, the annotate form's file input and its submit button
    register(page, shots)
    page.goto("/annotate")
    path = tab_until(page, "#file")
    assert path[0].startswith("a.skip-link"), path
    page.keyboard.press("Tab")
    expect(page.locator("#upload-submit")).to_be_focused()
    shots.take(page, "annotate-submit-focused")


def test_phone_width_pages_fit_the_screen(new_context: NewContext, shots: Shots) -> None:
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()

    page.goto("/")
    assert_fits(page)
    shots.take(page, "phone-home")

    register(page, shots)
    page.goto("/annotate")
    assert_fits(page)
    expect(page.locator("#upload-submit")).to_be_in_viewport()
    shots.take(page, "phone-annotate")


def assert_fits(page: Page) -> None:
    """No sideways scrolling: the page is no wider than the screen."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"page is {widths[0]} px wide on a {widths[1]} px screen"
