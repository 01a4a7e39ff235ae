"""Accounts: sign-up, email confirmation, login, password reset, profile, approvals.

The package, by concern (each module's docstring says more):
  addresses.py       normalise_email, find_user_by_email
  registration.py    sign_up (NewOrganisationRequest), resend_confirmation, confirm_email
  sessions.py        authenticate, record_login, log_out, end_all_sessions
  password_links.py  reset links, reset_password, change_password
  profile.py         update_profile, set_language, mail preferences
  members.py         approvals, deactivation and roles (set_member_role, set_role)
  onboarding.py      create_account, organisation_for_onboarding (operators, the CLI)

Everything other modules use is imported from here (`from ..services import accounts`). A test
that replaces a name a function reads (say `hash_password`) replaces it in the module that
reads it (`accounts.registration`): set on this package it would change nothing.
"""

from .addresses import find_user_by_email, normalise_email
from .members import (
    active_platform_admin_count,
    approve_member,
    deactivate_member,
    reactivate_member,
    set_member_role,
    set_role,
)
from .onboarding import create_account, organisation_for_onboarding
from .password_links import (
    _password_fingerprint,
    change_password,
    request_password_reset,
    reset_password,
    user_for_reset_token,
)
from .profile import (
    preferences_token,
    set_language,
    set_notification_preference,
    unsubscribe,
    unsubscribe_request,
    update_profile,
    user_for_preferences_token,
)
from .registration import NewOrganisationRequest, confirm_email, resend_confirmation, sign_up
from .sessions import (
    EmailNotConfirmed,
    InvalidCredentials,
    authenticate,
    end_all_sessions,
    log_out,
    record_login,
)

__all__ = [
    "EmailNotConfirmed", "InvalidCredentials", "NewOrganisationRequest",
    "_password_fingerprint", "active_platform_admin_count", "approve_member", "authenticate",
    "change_password", "confirm_email", "create_account", "deactivate_member",
    "end_all_sessions", "find_user_by_email", "log_out", "normalise_email",
    "organisation_for_onboarding", "preferences_token", "reactivate_member", "record_login",
    "request_password_reset", "resend_confirmation", "reset_password", "set_language",
    "set_member_role", "set_notification_preference", "set_role", "sign_up",
    "unsubscribe", "unsubscribe_request", "update_profile", "user_for_preferences_token",
    "user_for_reset_token",
]
