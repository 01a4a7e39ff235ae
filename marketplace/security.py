"""Who may do what: decided here, used by views, templates, services and tests alike.

- `permitted(user, action, obj)`: whether `user` is someone who may do it (role, organisation,
  standing). Services call `require`, which raises PermissionDenied when not; they check the
  object's state themselves, inside the transaction that changes it, with words for the member
  ("this claim has been answered already").
- `can(user, action, obj)`: permitted, and the object's state allows it now (a claim is decided
  only while requested). Templates ask it to decide which buttons show.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _

from .models import (
    Alert,
    Claim,
    ClaimStatus,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationStatus,
    Role,
    SafetyNoticeRecipient,
    StagedPhoto,
    Transfer,
    User,
    UserStatus,
    Wanted,
    WantedStatus,
)
from .models.claim import CLAIM_TRANSITIONS
from .models.listing import EDITABLE, RELISTABLE, WITHDRAWABLE
from .models.wanted import WANTED_TRANSITIONS
from .services.errors import PermissionDenied


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
    MESSAGE_CLAIM = "message_claim"  # write to the other side
    CONFIRM_COLLECTION = "confirm_collection"  # either side confirms the hand-over
    PROPOSE_PICKUP_TIME = "propose_pickup_time"  # either side asks to move the pick-up
    ANSWER_PICKUP_TIME = "answer_pickup_time"  # the other side agrees or not
    VIEW_WANTED = "view_wanted"  # a wanted post's page (obj a Wanted), or the list (obj None)
    CLOSE_WANTED = "close_wanted"  # mark fulfilled or withdraw: its author or their org admin
    WITHDRAW_LISTING = "withdraw_listing"  # take it off the marketplace (who: EDIT_LISTING)
    RELIST_LISTING = "relist_listing"  # offer an expired or withdrawn listing again
    REVIEW_LISTING = "review_listing"  # approve or refuse a listing waiting for review
    MANAGE_ALERT = "manage_alert"  # pause, resume, delete one's own saved search
    MANAGE_MEMBER = "manage_member"  # approve, deactivate, reactivate, change role (obj a User)
    APPROVE_MEMBER = "approve_member"  # the same people, while the account waits
    DEACTIVATE_MEMBER = "deactivate_member"
    REACTIVATE_MEMBER = "reactivate_member"
    APPROVE_ORGANISATION = "approve_organisation"  # platform admins, while it waits
    SUSPEND_ORGANISATION = "suspend_organisation"
    REACTIVATE_ORGANISATION = "reactivate_organisation"
    ACCESS_PERSONAL_DATA = "access_personal_data"  # export or delete an account (obj a User)
    USE_STAGED_PHOTO = "use_staged_photo"  # see, use or remove a photo staged for a form
    COPY_LISTING = "copy_listing"  # "post similar": a new draft from an own organisation's listing
    FOLLOW_LISTING = "follow_listing"  # hear of an own organisation's listing's claims
    SIGN_OFF_CLAIM = "sign_off_claim"  # the claimant's medical technology approves or refuses
    # see and acknowledge a field safety notice sent to one's organisation (obj a
    # SafetyNoticeRecipient): its members in good standing
    ACKNOWLEDGE_SAFETY_NOTICE = "acknowledge_safety_notice"
    # a transfer of ownership's document (obj a Transfer): both organisations' members; an
    # organisation's register of them (obj an Organisation): its members; platform admins both
    VIEW_TRANSFER = "view_transfer"


# The state an object must be in for an action to be offered (can); who may do it is decided
# by permitted. An action that shares its "who" with another names it in _SAME_PEOPLE.
_STATE_ALLOWS: dict[Action, Callable[[Any], bool]] = {
    # Where the action is one step of a transition table, the table says when it is possible.
    Action.DECIDE_CLAIM: lambda claim: CLAIM_TRANSITIONS.allows(claim.status,
                                                                ClaimStatus.ACCEPTED),
    Action.CANCEL_CLAIM: lambda claim: CLAIM_TRANSITIONS.allows(claim.status,
                                                                ClaimStatus.CANCELLED),
    Action.CONFIRM_COLLECTION: lambda claim: CLAIM_TRANSITIONS.allows(claim.status,
                                                                      ClaimStatus.COLLECTED),
    Action.SIGN_OFF_CLAIM: lambda claim: CLAIM_TRANSITIONS.allows(claim.status,
                                                                  ClaimStatus.NOT_SIGNED_OFF),
    # Nothing is written to a giver who has not heard of the claim yet.
    Action.MESSAGE_CLAIM: lambda claim: claim.reached_giver,
    # Moving the pick-up is no transition: the claim stays accepted, the proposal is fields.
    Action.PROPOSE_PICKUP_TIME: lambda claim: claim.status is ClaimStatus.ACCEPTED,
    Action.ANSWER_PICKUP_TIME: lambda claim: (claim.status is ClaimStatus.ACCEPTED
                                              and claim.has_proposal),
    Action.CLOSE_WANTED: lambda wanted: WANTED_TRANSITIONS.allows(wanted.status,
                                                                  WantedStatus.FULFILLED),
    Action.WITHDRAW_LISTING: lambda listing: listing.status in WITHDRAWABLE,
    # The same sets the listing service checks.
    Action.EDIT_LISTING: lambda listing: listing.status in EDITABLE,
    Action.RELIST_LISTING: lambda listing: listing.status in RELISTABLE,
    Action.REVIEW_LISTING: lambda listing: listing.status is ListingStatus.PENDING_REVIEW,
    Action.APPROVE_MEMBER: lambda member: member.status is UserStatus.PENDING,
    Action.DEACTIVATE_MEMBER: lambda member: member.status is not UserStatus.DEACTIVATED,
    Action.REACTIVATE_MEMBER: lambda member: (member.status is UserStatus.DEACTIVATED
                                              and not member.is_deleted),
    Action.APPROVE_ORGANISATION: lambda organisation: (
        organisation.status is OrganisationStatus.PENDING),
    Action.SUSPEND_ORGANISATION: lambda organisation: (
        organisation.status is not OrganisationStatus.SUSPENDED),
    Action.REACTIVATE_ORGANISATION: lambda organisation: (
        organisation.status is OrganisationStatus.SUSPENDED),
    Action.ACKNOWLEDGE_SAFETY_NOTICE: lambda recipient: recipient.acknowledged_at is None,
}
_SAME_PEOPLE: dict[Action, Action] = {
    Action.WITHDRAW_LISTING: Action.EDIT_LISTING,
    Action.RELIST_LISTING: Action.EDIT_LISTING,
    Action.REVIEW_LISTING: Action.ADMINISTER_PLATFORM,
    Action.APPROVE_MEMBER: Action.MANAGE_MEMBER,
    Action.DEACTIVATE_MEMBER: Action.MANAGE_MEMBER,
    Action.REACTIVATE_MEMBER: Action.MANAGE_MEMBER,
    Action.APPROVE_ORGANISATION: Action.ADMINISTER_PLATFORM,
    Action.SUSPEND_ORGANISATION: Action.ADMINISTER_PLATFORM,
    Action.REACTIVATE_ORGANISATION: Action.ADMINISTER_PLATFORM,
}


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
    """True when `user` may perform `action` on `obj` now: permitted, and `obj`'s state
    allows it (what templates ask to decide which buttons show)."""
    state_allows = _STATE_ALLOWS.get(action)
    return permitted(user, action, obj) and (state_allows is None or state_allows(obj))


def require(actor: User | Any, action: Action, obj: Any = None,
            refusal: str | None = None) -> None:
    """PermissionDenied (with `refusal`, or a general message) unless `actor` is permitted;
    the state is the service's to check, with its own words."""
    if not permitted(actor, action, obj):
        raise PermissionDenied(refusal or _("You are not allowed to do that."))


