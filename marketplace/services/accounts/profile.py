"""A member's own settings: name, phone, language, which mail to receive."""

from __future__ import annotations

from flask_babel import gettext as _

from ...extensions import db
from ...models import Language, NotificationPreference, User
from ...unit_of_work import atomic
from ..errors import DomainError, InvalidToken
from ..mail import EMAIL_KINDS, email_kinds_for
from ..tokens import TokenPurpose, make_token, read_token


@atomic
def update_profile(
    user: User,
    *,
    name: str,
    phone: str | None,
    language: Language | str,
    notifications: NotificationPreference | str,
    email_kinds: list[str] | None = None,
    follows_organisation_listings: bool | None = None,
) -> None:
    """Save the member's own settings; `follows_organisation_listings` (members of an
    organisation only) makes them hear of every claim on its listings."""
    name = " ".join(name.split())
    if not name:
        raise DomainError(_("Enter your name."), field="name")
    user.name = name
    user.phone = (phone or "").strip() or None
    user.language = Language(language)
    user.notifications = NotificationPreference(notifications)
    if email_kinds is not None:
        _set_email_kinds(user, email_kinds)
    if follows_organisation_listings is not None:
        user.follows_organisation_listings = (follows_organisation_listings
                                              and user.organisation_id is not None)


def _set_email_kinds(user: User, wanted_kinds: list[str]) -> None:
    offered = set(email_kinds_for(user))
    muted = (user.muted_kinds - offered) | (offered - set(wanted_kinds))
    user.muted_email_kinds = ",".join(sorted(muted))


@atomic
def set_language(user: User, language: Language | str) -> None:
    user.language = Language(language)


def preferences_token(user: User) -> str:
    """The token of `user`'s email preferences link (the link in every email)."""
    return make_token(TokenPurpose.PREFERENCES, {"u": user.id})


def user_for_preferences_token(token: str) -> User:
    # No expiry: the link in an old email must still let its reader unsubscribe.
    payload = read_token(TokenPurpose.PREFERENCES, token, max_age=None)
    user = db.session.get(User, payload.get("u"))
    if user is None:
        raise InvalidToken(_("This link is not valid."))
    return user


@atomic
def set_notification_preference(user: User, preference: NotificationPreference | str,
                                email_kinds: list[str] | None = None) -> None:
    user.notifications = NotificationPreference(preference)
    if email_kinds is not None:
        _set_email_kinds(user, email_kinds)


def unsubscribe_request(token: str) -> tuple[User, str]:
    """The member and the kind of email a one-click unsubscribe link (List-Unsubscribe) names.

    Raises InvalidToken for a link that was tampered with, or whose account is gone.
    """
    # No expiry, as the preferences link: the link in an old email must still work.
    payload = read_token(TokenPurpose.UNSUBSCRIBE, token, max_age=None)
    user_id, kind = payload.get("u"), payload.get("k")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.deleted_at is not None or kind not in EMAIL_KINDS:
        raise InvalidToken(_("This link is not valid."))
    return user, kind


@atomic
def unsubscribe(user: User, kind: str) -> None:
    """Switch one kind of optional email off for `user`; doing it again changes nothing."""
    user.muted_email_kinds = ",".join(sorted(user.muted_kinds | {kind}))
