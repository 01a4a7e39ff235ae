"""A member's personal data in a real browser: the privacy page from the footer, the download
of everything as a zip (through the browser's own download, then opened), and the deletion of
the account, whose cancelled claim reaches the giver through a real SMTP server on loopback."""

from __future__ import annotations

import json
import zipfile

import pytest
from browser_helpers import (
    VIEWPORTS,
    assert_fits_the_screen,
    check_accessibility,
    keep_artifacts,
    log_in,
    text_of,
)
from helpers import PASSWORD, SHARED_TESTDATA

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, Language, ListingPhoto, User
from marketplace.services.claims import claim_listing
from marketplace.services.photos import prepare_photo, save_prepared

MEMBER = "tim@west.example.org"
GIVER = "gerda@oost.example.org"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_member_downloads_their_data_and_deletes_their_account(
        request, tmp_path, live_server, mailbox, browser, make_user, make_org, make_listing,
        viewport):
    base_url, app = live_server
    with app.app_context():
        giver = make_user(GIVER, organisation=make_org(name="Ziekenhuis Oost"),
                          name="Gerda Gever", language=Language.EN)
        member = make_user(MEMBER, organisation=make_org(name="Zorg West"), name="Tim Nemer",
                           language=Language.EN)
        own = make_listing("Rollators", organisation=member.organisation, created_by=member)
        image = SHARED_TESTDATA / "images" / "good" / "hopper.jpg"
        photo = save_prepared(prepare_photo(image.read_bytes(), image.name))
        own.photos.append(ListingPhoto(photo=photo, position=0))
        db.session.commit()
        offered = make_listing("Rolstoelen", organisation=giver.organisation, created_by=giver)
        claim_listing(member, offered, 1, "Voor locatie West")
        member_id, content_hash = member.id, photo.content_hash

    context = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport],
                                  accept_downloads=True)
    page = context.new_page()
    try:
        log_in(page, base_url, MEMBER)
        page.get_by_role("contentinfo").get_by_role("link", name="Privacy").click()
        page.get_by_role("heading", name="Privacy: your personal data").wait_for()
        check_accessibility(page)
        assert_fits_the_screen(page)

        page.goto(f"{base_url}/account/")
        page.get_by_role("link", name="Download or delete your data").click()
        page.get_by_role("heading", name="Your data").wait_for()
        check_accessibility(page)
        assert_fits_the_screen(page)
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download my data").click()
        download = download_info.value
        assert download.suggested_filename.startswith("surplus-marketplace-")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            data = json.loads(archive.read("data.json"))
            assert data["profile"]["email"] == MEMBER
            assert [claim["listing_title"] for claim in data["claims"]] == ["Rolstoelen"]
            assert f"photos/{content_hash}.jpg" in archive.namelist()
            assert archive.read(f"photos/{content_hash}.jpg")[:2] == b"\xff\xd8"  # a JPEG

        page.get_by_role("link", name="Delete my account").click()
        page.get_by_role("heading", name="Delete your account").wait_for()
        assert "Your open claim is cancelled" in page.content()
        check_accessibility(page)
        assert_fits_the_screen(page)
        page.get_by_label("Your password").fill(PASSWORD)
        page.get_by_label("I understand that my account is deleted").check()
        page.get_by_role("button", name="Delete my account").click()
        page.get_by_role("heading", name="Your account has been deleted").wait_for()
        check_accessibility(page)
        assert page.get_by_role("link", name="Log in").count() == 1  # logged out

        # The giver hears of the cancelled claim; the member gets a last confirmation.
        cancelled = mailbox.wait_for(GIVER, "A claim was cancelled: Rolstoelen")
        assert "Zorg West" in text_of(cancelled)
        goodbye = mailbox.wait_for(MEMBER, "Your account has been deleted")
        assert "Tim Nemer" in text_of(goodbye)
        with app.app_context():
            user = db.session.get(User, member_id)
            assert (user.name, user.email) == ("Deleted user", f"deleted-{member_id}@invalid")
            assert db.session.query(Claim).one().status is ClaimStatus.CANCELLED

        # The old address no longer logs in.
        page.goto(f"{base_url}/auth/login")
        page.get_by_label("Email address").fill(MEMBER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("The email address or password is incorrect.").first.wait_for()
    except BaseException:
        keep_artifacts(request, [page])
        raise
    finally:
        context.close()
