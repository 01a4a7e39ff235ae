"""Password policy and hashing.

The policy follows NIST SP 800-63B: a minimum length, a generous maximum, no composition rules,
and a check against common and guessable passwords (zxcvbn, which knows the common-password lists
and penalises the user's own name and email).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from .errors import DomainError

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_STRENGTH = 3  # zxcvbn score 0-4; 3 means "safely unguessable" (about 10^8 guesses or more)
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters decide anyway

# Verified against when the email is unknown, so a login takes as long either way.
_TIMING_DUMMY_HASH: dict[str, str] = {}


def check_password_policy(password: str, personal_words: Iterable[str] = ()) -> None:
    """Raise DomainError(field="password") when the password is too short, long or guessable."""
    if len(password) < MIN_LENGTH:
        raise DomainError(
            _("Use at least %(count)d characters.", count=MIN_LENGTH), field="password"
        )
    if len(password) > MAX_LENGTH:
        raise DomainError(
            _("Use at most %(count)d characters.", count=MAX_LENGTH), field="password"
        )
    words = [word for word in personal_words if word]
    words += [part for word in words for part in word.replace("@", " ").replace(".", " ").split()]
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=words)
    if result["score"] < MIN_STRENGTH:
        raise DomainError(
            _(
                "This password is too common or too easy to guess. A few unrelated words "
                "together make a strong password that is easy to remember."
            ),
            field="password",
        )


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _TIMING_DUMMY_HASH:
            _TIMING_DUMMY_HASH[method] = generate_password_hash("timing-dummy", method=method)
        check_password_hash(_TIMING_DUMMY_HASH[method], password)
        return False
    return check_password_hash(password_hash, password)
