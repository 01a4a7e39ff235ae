"""The form a member fills in to report a listing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..models import ReportReason
from ..models.moderation import REPORT_REASON_LABELS
from ..services.reports import MAX_TEXT_LENGTH


class ReportForm(FlaskForm):
    reason = RadioField(_l("What is wrong with this listing?"),
                        choices=[SelectChoice(reason.value, REPORT_REASON_LABELS[reason])
                                 for reason in ReportReason],
                        validators=[InputRequired(message=_l("Choose a reason from the list."))])
    text = TextAreaField(_l("Tell the moderators more"),
                         validators=[Optional(), Length(max=MAX_TEXT_LENGTH)],
                         description=_l("Required when you choose “Something else”. The poster "
                                        "does not see your report or your name."),
                         render_kw={"rows": 5, "maxlength": MAX_TEXT_LENGTH})
