"""Platform admins approve, suspend and reactivate organisations, through the web pages."""

from __future__ import annotations

import re

import pytest
from helpers import outbox, reload
from sqlalchemy import select

from marketplace.admin.views import PAGE_SIZE
from marketplace.extensions import db
from marketplace.models import AuditEvent, OrganisationStatus, Role, UserStatus
from marketplace.security import Action, can

WAITING_NOTICE = "Your organisation is waiting for approval by the platform administrators."
SUSPENDED_NOTICE = "Your organisation has been suspended by the platform administrators"


@pytest.fixture
def admin_client(make_user, login_as):
    return login_as(make_user(role=Role.PLATFORM_ADMIN))


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ))


def listed_organisation_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'href="/admin/organisations/(\d+)"', html)]


# --- the list ----------------------------------------------------------------------------

def test_the_overview_counts_organisations_waiting_for_approval(admin_client, make_org):
    make_org(status=OrganisationStatus.PENDING)
    make_org(status=OrganisationStatus.PENDING)
    make_org()
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'figure-number">2</span>\s*<span>organisations waiting for approval', html)


def test_the_organisations_list_filters_by_status(admin_client, make_org):
    waiting = make_org("Zorghuis Wacht", status=OrganisationStatus.PENDING)
    active = make_org("Ziekenhuis Actief")
    suspended = make_org("Kliniek Geschorst", status=OrganisationStatus.SUSPENDED)

    everything = admin_client.get("/admin/organisations").get_data(as_text=True)
    pending_only = admin_client.get("/admin/organisations?status=pending").get_data(as_text=True)
    suspended_only = admin_client.get("/admin/organisations?status=suspended") \
        .get_data(as_text=True)

    assert set(listed_organisation_ids(everything)) == {waiting.id, active.id, suspended.id}
    assert listed_organisation_ids(pending_only) == [waiting.id]
    assert "Approve Zorghuis Wacht" in pending_only
    assert listed_organisation_ids(suspended_only) == [suspended.id]
    assert '<option value="suspended" selected>' in suspended_only


def test_an_unknown_status_filter_shows_every_organisation(admin_client, make_org):
    first, second = make_org(), make_org(status=OrganisationStatus.PENDING)
    html = admin_client.get("/admin/organisations?status=bogus").get_data(as_text=True)
    assert set(listed_organisation_ids(html)) == {first.id, second.id}


def test_the_organisations_list_searches_by_name_ignoring_case(admin_client, make_org):
    match = make_org("Zorggroep Rivierenland")
    make_org("Ziekenhuis Oost")
    html = admin_client.get("/admin/organisations?q=RIVIEREN").get_data(as_text=True)
    assert listed_organisation_ids(html) == [match.id]
    assert 'value="RIVIEREN"' in html


@pytest.mark.parametrize(("query", "expected"), [
    ("100%", "100% Zorg"),
    ("Zorg_Noord", "Zorg_Noord"),
    ("a\\b", "Huis a\\b"),
])
def test_a_search_with_like_wildcards_matches_them_literally(admin_client, make_org, query,
                                                             expected):
    organisations = {name: make_org(name) for name in
                     ["100% Zorg", "1000 Zorg", "Zorg_Noord", "ZorgXNoord", "Huis a\\b",
                      "Huis ab"]}
    html = admin_client.get("/admin/organisations", query_string={"q": query}) \
        .get_data(as_text=True)
    assert listed_organisation_ids(html) == [organisations[expected].id]


def test_a_search_that_matches_nothing_says_so(admin_client, make_org):
    make_org("Zorggroep Rivierenland")
    html = admin_client.get("/admin/organisations?q=Nergens").get_data(as_text=True)
    assert listed_organisation_ids(html) == []
    assert "No organisations match." in html


def test_the_organisations_list_is_paginated(admin_client, make_org):
    organisations = [make_org() for _ in range(PAGE_SIZE + 5)]

    first = admin_client.get("/admin/organisations").get_data(as_text=True)
    second = admin_client.get("/admin/organisations?page=2").get_data(as_text=True)
    beyond = admin_client.get("/admin/organisations?page=3").get_data(as_text=True)

    first_ids, second_ids = listed_organisation_ids(first), listed_organisation_ids(second)
    assert len(first_ids) == PAGE_SIZE
    assert len(second_ids) == 5
    assert sorted(first_ids + second_ids) == sorted(o.id for o in organisations)
    assert first_ids[0] == organisations[-1].id  # newest first
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    assert 'page=2">Next</a>' in first
    assert "Next</a>" not in second
    assert 'page=1">Previous</a>' in second
    assert listed_organisation_ids(beyond) == []


