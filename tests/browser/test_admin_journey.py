"""A platform admin's working day in a real browser, on the demo data: the review queue, the
reports, suspending an organisation, the impact dashboard and its CSV, and the audit log that
recorded it all; every email read from a real SMTP server on loopback."""
from __future__ import annotations

import re

import pytest
from browser_helpers import (
    VIEWPORTS,
    assert_fits_the_screen,
    check_accessibility,
    keep_artifacts,
    log_in,
    text_of,
)

from marketplace.extensions import db
from marketplace.models import Language, Listing, ListingStatus, Organisation, OrganisationStatus
from marketplace.services.accounts import find_user_by_email
from marketplace.services.demo import DEMO_PASSWORD, seed
from marketplace.services.demo_listings import seed_activity, seed_listings
from marketplace.services.demo_moderation import seed_history, seed_moderation

ADMIN = "admin@example.org"
CARLA = "carla@delinde.example.org"  # posted the listing held for "tabletten"; reads Dutch
FATIMA = "fatima@hetbaken.example.org"  # admin of Het Baken, whose desks were reported
REPORTERS = ("bram@rivierenland.example.org", "daan@delinde.example.org")


def status_of(app, title: str) -> ListingStatus:
    with app.app_context():
        return db.session.query(Listing).filter_by(title=title).one().status


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_platform_admin_works_through_queue_reports_suspension_and_dashboard(
        request, live_server, mailbox, browser, viewport):
    base_url, app = live_server
    with app.app_context():
        for step in (seed, seed_listings, seed_activity, seed_moderation, seed_history):
            list(step())
        find_user_by_email(ADMIN).language = Language.EN
        db.session.commit()

    page = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport],
                               accept_downloads=True).new_page()
    try:
        log_in(page, base_url, ADMIN, password=DEMO_PASSWORD)
        check_accessibility(page)

        # The queue: the listing held for a medicine word is rejected with a standard reason.
        page.goto(f"{base_url}/admin/listings")
        assert_fits_the_screen(page)
        check_accessibility(page)
        held = page.get_by_role("article", name="Tabletten voor de huiskamer")
        held.get_by_text("Held for review: it mentions tabletten.").wait_for()
        assert held.locator("mark").first.inner_text().lower() == "tabletten"
        held.get_by_label("Standard reason (sent in the poster's language)").select_option(
            label="Medicines may not be offered on the marketplace.")
        held.get_by_role("button", name="Reject").click()
        page.get_by_text("is rejected").first.wait_for()
        check_accessibility(page)
        rejection = mailbox.wait_for(CARLA, "Tabletten voor de huiskamer")
        assert "Medicijnen en geneesmiddelen mogen niet" in text_of(rejection)  # her language
        assert status_of(app, "Tabletten voor de huiskamer") is ListingStatus.REJECTED

        # ... and the next one approved.
        waiting = page.get_by_role("article", name="Tilbanden maat S")
        waiting.get_by_role("button", name="Approve and publish Tilbanden maat S").click()
        mailbox.wait_for(FATIMA, "Your listing is published: Tilbanden maat S")

        # The reports: two members reported the same desks; the listing is removed.
        page.get_by_role("link", name="Reports").first.click()
        page.wait_for_url(f"{base_url}/admin/reports")
        entry = page.locator("section.report-entry", has_text="Bureaus, zit-sta")
        assert_fits_the_screen(page)
        check_accessibility(page)
        assert "2" in entry.locator(".count").first.inner_text()
        entry.get_by_text("Resolve the reports on Bureaus, zit-sta").click()
        entry.get_by_label("Remove the listing").check()
        entry.get_by_label("Reason for the poster", exact=True).fill(
            "Selling is not allowed: the marketplace is for giving.")
        entry.get_by_role("button", name="Resolve the reports").click()
        page.get_by_text("No open reports").or_(page.get_by_text("Glucosemeters")).first \
            .wait_for()
        check_accessibility(page)
        assert status_of(app, "Bureaus, zit-sta") is ListingStatus.REMOVED
        mailbox.wait_for(FATIMA, "Your listing was removed: Bureaus, zit-sta")
        for reporter in REPORTERS:
            mailbox.wait_for(reporter, "Bureaus, zit-sta")

        # Suspending an organisation.
        page.get_by_role("link", name="Organisations").first.click()
        page.wait_for_url(f"{base_url}/admin/organisations")
        page.get_by_role("link", name="Stichting Het Baken").first.click()
        page.wait_for_url(re.compile(r".*/admin/organisations/\d+$"))
        assert_fits_the_screen(page)
        check_accessibility(page)
        page.get_by_label("Reason").fill("Asked money for donated desks.")
        page.get_by_role("button", name="Suspend Stichting Het Baken").click()
        page.get_by_text("Stichting Het Baken has been suspended.").wait_for()
        check_accessibility(page)
        mailbox.wait_for(FATIMA, "Stichting Het Baken")
        with app.app_context():
            baken = db.session.query(Organisation).filter_by(name="Stichting Het Baken").one()
            assert baken.status is OrganisationStatus.SUSPENDED

        # The dashboard and its CSV.
        page.get_by_role("link", name="Impact").first.click()
        page.get_by_text("CO₂e avoided").first.wait_for()
        assert page.locator("svg[role=img]").count() >= 2
        assert_fits_the_screen(page)
        check_accessibility(page)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download these figures (CSV)").click()
        with open(download.value.path(), encoding="utf-8-sig") as csv_file:
            csv_text = csv_file.read()
        assert "co2e" in csv_text.lower() and "kg" in csv_text

        # Everything above is in the audit log.
        page.get_by_role("link", name="Audit log").first.click()
        page.wait_for_url(f"{base_url}/admin/audit")
        assert_fits_the_screen(page)
        check_accessibility(page)
        log = page.locator("main").inner_text()
        for action in ("Listing rejected", "Listing approved", "Report handled",
                       "Listing removed", "Organisation suspended"):
            assert action in log, action
    except BaseException:
        keep_artifacts(request, [page])
        raise