def permitted(user: User | Any, action: Action, obj: Any = None) -> bool:
    """True when `user` is one of those who may perform `action` (on `obj`, where the action
    concerns one), whatever state `obj` is in."""
    action = _SAME_PEOPLE.get(action, action)
    if action is Action.VIEW_LISTING:
        return listing_visible_to(user, obj)
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.status is UserStatus.DEACTIVATED:
        return False
    if action in _OWN_AFFAIRS:
        return _permitted_in_own_affairs(user, action, obj)
    if not in_good_standing(user):
        return False
    return _permitted_in_good_standing(user, action, obj)


# What any account that can log in may do about its own things, approved or not, and whatever
# its organisation's standing.
_OWN_AFFAIRS = frozenset({Action.CANCEL_CLAIM, Action.VIEW_CLAIM, Action.MANAGE_ALERT,
                          Action.ACCESS_PERSONAL_DATA})


def _permitted_in_own_affairs(user: User, action: Action, obj: Any) -> bool:
    if action is Action.CANCEL_CLAIM:  # the one change left to a suspended organisation
        return isinstance(obj, Claim) and is_claimant(user, obj)
    if action is Action.VIEW_CLAIM:
        return isinstance(obj, Claim) and (
            is_claimant(user, obj) or is_giver(user, obj)
            or (obj.needs_sign_off and permitted(user, Action.SIGN_OFF_CLAIM, obj))
            or permitted(user, Action.ADMINISTER_PLATFORM))
    if action is Action.MANAGE_ALERT:  # saved searches are personal, even to admins
        return isinstance(obj, Alert) and obj.user_id == user.id
    # ACCESS_PERSONAL_DATA: one's own account, or platform admins
    return isinstance(obj, User) and (
        (obj.id == user.id and not obj.is_deleted)
        or permitted(user, Action.ADMINISTER_PLATFORM))


