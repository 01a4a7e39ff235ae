"""The posting form's photo uploader on a phone, in Dutch, in a real browser (issue 17).

With JavaScript each photo is made smaller in the browser and sent by itself as soon as it is
chosen; choosing more adds; remove and move change what is published; a form error keeps them
all; a refused file is refused alone; a HEIC goes as it is and the server previews it. (Photos
kept through an error without JavaScript: test_kept_photos.py.) Screenshots of the phone form
are left in each test's tmp_path for a person to look at.
"""

from __future__ import annotations

import threading

import pillow_heif
import pytest
from browser_helpers import (
    assert_fits_the_screen,
    check_accessibility,
    dutch_phone_page,
    keep_artifacts,
)
from helpers import SHARED_TESTDATA
from phone_photos import make_phone_photos
from PIL import Image

from marketplace.extensions import db
from marketplace.models import Listing, ListingStatus
from marketplace.models.photo import StagedPhoto

IMAGES = SHARED_TESTDATA / "images"
GOOD = [IMAGES / "good" / name for name in ("hopper.jpg", "hopper.png", "hopper.webp")]
PUBLISHED = "Je advertentie is gepubliceerd."
STAGED = "[data-photo-list] input[name='staged_photo']"


class Uploads:
    """WSGI middleware: the body size of each photo sent to the staging endpoint, as the server
    got it (the browser's record leaves out bodies made of files), and the most it handled at
    once. A request counts as done before its answer is written, so a browser that waits for
    each answer never shows two at once."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.sizes: list[int] = []
        self.open = self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] != "POST" or environ["PATH_INFO"] != "/listings/photos/staged":
            return self.wsgi_app(environ, start_response)
        with self.lock:
            self.sizes.append(int(environ.get("CONTENT_LENGTH") or 0))
            self.open += 1
            self.most_at_once = max(self.most_at_once, self.open)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            with self.lock:
                self.open -= 1


def phone_page(browser, base_url: str, address: str, javascript: bool = True):
    """The posting form in a Dutch phone browser, logged in as `address`."""
    page = dutch_phone_page(browser, base_url, address, javascript)
    page.goto(f"{base_url}/listings/new")
    page.get_by_role("heading", name="Iets aanbieden").wait_for()
    return page


def fill_all_but_title(page) -> None:
    page.get_by_label("Beschrijving", exact=True).fill("Zes douchestoelen, nagekeken.")
    page.get_by_label("Categorie", exact=True).select_option(index=1)
    page.get_by_label("Staat", exact=True).select_option(index=1)
    page.get_by_label("Aantal", exact=True).fill("6")


def choose(page, paths) -> None:
    page.locator("input[type='file'][name='photos']").set_input_files([str(p) for p in paths])


def wait_until_sent(page, count: int) -> None:
    """Every chosen photo is on the server (or refused) and publishing is possible again."""
    page.wait_for_function(
        """([selector, count]) => document.querySelectorAll(selector).length === count
                    && !document.querySelector("form [type='submit'][disabled]")""",
        arg=[STAGED, count], timeout=60_000)


def staged_order(page) -> list[int]:
    return [int(value) for value in page.locator(STAGED).evaluate_all(
        "inputs => inputs.map(input => input.value)")]


def published_photo_ids(app, title: str) -> list[int]:
    with app.app_context():
        listing = db.session.query(Listing).filter_by(title=title).one()
        assert listing.status is ListingStatus.PUBLISHED
        return [item.photo_id for item in listing.photos]


def photo_ids_of(app, staged_ids: list[int]) -> list[int]:
    with app.app_context():
        rows = {row.id: row.photo_id for row in db.session.query(StagedPhoto)}
        return [rows[staged] for staged in staged_ids]


def test_an_error_keeps_the_photos_more_add_and_remove_and_move_change_the_order(
        request, live_server, browser, poster, tmp_path):
    base_url, app = live_server
    page = phone_page(browser, base_url, poster)
    try:
        fill_all_but_title(page)
        choose(page, GOOD)
        wait_until_sent(page, 3)
        choose(page, [IMAGES / "good" / "exif_gps.jpg"])  # more photos add to the first three
        wait_until_sent(page, 4)
        file_input = page.locator("input[type='file'][name='photos']")
        assert file_input.evaluate("input => input.files.length") == 0  # never sent twice
        assert page.locator("[data-photo-list] img").count() == 4  # the server's previews
        page.screenshot(path=tmp_path / "phone-photos-sent.png", full_page=True)
        assert_fits_the_screen(page)
        check_accessibility(page)

        page.get_by_role("button", name="Publiceren").click()  # the title is forgotten
        page.locator("#title[aria-invalid='true']").wait_for()
        wait_until_sent(page, 4)  # all four are still there, without choosing them again
        names = page.locator("[data-photo-list] li").evaluate_all(
            "items => items.map(item => item.dataset.name)")
        assert names == ["hopper.jpg", "hopper.png", "hopper.webp", "exif_gps.jpg"]
        page.screenshot(path=tmp_path / "phone-photos-after-error.png", full_page=True)

        # Remove the PNG; move the WebP to the front with the keyboard.
        page.get_by_role("button", name="Verwijderen hopper.png").click()
        page.get_by_role("button", name="Omhoog hopper.webp").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('[data-photo-live]').textContent"
                               " === 'hopper.webp is nu foto 1.'")
        wait_until_sent(page, 3)
        expected = photo_ids_of(app, staged_order(page))
        assert len(set(expected)) == 3

        page.get_by_label("Titel", exact=True).fill("Douchestoelen")
        page.get_by_role("button", name="Publiceren").click()
        page.get_by_text(PUBLISHED).wait_for()
        assert published_photo_ids(app, "Douchestoelen") == expected
    except BaseException:
        keep_artifacts(request, [page])
        raise


def test_six_12_mb_phone_photos_go_one_by_one_made_smaller_and_the_listing_publishes(
        request, live_server, browser, poster, tmp_path):
    base_url, app = live_server
    photos = make_phone_photos(tmp_path, 6)
    assert all(path.stat().st_size > 10_000_000 for path in photos)
    received = app.wsgi_app = Uploads(app.wsgi_app)
    page = phone_page(browser, base_url, poster)
    try:
        page.get_by_label("Titel", exact=True).fill("Douchestoelen voor de badkamer")
        fill_all_but_title(page)
        choose(page, photos)
        # Publishing waits, and says why, while the photos are on their way.
        page.locator("[data-photo-wait]").wait_for()
        assert page.get_by_role("button", name="Publiceren").is_disabled()
        page.screenshot(path=tmp_path / "phone-photos-sending.png", full_page=True)
        wait_until_sent(page, 6)
        assert page.locator("[data-photo-wait]").is_hidden()
        assert received.most_at_once == 1  # one by one
        assert len(received.sizes) == 6
        assert all(100_000 < size < 1_000_000 for size in received.sizes), received.sizes
        page.get_by_role("button", name="Publiceren").click()
        page.get_by_text(PUBLISHED).wait_for()
        with app.app_context():
            listing = db.session.query(Listing).filter_by(
                title="Douchestoelen voor de badkamer").one()
            assert len(listing.photos) == 6
            # Made smaller to 2048 px on the long edge, and upright (the browser turned it).
            assert {(item.photo.width, item.photo.height) for item in listing.photos} \
                == {(1536, 2048)}
    except BaseException:
        keep_artifacts(request, [page])
        raise


def test_a_refused_file_is_refused_by_itself_with_its_message(
        request, live_server, browser, poster, tmp_path):
    base_url, app = live_server
    page = phone_page(browser, base_url, poster)
    try:
        page.get_by_label("Titel", exact=True).fill("Tilliften")
        fill_all_but_title(page)
        choose(page, [GOOD[0], GOOD[2], IMAGES / "hostile" / "program.jpg"])
        wait_until_sent(page, 2)
        refused = page.locator(".photo-upload--refused")
        assert refused.count() == 1
        message = refused.locator(".photo-upload-status").inner_text()
        assert "program.jpg" in message
        page.wait_for_function(  # and told to a screen reader
            "text => document.querySelector('[data-photo-live]').textContent === text", arg=message)
        page.screenshot(path=tmp_path / "phone-photo-refused.png", full_page=True)
        page.get_by_role("button", name="Publiceren").click()
        page.get_by_text(PUBLISHED).wait_for()
        with app.app_context():
            listing = db.session.query(Listing).filter_by(title="Tilliften").one()
            assert len(listing.photos) == 2
    except BaseException:
        keep_artifacts(request, [page])
        raise


@pytest.mark.skipif(not pillow_heif.libheif_info().get("HEIF"), reason="libheif cannot encode")
def test_a_heic_photo_goes_as_it_is_and_the_server_makes_its_preview(
        request, live_server, browser, poster, tmp_path):
    base_url, app = live_server
    heic = tmp_path / "IMG_0042.HEIC"
    pillow_heif.register_heif_opener()
    with Image.open(GOOD[0]) as picture:
        picture.save(heic, format="HEIF", quality=80)
    received = app.wsgi_app = Uploads(app.wsgi_app)
    page = phone_page(browser, base_url, poster)
    try:
        choose(page, [heic])
        wait_until_sent(page, 1)
        # Chromium cannot read HEIC: the file went as it was, with the form's few bytes around it.
        assert heic.stat().st_size < received.sizes[0] < heic.stat().st_size + 1_000
        preview = page.locator("[data-photo-list] img")
        preview.wait_for()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0",
                               arg=preview.element_handle())
    except BaseException:
        keep_artifacts(request, [page])
        raise
