"""Forms for organisation admins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, Email, Length, Optional

from ..confirmation import ConfirmStepForm
from ..forms import SiteFieldsMixin
from ..models import Role
from ..services.opening_hours import HOURS_FIELDS, WEEKDAY_NAMES, WEEKDAYS
from ..services.organisations import MAX_INSTRUCTIONS_LENGTH


def _hours_field(day: int) -> StringField:
    return StringField(WEEKDAY_NAMES[day], validators=[Optional(), Length(max=60)],
                       render_kw={"placeholder": "08:00-16:30", "autocomplete": "off",
                                  "spellcheck": "false"})


class SiteForm(SiteFieldsMixin, FlaskForm):
    pickup_instructions = TextAreaField(
        _l("How to collect here (optional)"),
        validators=[Optional(), Length(max=MAX_INSTRUCTIONS_LENGTH)],
        description=_l("Shown with every pick-up: the entrance or loading dock, where to "
                       "report, who to ask for."),
        render_kw={"rows": 3})
    # One line per weekday, checked by the service (services/opening_hours.py).
    hours_0, hours_1, hours_2, hours_3, hours_4, hours_5, hours_6 = (
        _hours_field(day) for day in range(WEEKDAYS))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.set_province_choices()

    @property
    def hours_fields(self) -> list[StringField]:
        return [getattr(self, name) for name in HOURS_FIELDS]


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


class DeactivateForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional, kept in the audit log)"),
                           validators=[Optional(), Length(max=1000)])


class DeactivateStepForm(DeactivateForm, ConfirmStepForm):
    """The confirmation page for deactivating a colleague, with the reason brought along."""


class RoleForm(FlaskForm):
    role = HiddenField(validators=[AnyOf([Role.MEMBER.value, Role.ORG_ADMIN.value])])


class NotificationEmailForm(FlaskForm):
    """The organisation's shared address for claim mail; empty removes it."""

    notification_email = EmailField(
        _l("Notification address (optional)"),
        validators=[Optional(), Length(max=254),
                    Email(check_deliverability=False,
                          message=_l("Enter an email address like name@example.org"))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        description=_l("A shared mailbox, such as the facilities desk's, that receives every "
                       "email about claims on your organisation's listings, besides the "
                       "colleague who posted the listing. Leave empty for none."),
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class MedicalTechnologyForm(FlaskForm):
    """Name a colleague one of medical technology ("on"), or no longer ("off")."""

    medical_technology = HiddenField(validators=[AnyOf(["on", "off"])])


class MedicalSignOffForm(FlaskForm):
    requires_medical_sign_off = BooleanField(
        _l("Claims for medical devices need approval by medical technology"),
        description=_l("When a colleague claims a medical device (a hoist, a care bed, a "
                       "monitor), the colleagues marked as medical technology first see its "
                       "device passport and approve or refuse the claim; only an approved claim "
                       "reaches the giver."))
