"""Who may do what: decided here, used by views, templates, services and tests alike."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _

from .models import (
    Claim,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationStatus,
    Role,
    User,
    UserStatus,
    Wanted,
    WantedStatus,
)


class Action(enum.StrEnum):
    PARTICIPATE = "participate"  # post listings and claim them
    MANAGE_ORGANISATION = "manage_organisation"  # sites and colleagues of one organisation
    ADMINISTER_PLATFORM = "administer_platform"  # approve organisations, moderate, categories
    VIEW_LISTING = "view_listing"  # open its page and photos (anonymous visitors included)
    EDIT_LISTING = "edit_listing"  # edit, withdraw, re-list, change photos
    REPORT_LISTING = "report_listing"  # tell moderators about another organisation's listing
    VIEW_IMPACT = "view_impact"  # impact dashboard: the platform (obj None) or one organisation
    VIEW_CLAIM = "view_claim"  # its page and messages
    DECIDE_CLAIM = "decide_claim"  # accept or decline (the giving organisation)
    CANCEL_CLAIM = "cancel_claim"  # the claimant withdraws
    FOLLOW_UP_CLAIM = "follow_up_claim"  # write a message, confirm the hand-over
    VIEW_WANTED = "view_wanted"  # a wanted post's page (obj a Wanted), or the list (obj None)
    CLOSE_WANTED = "close_wanted"  # mark fulfilled or withdraw: its author or their org admin


def in_good_standing(user: User | Any) -> bool:
    """Confirmed, approved, not deactivated, and of an active organisation (platform admins
    need none). Any other account sees what an anonymous visitor sees, plus its own profile,
    its own claims and what it is waiting for: signing up for an organisation must not open
    its drafts to a stranger before its admin said yes."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.status is not UserStatus.ACTIVE or not user.email_confirmed:
        return False
    return user.is_platform_admin or user.organisation_active


def can(user: User | Any, action: Action, obj: Any = None) -> bool:
    """True when `user` may perform `action` (on `obj`, where the action concerns one)."""
    if action is Action.VIEW_LISTING:
        return listing_visible_to(user, obj)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.status is UserStatus.DEACTIVATED:
        return False
    if action is Action.CANCEL_CLAIM:  # the one change left to a suspended organisation
        return isinstance(obj, Claim) and is_claimant(user, obj)
    if action is Action.VIEW_CLAIM:
        return isinstance(obj, Claim) and (
            is_claimant(user, obj) or is_giver(user, obj)
            or can(user, Action.ADMINISTER_PLATFORM))
    if not in_good_standing(user):
        return False
    platform_admin = user.is_platform_admin
    match action:
        case Action.PARTICIPATE:
            return participation_block_reason(user) is None
        case Action.MANAGE_ORGANISATION | Action.VIEW_IMPACT:  # the same people, for now
            if platform_admin:
                return True
            return (
                isinstance(obj, Organisation)
                and user.role is Role.ORG_ADMIN
                and user.organisation_id == obj.id
            )
        case Action.ADMINISTER_PLATFORM:
            return platform_admin
        case Action.REPORT_LISTING:
            return (
                isinstance(obj, Listing)
                and obj.organisation_id != user.organisation_id
                and listing_visible_to(user, obj)
            )
        case Action.EDIT_LISTING:
            if platform_admin:
                return True
            return (
                isinstance(obj, Listing)
                and obj.organisation_id == user.organisation_id
                and (obj.created_by_id == user.id or user.role is Role.ORG_ADMIN)
            )
        case Action.DECIDE_CLAIM:
            return isinstance(obj, Claim) and is_giver(user, obj)
        case Action.FOLLOW_UP_CLAIM:
            return isinstance(obj, Claim) and (is_giver(user, obj) or is_claimant(user, obj))
        case Action.VIEW_WANTED:
            return obj is None or (isinstance(obj, Wanted) and wanted_visible_to(user, obj))
        case Action.CLOSE_WANTED:
            return isinstance(obj, Wanted) and (
                obj.author_id == user.id
                or can(user, Action.MANAGE_ORGANISATION, obj.organisation))
    return False


def is_insider(user: User | Any, organisation_id: int | None) -> bool:
    """One of the organisation's own people, in good standing: they see its private things."""
    return in_good_standing(user) and user.organisation_id == organisation_id


def is_giver(user: User | Any, claim: Claim) -> bool:
    """The listing's organisation decides: the poster or any colleague in good standing."""
    return is_insider(user, claim.listing.organisation_id)


def is_claimant(user: User | Any, claim: Claim) -> bool:
    return getattr(user, "is_authenticated", False) and claim.claimant_id == user.id


def wanted_visible_to(user: User | Any, wanted: Wanted) -> bool:
    """Open posts of active organisations are for every member in good standing; a closed one
    (withdrawn, fulfilled, expired) only for its own organisation and platform admins."""
    if not in_good_standing(user):
        return False
    if user.is_platform_admin or user.organisation_id == wanted.organisation_id:
        return True
    return (wanted.status is WantedStatus.OPEN
            and wanted.organisation.status is OrganisationStatus.ACTIVE)


def listing_visible_to(user: User | Any, listing: Listing, now: datetime | None = None) -> bool:
    """Published listings are public once their internal phase is over; the rest is for the
    own organisation and platform admins, in good standing. (Search applies the same rule in
    SQL: search.visibility_of.)"""
    if not isinstance(listing, Listing):
        return False
    if is_insider(user, listing.organisation_id) or can(user, Action.ADMINISTER_PLATFORM):
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
