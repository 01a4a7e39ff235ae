"""Who may do what: decided here, used by views, templates, services and tests alike."""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import gettext as _

from .models import Organisation, OrganisationStatus, Role, User, UserStatus


class Action(enum.StrEnum):
    PARTICIPATE = "participate"  # post listings and claim them
    MANAGE_ORGANISATION = "manage_organisation"  # sites and colleagues of one organisation
    ADMINISTER_PLATFORM = "administer_platform"  # approve organisations, moderate, categories


def can(user: User | Any, action: Action, obj: Any = None) -> bool:
    """True when `user` may perform `action` (on `obj`, where the action concerns one)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.status is UserStatus.DEACTIVATED:
        return False
    platform_admin = (
        user.is_platform_admin and user.status is UserStatus.ACTIVE and user.email_confirmed
    )
    match action:
        case Action.PARTICIPATE:
            return participation_block_reason(user) is None
        case Action.MANAGE_ORGANISATION:
            if platform_admin:
                return True
            return (
                isinstance(obj, Organisation)
                and user.role is Role.ORG_ADMIN
                and user.status is UserStatus.ACTIVE
                and user.email_confirmed
                and user.organisation_id == obj.id
            )
        case Action.ADMINISTER_PLATFORM:
            return platform_admin
    return False


def participation_block_reason(user: User) -> str | None:
    """Why `user` cannot post or claim yet, in words for them; None when they can."""
    if not user.email_confirmed:
        return _("Confirm your email address to start posting and claiming.")
    if user.status is UserStatus.PENDING:
        return _(
            "Your account is waiting for approval by an administrator of your organisation. "
            "You can post and claim once it has been approved."
        )
    if user.status is UserStatus.DEACTIVATED:
        return _("Your account has been deactivated.")
    organisation = user.organisation
    if organisation is None:
        if user.is_platform_admin:
            return _("Platform admins without an organisation cannot post or claim.")
        return _("Your account is not linked to an organisation.")
    if organisation.status is OrganisationStatus.PENDING:
        return _(
            "Your organisation is waiting for approval by the platform administrators. "
            "You can post and claim once it has been approved; we will email you."
        )
    if organisation.status is OrganisationStatus.SUSPENDED:
        return _(
            "Your organisation has been suspended by the platform administrators, so you "
            "cannot post or claim. Contact them if you think this is a mistake."
        )
    return None
