"""Platform admins approve, suspend and reactivate organisations."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from ..extensions import db
from ..impact.views import csv_response
from ..models import (
    Listing,
    ListingStatus,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    OutboxStatus,
    User,
    UserStatus,
)
from ..models.base import escape_like
from ..organisations.forms import ConfirmForm
from ..security import Action
from ..services import audit as audit_service
from ..services import organisations as organisation_service
from ..services.mail import retry_failed
from ..web import attempt, page_number, require, safe_next_url
from .forms import ReasonForm, TrustForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 25


@bp.before_request
@login_required
def _platform_admins_only() -> None:
    require(Action.ADMINISTER_PLATFORM)


@bp.route("/")
def index() -> str:
    pending_organisations = db.session.scalar(
        select(func.count(Organisation.id))
        .where(Organisation.status == OrganisationStatus.PENDING)
    )
    pending_members = db.session.scalar(
        select(func.count(User.id)).where(User.status == UserStatus.PENDING,
                                          User.email_confirmed_at.is_not(None))
    )
    pending_listings = db.session.scalar(
        select(func.count(Listing.id)).where(Listing.status == ListingStatus.PENDING_REVIEW))
    failed_mail = db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == OutboxStatus.FAILED))
    return render_template("admin/index.html", pending_organisations=pending_organisations,
                           pending_members=pending_members, pending_listings=pending_listings,
                           failed_mail=failed_mail)


AUDIT_PAGE_SIZE = 50
AUDIT_EARLIEST, AUDIT_LATEST = date(2000, 1, 1), date(2999, 12, 31)


@bp.route("/audit")
def audit() -> str:
    """Every approval, moderation and administration action; read-only by design."""
    filters = _audit_filter()
    pagination = db.paginate(audit_service.events_matching(filters), page=page_number(),
                             per_page=AUDIT_PAGE_SIZE, error_out=False)
    kept = _audit_args(filters)
    return render_template("admin/audit.html", pagination=pagination,
                           actions=audit_service.action_choices(), filters=filters,
                           csv_url=url_for("admin.audit_csv", **kept),
                           page_url=lambda number: url_for("admin.audit", **kept, page=number))


@bp.route("/audit.csv")
def audit_csv() -> Response:
    """The same events as the page shows with these filters, all of them, for a spreadsheet."""
    filters = _audit_filter()
    return csv_response(audit_service.csv_rows(filters), "audit-log.csv")


def _audit_filter() -> audit_service.AuditFilter:
    return audit_service.AuditFilter(action=request.args.get("action", "")[:60],
                                     query=request.args.get("q", "").strip()[:120],
                                     start=_date_arg("from"), end=_date_arg("to"))


def _audit_args(filters: audit_service.AuditFilter) -> dict[str, Any]:
    return {"action": filters.action, "q": filters.query, "from": filters.start or "",
            "to": filters.end or ""}


def _date_arg(name: str) -> date | None:
    """A date filter from the query string: None (no filter) when missing, not a date, or
    outside the years the log can hold (9999-12-31, which date pickers offer, has no next day)."""
    try:
        value = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return value if AUDIT_EARLIEST <= value <= AUDIT_LATEST else None


@bp.route("/mail")
def mail() -> str:
    """Mail that could not be delivered, newest first, with a way to send it again."""
    failed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.created_at.desc()).limit(200)).all()
    waiting = db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == OutboxStatus.PENDING))
    return render_template("admin/mail.html", failed=failed, waiting=waiting)


@bp.route("/mail/<int:message_id>/retry", methods=["POST"])
def retry_mail(message_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if retry_failed(current_user, message_id):
        flash(_("The message will be sent again."), "success")
    else:
        flash(_("This message is not waiting for a retry."), "error")
    return redirect(url_for("admin.mail"))


@bp.route("/organisations")
def organisations() -> str:
    status = request.args.get("status", "")
    query = request.args.get("q", "").strip()[:120]
    trusted = request.args.get("trusted", "") == "1"
    page = page_number()
    statement = select(Organisation).order_by(Organisation.created_at.desc(),
                                              Organisation.id.desc())
    if status in {s.value for s in OrganisationStatus}:
        statement = statement.where(Organisation.status == OrganisationStatus(status))
    if trusted:
        statement = statement.where(Organisation.trusted.is_(True))
    if query:
        statement = statement.where(Organisation.name.ilike(f"%{escape_like(query)}%",
                                                            escape="\\"))
    pagination = db.paginate(statement, page=page, per_page=PAGE_SIZE, error_out=False)
    kept: dict[str, Any] = {"status": status, "q": query, **({"trusted": "1"} if trusted else {})}
    return render_template("admin/organisations.html", pagination=pagination, status=status,
                           query=query, trusted=trusted, statuses=list(OrganisationStatus),
                           page_url=lambda number: url_for("admin.organisations", **kept,
                                                           page=number),
                           confirm_form=ConfirmForm(), reason_form=ReasonForm())


def _organisation(organisation_id: int) -> Organisation:
    organisation = db.get_or_404(Organisation, organisation_id)
    return organisation


@bp.route("/organisations/<int:organisation_id>")
def organisation_detail(organisation_id: int) -> str:
    organisation = _organisation(organisation_id)
    return render_template("admin/organisation.html", organisation=organisation,
                           confirm_form=ConfirmForm(), reason_form=ReasonForm(),
                           trust_form=TrustForm(prefix="trust"),
                           activity=organisation_service.activity_of(organisation))


@bp.route("/organisations/<int:organisation_id>/approve", methods=["POST"])
def approve_organisation(organisation_id: int) -> Response:
    organisation = _organisation(organisation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: organisation_service.approve_organisation(current_user, organisation),
            _("%(name)s has been approved; its admins have been emailed.",
              name=organisation.name))
    return redirect(safe_next_url(request.args.get("next"))
                    or url_for("admin.organisation_detail", organisation_id=organisation.id))


@bp.route("/organisations/<int:organisation_id>/suspend", methods=["POST"])
def suspend_organisation(organisation_id: int) -> Response | tuple[str, int]:
    organisation = _organisation(organisation_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give a reason to suspend an organisation."), "error")
        return redirect(url_for("admin.organisation_detail", organisation_id=organisation.id))
    attempt(lambda: organisation_service.suspend_organisation(current_user, organisation,
                                                              form.reason.data),
            _("%(name)s has been suspended.", name=organisation.name))
    return redirect(url_for("admin.organisation_detail", organisation_id=organisation.id))


@bp.route("/organisations/<int:organisation_id>/reactivate", methods=["POST"])
def reactivate_organisation(organisation_id: int) -> Response:
    organisation = _organisation(organisation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: organisation_service.reactivate_organisation(current_user, organisation),
            _("%(name)s is active again.", name=organisation.name))
    return redirect(url_for("admin.organisation_detail", organisation_id=organisation.id))


@bp.route("/organisations/<int:organisation_id>/<any(trust, distrust):change>",
          methods=["POST"])
def trust_organisation(organisation_id: int, change: str) -> Response:
    organisation = _organisation(organisation_id)
    form = TrustForm(prefix="trust")
    if not form.validate_on_submit():
        flash(_("The note is too long, or the form had expired. Please try again."), "error")
    else:
        trusted = change == "trust"
        attempt(lambda: organisation_service.set_trusted(current_user, organisation, trusted,
                                                         form.reason.data or ""),
                _("%(name)s is trusted: its listings are published without review.",
                  name=organisation.name) if trusted else
                _("%(name)s is no longer trusted: its listings are reviewed again.",
                  name=organisation.name))
    return redirect(safe_next_url(request.args.get("next"))
                    or url_for("admin.organisation_detail", organisation_id=organisation.id))
