"""Signed, expiring tokens for the links in emails."""

from __future__ import annotations

import enum
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .errors import InvalidToken


class TokenPurpose(enum.StrEnum):
    # The salt separates purposes: a confirmation token can never reset a password.
    CONFIRM_EMAIL = "confirm-email"
    RESET_PASSWORD = "reset-password"  # noqa: S105  # nosec B105
    PREFERENCES = "email-preferences"
    UNSUBSCRIBE = "unsubscribe"  # one kind of email, in one click (List-Unsubscribe)


def _serializer(purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose.value)


def make_token(purpose: TokenPurpose, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: TokenPurpose, token: str, max_age: int | None) -> dict[str, Any]:
    """Return the payload, or raise InvalidToken when expired, tampered with or malformed."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise InvalidToken(_("This link has expired. Request a new one below.")) from error
    except BadSignature as error:
        raise InvalidToken(
            _("This link is not valid. Check that you copied all of it, or request a new one.")
        ) from error
    if not isinstance(payload, dict):
        raise InvalidToken(_("This link is not valid."))
    return payload
