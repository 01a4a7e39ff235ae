"""Who may do what: decided here, used by views, templates, services and tests alike."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _

from .models import Listing, ListingStatus, Organisation, OrganisationStatus, Role, User, UserStatus


class Action(enum.StrEnum):
    PARTICIPATE = "participate"  # post listings and claim them
    MANAGE_ORGANISATION = "manage_organisation"  # sites and colleagues of one organisation
    ADMINISTER_PLATFORM = "administer_platform"  # approve organisations, moderate, categories
    VIEW_LISTING = "view_listing"  # open its page and photos (anonymous visitors included)
    EDIT_LISTING = "edit_listing"  # edit, withdraw, re-list, change photos
    REPORT_LISTING = "report_listing"  # tell moderators about another organisation's listing
    VIEW_IMPACT = "view_impact"  # impact dashboard: the platform (obj None) or one organisation


def can(user: User | Any, action: Action, obj: Any = None) -> bool:
    """True when `user` may perform `action` (on `obj`, where the action concerns one)."""
    if action is Action.VIEW_LISTING:
        return listing_visible_to(user, obj)
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
        case Action.MANAGE_ORGANISATION | Action.VIEW_IMPACT:  # the same people, for now
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
        case Action.REPORT_LISTING:
            return (
                isinstance(obj, Listing)
                and user.status is UserStatus.ACTIVE
                and user.email_confirmed
                and obj.organisation_id != user.organisation_id
                and listing_visible_to(user, obj)
            )
        case Action.EDIT_LISTING:
            if platform_admin:
                return True
            return (
                isinstance(obj, Listing)
                and obj.organisation_id == user.organisation_id
                and user.status is UserStatus.ACTIVE
                and (obj.created_by_id == user.id or user.role is Role.ORG_ADMIN)
            )
    return False


def listing_visible_to(user: User | Any, listing: Listing, now: datetime | None = None) -> bool:
    """Published listings are public once their internal phase is over; the rest is for the
    own organisation and platform admins. (Search applies the same rule in SQL.)"""
    insider = (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.status is not UserStatus.DEACTIVATED
        and (user.is_platform_admin or user.organisation_id == listing.organisation_id)
    )
    if insider:
        return True
    if listing.status is not ListingStatus.PUBLISHED:
        return False
    if listing.organisation.status is not OrganisationStatus.ACTIVE:
        return False
    return not listing.is_internal_at(now or datetime.now(UTC))


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
