"""The audit log speaks words, in the reader's language, and its CSV holds what the page shows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditEvent, Language, OrganisationStatus, Role
from marketplace.models.audit import AUDIT_ACTION_LABELS
from marketplace.services import audit


@pytest.fixture
def staff(make_user):
    return make_user(role=Role.PLATFORM_ADMIN, name="Petra Platform")


def approve_and_suspend(login_as, staff, make_org):
    pending = make_org(name="Wachtende Zorg", status=OrganisationStatus.PENDING)
    admin = login_as(staff)
    admin.post(f"/admin/organisations/{pending.id}/approve")
    admin.post(f"/admin/organisations/{pending.id}/suspend", data={"reason": "Dubbel account"})
    return admin


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";" if ";" in text.splitlines()[0]
                           else ","))


def test_the_audit_log_says_who_did_what_in_words_and_filters(login_as, staff, make_org,
                                                               make_user):
    admin = approve_and_suspend(login_as, staff, make_org)

    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "<strong>Organisation approved</strong>" in page
    assert "<strong>Organisation suspended</strong>" in page
    assert "Petra Platform" in page and "Dubbel account" in page
    # The codes stay in the option values only, never as text a person reads.
    assert '<option value="organisation.approve">Organisation approved</option>' in page
    assert ">organisation.approve<" not in page and "organisation: " not in page

    only = admin.get("/admin/audit?action=organisation.suspend").get_data(as_text=True)
    assert "Dubbel account" in only and "<strong>Organisation approved</strong>" not in only
    assert "Nothing recorded" in admin.get("/admin/audit?q=niemand").get_data(as_text=True)
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert "Nothing recorded" in admin.get(f"/admin/audit?from={tomorrow}").get_data(
        as_text=True)
    assert admin.get("/admin/audit?from=garbage&page=-3").status_code == 200
    member = login_as(make_user())
    assert member.get("/admin/audit").status_code == 403
    assert member.get("/admin/audit.csv").status_code == 403
    # Read-only: there is no route that changes an audit event.
    assert admin.post("/admin/audit").status_code == 405
    assert admin.post("/admin/audit.csv").status_code == 405


def test_a_dutch_admin_reads_the_log_and_its_filter_in_dutch(login_as, make_user, make_org):
    staff = make_user(role=Role.PLATFORM_ADMIN, language=Language.NL)
    admin = approve_and_suspend(login_as, staff, make_org)

    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "<strong>Organisatie goedgekeurd</strong>" in page
    assert '<option value="organisation.suspend">Organisatie geschorst</option>' in page
    assert "Organisation approved" not in page

    [header, *rows] = csv_rows(admin.get("/admin/audit.csv"))
    assert header == ["Tijd", "Actie", "Wie of wat", "Door", "E-mailadres", "Reden"]
    assert [row[1] for row in rows] == ["Organisatie geschorst", "Organisatie goedgekeurd"]


def test_the_csv_holds_the_filtered_events_with_local_times(login_as, staff, make_org):
    admin = approve_and_suspend(login_as, staff, make_org)
    approved, suspended = sorted(db.session.scalars(select(AuditEvent)),
                                 key=lambda event: event.id)
    approved.created_at = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)    # winter: UTC+1
    suspended.created_at = datetime(2026, 7, 15, 23, 30, tzinfo=UTC)  # summer: UTC+2, next day
    db.session.commit()

    [header, *rows] = csv_rows(admin.get("/admin/audit.csv"))
    assert header == ["Time", "Action", "Who or what", "By", "Email address", "Reason"]
    assert rows == [
        ["2026-07-16T01:30:00+02:00", "Organisation suspended", "Wachtende Zorg",
         "Petra Platform", staff.email, "Dubbel account"],
        ["2026-01-15T13:00:00+01:00", "Organisation approved", "Wachtende Zorg",
         "Petra Platform", staff.email, ""],
    ]
    only = csv_rows(admin.get("/admin/audit.csv?action=organisation.approve"))
    assert [row[1] for row in only[1:]] == ["Organisation approved"]
    # Days are Amsterdam's: 23:30 UTC on 15 July happened on 16 July there.
    on_the_16th = csv_rows(admin.get("/admin/audit.csv?from=2026-07-16&to=2026-07-16"))
    assert [row[1] for row in on_the_16th[1:]] == ["Organisation suspended"]
    on_the_15th = admin.get("/admin/audit?from=2026-07-15&to=2026-07-15").get_data(as_text=True)
    assert "Nothing recorded" in on_the_15th
    # The page offers the same selection as a download.
    page = admin.get("/admin/audit?action=organisation.approve").get_data(as_text=True)
    assert 'href="/admin/audit.csv?action=organisation.approve' in page


def test_an_action_without_words_is_refused(app, staff):
    with pytest.raises(ValueError, match=r"listing\.frobnicate"):
        audit.record(staff, "listing.frobnicate", staff)


def test_every_role_change_has_words():
    assert {f"user.role.{role.value}" for role in Role} <= AUDIT_ACTION_LABELS.keys()
