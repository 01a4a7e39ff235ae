"""Forms for a user's own account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField, TelField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..forms import email_kinds_field, language_field, new_password_field, notifications_field


class ProfileForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(_l("Enter your name")),
                                                      Length(max=120)],
                       render_kw={"autocomplete": "name"})
    phone = TelField(
        _l("Phone (optional)"),
        validators=[Optional(), Length(max=32),
                    Regexp(r"^[0-9+()\-\s]{6,32}$",
                           message=_l("Use digits, spaces, +, - and brackets only."))],
        description=_l("Shown to the other side of a claim you are part of."),
        render_kw={"autocomplete": "tel"},
    )
    language = language_field()
    notifications = notifications_field()
    email_kinds = email_kinds_field()
    follows_organisation_listings = BooleanField(
        _l("Also email me about the claims on all my organisation's listings, not only on "
           "those I posted or follow"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password")),
                                                 Length(max=1024)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = new_password_field(_l("New password"))


class PreferencesForm(FlaskForm):
    notifications = notifications_field()
    email_kinds = email_kinds_field()


# --- personal data: export and deletion --------------------------------------------------

class ExportForm(FlaskForm):
    """Only the CSRF token: the button downloads the member's data."""


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"),
                             validators=[DataRequired(_l("Enter your password")),
                                         Length(max=1024)],
                             render_kw={"autocomplete": "current-password"})
    understood = BooleanField(
        _l("I understand that my account is deleted for good and cannot be restored."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))])
