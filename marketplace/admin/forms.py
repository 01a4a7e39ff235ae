"""Forms for platform admins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to the organisation and kept in the audit log)"),
                           validators=[DataRequired(), Length(max=1000)])
