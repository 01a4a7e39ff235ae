"""On a phone, in Dutch (issue 17): a draft with only a title is saved, with JavaScript and
without; each confirmation step (withdrawing a listing with a waiting claim, cancelling a claim,
deactivating a colleague) names the consequence, its way back changes nothing and confirming
acts; the value and weight hint follows the chosen category."""

from __future__ import annotations

from decimal import Decimal

from browser_helpers import dutch_phone_page, keep_artifacts
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Category,
    ClaimStatus,
    Language,
    Listing,
    ListingStatus,
    Role,
    UserStatus,
)


def test_a_draft_with_only_a_title_is_saved_with_and_without_javascript(
        request, live_server, browser, poster, tmp_path):
    base_url, app = live_server
    pages = []
    try:
        for javascript in (True, False):
            title = f"Rolstoelen ({'met' if javascript else 'zonder'} JavaScript)"
            page = dutch_phone_page(browser, base_url, poster, javascript)
            pages.append(page)
            page.goto(f"{base_url}/listings/new")
            page.get_by_label("Titel", exact=True).fill(title)
            page.get_by_role("button", name="Opslaan als concept").click()
            page.get_by_text("Je advertentie is opgeslagen als concept.").wait_for()
            with app.app_context():
                draft = db.session.scalar(select(Listing).where(Listing.title == title))
                assert draft is not None and draft.status is ListingStatus.DRAFT
                assert draft.category_id is None and draft.quantity is None

            page.get_by_role("link", name="Ons aanbod").first.click()
            page.get_by_role("link", name="Concept").click()
            page.get_by_role("link", name=title).wait_for()
        pages[-1].screenshot(path=tmp_path / "phone-drafts.png", full_page=True)
    except BaseException:
        keep_artifacts(request, pages)
        raise


def test_each_confirmation_names_the_consequence_back_keeps_and_yes_acts(
        request, live_server, browser, make_user, make_org, make_listing, make_claim, tmp_path):
    base_url, app = live_server
    with app.app_context():
        west = make_org(name="Zorggroep West")
        admin = make_user("petra@west.example.org", organisation=west, role=Role.ORG_ADMIN,
                          name="Petra Beheer", language=Language.NL)
        colleague = make_user("cor@west.example.org", organisation=west, name="Cor Collega",
                              language=Language.NL)
        taker = make_user("tim@oost.example.org", name="Tim Oost", language=Language.NL)
        withdrawn = make_listing("Rollators", organisation=west)
        waiting = make_claim(withdrawn, taker, quantity=2)
        cancelled = make_claim(make_listing("Douchestoelen", organisation=west), taker)
        ids = (west.id, colleague.id, withdrawn.id, waiting.id, cancelled.id)
        addresses = (admin.email, taker.email)
    west_id, colleague_id, listing_id, waiting_id, cancelled_id = ids
    giver, claimant = (dutch_phone_page(browser, base_url, address) for address in addresses)
    try:
        # Cancelling a claim: what was asked for goes back, and the giver is told.
        claimant.goto(f"{base_url}/claims/{cancelled_id}")
        _confirm(claimant, "Mijn aanvraag annuleren", "Zorggroep West krijgt bericht per e-mail",
                 "Ja, annuleer mijn aanvraag", tmp_path / "phone-confirm-cancel.png",
                 lambda: _claim_status(app, cancelled_id) is ClaimStatus.REQUESTED)
        claimant.get_by_text("Je aanvraag is geannuleerd").wait_for()
        assert _claim_status(app, cancelled_id) is ClaimStatus.CANCELLED

        # Withdrawing a listing with a waiting claim: its claimant is told.
        giver.goto(f"{base_url}/listings/{listing_id}")
        _confirm(giver, "Intrekken", "1 aanvrager krijgt bericht dat hij weg is",
                 "Ja, intrekken", tmp_path / "phone-confirm-withdraw.png",
                 lambda: _listing_status(app, listing_id) is ListingStatus.PUBLISHED)
        giver.get_by_text("De advertentie is ingetrokken.").wait_for()
        assert _listing_status(app, listing_id) is ListingStatus.WITHDRAWN
        assert _claim_status(app, waiting_id) is not ClaimStatus.REQUESTED

        # Deactivating a colleague: logged out, what they posted stays.
        giver.goto(f"{base_url}/organisations/{west_id}/members")
        giver.locator("summary", has_text="Deactiveren").click()
        _confirm(giver, "Cor Collega deactiveren", "Cor Collega kan niet meer inloggen",
                 "Ja, deactiveer Cor Collega", tmp_path / "phone-confirm-deactivate.png",
                 lambda: _user_status(app, colleague_id) is UserStatus.ACTIVE)
        giver.get_by_text("Cor Collega is gedeactiveerd").wait_for()
        assert _user_status(app, colleague_id) is not UserStatus.ACTIVE
    except BaseException:
        keep_artifacts(request, [giver, claimant])
        raise