def test_paging_keeps_the_filter_and_the_search(admin_client, make_org):
    for number in range(PAGE_SIZE + 1):
        make_org(f"Thuiszorg {number}", status=OrganisationStatus.PENDING)
    make_org("Thuiszorg Actief")
    first = admin_client.get("/admin/organisations?status=pending&q=thuiszorg") \
        .get_data(as_text=True)
    assert "Page 1 of 2" in first
    [next_link] = re.findall(r'href="([^"]+)">Next</a>', first)
    next_link = next_link.replace("&amp;", "&")
    assert "status=pending" in next_link
    assert "q=thuiszorg" in next_link
    second = admin_client.get(next_link).get_data(as_text=True)
    assert len(listed_organisation_ids(second)) == 1
    assert "Thuiszorg Actief" not in second


# --- approving ---------------------------------------------------------------------------

def test_approving_a_pending_organisation_activates_it_and_emails_its_admins(
    admin_client, make_org, make_user
):
    organisation = make_org("Zorghuis Het Anker", status=OrganisationStatus.PENDING)
    admin = make_user(organisation=organisation, role=Role.ORG_ADMIN)
    unconfirmed_admin = make_user(organisation=organisation, role=Role.ORG_ADMIN,
                                  confirmed=False)
    make_user(organisation=organisation)  # a member is not emailed

    response = admin_client.post(f"/admin/organisations/{organisation.id}/approve",
                                 follow_redirects=True)

    assert response.status_code == 200
    assert "Zorghuis Het Anker has been approved; its admins have been emailed." in \
        response.get_data(as_text=True)
    organisation = reload(organisation)
    assert organisation.status is OrganisationStatus.ACTIVE
    assert organisation.approved_at is not None
    [mail] = outbox(template="organisation_approved")
    assert mail.recipient == admin.email
    assert "Zorghuis Het Anker" in mail.subject
    assert outbox(to=unconfirmed_admin.email) == []
    [event] = audit_events("organisation.approve")
    assert (event.target_type, event.target_id) == ("organisation", organisation.id)
    assert event.actor.role is Role.PLATFORM_ADMIN
    assert can(admin, Action.PARTICIPATE)


def test_approving_from_the_list_returns_to_the_list(admin_client, make_org):
    organisation = make_org("Zorghuis Wacht", status=OrganisationStatus.PENDING)
    pending_list = admin_client.get("/admin/organisations?status=pending") \
        .get_data(as_text=True)
    [action] = re.findall(r'action="([^"]*/approve[^"]*)"', pending_list)

    response = admin_client.post(action.replace("&amp;", "&"))

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/organisations?status=pending"
    assert reload(organisation).status is OrganisationStatus.ACTIVE


def test_approving_an_active_organisation_shows_an_error_and_changes_nothing(
    admin_client, make_org, make_user
):
    organisation = make_org("Ziekenhuis Actief")
    make_user(organisation=organisation, role=Role.ORG_ADMIN)

    response = admin_client.post(f"/admin/organisations/{organisation.id}/approve",
                                 follow_redirects=True)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Only organisations awaiting approval can be approved." in html
    assert "has been approved" not in html
    organisation = reload(organisation)
    assert organisation.status is OrganisationStatus.ACTIVE
    assert organisation.approved_at is None
    assert outbox(template="organisation_approved") == []
    assert audit_events("organisation.approve") == []


def test_a_pending_organisations_admin_can_log_in_and_is_told_to_wait(
    admin_client, make_org, make_user, login_as
):
    organisation = make_org(status=OrganisationStatus.PENDING)
    org_admin = make_user(organisation=organisation, role=Role.ORG_ADMIN)

    org_admin_client = login_as(org_admin)

    home = org_admin_client.get("/").get_data(as_text=True)
    assert WAITING_NOTICE in home
    assert not can(org_admin, Action.PARTICIPATE)

    admin_client.post(f"/admin/organisations/{organisation.id}/approve")

    assert WAITING_NOTICE not in org_admin_client.get("/").get_data(as_text=True)
    assert reload(organisation).status is OrganisationStatus.ACTIVE
    assert can(org_admin, Action.PARTICIPATE)


def test_approving_an_unknown_organisation_gives_404(admin_client):
    assert admin_client.post("/admin/organisations/999/approve").status_code == 404


# --- suspending and reactivating ---------------------------------------------------------

def test_suspending_without_a_reason_changes_nothing(admin_client, make_org, make_user):
    organisation = make_org("Ziekenhuis Actief")
    make_user(organisation=organisation, role=Role.ORG_ADMIN)

    for data in ({}, {"reason": "   "}):
        response = admin_client.post(f"/admin/organisations/{organisation.id}/suspend",
                                     data=data, follow_redirects=True)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Give a reason to suspend an organisation." in html
        assert "has been suspended" not in html

    assert reload(organisation).status is OrganisationStatus.ACTIVE
    assert outbox(template="organisation_suspended") == []
    assert audit_events("organisation.suspend") == []


