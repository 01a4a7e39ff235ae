"""Platform admin pages: reports (routes on the admin blueprint, behind its permission check)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..extensions import db
from ..i18n import current_language
from ..models import Listing, ReportOutcome
from ..services import moderation as moderation_service
from ..services import reports as report_service
from ..web import INVALID_FORM_STATUS, page_number, refusals_on
from .views import bp

OPEN, RESOLVED = "open", "resolved"

# What the moderator does, in the words of the button (ReportOutcome.label says what was done).
OUTCOME_CHOICES = [
    SelectChoice(ReportOutcome.DISMISSED.value, _l("Dismiss: nothing wrong found")),
    SelectChoice(ReportOutcome.CHANGES_REQUESTED.value,
                 _l("Ask the poster for changes (the listing goes back to draft)")),
    SelectChoice(ReportOutcome.LISTING_REMOVED.value, _l("Remove the listing")),
]


class ResolveForm(FlaskForm):
    """Resolve every open report on one listing (one form per listing: a prefix each)."""

    outcome = RadioField(_l("Outcome"), choices=OUTCOME_CHOICES,
                         validators=[InputRequired(message=_l("Choose an outcome."))])
    standard_reason = SelectField(_l("Standard reason for the poster"), coerce=int,
                                  validators=[Optional()])
    reason_for_poster = TextAreaField(
        _l("Reason for the poster"),
        description=_l("Needed to ask for changes or to remove; the poster reads it "
                       "(after the standard reason, if you chose one)."),
        validators=[Optional(), Length(max=report_service.MAX_POSTER_REASON_LENGTH)],
        render_kw={"rows": 3})
    note = TextAreaField(_l("Note for the audit log (optional)"),
                         validators=[Optional(), Length(max=report_service.MAX_NOTE_LENGTH)],
                         render_kw={"rows": 2})

    def __init__(self, listing_id: int, **kwargs: object) -> None:
        super().__init__(prefix=f"listing-{listing_id}", **kwargs)
        language = current_language()
        self.standard_reason.choices = [SelectChoice(0, _("None"))] + [
            SelectChoice(reason.id, reason.text(language))
            for reason in moderation_service.active_reasons()]


@bp.app_template_global("reported_listing_count")
def reported_listing_count() -> int:
    """For the admin navigation: how many listings wait in the report queue."""
    return report_service.reported_listing_count()


@bp.route("/reports")
def reports() -> str:
    """The report queue grouped per listing (oldest first), or the resolved reports."""
    if request.args.get("status") == RESOLVED:
        return render_template("admin/reports.html", status=RESOLVED,
                               pagination=report_service.resolved_reports(page_number()),
                               open_count=report_service.reported_listing_count(),
                               page_url=lambda number: url_for("admin.reports", status=RESOLVED,
                                                               page=number))
    return _render_queue(page_number())[0]


def _render_queue(page: int, failed: ResolveForm | None = None,
                  failed_listing_id: int | None = None) -> tuple[str, bool]:
    """The open queue; `failed` replaces the form of its listing. Also says whether that
    listing was on the page (it may have been resolved by someone else meanwhile)."""
    pagination = report_service.open_reports_by_listing(page)
    forms = {}
    for entry in pagination.items:
        if failed is not None and entry.listing.id == failed_listing_id:
            forms[entry.listing.id] = failed
        else:
            forms[entry.listing.id] = ResolveForm(entry.listing.id, formdata=None)
    shown = failed_listing_id in forms
    return render_template("admin/reports.html", status=OPEN, pagination=pagination,
                           forms=forms, open_count=pagination.total,
                           page_url=lambda number: url_for("admin.reports", page=number)), shown


@bp.route("/reports/<int:listing_id>/resolve", methods=["POST"])
def resolve_reports(listing_id: int) -> Response | tuple[str, int]:
    listing = db.get_or_404(Listing, listing_id)
    page = page_number()
    form = ResolveForm(listing_id)
    if form.validate_on_submit():
        title = listing.title
        with refusals_on(form) as call:
            reason = report_service.poster_reason(listing, form.standard_reason.data,
                                                  form.reason_for_poster.data or "")
            count = report_service.resolve_reports(current_user, listing, form.outcome.data,
                                                   form.note.data or "", reason)
        if call.succeeded:
            flash(ngettext("%(num)d report on %(title)s resolved.",
                           "%(num)d reports on %(title)s resolved.", count, title=title),
                  "success")
            return redirect(url_for("admin.reports", page=page))
    body, shown = _render_queue(page, form, listing_id)
    if not shown:  # no longer in the queue: say why on the page it is not on
        flash(" ".join(form.form_errors) or _("These reports were already resolved."), "error")
        return redirect(url_for("admin.reports", page=page))
    return body, INVALID_FORM_STATUS
