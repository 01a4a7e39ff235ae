"""Without JavaScript, on a phone, in Dutch: three photos chosen and the title forgotten, the
form comes back with the three kept (thumbnails, "Je foto's zijn bewaard"), and filling in the
title publishes the listing with all three; nobody chooses a photo twice."""

from __future__ import annotations

import os

from browser_helpers import VIEWPORTS, assert_fits_the_screen, keep_artifacts, log_in
from helpers import SHARED_TESTDATA

from marketplace.extensions import db
from marketplace.models import Listing

GOOD = SHARED_TESTDATA / "images" / "good"
PHOTOS = [GOOD / "hopper.jpg", GOOD / "hopper.png", GOOD / "hopper.webp"]


def test_a_form_error_keeps_the_three_photos_chosen_without_javascript(
        request, live_server, browser, poster):
    base_url, app = live_server
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORTS["phone"],
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, base_url, poster, "nl")
        page.goto(f"{base_url}/listings/new")
        page.get_by_label("Beschrijving", exact=True).fill("Drie rollators met mandje.")
        page.get_by_label("Categorie", exact=True).select_option(index=1)
        page.get_by_label("Staat", exact=True).select_option(index=1)
        page.get_by_label("Aantal", exact=True).fill("3")
        page.get_by_label("Foto's", exact=True).set_input_files([str(path) for path in PHOTOS])
        page.get_by_role("button", name="Publiceren").click()

        page.get_by_text("Je foto's zijn bewaard.").wait_for()
        kept = page.locator("[data-staged-list] img")
        assert kept.count() == 3
        for index in range(3):
            assert kept.nth(index).evaluate("image => image.complete && image.naturalWidth")
        assert_fits_the_screen(page)
        if os.environ.get("KEPT_PHOTOS_SCREENSHOT"):
            page.locator("[data-staged-list]").scroll_into_view_if_needed()
            page.screenshot(path=os.environ["KEPT_PHOTOS_SCREENSHOT"], full_page=True)

        page.get_by_label("Titel", exact=True).fill("Rollators, inklapbaar")
        page.get_by_role("button", name="Publiceren").click()
        page.get_by_text("Je advertentie is gepubliceerd.").wait_for()
        assert page.locator("main img[srcset]").count() == 3
        with app.app_context():
            listing = db.session.query(Listing).one()
            assert len(listing.photos) == 3
    finally:
        keep_artifacts(request, [page])
        context.close()