def test_suspending_emails_the_reason_and_stops_participation_until_reactivated(
    admin_client, make_org, make_user, login_as
):
    organisation = make_org("Ziekenhuis Actief")
    org_admin = make_user(organisation=organisation, role=Role.ORG_ADMIN)
    member = make_user(organisation=organisation)
    reason = "Listings were resold for profit."

    response = admin_client.post(f"/admin/organisations/{organisation.id}/suspend",
                                 data={"reason": f"  {reason} "}, follow_redirects=True)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ziekenhuis Actief has been suspended." in html
    assert "Reactivate Ziekenhuis Actief" in html
    assert reload(organisation).status is OrganisationStatus.SUSPENDED
    [mail] = outbox(template="organisation_suspended")
    assert mail.recipient == org_admin.email
    assert reason in mail.body_text
    [event] = audit_events("organisation.suspend")
    assert (event.target_id, event.reason) == (organisation.id, reason)

    member_client = login_as(member)  # people of a suspended organisation can still log in
    home = member_client.get("/")
    assert home.status_code == 200
    assert SUSPENDED_NOTICE in home.get_data(as_text=True)
    assert not can(reload(member), Action.PARTICIPATE)
    assert member_client.get("/account/").status_code == 200

    response = admin_client.post(f"/admin/organisations/{organisation.id}/reactivate",
                                 follow_redirects=True)

    assert "Ziekenhuis Actief is active again." in response.get_data(as_text=True)
    assert reload(organisation).status is OrganisationStatus.ACTIVE
    assert audit_events("organisation.reactivate")
    assert SUSPENDED_NOTICE not in member_client.get("/").get_data(as_text=True)
    assert can(reload(member), Action.PARTICIPATE)


def test_suspending_a_suspended_organisation_again_is_refused(admin_client, make_org):
    organisation = make_org(status=OrganisationStatus.SUSPENDED)
    response = admin_client.post(f"/admin/organisations/{organisation.id}/suspend",
                                 data={"reason": "Twice"}, follow_redirects=True)
    assert "This organisation is suspended already." in response.get_data(as_text=True)
    assert audit_events("organisation.suspend") == []


def test_reactivating_an_active_organisation_is_refused(admin_client, make_org):
    organisation = make_org()
    response = admin_client.post(f"/admin/organisations/{organisation.id}/reactivate",
                                 follow_redirects=True)
    assert "Only suspended organisations can be reactivated." in response.get_data(as_text=True)
    assert reload(organisation).status is OrganisationStatus.ACTIVE
    assert audit_events("organisation.reactivate") == []


def test_a_pending_organisation_can_be_suspended_and_then_reactivated(admin_client, make_org):
    organisation = make_org(status=OrganisationStatus.PENDING)
    admin_client.post(f"/admin/organisations/{organisation.id}/suspend",
                      data={"reason": "Not a care organisation"})
    assert reload(organisation).status is OrganisationStatus.SUSPENDED
    admin_client.post(f"/admin/organisations/{organisation.id}/reactivate")
    assert reload(organisation).status is OrganisationStatus.ACTIVE


def test_the_organisation_page_shows_its_people_and_sites(admin_client, make_org, make_user):
    organisation = make_org("Zorghuis Het Anker", status=OrganisationStatus.PENDING)
    make_user(organisation=organisation, role=Role.ORG_ADMIN, name="Anna Admin")
    make_user(organisation=organisation, name="Piet Pending", status=UserStatus.PENDING,
              confirmed=False)
    response = admin_client.get(f"/admin/organisations/{organisation.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Anna Admin" in html
    assert "Piet Pending" in html
    assert "address not confirmed yet" in html
    assert "Hoofdlocatie" in html
    assert "Approve Zorghuis Het Anker" in html
    assert "Suspend Zorghuis Het Anker" in html


def test_platform_admins_see_failed_mail_and_can_send_it_again(app, make_user, login_as):
    from helpers import outbox, reload

    from marketplace.extensions import db
    from marketplace.models import OutboxStatus
    from marketplace.services.mail import queue_email

    user = make_user()
    message = queue_email("reset_password", user, reset_url="http://localhost/r", hours=2)
    message.status = OutboxStatus.FAILED
    message.last_error = "SMTPRecipientsRefused: mailbox unavailable"
    db.session.commit()
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    page = admin.get("/admin/mail").get_data(as_text=True)
    assert "mailbox unavailable" in page and user.email in page
    assert admin.post(f"/admin/mail/{message.id}/retry").status_code == 302
    assert reload(message).status is OutboxStatus.PENDING
    assert len(outbox()) == 1
    assert f"reset_password #{message.id}" in admin.get("/admin/audit?action=mail.retry") \
        .get_data(as_text=True)
    assert login_as(make_user()).get("/admin/mail").status_code == 403
