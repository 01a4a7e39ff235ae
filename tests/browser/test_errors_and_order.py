"""On a phone, in Dutch (issue 17): a refused form's error summary takes the focus and its links
focus the field they name; a listing's page shows photos, facts and description before the
claim form."""

from __future__ import annotations

from browser_helpers import VIEWPORTS, keep_artifacts
from helpers import PASSWORD

from marketplace.models import Language, Role

IS_SUMMARY = "() => document.activeElement.hasAttribute('data-error-summary')"


def _log_in(page, base_url: str, address: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("#email", address)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("#password").press("Enter")


def test_the_error_summary_takes_the_focus_and_its_links_focus_the_field(
        request, live_server, browser, make_user):
    base_url, app = live_server
    with app.app_context():
        poster = make_user("petra@oost.example.org", role=Role.ORG_ADMIN,
                           language=Language.NL).email
    page = browser.new_context(locale="nl-NL", viewport=VIEWPORTS["phone"]).new_page()
    try:
        _log_in(page, base_url, poster)
        page.goto(f"{base_url}/listings/new")
        with page.expect_navigation():
            page.locator('[name="submit"]').click()

        page.wait_for_function(IS_SUMMARY)
        assert page.title().startswith("Fout: ")
        summary = page.locator("[data-error-summary]")
        assert "Er is een probleem" in summary.inner_text()
        summary.get_by_role("link", name="Vul een titel in").click()
        page.wait_for_function("() => document.activeElement.id === 'title'")
        assert page.locator("#title").is_visible()
    except Exception:
        keep_artifacts(request, [page])
        raise


def test_a_listing_on_a_phone_shows_the_description_before_the_claim_form(
        request, live_server, browser, make_user, make_listing):
    base_url, app = live_server
    with app.app_context():
        make_listing("Rollators, inklapbaar", description="Twaalf inklapbare rollators.")
        listing_id = make_listing("Douchestoelen").id
        taker = make_user("tim@west.example.org", language=Language.NL).email
    page = browser.new_context(locale="nl-NL", viewport=VIEWPORTS["phone"]).new_page()
    try:
        _log_in(page, base_url, taker)
        page.goto(f"{base_url}/listings/{listing_id}")
        description = page.locator(".listing-description").bounding_box()
        facts = page.locator(".listing-facts").bounding_box()
        claim_form = page.locator("#quantity").bounding_box()
        assert description and facts and claim_form
        assert facts["y"] < description["y"]
        assert description["y"] + description["height"] <= claim_form["y"]
    except Exception:
        keep_artifacts(request, [page])
        raise