def _permitted_in_good_standing(user: User, action: Action, obj: Any) -> bool:
    platform_admin = user.is_platform_admin
    match action:
        case Action.PARTICIPATE:
            return participation_block_reason(user) is None
        case Action.COPY_LISTING:
            return (isinstance(obj, Listing) and obj.organisation_id == user.organisation_id
                    and participation_block_reason(user) is None)
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
        case Action.FOLLOW_LISTING:  # a colleague's concern only: platform staff decide none
            return isinstance(obj, Listing) and obj.organisation_id == user.organisation_id
        case Action.ACKNOWLEDGE_SAFETY_NOTICE:  # the organisation's devices: platform staff not
            return (isinstance(obj, SafetyNoticeRecipient)
                    and obj.organisation_id == user.organisation_id)
        case Action.VIEW_TRANSFER:
            if platform_admin:
                return True
            if isinstance(obj, Organisation):
                return user.organisation_id == obj.id
            return isinstance(obj, Transfer) and user.organisation_id in (
                obj.giver_organisation_id, obj.receiver_organisation_id)
        case (Action.DECIDE_CLAIM | Action.MESSAGE_CLAIM | Action.CONFIRM_COLLECTION
              | Action.PROPOSE_PICKUP_TIME | Action.ANSWER_PICKUP_TIME
              | Action.SIGN_OFF_CLAIM):
            return isinstance(obj, Claim) and _permitted_on_claim(user, action, obj)
        case Action.VIEW_WANTED:
            return obj is None or (isinstance(obj, Wanted) and wanted_visible_to(user, obj))
        case Action.CLOSE_WANTED:
            return isinstance(obj, Wanted) and (
                obj.author_id == user.id
                or permitted(user, Action.MANAGE_ORGANISATION, obj.organisation))
        case Action.MANAGE_MEMBER:
            return isinstance(obj, User) and _manages(user, obj)
        case Action.USE_STAGED_PHOTO:  # its uploader only, platform admins included
            return isinstance(obj, StagedPhoto) and obj.owner_id == user.id
    return False


def _permitted_on_claim(user: User, action: Action, claim: Claim) -> bool:
    match action:
        case Action.DECIDE_CLAIM:
            return is_giver(user, claim)
        case Action.SIGN_OFF_CLAIM:  # the claimant organisation's medical technology
            return is_medical_technology_of(user, claim)
        case Action.ANSWER_PICKUP_TIME:  # the side that did not propose
            return ((claim.proposed_by_giver is True and is_claimant(user, claim))
                    or (claim.proposed_by_giver is False and is_giver(user, claim)))
    # MESSAGE_CLAIM, CONFIRM_COLLECTION, PROPOSE_PICKUP_TIME: either side
    return is_giver(user, claim) or is_claimant(user, claim)


def _manages(user: User, member: User) -> bool:
    """Organisation admins manage their organisation's people, platform admins everyone's;
    accounts without an organisation (platform staff) and platform admins' accounts only
    platform admins."""
    if member.is_platform_admin or member.organisation is None:
        return permitted(user, Action.ADMINISTER_PLATFORM)
    return permitted(user, Action.MANAGE_ORGANISATION, member.organisation)


def is_insider(user: User | Any, organisation_id: int | None) -> bool:
    """One of the organisation's own people, in good standing: they see its private things."""
    return in_good_standing(user) and user.organisation_id == organisation_id


def is_giver(user: User | Any, claim: Claim) -> bool:
    """The listing's organisation decides: the poster or any colleague in good standing, once
    the claim reached them (not while the claimant's medical technology has it)."""
    return claim.reached_giver and is_insider(user, claim.listing.organisation_id)


def is_medical_technology_of(user: User | Any, of: Claim | int | None) -> bool:
    """A medical-technology colleague of the organisation (id), or of the claim's claimant
    organisation, in good standing: they approve its claims for medical devices
    (services/medical_technology)."""
    organisation_id = of.claimant_organisation_id if isinstance(of, Claim) else of
    return is_insider(user, organisation_id) and bool(user.medical_technology)


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
    if is_insider(user, listing.organisation_id) or permitted(user, Action.ADMINISTER_PLATFORM):
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
