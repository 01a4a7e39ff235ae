"""Logging in and out: credentials, the last login, ending every session of an account."""

from __future__ import annotations

from flask_babel import gettext as _

from ...models import User, UserStatus
from ...models.base import utcnow
from ...unit_of_work import atomic
from ..errors import DomainError, PermissionDenied
from ..passwords import verify_password
from .addresses import find_user_by_email


class EmailNotConfirmed(DomainError):
    status_code = 403


class InvalidCredentials(DomainError):
    status_code = 401


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or DomainError (EmailNotConfirmed when unconfirmed)."""
    user = find_user_by_email(email)
    # The hash is checked even for an unknown address, so timing does not tell which exist.
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches:
        raise InvalidCredentials(_("The email address or password is incorrect."),
                                 field="password")
    if user.status is UserStatus.DEACTIVATED:
        raise PermissionDenied(
            _("This account has been deactivated. Ask an administrator of your organisation.")
        )
    if not user.email_confirmed:
        raise EmailNotConfirmed(
            _("Confirm your email address first, with the link we emailed you."),
            field="email",
        )
    return user


@atomic
def record_login(user: User) -> None:
    user.last_login_at = utcnow()


def end_all_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie of `user` (see User.get_id)."""
    user.session_version += 1


@atomic
def log_out(user: User) -> None:
    end_all_sessions(user)
