"""Forms for platform admins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..models.user import ROLE_LABELS, Role


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason (sent to the organisation and kept in the audit log)"),
                           validators=[DataRequired(_l("Enter a reason")), Length(max=1000)])


class TrustForm(FlaskForm):
    reason = TextAreaField(_l("Note (optional, kept in the audit log)"),
                           validators=[Optional(), Length(max=1000)])


class UserDeactivateForm(FlaskForm):
    reason = TextAreaField(_l("Reason (kept in the audit log)"),
                           validators=[DataRequired(_l("Enter a reason")), Length(max=1000)])


class UserRoleForm(FlaskForm):
    role = SelectField(_l("Role"),
                       choices=[SelectChoice(role.value, ROLE_LABELS[role]) for role in Role])
