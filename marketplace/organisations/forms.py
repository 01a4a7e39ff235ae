"""Forms for organisation admins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from ..confirmation import ConfirmStepForm
from ..forms import SiteFieldsMixin
from ..models import Role


class SiteForm(SiteFieldsMixin, FlaskForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.set_province_choices()


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class DeactivateForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional, kept in the audit log)"),
                           validators=[Optional(), Length(max=1000)])


class DeactivateStepForm(DeactivateForm, ConfirmStepForm):
    """The confirmation page for deactivating a colleague, with the reason brought along."""


class RoleForm(FlaskForm):
    role = HiddenField(validators=[AnyOf([Role.MEMBER.value, Role.ORG_ADMIN.value])])
