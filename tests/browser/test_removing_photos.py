"""Removing a photo on a phone, in Dutch (issue 17). Without JavaScript, the edit form saved
with a photo ticked for removal names what goes and asks first; confirming removes it. With
JavaScript, the uploader's "Verwijderen" leaves "Foto verwijderd. Ongedaan maken" in the photo's
place: undo puts it back, and saving without it drops it on the server too."""

from __future__ import annotations

from browser_helpers import (
    assert_fits_the_screen,
    check_accessibility,
    dutch_phone_page,
    keep_artifacts,
)
from builders import listing_details
from helpers import SHARED_TESTDATA
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Listing, User
from marketplace.models.photo import StagedPhoto
from marketplace.services.listings import PhotoChanges, Upload, create_listing

GOOD = SHARED_TESTDATA / "images" / "good"
STAGED = "[data-photo-list] input[name='staged_photo']"


def test_removing_a_photo_without_javascript_is_named_and_confirmed_first(
        request, live_server, browser, poster, tmp_path):
    base_url, app = live_server
    with app.app_context():
        member = db.session.scalar(select(User).where(User.email == poster))
        uploads = [Upload(name, (GOOD / name).read_bytes()) for name in ("hopper.jpg",
                                                                          "hopper.png")]
        listing = create_listing(member, listing_details(member), PhotoChanges(uploads=uploads),
                                 submit=True)
        listing_id, kept_photo = listing.id, listing.photos[1].photo_id
    page = dutch_phone_page(browser, base_url, poster, javascript=False)
    try:
        page.goto(f"{base_url}/listings/{listing_id}/edit")
        page.get_by_label("Titel", exact=True).fill("Rollators, bijna nieuw")
        page.get_by_label("Deze foto verwijderen", exact=True).first.check()
        page.get_by_role("button", name="Wijzigingen opslaan").click()

        block = page.locator("#photo-removal")
        block.get_by_text("1 foto wordt uit de advertentie gehaald.").wait_for()
        assert block.locator("img").count() == 1
        assert page.get_by_label("Titel", exact=True).input_value() == "Rollators, bijna nieuw"
        assert page.get_by_label("Deze foto verwijderen", exact=True).first.is_checked()
        assert_fits_the_screen(page)  # (axe needs JavaScript: checked in the test below)
        page.screenshot(path=tmp_path / "phone-confirm-photo-removal.png", full_page=True)
        assert _photos_of(app, listing_id) == 2  # nothing removed yet

        block.get_by_role("button", name="Ja, verwijderen en opslaan").click()
        page.get_by_text("Je wijzigingen zijn opgeslagen.").wait_for()
        with app.app_context():
            listing = db.session.get(Listing, listing_id)
            assert [item.photo_id for item in listing.photos] == [kept_photo]
            assert listing.title == "Rollators, bijna nieuw"
    except BaseException:
        keep_artifacts(request, [page])
        raise


def test_the_uploaders_remove_can_be_undone_and_saving_drops_the_photo(
        request, live_server, browser, poster, tmp_path):
    base_url, app = live_server
    page = dutch_phone_page(browser, base_url, poster, javascript=True)
    try:
        page.goto(f"{base_url}/listings/new")
        page.locator("input[type='file'][name='photos']").set_input_files(
            [str(GOOD / "hopper.jpg"), str(GOOD / "hopper.png")])
        _wait_until_sent(page, 2)

        page.get_by_role("button", name="Verwijderen hopper.jpg").click()
        undo = page.get_by_role("button", name="Ongedaan maken hopper.jpg")
        page.get_by_text("Foto verwijderd.").wait_for()
        assert page.evaluate("() => document.activeElement.dataset.action") == "undo"
        _wait_until_sent(page, 1)
        page.screenshot(path=tmp_path / "phone-photo-removed-undo.png", full_page=True)
        check_accessibility(page)
        undo.click()
        _wait_until_sent(page, 2)
        names = page.locator("[data-photo-list] li").evaluate_all(
            "items => items.map(item => item.dataset.name)")
        assert names == ["hopper.jpg", "hopper.png"]  # back in its place

        page.get_by_role("button", name="Verwijderen hopper.png").click()
        page.get_by_text("Foto verwijderd.").wait_for()
        page.get_by_label("Titel", exact=True).fill("Tilliften")
        page.get_by_role("button", name="Opslaan als concept").click()
        page.get_by_text("Je advertentie is opgeslagen als concept.").wait_for()
        with app.app_context():
            listing = db.session.scalar(select(Listing).where(Listing.title == "Tilliften"))
            assert len(listing.photos) == 1
            assert db.session.scalars(select(StagedPhoto)).all() == []  # dropped, not left
    except BaseException:
        keep_artifacts(request, [page])
        raise


def _wait_until_sent(page, count: int) -> None:
    page.wait_for_function(
        """([selector, count]) => document.querySelectorAll(selector).length === count
                    && !document.querySelector("form [type='submit'][disabled]")""",
        arg=[STAGED, count], timeout=30_000)


def _photos_of(app, listing_id: int) -> int:
    with app.app_context():
        return len(db.session.get(Listing, listing_id).photos)
