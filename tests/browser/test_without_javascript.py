"""The core flows work with JavaScript switched off: posting with a photo, searching, claiming,
accepting. The same Chromium as the other journeys, with `java_script_enabled=False`, so every
step is a plain HTML form or link; JavaScript only improves the pages.
"""

from __future__ import annotations

import pytest
from browser_helpers import (
    VIEWPORTS,
    assert_fits_the_screen,
    check_accessibility,
    fill_device_passport,
    keep_artifacts,
    link_in,
    log_in,
    show_filters,
    text_of,
)
from helpers import SHARED_TESTDATA

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, Language, Listing

TITLE = "Hoog-laagbed, elektrisch"


def check_accessibility_with_javascript(page) -> None:
    """axe-core on the page this JavaScript-less page shows, loaded again in a twin context.

    axe needs JavaScript (its timers never fire where it is off, so check_accessibility would
    wait for ever); the twin has the same cookies and viewport, loads the same URL (every form
    here redirects after its POST, so the URL shows the page) and runs axe there."""
    context = page.context.browser.new_context(
        locale="en-GB", viewport=page.viewport_size,
        storage_state=page.context.storage_state())
    try:
        twin = context.new_page()
        twin.goto(page.url)
        check_accessibility(twin)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_posting_searching_claiming_and_accepting_work_without_javascript(
        request, live_server, mailbox, browser, make_user, make_org, viewport):
    base_url, app = live_server
    with app.app_context():
        giver_organisation = make_org(name="Verpleeghuis Noord")
        giver_organisation.trusted = True
        giver = make_user("noor@noord.example.org", organisation=giver_organisation,
                          name="Noor Gever", language=Language.EN).email
        taker = make_user("joost@zuid.example.org", name="Joost Nemer",
                          language=Language.EN).email
        db.session.commit()

    pages = []

    def new_page():
        context = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport],
                                      java_script_enabled=False)
        page = context.new_page()
        pages.append(page)
        return page

    try:
        giver_page = new_page()
        log_in(giver_page, base_url, giver)
        # Nothing ran: app.js marks the page with the class "js" when it does.
        assert "js" not in (giver_page.locator("html").get_attribute("class") or "")

        # Posting, with a photo.
        giver_page.get_by_role("link", name="Offer something").first.click()
        check_accessibility_with_javascript(giver_page)
        giver_page.get_by_label("Title").fill(TITLE)
        giver_page.get_by_label("Description").fill("Elektrisch hoog-laagbed met matras.")
        giver_page.get_by_label("Category").select_option(label="Care beds")
        giver_page.get_by_label("Condition", exact=True).select_option(label="Good")  # no preset
        giver_page.get_by_label("Quantity").fill("2")
        fill_device_passport(giver_page, "Hermann Bock", "Dali II", 2017, "2026-06-01")
        giver_page.get_by_label("Photos").set_input_files(
            [str(SHARED_TESTDATA / "images" / "good" / "hopper.jpg")])
        giver_page.get_by_role("button", name="Publish").click()
        giver_page.get_by_text("Your listing is published.").wait_for()
        assert giver_page.locator("main img[srcset]").count() == 1
        check_accessibility_with_javascript(giver_page)

        # Another member searches for it, with words and a filter, and claims it.
        taker_page = new_page()
        log_in(taker_page, base_url, taker)
        taker_page.get_by_role("link", name="Find surplus").first.click()
        taker_page.get_by_label("Search", exact=True).fill("laagbed")
        show_filters(taker_page)
        taker_page.get_by_label("Category").select_option(label="Care beds")
        taker_page.get_by_role("button", name="Search", exact=True).click()
        taker_page.get_by_text("1 listing found").wait_for()
        assert_fits_the_screen(taker_page)
        check_accessibility_with_javascript(taker_page)
        taker_page.get_by_role("link", name=TITLE).first.click()
        taker_page.get_by_role("heading", name=TITLE).wait_for()
        check_accessibility_with_javascript(taker_page)
        taker_page.get_by_label("How many do you need?").fill("1")
        taker_page.get_by_label("Message to the giver (optional)").fill("Voor afdeling Zuid")
        taker_page.get_by_role("button", name="Claim this").click()
        taker_page.get_by_text("Your claim has been sent.").wait_for()
        check_accessibility_with_javascript(taker_page)

        # The giver accepts, from the link in the email.
        claim_mail = mailbox.wait_for(giver, f"New claim for {TITLE}")
        giver_page.goto(link_in(claim_mail, "/claims/"))
        assert "Voor afdeling Zuid" in giver_page.content()
        assert_fits_the_screen(giver_page)
        check_accessibility_with_javascript(giver_page)
        giver_page.get_by_role("button", name="Accept", exact=True).click()
        giver_page.get_by_text("The claim is accepted").wait_for()
        check_accessibility_with_javascript(giver_page)

        accepted = mailbox.wait_for(taker, f"Your claim is accepted: {TITLE}")
        street = giver_organisation_street(app)
        assert street in text_of(accepted)
        taker_page.goto(link_in(accepted, "/claims/"))
        assert street in taker_page.content()
        with app.app_context():
            assert db.session.query(Claim).one().status is ClaimStatus.ACCEPTED
            listing = db.session.query(Listing).one()
            assert (listing.quantity, listing.quantity_available, len(listing.photos)) == \
                (2, 1, 1)
    except BaseException:
        keep_artifacts(request, pages)
        raise


def giver_organisation_street(app) -> str:
    with app.app_context():
        return db.session.query(Listing).one().site.street
