"""Saving a search as an alert, and managing one's alerts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..extensions import db
from ..i18n import current_language
from ..models import Alert, AlertFrequency
from ..security import Action, permitted
from ..services import alerts as alert_service
from ..services.errors import DomainError
from ..services.search import SearchQuery
from ..web import member_required

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


def _own_alert_or_404(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None or not permitted(current_user, Action.MANAGE_ALERT, alert):
        abort(404)
    return alert


def _checked() -> None:
    if not FlaskForm().validate_on_submit():  # only the CSRF token travels
        abort(400)


@bp.route("/", methods=["GET"])
@member_required
def index() -> str:
    alerts = db.session.scalars(select(Alert).where(Alert.user_id == current_user.id)
                                .order_by(Alert.created_at.desc())).all()
    language = current_language()
    return render_template("alerts/index.html", alerts=alerts, frequencies=list(AlertFrequency),
                           describe=lambda alert: alert_service.describe(alert, language),
                           query_args=lambda alert: alert_service.alert_query(alert).to_args())


@bp.route("/", methods=["POST"])
@member_required
def create() -> Response:
    """The "alert me" button on the search page: the search travels in hidden fields."""
    _checked()
    query = SearchQuery.from_args(request.form)
    frequency = request.form.get("frequency", AlertFrequency.INSTANT.value)
    if frequency not in {item.value for item in AlertFrequency}:
        frequency = AlertFrequency.INSTANT.value
    try:
        alert_service.create_alert(current_user, query, frequency)
    except DomainError as error:
        flash(error.message, "error")
        args: dict[str, Any] = query.to_args()  # url_for's typed keywords are not among them
        return redirect(url_for("listings.search", **args))
    flash(_("Alert saved. We email you when a new listing matches."), "success")
    return redirect(url_for("alerts.index"))


@bp.route("/<int:alert_id>/<any(pause, resume, delete):change>", methods=["POST"])
@login_required
def change(alert_id: int, change: str) -> Response:
    alert = _own_alert_or_404(alert_id)
    _checked()
    if change == "delete":
        alert_service.delete_alert(current_user, alert)
        flash(_("The alert has been deleted."), "success")
    else:
        alert_service.set_alert_paused(current_user, alert, change == "pause")
        flash(_("The alert is paused.") if change == "pause" else _("The alert is on again."),
              "success")
    return redirect(url_for("alerts.index"))


@bp.route("/<int:alert_id>/frequency", methods=["POST"])
@login_required
def frequency(alert_id: int) -> Response:
    alert = _own_alert_or_404(alert_id)
    _checked()
    value = request.form.get("frequency", "")
    if value not in {item.value for item in AlertFrequency}:
        abort(400)
    alert_service.set_alert_frequency(current_user, alert, value)
    flash(_("Saved."), "success")
    return redirect(url_for("alerts.index"))
