"""The main journey with the keyboard only: no clicks, no mouse.

A member logs in, skips to the content, searches with a category filter, opens a listing and
claims it; the giver logs in and accepts the claim. Only Tab, Shift+Tab, Enter, Space, the arrow
keys and typing. The focus follows the visual order on the login and claim forms."""

from __future__ import annotations

import pytest
from browser_helpers import VIEWPORTS, keep_artifacts
from helpers import PASSWORD

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, Language

# The accessible name of the focused element, roughly as a screen reader says it.
FOCUSED = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return '';
    const label = element.labels && element.labels.length ? element.labels[0].innerText : '';
    const name = element.getAttribute('aria-label') || label || element.innerText
                 || element.value || element.id || '';
    return element.tagName.toLowerCase() + ': ' + name.trim().replace(/\\s+/g, ' ');
}"""


def focused(page) -> str:
    return page.evaluate(FOCUSED)


def tab_to(page, name: str, limit: int = 80) -> None:
    """Press Tab until the element whose name starts with `name` has the focus."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now.split(": ", 1)[-1].startswith(name):
            return
        passed.append(now)
    raise AssertionError(f"Tab never reached {name!r} on {page.url}; passed {passed}")


def focus_order(page, presses: int, key: str = "Tab") -> list[str]:
    """The names the focus moves through; a date field's day/month/year parts count once."""
    order: list[str] = []
    for _ in range(presses):
        page.keyboard.press(key)
        name = focused(page)
        if not order or order[-1] != name:
            order.append(name)
    return order


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def log_in_with_the_keyboard(page, base_url: str, address: str, check_order: bool) -> None:
    page.goto(f"{base_url}/auth/login")
    # The skip link is the first thing Tab reaches, shows itself, and jumps to the content.
    page.keyboard.press("Tab")
    assert focused(page) == "a: Skip to content"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    if check_order:
        expected = ["input: Email address", "input: Password",
                    "input: Keep me logged in on this device", "button: Log in",
                    "a: Forgot your password?", "a: Sign up"]
        assert focus_order(page, len(expected)) == expected
        assert focus_order(page, len(expected) - 1, "Shift+Tab") == expected[-2::-1]
    else:
        page.keyboard.press("Tab")
    assert focused(page) == "input: Email address"
    page.keyboard.type(address)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # keep me logged in
    assert page.locator("#remember").is_checked()
    page.keyboard.press("Tab")
    assert focused(page) == "button: Log in"
    press_and_wait(page, "Enter")
    page.wait_for_url(f"{base_url}/")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_search_claim_and_accept_with_the_keyboard_only(request, live_server, browser,
                                                        make_org, make_user, make_listing,
                                                        viewport):
    base_url, app = live_server
    with app.app_context():
        giver_organisation = make_org(name="Ziekenhuis Oost")
        giver = make_user("gerda@oost.example.org", organisation=giver_organisation,
                          name="Gerda Gever", language=Language.EN)
        taker = make_user("tim@west.example.org", name="Tim Nemer", language=Language.EN)
        make_listing("Bureaustoelen, verstelbaar", organisation=giver_organisation,
                     category="furniture")
        make_listing("Bureaus, verstelbaar", organisation=giver_organisation,
                     category="other")
        giver, taker = giver.email, taker.email

    pages = []
    try:
        taker_page = browser.new_context(locale="en-GB",
                                         viewport=VIEWPORTS[viewport]).new_page()
        pages.append(taker_page)
        log_in_with_the_keyboard(taker_page, base_url, taker, check_order=True)

        # Search with a filter: the words, then a category chosen with the arrow keys.
        tab_to(taker_page, "Find surplus")
        press_and_wait(taker_page, "Enter")
        tab_to(taker_page, "Search")  # the words field, before the button
        taker_page.keyboard.type("verstelbaar")
        if viewport == "phone":  # the filters are folded behind "Filters": Enter unfolds them
            tab_to(taker_page, "Filters")
            taker_page.keyboard.press("Enter")
        tab_to(taker_page, "Category")
        for _ in range(40):
            if taker_page.locator("#category option:checked").inner_text().strip() \
                    .endswith("Furniture"):
                break
            taker_page.keyboard.press("ArrowDown")
        assert taker_page.locator("#category option:checked").inner_text().strip() \
            .endswith("Furniture")
        tab_to(taker_page, "Show listings")  # the filters' own button
        press_and_wait(taker_page, "Enter")
        assert "category=" in taker_page.url
        assert taker_page.get_by_text("Bureaus, verstelbaar").count() == 0
        tab_to(taker_page, "Bureaustoelen, verstelbaar")
        press_and_wait(taker_page, "Enter")

        # The claim form, in the order it is shown.
        tab_to(taker_page, "How many do you need?")
        claim_form = ["input: How many do you need?", "input: Preferred pick-up date (optional)",
                      "textarea: Message to the giver (optional)", "button: Claim this"]
        assert [focused(taker_page), *focus_order(taker_page, 6)[:3]] == claim_form
        for _ in range(6):
            taker_page.keyboard.press("Shift+Tab")
            if focused(taker_page) == claim_form[0]:
                break
        assert focused(taker_page) == claim_form[0]
        taker_page.keyboard.press("Control+A")
        taker_page.keyboard.type("2")
        tab_to(taker_page, "Message to the giver")
        taker_page.keyboard.type("Voor locatie West")
        tab_to(taker_page, "Claim this")
        press_and_wait(taker_page, "Enter")
        taker_page.get_by_text("Your claim has been sent.").wait_for()

        # The giver opens the claim from the Claims page and accepts it with Space.
        giver_page = browser.new_context(locale="en-GB",
                                         viewport=VIEWPORTS[viewport]).new_page()
        pages.append(giver_page)
        log_in_with_the_keyboard(giver_page, base_url, giver, check_order=False)
        tab_to(giver_page, "Claims")
        press_and_wait(giver_page, "Enter")
        tab_to(giver_page, "Bureaustoelen, verstelbaar")
        press_and_wait(giver_page, "Enter")
        assert "Voor locatie West" in giver_page.content()
        tab_to(giver_page, "Accept")
        press_and_wait(giver_page, "Space")
        giver_page.get_by_text("The claim is accepted").wait_for()
        with app.app_context():
            claim = db.session.query(Claim).one()
            assert (claim.status, claim.quantity) == (ClaimStatus.ACCEPTED, 2)
            assert claim.message == "Voor locatie West"
    except BaseException:
        keep_artifacts(request, pages)
        raise
