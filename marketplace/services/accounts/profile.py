"""A member's own settings: name, phone, language, which mail to receive."""

from __future__ import annotations

from flask_babel import gettext as _

from ...extensions import db
from ...models import Language, NotificationPreference, User
from ..errors import DomainError, InvalidToken
from ..mail import email_kinds_for
from ..tokens import TokenPurpose, read_token


def update_profile(
    user: User,
    *,
    name: str,
    phone: str | None,
    language: Language | str,
    notifications: NotificationPreference | str,
    email_kinds: list[str] | None = None,
) -> None:
    name = " ".join(name.split())
    if not name:
        raise DomainError(_("Enter your name."), field="name")
    user.name = name
    user.phone = (phone or "").strip() or None
    user.language = Language(language)
    user.notifications = NotificationPreference(notifications)
    if email_kinds is not None:
        _set_email_kinds(user, email_kinds)
    db.session.commit()


def _set_email_kinds(user: User, wanted_kinds: list[str]) -> None:
    offered = set(email_kinds_for(user))
    muted = (user.muted_kinds - offered) | (offered - set(wanted_kinds))
    user.muted_email_kinds = ",".join(sorted(muted))


def set_language(user: User, language: Language | str) -> None:
    user.language = Language(language)
    db.session.commit()


def user_for_preferences_token(token: str) -> User:
    # No expiry: the link in an old email must still let its reader unsubscribe.
    payload = read_token(TokenPurpose.PREFERENCES, token, max_age=None)
    user = db.session.get(User, payload.get("u"))
    if user is None:
        raise InvalidToken(_("This link is not valid."))
    return user


def set_notification_preference(user: User, preference: NotificationPreference | str,
                                email_kinds: list[str] | None = None) -> None:
    user.notifications = NotificationPreference(preference)
    if email_kinds is not None:
        _set_email_kinds(user, email_kinds)
    db.session.commit()