def _confirm(page, button: str, consequence: str, yes: str, screenshot, unchanged) -> None:
    """The button leads to a page naming the consequence; "Nee, ga terug" returns with nothing
    changed; the button again, then `yes`, acts."""
    page.get_by_role("button", name=button).click()
    page.locator("[data-consequences]", has_text=consequence).wait_for()
    page.screenshot(path=screenshot, full_page=True)
    back_to = page.get_by_role("link", name="Nee, ga terug").get_attribute("href")
    page.get_by_role("link", name="Nee, ga terug").click()
    page.wait_for_url(f"**{back_to}")
    assert unchanged()
    if not page.get_by_role("button", name=button).is_visible():  # a closed <details>
        page.locator("summary", has_text="Deactiveren").click()
    page.get_by_role("button", name=button).click()
    page.get_by_role("button", name=yes).click()


def _claim_status(app, claim_id: int) -> ClaimStatus:
    from marketplace.models import Claim
    with app.app_context():
        return db.session.get(Claim, claim_id).status


def _listing_status(app, listing_id: int) -> ListingStatus:
    with app.app_context():
        return db.session.get(Listing, listing_id).status


def _user_status(app, user_id: int) -> UserStatus:
    from marketplace.models import User
    with app.app_context():
        return db.session.get(User, user_id).status


def test_the_value_and_weight_hint_follows_the_chosen_category(
        request, live_server, browser, poster, make_listing):
    base_url, app = live_server
    with app.app_context():
        for value, weight in (("10", "4"), ("20", "6"), ("90", "8")):
            make_listing(category="furniture", value_per_unit=Decimal(value),
                         weight_per_unit_kg=Decimal(weight))
        for value in ("3", "5", "7"):
            make_listing(category="medical-aids", value_per_unit=Decimal(value))
        furniture, aids = (db.session.scalar(select(Category.id).where(Category.slug == slug))
                           for slug in ("furniture", "medical-aids"))
    page = dutch_phone_page(browser, base_url, poster)
    try:
        page.goto(f"{base_url}/listings/new")
        value_hint, weight_hint = page.locator("#value_per_unit-typical"), \
            page.locator("#weight_per_unit_kg-typical")
        assert value_hint.inner_text() == ""
        page.get_by_label("Categorie", exact=True).select_option(str(furniture))
        page.wait_for_function("() => document.querySelector('#value_per_unit-typical')"
                               ".textContent.includes('20')")
        assert "€" in value_hint.inner_text()
        assert "6 kg per eenheid" in weight_hint.inner_text()
        page.get_by_label("Categorie", exact=True).select_option(str(aids))
        page.wait_for_function("() => document.querySelector('#value_per_unit-typical')"
                               ".textContent.includes('5')")
        assert "20" not in value_hint.inner_text()
        assert weight_hint.inner_text() == ""  # too few weights given: no guess
    except BaseException:
        keep_artifacts(request, [page])
        raise
