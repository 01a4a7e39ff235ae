"""A field safety notice as its receiving organisation sees it, and its acknowledgement."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import SafetyNoticeRecipient
from ..organisations.forms import ConfirmForm
from ..security import Action, permitted
from ..services import safety_notices as notice_service
from ..web import attempt, member_required

bp = Blueprint("safety_notices", __name__, url_prefix="/safety-notices")


def _recipient_or_404(recipient_id: int) -> SafetyNoticeRecipient:
    """The notice as sent to the current member's organisation; 404 for anyone else, so a
    number says nothing about other organisations' devices."""
    recipient = db.session.get(SafetyNoticeRecipient, recipient_id)
    if recipient is None or not permitted(current_user, Action.ACKNOWLEDGE_SAFETY_NOTICE,
                                          recipient):
        abort(404)
    return recipient


@bp.route("/<int:recipient_id>")
@member_required
def show(recipient_id: int) -> str:
    recipient = _recipient_or_404(recipient_id)
    transfers = notice_service.matching_transfers(recipient.notice, recipient.organisation_id)
    return render_template("safety_notices/show.html", recipient=recipient,
                           notice=recipient.notice, transfers=transfers, form=ConfirmForm())


@bp.route("/<int:recipient_id>/acknowledge", methods=["POST"])
@member_required
def acknowledge(recipient_id: int) -> Response:
    recipient = _recipient_or_404(recipient_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: notice_service.acknowledge(current_user, recipient),
            _("Thank you: the notice is marked as handled for your organisation."),
            forbid=True)
    return redirect(url_for("safety_notices.show", recipient_id=recipient_id))
