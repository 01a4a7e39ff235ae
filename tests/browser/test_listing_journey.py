"""Posting a listing with real photo files, finding it by words and filters, and the language
switch, in a real browser against a live server.

A member first picks a file the marketplace does not take, sees a clear message with the rest
of the form kept, then posts with several real photos (a HEIC among them when this machine can
make one); a member of another organisation finds it in the search page with words and
filters; the footer switch turns the interface Dutch and back.
"""

from __future__ import annotations

from pathlib import Path

import pillow_heif
import pytest
from browser_helpers import (
    VIEWPORTS,
    assert_fits_the_screen,
    check_accessibility,
    fill_device_passport,
    keep_artifacts,
    log_in,
    show_filters,
)
from helpers import SHARED_TESTDATA
from PIL import Image

from marketplace.extensions import db
from marketplace.models import Condition, Language, Listing, ListingStatus, User

IMAGES = SHARED_TESTDATA / "images"
TITLE = "Rollators met zitje"
WRONG_FILE = IMAGES / "unsupported" / "hopper.psd"  # Chromium cannot read it either (a BMP it
# reads, and the photo uploader sends it as a JPEG)


def photo_files(folder: Path) -> list[Path]:
    """Three real photos from the corpus, and a HEIC made from one when libheif can encode."""
    files = [IMAGES / "good" / name for name in ("hopper.jpg", "hopper.png", "hopper.webp")]
    if pillow_heif.libheif_info().get("HEIF"):
        heic = folder / "IMG_0042.HEIC"
        pillow_heif.register_heif_opener()
        with Image.open(IMAGES / "good" / "hopper.jpg") as picture:
            picture.save(heic, format="HEIF", quality=80)
        files.append(heic)
    return files


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_posting_with_photos_finding_it_with_filters_and_switching_language(
        request, live_server, browser, make_user, make_org, tmp_path, viewport):
    base_url, app = live_server
    with app.app_context():
        giver_organisation = make_org(name="Thuiszorg Utrecht")
        giver_organisation.trusted = True
        giver = make_user("ria@thuiszorg.example.org", organisation=giver_organisation,
                          name="Ria Rollator", language=Language.EN).email
        seeker = make_user("sam@elders.example.org", name="Sam Zoeker",
                           language=Language.EN).email
        db.session.commit()
    photos = photo_files(tmp_path)

    pages = []
    try:
        page = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport]).new_page()
        pages.append(page)
        log_in(page, base_url, giver)
        page.get_by_role("link", name="Offer something").first.click()
        page.get_by_role("heading", name="Offer something").wait_for()
        assert_fits_the_screen(page)
        check_accessibility(page)
        page.get_by_label("Title").fill(TITLE)
        page.get_by_label("Description").fill("Vier rollators met zitje en mandje, nagekeken.")
        page.get_by_label("Category").select_option(label="— Walkers and wheelchairs")
        page.get_by_label("Condition", exact=True).select_option(label="As new")
        page.get_by_label("Quantity").fill("4")
        page.get_by_label("Weight per unit in kg (optional)").fill("7.5")
        fill_device_passport(page, "Topro", "Troja 5G", 2021)

        # A file the marketplace does not take: the uploader sends it at once and shows the
        # server's clear message by it; publishing without a photo keeps the form.
        page.get_by_label("Photos").set_input_files([str(WRONG_FILE)])
        page.get_by_text("hopper.psd is not a photo we can use. "
                         "Use JPEG, PNG, WebP or HEIC.").first.wait_for()
        with page.expect_navigation():
            page.get_by_role("button", name="Publish").click()
        assert page.get_by_label("Title").input_value() == TITLE
        assert page.get_by_label("Quantity").input_value() == "4"
        assert page.get_by_label("Condition", exact=True).input_value() == Condition.AS_NEW.value
        assert "Vier rollators" in page.get_by_label("Description").input_value()
        assert_fits_the_screen(page)
        check_accessibility(page)

        # The real photos: published, every one of them stored.
        page.get_by_label("Photos").set_input_files([str(path) for path in photos])
        page.get_by_role("button", name="Publish").click()
        page.get_by_text("Your listing is published.").wait_for()
        assert_fits_the_screen(page)
        check_accessibility(page)
        gallery = page.locator("main img[srcset]")
        assert gallery.count() == len(photos)
        # Each photo is really served (decoded by the browser, not a broken image).
        for index in range(len(photos)):
            gallery.nth(index).scroll_into_view_if_needed()
            assert gallery.nth(index).evaluate("image => image.complete && image.naturalWidth")
        with app.app_context():
            listing = db.session.query(Listing).filter_by(title=TITLE).one()
            assert listing.status is ListingStatus.PUBLISHED
            assert len(listing.photos) == len(photos)

        # Another member finds it with words and filters.
        seeker_page = browser.new_context(locale="en-GB",
                                          viewport=VIEWPORTS[viewport]).new_page()
        pages.append(seeker_page)
        log_in(seeker_page, base_url, seeker)
        seeker_page.get_by_role("link", name="Find surplus").first.click()
        seeker_page.get_by_label("Search", exact=True).fill("rollator zitje")
        show_filters(seeker_page)
        seeker_page.get_by_label("Category").select_option(label="— Walkers and wheelchairs")
        seeker_page.get_by_label("Province").select_option(label="Utrecht")
        seeker_page.get_by_label("Condition", exact=True).select_option(label="As new")
        seeker_page.get_by_role("button", name="Search", exact=True).click()
        seeker_page.get_by_text("1 listing found").wait_for()
        assert_fits_the_screen(seeker_page)
        check_accessibility(seeker_page)
        seeker_page.get_by_role("link", name=TITLE).first.wait_for()
        # A filter it does not match leaves it out, and says how to widen the search.
        show_filters(seeker_page)
        seeker_page.get_by_label("Province").select_option(label="Zeeland")
        seeker_page.get_by_role("button", name="Search", exact=True).click()
        seeker_page.get_by_role("heading", name="Nothing found").wait_for()
        check_accessibility(seeker_page)
        seeker_page.get_by_role("link", name="keep the words, drop the filters").click()
        seeker_page.get_by_role("link", name=TITLE).first.click()
        seeker_page.get_by_role("heading", name=TITLE).wait_for()
        check_accessibility(seeker_page)

        # The language switch in the footer: Dutch, then English again, on the same page.
        here = seeker_page.url
        seeker_page.get_by_role("button", name="Nederlands").click()
        seeker_page.get_by_role("link", name="Overschot zoeken").first.wait_for()
        assert seeker_page.url == here
        assert seeker_page.locator("html").get_attribute("lang") == "nl"
        for dutch in ("Uitloggen", "Taal"):
            assert seeker_page.get_by_text(dutch).count() >= 1, dutch
        check_accessibility(seeker_page)
        seeker_page.get_by_role("button", name="English").click()
        seeker_page.get_by_role("link", name="Find surplus").first.wait_for()
        assert seeker_page.locator("html").get_attribute("lang") == "en"
        assert seeker_page.get_by_role("button", name="Log out").count() == 1
        with app.app_context():  # remembered in the profile, too
            assert db.session.query(User).filter_by(email=seeker).one().language is Language.EN
    except BaseException:
        keep_artifacts(request, pages)
        raise
