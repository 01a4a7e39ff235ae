"""Platform admin pages: field safety notices, recorded and followed up (routes on the admin
blueprint, behind its permission check)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..extensions import db
from ..models import SafetyNotice
from ..services import safety_notices as notice_service
from ..web import refusals_on, render_form
from .views import bp


class SafetyNoticeForm(FlaskForm):
    # Lengths are checked by the service (with its words); these keep absurd input out.
    manufacturer = StringField(_l("Manufacturer"), validators=[Optional(), Length(max=200)])
    model = StringField(_l("Model"), validators=[Optional(), Length(max=200)])
    udi_di = StringField(
        _l("UDI-DI (GTIN)"), validators=[Optional(), Length(max=40)],
        description=_l("From the notice or the label. Without it, give manufacturer and "
                       "model: they are compared without case and spaces."))
    serials_from = StringField(_l("Serial or lot numbers from"),
                               validators=[Optional(), Length(max=100)])
    serials_to = StringField(
        _l("Serial or lot numbers to"), validators=[Optional(), Length(max=100)],
        description=_l("A range such as SN1000 to SN1999. Leave both empty when every unit "
                       "is concerned."))
    serials_listed = TextAreaField(
        _l("Or these serial or lot numbers"), validators=[Optional(), Length(max=20_000)],
        description=_l("One a line, such as L123."))
    text = TextAreaField(
        _l("What the notice says and what to do"), validators=[Length(max=10_000)],
        description=_l("Receivers get this in their email, as written."))
    link = StringField(_l("Link to the manufacturer's notice"),
                       validators=[Optional(), Length(max=1000)])


def _details(form: SafetyNoticeForm) -> notice_service.NoticeDetails:
    return notice_service.NoticeDetails(**{
        name: getattr(form, name).data or "" for name in (
            "manufacturer", "model", "udi_di", "serials_from", "serials_to", "serials_listed",
            "text", "link")})


@bp.route("/safety-notices")
def safety_notices() -> str:
    return render_template("admin/safety_notices.html", notices=notice_service.all_notices())


@bp.route("/safety-notices/new", methods=["GET", "POST"])
def new_safety_notice() -> Response | tuple[str, int]:
    form = SafetyNoticeForm()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            notice = notice_service.record_notice(current_user, _details(form))
        if call.succeeded:
            flash(ngettext("The notice has been recorded and sent to %(num)d organisation.",
                           "The notice has been recorded and sent to %(num)d organisations.",
                           len(notice.recipients)), "success")
            return redirect(url_for("admin.safety_notice", notice_id=notice.id))
    return render_form("admin/safety_notice_form.html", form)


@bp.route("/safety-notices/<int:notice_id>")
def safety_notice(notice_id: int) -> str:
    notice = db.session.get(SafetyNotice, notice_id)
    if notice is None:
        abort(404)
    return render_template("admin/safety_notice.html", notice=notice,
                           recipients=notice_service.recipients_of(notice))
