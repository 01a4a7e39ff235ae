"""Fields and choices shared by several forms."""

from __future__ import annotations

import enum
import math
import sys
from collections.abc import Callable
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    validators,
)
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .models import (
    LANGUAGE_NAMES,
    PROVINCE_NAMES,
    Language,
    NotificationPreference,
    OrganisationKind,
    Province,
)
from .services.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH


class NumberRange(validators.NumberRange):
    """wtforms' NumberRange for any whole number typed. wtforms asks math.isnan of the value,
    which fails for a number of more than 308 digits (OverflowError: a 500 where the member
    should read "must be between"); such a number is checked as infinity, and is out of range
    wherever there is a maximum."""

    def __call__(self, form: Any, field: Any) -> None:
        typed = field.data
        if not isinstance(typed, int) or abs(typed) <= sys.float_info.max:  # exact comparison
            super().__call__(form, field)
            return
        field.data = math.inf if typed > 0 else -math.inf
        try:
            super().__call__(form, field)
        finally:
            field.data = typed


def enum_choices(enum_class: type[enum.Enum]) -> list[SelectChoice]:
    """An option for each member of `enum_class`, its `.label` read when the option is shown,
    in the language of that request: a form's choices are built once, at import."""
    return [SelectChoice(member.value, LazyString(lambda member=member: member.label))
            for member in enum_class]


def as_member_of(enum_class: type[enum.Enum]) -> Callable[[Any], Any]:
    """A SelectField's `coerce`: the member of `enum_class` for a submitted value, so services
    get the enum their types promise; anything else is kept as given, for the field's own
    choice check to refuse in its usual words ("" stays "": not chosen)."""
    def coerce(value: Any) -> Any:
        try:
            return enum_class(value)
        except ValueError:
            return value

    return coerce


def email_field(label: Any = None) -> EmailField:
    return EmailField(
        label or _l("Email address"),
        validators=[DataRequired(_l("Enter your email address")), Length(max=254),
                    Email(check_deliverability=False,
                          message=_l("Enter an email address like name@example.org"))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def new_password_field(label: Any = None) -> PasswordField:
    return PasswordField(
        label or _l("Password"),
        validators=[DataRequired(_l("Enter a password")), Length(max=PASSWORD_MAX_LENGTH)],
        description=_l("At least 8 characters. A few unrelated words make a strong password."),
        render_kw={"autocomplete": "new-password", "minlength": 8,
                   "maxlength": PASSWORD_MAX_LENGTH},
    )


def language_field() -> SelectField:
    return SelectField(
        _l("Language"),
        choices=[SelectChoice(language.value, LANGUAGE_NAMES[language]) for language in Language],
        validators=[DataRequired(_l("Choose a language"))],
    )


def notifications_field() -> SelectField:
    return SelectField(
        _l("Email me about claims, messages and matches"),
        choices=enum_choices(NotificationPreference),
        validators=[DataRequired(_l("Choose when we email you"))],
    )


def email_kinds_field() -> SelectMultipleField:
    """Checkboxes for the kinds of optional email a user receives."""
    from .services.mail import KIND_LABELS

    return SelectMultipleField(
        _l("Send me email about"),
        choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description=_l("Emails about your account and its security always arrive."),
    )


def organisation_kind_field(optional: bool = False) -> SelectField:
    return SelectField(
        _l("Kind of organisation"),
        choices=[SelectChoice("", _l("Choose…")), *enum_choices(OrganisationKind)],
        validators=[Optional()] if optional
        else [DataRequired(_l("Choose the kind of organisation"))],
    )


def province_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("Choose…")),
            *[SelectChoice(p.value, PROVINCE_NAMES[p]) for p in Province]]


class SiteFieldsMixin:
    """The address fields of a pick-up site (optional here; the service says what is missing)."""

    site_name = StringField(_l("Site name"), validators=[Optional(), Length(max=120)],
                            description=_l("For example: Main building, or Warehouse."))
    street = StringField(_l("Street and number"), validators=[Optional(), Length(max=160)],
                         render_kw={"autocomplete": "street-address"})
    postcode = StringField(_l("Postcode"), validators=[Optional(), Length(max=10)],
                           render_kw={"autocomplete": "postal-code"})
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)],
                       render_kw={"autocomplete": "address-level2"})
    province = SelectField(_l("Province"), validators=[Optional()])

    def set_province_choices(self) -> None:
        self.province.choices = province_choices()
