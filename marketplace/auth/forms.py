"""Forms for signing up, logging in and resetting a password."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from ..forms import (
    SiteFieldsMixin,
    email_field,
    language_field,
    new_password_field,
    organisation_kind_field,
)

JOIN_EXISTING = "existing"
REQUEST_NEW = "new"


def _optional_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class SignUpForm(SiteFieldsMixin, FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name")),
                                                      Length(max=120)],
                       render_kw={"autocomplete": "name"})
    email = email_field(_l("Work email address"))
    password = new_password_field()
    language = language_field()
    organisation_choice = RadioField(
        _l("Your organisation"),
        choices=[SelectChoice(JOIN_EXISTING, _l("My organisation is on the marketplace already")),
                 SelectChoice(REQUEST_NEW, _l("Register my organisation"))],
        default=JOIN_EXISTING,
        validators=[DataRequired(_l("Choose whether your organisation is on the marketplace "
                                    "already"))],
    )
    organisation = SelectField(_l("Organisation"), coerce=_optional_int,
                               validators=[Optional()],
                               description=_l("An administrator of your organisation "
                                              "approves your account."))
    organisation_name = StringField(_l("Name of the organisation"),
                                    validators=[Optional(), Length(max=120)],
                                    render_kw={"autocomplete": "organization"})
    organisation_kind = organisation_kind_field(optional=True)
    kvk_number = StringField(_l("KvK number"), validators=[Optional(), Length(max=20)],
                             description=_l("The 8 digits of the Chamber of Commerce number."),
                             render_kw={"inputmode": "numeric"})

    def set_choices(self, organisations: list[tuple[int, str]]) -> None:
        self.organisation.choices = [
            SelectChoice("", _l("Choose your organisation…")),
            *[SelectChoice(organisation_id, name) for organisation_id, name in organisations],
        ]
        self.set_province_choices()


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(_l("Password"),
                             validators=[DataRequired(_l("Enter your password")),
                                         Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("Keep me logged in on this device"))
    next = HiddenField()


class EmailForm(FlaskForm):
    """Asks for an address: to reset a password, or to resend the confirmation link."""

    email = email_field()


class ResetPasswordForm(FlaskForm):
    password = new_password_field(_l("New password"))
