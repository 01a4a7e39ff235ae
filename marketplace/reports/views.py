"""Members report a listing to the moderators."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db, limiter
from ..models import Listing
from ..security import Action, can
from ..services import reports as report_service
from ..web import member_required, refusals_on, render_form, require
from .forms import ReportForm

bp = Blueprint("reports", __name__)

def _per_user() -> str:
    return f"report:{getattr(current_user, 'id', None)}"


@bp.route("/listings/<int:listing_id>/report", methods=["GET", "POST"])
@member_required
@limiter.limit(lambda: current_app.config["REPORT_RATE_LIMIT"],
               key_func=_per_user, methods=["POST"])
def report_listing(listing_id: int) -> Response | tuple[str, int]:
    listing = db.session.get(Listing, listing_id)
    if listing is None or not can(current_user, Action.VIEW_LISTING, listing):
        abort(404)  # as on the listing page: whether a draft exists is nobody else's business
    require(Action.REPORT_LISTING, listing)
    form = ReportForm()
    if form.validate_on_submit():
        with refusals_on(form, forbid=True) as call:
            report_service.report_listing(current_user, listing, form.reason.data,
                                          form.text.data or "")
        if call.succeeded:
            flash(_("Thank you, the moderators will look at it."), "success")
            return redirect(url_for("listings.show", listing_id=listing.id))
    return render_form("reports/report.html", form=form, listing=listing,
                       already_reported=report_service.has_open_report(current_user, listing))
