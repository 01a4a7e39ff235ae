"""The claim journey in a real browser, with the mail read from a real SMTP server.

Member A posts; member B of another organisation, whose alert matches, gets the match email,
claims; A gets the claim email and accepts; B gets the address; they exchange a message; B
marks it collected. Debian's Chromium, driven by Playwright, against a live server on loopback.
"""

from __future__ import annotations

import pytest
from browser_helpers import (
    VIEWPORTS,
    check_accessibility,
    fill_device_passport,
    keep_artifacts,
    link_in,
    log_in,
    text_of,
)
from helpers import SHARED_TESTDATA

from marketplace.extensions import db
from marketplace.models import Alert, Claim, ClaimStatus, Language, Listing


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_whole_claim_journey_in_a_browser(request, live_server, mailbox, browser,
                                              make_user, make_org, viewport):
    base_url, app = live_server
    with app.app_context():
        giver_organisation = make_org(name="Ziekenhuis Oost")
        giver_organisation.trusted = True
        giver = make_user("gerda@oost.example.org", organisation=giver_organisation,
                          name="Gerda Gever", language=Language.EN)
        taker = make_user("tim@west.example.org", name="Tim Nemer", language=Language.EN)
        db.session.add(Alert(user=taker, words="rolstoel"))
        db.session.commit()
        giver, taker = giver.email, taker.email
        street = giver_organisation.sites[0].street

    pages = []
    try:
        giver_page = browser.new_context(locale="en-GB",
                                         viewport=VIEWPORTS[viewport]).new_page()
        pages.append(giver_page)
        log_in(giver_page, base_url, giver)
        check_accessibility(giver_page)
        # A posts a listing with two photos.
        giver_page.goto(f"{base_url}/listings/new")
        check_accessibility(giver_page)
        giver_page.get_by_label("Title").fill("Rolstoelen, opvouwbaar")
        giver_page.get_by_label("Description").fill("Drie opvouwbare rolstoelen, nagekeken.")
        giver_page.get_by_label("Category").select_option(label="— Walkers and wheelchairs")
        giver_page.get_by_label("Condition", exact=True).select_option(label="Good")  # no preset
        giver_page.get_by_label("Quantity").fill("3")
        giver_page.get_by_label("Weight per unit in kg (optional)").fill("15")
        fill_device_passport(giver_page, "Invacare", "Action 2 NG", 2019)
        giver_page.get_by_label("Photos").set_input_files(
            [str(SHARED_TESTDATA / "images" / "good" / "hopper.jpg"),
             str(SHARED_TESTDATA / "images" / "good" / "exif_gps.jpg")])
        giver_page.get_by_role("button", name="Publish").click()
        giver_page.get_by_text("Your listing is published.").wait_for()
        check_accessibility(giver_page)

        # B's alert matches: the email links to the listing.
        match = mailbox.wait_for(taker, "Found for your alert: Rolstoelen")
        listing_url = link_in(match, "/listings/")
        taker_page = browser.new_context(locale="en-GB",
                                         viewport=VIEWPORTS[viewport]).new_page()
        pages.append(taker_page)
        log_in(taker_page, base_url, taker)
        taker_page.goto(listing_url)
        check_accessibility(taker_page)
        taker_page.get_by_label("How many do you need?").fill("2")
        taker_page.get_by_label("Message to the giver (optional)").fill("Voor locatie West")
        taker_page.get_by_role("button", name="Claim this").click()
        taker_page.get_by_text("Your claim has been sent.").wait_for()
        check_accessibility(taker_page)

        # A gets the claim by email; A's claims overview shows it first, with its photo.
        claim_mail = mailbox.wait_for(giver, "New claim for Rolstoelen")
        giver_page.goto(f"{base_url}/claims/")
        check_accessibility(giver_page)
        waiting = giver_page.locator("section", has=giver_page.locator("#waiting-heading"))
        waiting.get_by_role("link", name="Rolstoelen, opvouwbaar").wait_for()
        assert waiting.locator("img.thumb").count() == 1
        # A accepts it.
        giver_page.goto(link_in(claim_mail, "/claims/"))
        check_accessibility(giver_page)
        assert "Voor locatie West" in giver_page.content()
        giver_page.get_by_role("button", name="Accept", exact=True).click()
        giver_page.get_by_text("The claim is accepted").wait_for()
        check_accessibility(giver_page)
        giver_page.goto(f"{base_url}/listings/mine")
        check_accessibility(giver_page)
        giver_page.get_by_role("link", name="1 accepted").wait_for()

        # B gets the address (and a calendar file when a date was agreed).
        accepted = mailbox.wait_for(taker, "Your claim is accepted")
        assert street in text_of(accepted)
        taker_page.goto(link_in(accepted, "/claims/"))
        check_accessibility(taker_page)
        assert street in taker_page.content()
        taker_page.get_by_label("Message", exact=True).fill("Ik kom donderdag om tien uur.")
        taker_page.get_by_role("button", name="Send message").click()
        note = mailbox.wait_for(giver, "New message about Rolstoelen")
        assert "donderdag om tien uur" in text_of(note)

        # B marks it collected; both sides are thanked with what it saved.
        taker_page.get_by_role("button", name="Mark as collected").click()
        taker_page.get_by_text("Marked as collected.").wait_for()
        check_accessibility(taker_page)
        assert "30 kg" in text_of(mailbox.wait_for(taker, "Handed over: Rolstoelen"))
        mailbox.wait_for(giver, "Handed over: Rolstoelen")
        taker_page.goto(f"{base_url}/claims/")
        taker_page.locator("#finished").get_by_role("link", name="Rolstoelen, opvouwbaar") \
            .wait_for()
        with app.app_context():
            claim = db.session.query(Claim).one()
            assert claim.status is ClaimStatus.COLLECTED
            listing = db.session.query(Listing).one()
            assert (listing.quantity, listing.quantity_available, len(listing.photos)) == \
                (3, 1, 2)
    except BaseException:
        keep_artifacts(request, pages)
        raise
