"""Passwords: reset links by email, resetting from one, and changing one's own."""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import gettext as _

from ...extensions import db
from ...models import User
from ...models.base import utcnow
from ...unit_of_work import atomic
from ..errors import DomainError, InvalidToken, WrongPassword
from ..mail import queue_email
from ..passwords import check_password_policy, hash_password, verify_password
from ..tokens import TokenPurpose, make_token, read_token
from ..urls import external_url
from .addresses import find_user_by_email
from .sessions import end_all_sessions


def _password_fingerprint(user: User) -> str:
    # Part of the reset token: once the password changes, the token no longer matches.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


@atomic
def request_password_reset(email: str) -> None:
    """Email a reset link when the address has an active account; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    queue_password_link(user, "reset_password")


def queue_password_link(user: User, template: str) -> None:
    """Queue `template` to `user` with a link to choose a password (valid until it changes)."""
    token = make_token(TokenPurpose.RESET_PASSWORD,
                       {"u": user.id, "p": _password_fingerprint(user)})
    queue_email(
        template,
        user,
        reset_url=external_url("auth.reset_password", token=token),
        hours=max(1, current_app.config["RESET_TOKEN_MAX_AGE"] // 3600),
    )


def user_for_reset_token(token: str) -> User:
    payload = read_token(TokenPurpose.RESET_PASSWORD, token,
                         current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload.get("u"))
    if user is None or not user.is_active or payload.get("p") != _password_fingerprint(user):
        raise InvalidToken(_("This link has been used already or is no longer valid. "
                             "Request a new one below."))
    return user


@atomic
def reset_password(token: str, new_password: str) -> User:
    """Set a new password from an emailed link; ends all sessions. Raises InvalidToken."""
    user = user_for_reset_token(token)
    check_password_policy(new_password, [user.name, user.email])
    _set_password(user, new_password)
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()  # the link proved the address
    return user


@atomic
def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword(_("Your current password is not right."), field="current_password")
    try:
        check_password_policy(new_password, [user.name, user.email])
    except DomainError as error:
        raise DomainError(error.message, field="new_password") from error
    _set_password(user, new_password)


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    queue_email("password_changed", user, reset_url=external_url("auth.forgot_password"))
