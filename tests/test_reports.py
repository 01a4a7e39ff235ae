"""Reports on listings: members report, platform admins resolve them per listing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers import AuthActions, outbox, reload
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    ListingStatus,
    Report,
    ReportOutcome,
    ReportReason,
    ReportStatus,
    Role,
    UserStatus,
)
from marketplace.services import reports as report_service
from marketplace.services.errors import DomainError, PermissionDenied


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.PLATFORM_ADMIN, name="Ada Admin")


def reports_in_db() -> list[Report]:
    return list(db.session.scalars(select(Report).order_by(Report.id)))


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def report(user, listing, reason=ReportReason.UNSAFE, text="The brakes do not work."):
    return report_service.report_listing(user, listing, reason, text)


# --- reporting ---------------------------------------------------------------------------------

def test_a_member_reports_another_organisations_listing_and_admins_are_emailed(
        app, make_user, make_listing, admin):
    second_admin = make_user(role=Role.PLATFORM_ADMIN)
    make_user(role=Role.PLATFORM_ADMIN, status=UserStatus.DEACTIVATED)
    listing = make_listing("Rollator")
    member = make_user()

    made = report(member, listing, ReportReason.UNSAFE, "  The brakes do not work.  ")

    [stored] = reports_in_db()
    assert stored.id == made.id
    assert stored.reporter_id == member.id
    assert stored.reason is ReportReason.UNSAFE
    assert stored.text == "The brakes do not work."
    assert stored.status is ReportStatus.OPEN
    mails = outbox("report_received")
    assert sorted(mail.recipient for mail in mails) == sorted([admin.email, second_admin.email])
    assert "Rollator" in mails[0].subject
    assert "It is unsafe, recalled or unhygienic" in mails[0].body_text
    assert "The brakes do not work." in mails[0].body_text
    assert "http://localhost/admin/reports" in mails[0].body_text
    assert audit_events("report.create") == []  # a member's act, not an admin's
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


@pytest.mark.parametrize("who", ["own organisation", "deactivated", "unconfirmed", "pending",
                                 "draft of another organisation"])
def test_who_cannot_report_a_listing(app, make_user, make_listing, make_org, who):
    organisation = make_org()
    listing = make_listing(organisation=organisation,
                           status=ListingStatus.DRAFT if who.startswith("draft")
                           else ListingStatus.PUBLISHED)
    user = {
        "own organisation": lambda: make_user(organisation=organisation),
        "deactivated": lambda: make_user(status=UserStatus.DEACTIVATED),
        "unconfirmed": lambda: make_user(confirmed=False),
        "pending": lambda: make_user(status=UserStatus.PENDING),
        "draft of another organisation": lambda: make_user(),
    }[who]()

    with pytest.raises(PermissionDenied):
        report(user, listing)
    db.session.rollback()
    assert reports_in_db() == []
    assert outbox("report_received") == []


def test_a_member_has_one_open_report_per_listing(app, make_user, make_listing, admin):
    listing = make_listing()
    member = make_user()
    report(member, listing)

    with pytest.raises(DomainError, match="already reported"):
        report(member, listing, ReportReason.OFFENSIVE, "And it is rude.")
    db.session.rollback()
    assert len(reports_in_db()) == 1
    assert len(outbox("report_received")) == 1


@pytest.mark.parametrize(("reason", "text", "field"), [
    (ReportReason.OTHER, "   ", "text"),
    ("nonsense", "Something", "reason"),
    (ReportReason.UNSAFE, "x" * 2001, "text"),
])
def test_a_report_needs_a_known_reason_and_text_for_other(app, make_user, make_listing,
                                                          reason, text, field):
    listing = make_listing()
    with pytest.raises(DomainError) as refused:
        report(make_user(), listing, reason, text)
    assert refused.value.field == field
    db.session.rollback()
    assert reports_in_db() == []


def test_reasons_other_than_other_need_no_text(app, make_user, make_listing):
    made = report(make_user(), make_listing(), "for_sale", "")
    assert made.reason is ReportReason.FOR_SALE
    assert made.text == ""


# --- the member's pages ------------------------------------------------------------------------

def test_the_listing_page_offers_reporting_to_members_of_other_organisations(
        app, client, make_user, make_listing, login_as):
    listing = make_listing()
    owner = make_user(organisation=listing.organisation)
    link = f"/listings/{listing.id}/report"

    assert link in login_as(make_user()).get(f"/listings/{listing.id}").get_data(as_text=True)
    assert link not in login_as(owner).get(f"/listings/{listing.id}").get_data(as_text=True)
    assert link not in client.get(f"/listings/{listing.id}").get_data(as_text=True)


def test_reporting_through_the_form_thanks_the_member(app, make_user, make_listing, login_as,
                                                      admin):
    listing = make_listing()
    member = make_user()
    browser = login_as(member)

    page = browser.get(f"/listings/{listing.id}/report")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "It asks for money" in body
    assert '<label for="text">' in body

    response = browser.post(f"/listings/{listing.id}/report",
                            data={"reason": "for_sale", "text": "They want 50 euro."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/listings/{listing.id}")
    followed = browser.get(response.headers["Location"])
    assert "Thank you, the moderators will look at it" in followed.get_data(as_text=True)
    [stored] = reports_in_db()
    assert (stored.reason, stored.text, stored.reporter_id) == (
        ReportReason.FOR_SALE, "They want 50 euro.", member.id)
    assert len(outbox("report_received", to=admin.email)) == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"reason": "other", "text": ""}, "Tell the moderators what is wrong"),
    ({"reason": "not-a-reason", "text": "x"}, "Not a valid choice"),
    ({"text": "no reason"}, "Choose a reason"),
    ({"reason": "unsafe", "text": "x" * 2001}, "2000"),
])
def test_a_report_form_with_errors_answers_422_and_keeps_the_input(
        app, make_user, make_listing, login_as, data, message):
    listing = make_listing()
    response = login_as(make_user()).post(f"/listings/{listing.id}/report", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert reports_in_db() == []


def test_a_second_report_through_the_form_is_refused_kindly(app, make_user, make_listing,
                                                            login_as):
    listing = make_listing()
    browser = login_as(make_user())
    data = {"reason": "misleading", "text": "Photo of another chair."}
    assert browser.post(f"/listings/{listing.id}/report", data=data).status_code == 302

    again = browser.post(f"/listings/{listing.id}/report", data=data)
    assert again.status_code == 422
    assert "already reported" in again.get_data(as_text=True)
    assert len(reports_in_db()) == 1


def test_reporting_pages_refuse_who_may_not_report(app, client, make_user, make_listing,
                                                   make_org, login_as):
    listing = make_listing()
    other = make_org()
    draft = make_listing(organisation=other, status=ListingStatus.DRAFT)
    path = f"/listings/{listing.id}/report"

    anonymous = client.get(path)
    assert anonymous.status_code == 302
    assert "/auth/login" in anonymous.headers["Location"]
    assert client.post(path, data={"reason": "unsafe"}).status_code == 302

    owner = login_as(make_user(organisation=listing.organisation))
    assert owner.get(path).status_code == 403
    assert owner.post(path, data={"reason": "unsafe", "text": "x"}).status_code == 403

    member = login_as(make_user())
    assert member.get(f"/listings/{draft.id}/report").status_code == 404
    assert member.get("/listings/999999/report").status_code == 404

    pending = login_as(make_user(status=UserStatus.PENDING))  # sent to what they wait for
    answer = pending.post(path, data={"reason": "unsafe", "text": "x"})
    assert (answer.status_code, answer.headers["Location"]) == (302, "/account/waiting")
    assert reports_in_db() == []


def test_reporting_is_rate_limited_per_member(make_app, make_user, make_listing):
    app = make_app(RATELIMIT_ENABLED=True, REPORT_RATE_LIMIT="2 per minute")

    def login_as(user):
        browser = app.test_client()
        assert AuthActions(browser).login(user).status_code == 302
        return browser

    with app.app_context():
        listings = [make_listing() for _ in range(3)]
        browser = login_as(make_user())
        statuses = [browser.post(f"/listings/{listing.id}/report",
                                 data={"reason": "unsafe", "text": "x"}).status_code
                    for listing in listings]
        assert statuses == [302, 302, 429]
        assert browser.get(f"/listings/{listings[2].id}/report").status_code == 200
        # Another member has their own allowance.
        other = login_as(make_user())
        assert other.post(f"/listings/{listings[2].id}/report",
                          data={"reason": "unsafe", "text": "x"}).status_code == 302


# --- the queue ---------------------------------------------------------------------------------

def test_the_queue_groups_reports_per_listing_oldest_first(app, make_user, make_listing,
                                                           login_as, admin):
    older = make_listing("Hoist")
    newer = make_listing("Wheelchair")
    first = report(make_user(), older, ReportReason.UNSAFE, "Sling is torn.")
    report(make_user(), newer, ReportReason.FOR_SALE, "Asks money.")
    report(make_user(), newer, ReportReason.FOR_SALE, "")
    report(make_user(), newer, ReportReason.OFFENSIVE, "Rude words.")
    first.created_at = first.created_at - timedelta(days=1)
    db.session.commit()

    queue = report_service.open_reports_by_listing()
    assert [entry.listing.id for entry in queue.items] == [older.id, newer.id]
    assert [entry.count for entry in queue.items] == [1, 3]
    assert queue.items[1].reasons == [(ReportReason.FOR_SALE, 2), (ReportReason.OFFENSIVE, 1)]
    assert queue.total == 2
    assert report_service.reported_listing_count() == 2

    page = login_as(admin).get("/admin/reports")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert body.index("Hoist") < body.index("Wheelchair")
    assert "3 reports" in body
    assert "Sling is torn." in body and "Rude words." in body
    assert "It asks for money" in body
    assert body.count('name="listing-') > 0  # one resolve form per listing


def test_the_queue_is_paginated(app, make_user, make_listing):
    member = make_user()
    for _ in range(3):
        report(member, make_listing())
    first = report_service.open_reports_by_listing(page=1, per_page=2)
    second = report_service.open_reports_by_listing(page=2, per_page=2)
    assert (len(first.items), len(second.items)) == (2, 1)
    assert (first.pages, first.has_next, second.has_prev) == (2, True, True)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_only_platform_admins_reach_the_report_pages(app, make_user, make_listing, login_as,
                                                     role):
    listing = make_listing()
    report(make_user(), listing)
    browser = login_as(make_user(role=role))
    assert browser.get("/admin/reports").status_code == 403
    assert browser.get("/admin/reports?status=resolved").status_code == 403
    assert browser.post(f"/admin/reports/{listing.id}/resolve",
                        data={f"listing-{listing.id}-outcome": "dismissed"}).status_code == 403
    assert reload(reports_in_db()[0]).status is ReportStatus.OPEN


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/reports")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


# --- resolving ---------------------------------------------------------------------------------

def resolve_form(listing, outcome, reason="", note="", standard=0):
    prefix = f"listing-{listing.id}-"
    return {prefix + "outcome": outcome, prefix + "note": note,
            prefix + "reason_for_poster": reason, prefix + "standard_reason": str(standard)}


def test_dismissing_resolves_every_open_report_and_tells_the_reporters(
        app, make_user, make_listing, login_as, admin):
    listing = make_listing("Commode chair")
    reporters = [make_user(), make_user()]
    for reporter in reporters:
        report(reporter, listing)
    gone = make_user()
    report(gone, listing)
    gone.status = UserStatus.DEACTIVATED
    db.session.commit()

    response = login_as(admin).post(f"/admin/reports/{listing.id}/resolve",
                                    data=resolve_form(listing, "dismissed", note="Looks fine"))
    assert response.status_code == 302

    stored = reports_in_db()
    assert {item.status for item in stored} == {ReportStatus.RESOLVED}
    assert {item.outcome for item in stored} == {ReportOutcome.DISMISSED}
    assert {item.resolved_by_id for item in stored} == {admin.id}
    assert all(item.resolved_at is not None for item in stored)
    assert {item.resolution_note for item in stored} == {"Looks fine"}
    assert reload(listing).status is ListingStatus.PUBLISHED
    mails = outbox("report_resolved")
    assert sorted(mail.recipient for mail in mails) == sorted(r.email for r in reporters)
    assert "No action: nothing wrong found" in mails[0].body_text
    assert "Commode chair" in mails[0].subject
    [event] = audit_events("report.resolve")
    assert event.actor_id == admin.id
    assert event.target_id == listing.id
    assert event.reason == "dismissed: Looks fine"
    assert report_service.reported_listing_count() == 0


def test_resolved_reports_show_their_outcome_and_who_resolved_them(
        app, make_user, make_listing, login_as, admin):
    listing = make_listing("Shower stool")
    report(make_user(), listing, ReportReason.MISLEADING, "Different stool.")
    report_service.resolve_reports(admin, listing, ReportOutcome.DISMISSED, "Same stool")
    browser = login_as(admin)

    assert "Shower stool" not in browser.get("/admin/reports").get_data(as_text=True)
    body = browser.get("/admin/reports?status=resolved").get_data(as_text=True)
    assert "Shower stool" in body
    assert "No action: nothing wrong found" in body
    assert "Ada Admin" in body
    assert "Same stool" in body


def test_a_report_can_be_made_again_once_the_first_is_resolved(app, make_user, make_listing,
                                                                admin):
    listing = make_listing()
    member = make_user()
    report(member, listing)
    report_service.resolve_reports(admin, listing, "dismissed", "")
    report(member, listing, ReportReason.OFFENSIVE, "Still rude.")
    assert [item.status for item in reports_in_db()] == [ReportStatus.RESOLVED,
                                                         ReportStatus.OPEN]


@pytest.mark.parametrize("outcome", ["changes_requested", "listing_removed"])
def test_changes_and_removal_need_a_reason_for_the_poster(app, make_user, make_listing,
                                                          login_as, admin, outcome):
    listing = make_listing()
    report(make_user(), listing)
    response = login_as(admin).post(f"/admin/reports/{listing.id}/resolve",
                                    data=resolve_form(listing, outcome, reason="  "))
    assert response.status_code == 422
    assert "Tell the poster why" in response.get_data(as_text=True)
    assert reports_in_db()[0].status is ReportStatus.OPEN
    assert outbox("report_resolved") == []
    assert audit_events("report.resolve") == []


@pytest.mark.parametrize("data", [{"outcome": "banish"}, {"standard_reason": "abc"}, {}])
def test_a_bad_resolve_form_answers_422_not_500(app, make_user, make_listing, login_as, admin,
                                                data):
    listing = make_listing()
    report(make_user(), listing)
    form = resolve_form(listing, "dismissed")
    form.update({f"listing-{listing.id}-{key}": value for key, value in data.items()})
    if not data:
        del form[f"listing-{listing.id}-outcome"]
    response = login_as(admin).post(f"/admin/reports/{listing.id}/resolve", data=form)
    assert response.status_code == 422
    assert reports_in_db()[0].status is ReportStatus.OPEN


def test_resolving_a_listing_without_open_reports_is_refused(app, make_user, make_listing,
                                                             login_as, admin):
    listing = make_listing()
    with pytest.raises(DomainError, match="no open reports"):
        report_service.resolve_reports(admin, listing, "dismissed", "")
    db.session.rollback()
    response = login_as(admin).post(f"/admin/reports/{listing.id}/resolve",
                                    data=resolve_form(listing, "dismissed"))
    assert response.status_code == 302
    assert audit_events("report.resolve") == []
    assert login_as(admin).post("/admin/reports/999999/resolve",
                                data=resolve_form(listing, "dismissed")).status_code == 404


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_only_platform_admins_resolve_reports(app, make_user, make_listing, role):
    listing = make_listing()
    report(make_user(), listing)
    with pytest.raises(PermissionDenied):
        report_service.resolve_reports(make_user(role=role, organisation=listing.organisation),
                                       listing, "dismissed", "")


@pytest.mark.parametrize(("outcome", "status", "label"), [
    ("changes_requested", ListingStatus.DRAFT, "The poster was asked to change the listing"),
    ("listing_removed", ListingStatus.REMOVED, "The listing was removed"),
])
def test_asking_for_changes_or_removing_changes_the_listing_too(
        app, make_user, make_listing, login_as, admin, outcome, status, label):
    listing = make_listing("Bath lift", created_by=make_user())
    reporter = make_user()
    report(reporter, listing, ReportReason.UNSAFE, "Battery leaks.")

    response = login_as(admin).post(
        f"/admin/reports/{listing.id}/resolve",
        data=resolve_form(listing, outcome, reason="The battery must be replaced.",
                          note="Checked photos"))
    assert response.status_code == 302

    listing = reload(listing)
    assert listing.status is status
    assert "The battery must be replaced." in listing.moderation_reason
    [stored] = reports_in_db()
    assert (stored.status, stored.outcome) == (ReportStatus.RESOLVED, ReportOutcome(outcome))
    [mail] = outbox("report_resolved", to=reporter.email)
    assert label in mail.body_text
    [event] = audit_events("report.resolve")
    assert event.reason == f"{outcome}: Checked photos"


def test_a_standard_reason_reaches_the_poster_in_their_language(app, make_user, make_listing,
                                                                login_as, admin):
    from marketplace.models import Language

    poster = make_user(language=Language.NL)
    listing = make_listing(organisation=poster.organisation, created_by=poster)
    report(make_user(), listing, ReportReason.MEDICINE, "")
    from marketplace.services.moderation import active_reasons

    [first, *_] = active_reasons()

    response = login_as(admin).post(
        f"/admin/reports/{listing.id}/resolve",
        data=resolve_form(listing, "listing_removed", standard=first.id))
    assert response.status_code == 302
    assert reload(listing).moderation_reason == first.text_nl


def test_reports_stay_open_when_the_listing_action_is_refused(app, make_user, make_listing,
                                                              login_as, admin):
    listing = make_listing()
    report(make_user(), listing)
    listing.status = ListingStatus.CLOSED  # everything was handed over meanwhile
    db.session.commit()

    with pytest.raises(DomainError, match="cannot be removed"):
        report_service.resolve_reports(admin, listing, "listing_removed", "", "Unsafe.")
    db.session.rollback()
    response = login_as(admin).post(f"/admin/reports/{listing.id}/resolve",
                                    data=resolve_form(listing, "listing_removed",
                                                      reason="Unsafe."))
    assert response.status_code == 422
    assert "cannot be removed" in response.get_data(as_text=True)

    assert reload(reports_in_db()[0]).status is ReportStatus.OPEN
    assert reload(listing).status is ListingStatus.CLOSED
    assert outbox("report_resolved") == []
    assert audit_events("report.resolve") == []
    assert audit_events("listing.remove") == []


def test_a_reason_for_the_poster_is_kept_to_1000_characters(app, make_user, make_listing,
                                                             admin):
    listing = make_listing()
    report(make_user(), listing)
    with pytest.raises(DomainError) as refused:
        report_service.resolve_reports(admin, listing, "changes_requested", "", "x" * 1001)
    assert refused.value.field == "reason_for_poster"
    db.session.rollback()
    assert reports_in_db()[0].status is ReportStatus.OPEN
    assert reload(listing).status is ListingStatus.PUBLISHED
