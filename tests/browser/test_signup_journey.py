"""Sign-up to approval in a real browser, with the mail read from a real SMTP server.

Olga registers a new organisation (with its KvK number and first pick-up site), confirms her
address from the email, and waits; the platform admin is emailed and approves the organisation;
Olga is emailed, logs in and can post. Then her colleague Cees signs up to join the organisation,
confirms, Olga approves him from the link in her email, and Cees is emailed and logs in.
"""

from __future__ import annotations

import pytest
from browser_helpers import (
    VIEWPORTS,
    assert_fits_the_screen,
    check_accessibility,
    keep_artifacts,
    link_in,
    text_of,
)
from helpers import PASSWORD

from marketplace.extensions import db
from marketplace.models import (
    Organisation,
    OrganisationStatus,
    Province,
    Role,
    User,
    UserStatus,
)

ADMIN = "petra@coop.example.org"
FOUNDER = "olga@dehorst.example.org"
COLLEAGUE = "cees@dehorst.example.org"
ORGANISATION = "Zorgcentrum De Horst"


def log_in_here(page, address: str) -> None:
    """Log in on the login page the browser is on (after a redirect that keeps `next`)."""
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def sign_up(page, base_url: str, name: str, address: str) -> None:
    """Fill in the personal part of the sign-up form."""
    page.goto(f"{base_url}/auth/signup")
    assert_fits_the_screen(page)
    check_accessibility(page)
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Work email address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Language").select_option(label="English")


def confirm_address(page, mailbox, address: str) -> None:
    page.get_by_text("Check your inbox").first.wait_for()
    check_accessibility(page)
    confirmation = mailbox.wait_for(address, "Confirm your email address")
    page.goto(link_in(confirmation, "/auth/confirm/"))
    page.get_by_text("Thank you, your email address is confirmed.").wait_for()
    check_accessibility(page)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_new_organisation_signs_up_is_approved_and_a_colleague_joins(
        request, live_server, mailbox, browser, make_user, viewport):
    base_url, app = live_server
    with app.app_context():
        make_user(ADMIN, role=Role.PLATFORM_ADMIN, name="Petra Platform")

    pages = []

    def new_page():
        page = browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport]).new_page()
        pages.append(page)
        return page

    try:
        # Olga registers her organisation, with its KvK number and first pick-up site.
        founder = new_page()
        sign_up(founder, base_url, "Olga Oprichter", FOUNDER)
        founder.get_by_label("Register my organisation").check()
        founder.get_by_label("Name of the organisation").fill(ORGANISATION)
        founder.get_by_label("Kind of organisation").select_option(label="Elderly care")
        founder.get_by_label("KvK number").fill("12345678")
        founder.get_by_label("Site name").fill("Hoofdgebouw")
        founder.get_by_label("Street and number").fill("Dijkweg 12")
        founder.get_by_label("Postcode").fill("8011 AB")
        founder.get_by_label("City").fill("Zwolle")
        founder.get_by_label("Province").select_option(label="Overijssel")
        founder.get_by_role("button", name="Sign up").click()
        confirm_address(founder, mailbox, FOUNDER)

        # Confirmed, she can log in, but posting waits for the platform admins.
        log_in_here(founder, FOUNDER)
        founder.wait_for_url(f"{base_url}/")
        founder.get_by_text("Your organisation is waiting for approval").wait_for()
        assert founder.get_by_role("link", name="Offer something").count() == 0
        check_accessibility(founder)

        # The platform admin is emailed; the link leads (through the login) to the queue.
        to_approve = mailbox.wait_for(ADMIN, f"New organisation to approve: {ORGANISATION}")
        assert FOUNDER in text_of(to_approve)
        admin = new_page()
        admin.goto(link_in(to_approve, "/admin/organisations"))
        log_in_here(admin, ADMIN)
        row = admin.get_by_role("listitem").filter(has_text=ORGANISATION)
        row.get_by_text("KvK 12345678").wait_for()
        assert "Zwolle" in row.inner_text()
        assert_fits_the_screen(admin)
        check_accessibility(admin)
        row.get_by_role("button", name=f"Approve {ORGANISATION}").click()
        admin.get_by_text(f"{ORGANISATION} has been approved").first.wait_for()
        check_accessibility(admin)

        # Olga is emailed, and now she can post.
        approved = mailbox.wait_for(FOUNDER, f"{ORGANISATION} has been approved")
        assert "approve colleagues" in text_of(approved)
        founder.goto(link_in(approved, base_url))
        founder.get_by_role("link", name="Offer something").first.click()
        founder.get_by_role("heading", name="Offer something").wait_for()
        assert "Hoofdgebouw" in founder.get_by_label("Pick-up site").inner_text()
        check_accessibility(founder)

        # Her colleague Cees signs up to join the organisation, and confirms.
        colleague = new_page()
        sign_up(colleague, base_url, "Cees Collega", COLLEAGUE)
        colleague.get_by_label("My organisation is on the marketplace already").check()
        colleague.get_by_label("Organisation", exact=True).select_option(label=ORGANISATION)
        colleague.get_by_role("button", name="Sign up").click()
        confirm_address(colleague, mailbox, COLLEAGUE)

        # Until Olga says yes, Cees sees what a visitor sees, and a page saying what he waits for.
        waiting = new_page()
        waiting.goto(f"{base_url}/auth/login")
        log_in_here(waiting, COLLEAGUE)
        waiting.wait_for_url(f"{base_url}/")
        assert waiting.get_by_role("link", name="Our listings").count() == 0
        waiting.get_by_role("link", name="What happens next").click()
        waiting.get_by_text(f"an administrator of {ORGANISATION} approves your account").wait_for()
        assert_fits_the_screen(waiting)
        check_accessibility(waiting)
        waiting.goto(f"{base_url}/listings/mine")
        waiting.wait_for_url(f"{base_url}/account/waiting")

        # Olga, the organisation's admin, approves him from the link in her email.
        to_join = mailbox.wait_for(FOUNDER, f"Cees Collega wants to join {ORGANISATION}")
        founder.goto(link_in(to_join, "/members"))
        pending = founder.get_by_role("listitem").filter(has_text=COLLEAGUE)
        assert_fits_the_screen(founder)
        check_accessibility(founder)
        pending.get_by_role("button", name="Approve Cees Collega").click()
        founder.get_by_text("Cees Collega has been approved and told by email.").wait_for()
        check_accessibility(founder)

        # Cees is emailed, logs in from the link and can post.
        welcome = mailbox.wait_for(COLLEAGUE, "Your account has been approved")
        colleague.goto(link_in(welcome, "/auth/login"))
        log_in_here(colleague, COLLEAGUE)
        colleague.wait_for_url(f"{base_url}/")
        colleague.get_by_text("Welcome, Cees Collega.").wait_for()
        assert colleague.get_by_role("link", name="Offer something").count() >= 1
        check_accessibility(colleague)

        with app.app_context():
            organisation = db.session.query(Organisation).filter_by(name=ORGANISATION).one()
            assert (organisation.status, organisation.kvk_number) == \
                (OrganisationStatus.ACTIVE, "12345678")
            assert [(site.name, site.city, site.province) for site in organisation.sites] == \
                [("Hoofdgebouw", "Zwolle", Province.OVERIJSSEL)]
            people = {user.email: (user.role, user.status) for user in
                      db.session.query(User).filter_by(organisation_id=organisation.id)}
            assert people == {FOUNDER: (Role.ORG_ADMIN, UserStatus.ACTIVE),
                              COLLEAGUE: (Role.MEMBER, UserStatus.ACTIVE)}
    except BaseException:
        keep_artifacts(request, pages)
        raise

