"""Organisations and their sites: approval, suspension, site management."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    AuditEvent,
    Claim,
    ClaimStatus,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Role,
    Site,
    User,
    UserStatus,
)
from ..models.base import utcnow
from ..models.organisation import organisation_name_key
from ..models.states import move
from ..security import Action, require
from ..unit_of_work import atomic
from . import audit, opening_hours, places
from .errors import DomainError
from .mail import queue_email

_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")


@dataclass(frozen=True)
class OrganisationActivity:
    """What an organisation did on the marketplace, for the platform admins' page about it."""

    listings_by_status: dict[ListingStatus, int]
    claims_given: dict[ClaimStatus, int]  # claims on its listings
    claims_received: dict[ClaimStatus, int]  # claims its people made
    recent_events: list[AuditEvent]

    @property
    def listing_count(self) -> int:
        return sum(self.listings_by_status.values())

    @property
    def claims_given_count(self) -> int:
        return sum(self.claims_given.values())

    @property
    def claims_received_count(self) -> int:
        return sum(self.claims_received.values())


@dataclass(frozen=True)
class SiteDetails:
    name: str
    street: str
    postcode: str
    city: str
    province: Province | str
    # Seven typed days, Monday first (services/opening_hours.py); None leaves them as they are
    # (a new site's: not known).
    opening_hours: tuple[str, ...] | None = None
    pickup_instructions: str | None = None  # None: as they are


MAX_INSTRUCTIONS_LENGTH = 1000


_KVK = re.compile(r"^\d{8}$")


def normalise_kvk_number(number: str | None, required: bool = True) -> str | None:
    """A KvK number as its 8 digits (spaces and dots people type are dropped)."""
    digits = re.sub(r"[\s.]", "", number or "")
    if not digits and not required:
        return None
    if not _KVK.match(digits):
        raise DomainError(_("Enter the 8 digits of the KvK number."), field="kvk_number")
    return digits


def normalise_postcode(postcode: str) -> str:
    """Dutch postcodes as '1234 AB'; raise DomainError(field='postcode') otherwise."""
    match = _POSTCODE.match(postcode or "")
    if not match:
        raise DomainError(_("Enter a Dutch postcode such as 1234 AB."), field="postcode")
    return f"{match.group(1)} {match.group(2).upper()}"


def find_organisation_by_name(name: str) -> Organisation | None:
    return db.session.scalar(
        select(Organisation).where(Organisation.name_key == organisation_name_key(name))
    )


def build_site(details: SiteDetails) -> Site:
    """A new, unsaved site from validated details (raises DomainError on bad input)."""
    site = Site()
    _apply_site_details(site, details)
    return site


def _apply_site_details(site: Site, details: SiteDetails) -> None:
    required = {
        "site_name": (details.name, _("Give the site a name.")),
        "street": (details.street, _("Enter the street and number.")),
        "city": (details.city, _("Enter the city.")),
    }
    for field, (value, message) in required.items():
        if not (value or "").strip():
            raise DomainError(message, field=field)
    site.name = " ".join(details.name.split())
    site.street = " ".join(details.street.split())
    site.postcode = normalise_postcode(details.postcode)
    site.city = " ".join(details.city.split())
    try:
        site.province = Province(details.province)
    except ValueError as error:
        raise DomainError(_("Choose a province."), field="province") from error
    # Offline, never an online geocoder; an unknown place leaves the site without distances.
    site.latitude, site.longitude = \
        places.locate(site.postcode, site.city, site.province) or (None, None)
    if details.opening_hours is not None:
        site.opening_hours = opening_hours.parse_week(details.opening_hours)
    if details.pickup_instructions is not None:
        instructions = details.pickup_instructions.strip().replace("\r\n", "\n")
        if len(instructions) > MAX_INSTRUCTIONS_LENGTH:
            raise DomainError(_("Keep the instructions under %(max)d characters.",
                                max=MAX_INSTRUCTIONS_LENGTH), field="pickup_instructions")
        site.pickup_instructions = instructions


def new_organisation(name: str, kind: OrganisationKind | str, first_site: SiteDetails,
                     status: OrganisationStatus = OrganisationStatus.PENDING,
                     kvk_number: str | None = None) -> Organisation:
    """An organisation with its first site, added to the session (in the caller's unit of
    work)."""
    name = " ".join(name.split())
    if not name:
        raise DomainError(_("Enter the name of the organisation."), field="organisation_name")
    if find_organisation_by_name(name) is not None:
        raise DomainError(
            _("An organisation with this name is registered already. "
              "Choose it from the list to join it."),
            field="organisation_name",
        )
    try:
        kind = OrganisationKind(kind)
    except ValueError as error:
        raise DomainError(_("Choose the kind of organisation."), field="organisation_kind") \
            from error
    kvk = normalise_kvk_number(kvk_number, required=status is OrganisationStatus.PENDING)
    organisation = Organisation(name=name, kind=kind, kvk_number=kvk)
    move(organisation, status)
    if status is OrganisationStatus.ACTIVE:
        organisation.approved_at = utcnow()
    organisation.sites.append(build_site(first_site))
    db.session.add(organisation)
    return organisation


def receiving_site_id(organisation_id: Any) -> Any:
    """The site an organisation receives at, as SQL: its first active site by name (claims
    name no receiving site). `organisation_id` is a number or a column (correlated: one per
    claim); the transfer document and the transport of a hand-over both use this rule."""
    return (select(Site.id).where(Site.organisation_id == organisation_id,
                                  Site.active.is_(True))
            .order_by(Site.name, Site.id).limit(1).scalar_subquery())


def organisation_admins(organisation: Organisation) -> list[User]:
    return [
        user
        for user in organisation.users
        if user.role is Role.ORG_ADMIN and user.status is UserStatus.ACTIVE
        and user.email_confirmed
    ]


def platform_admins() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.role == Role.PLATFORM_ADMIN,
                User.status == UserStatus.ACTIVE,
                User.email_confirmed_at.is_not(None),
            )
        )
    )



@atomic
def approve_organisation(actor: User, organisation: Organisation) -> None:
    require(actor, Action.ADMINISTER_PLATFORM)
    if organisation.status is not OrganisationStatus.PENDING:
        raise DomainError(_("Only organisations awaiting approval can be approved."))
    move(organisation, OrganisationStatus.ACTIVE)
    organisation.approved_at = utcnow()
    audit.record(actor, "organisation.approve", organisation)
    for admin in organisation_admins(organisation):
        queue_email("organisation_approved", admin, organisation=organisation.name)


@atomic
def suspend_organisation(actor: User, organisation: Organisation, reason: str) -> None:
    """Suspend `organisation`; its admins are emailed the reason.

    While suspended its people can log in but see only what a visitor sees, their profile
    and their own claims (`security.in_good_standing`); its published listings and wanted
    posts disappear for everyone. Open claims stay as they are, both those on its listings and
    those it made: nobody accepts them while it is suspended (`claims.accept_claim` refuses),
    its members change nothing on them but cancel their own, and reactivating lets them
    continue. Raises DomainError when suspended already or without a reason.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    if organisation.status is OrganisationStatus.SUSPENDED:
        raise DomainError(_("This organisation is suspended already."))
    if not reason.strip():
        raise DomainError(_("Say why, for the organisation and the audit log."), field="reason")
    move(organisation, OrganisationStatus.SUSPENDED)
    audit.record(actor, "organisation.suspend", organisation, reason=reason.strip())
    for admin in organisation_admins(organisation):
        queue_email("organisation_suspended", admin, organisation=organisation.name,
                    reason=reason.strip())


@atomic
def reactivate_organisation(actor: User, organisation: Organisation) -> None:
    require(actor, Action.ADMINISTER_PLATFORM)
    if organisation.status is not OrganisationStatus.SUSPENDED:
        raise DomainError(_("Only suspended organisations can be reactivated."))
    move(organisation, OrganisationStatus.ACTIVE)
    audit.record(actor, "organisation.reactivate", organisation)
    for admin in organisation_admins(organisation):
        queue_email("organisation_reactivated", admin, organisation=organisation.name)


@atomic
def set_trusted(actor: User, organisation: Organisation, trusted: bool,
                reason: str = "") -> None:
    """Let `organisation` publish listings without review (or take that away again).

    Listings that mention a watch-word are still held for review. Platform admins only
    (PermissionDenied); raises DomainError when the organisation is trusted (or not) already.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    if bool(organisation.trusted) == trusted:
        raise DomainError(
            _("%(name)s is trusted already.", name=organisation.name) if trusted
            else _("%(name)s is not trusted.", name=organisation.name))
    organisation.trusted = trusted
    audit.record(actor, "organisation.trust" if trusted else "organisation.distrust",
                 organisation, reason=(reason or "").strip()[:1000] or None)


def activity_of(organisation: Organisation, events: int = 20) -> OrganisationActivity:
    """Counts of its listings by status and of claims given and received, and the newest
    audit events about it."""
    listings = db.session.execute(
        select(Listing.status, func.count(Listing.id))
        .where(Listing.organisation_id == organisation.id).group_by(Listing.status)).all()
    given = db.session.execute(
        select(Claim.status, func.count(Claim.id)).join(Listing, Claim.listing_id == Listing.id)
        .where(Listing.organisation_id == organisation.id).group_by(Claim.status)).all()
    received = db.session.execute(
        select(Claim.status, func.count(Claim.id))
        .where(Claim.claimant_organisation_id == organisation.id).group_by(Claim.status)).all()
    recent = db.session.scalars(
        select(AuditEvent).where(AuditEvent.organisation_id == organisation.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(events)).all()
    return OrganisationActivity(
        listings_by_status={ListingStatus(status): count for status, count in listings},
        claims_given={ClaimStatus(status): count for status, count in given},
        claims_received={ClaimStatus(status): count for status, count in received},
        recent_events=list(recent),
    )


@atomic
def add_site(actor: User, organisation: Organisation, details: SiteDetails) -> Site:
    require(actor, Action.MANAGE_ORGANISATION, organisation)
    site = build_site(details)
    organisation.sites.append(site)
    db.session.flush()
    audit.record(actor, "site.add", site)
    return site


@atomic
def set_notification_email(actor: User, organisation: Organisation, address: str | None) -> None:
    """The shared address that hears of every claim on the organisation's listings (empty:
    none); raises DomainError(field='notification_email') for what is no email address."""
    require(actor, Action.MANAGE_ORGANISATION, organisation)
    address = (address or "").strip().lower() or None
    if address is not None:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            raise DomainError(_("Enter an email address like name@example.org"),
                              field="notification_email") from error
    if address == organisation.notification_email:
        return
    organisation.notification_email = address
    audit.record(actor, "organisation.notification_email", organisation, reason=address)


@atomic
def update_site(actor: User, site: Site, details: SiteDetails) -> None:
    require(actor, Action.MANAGE_ORGANISATION, site.organisation)
    _apply_site_details(site, details)
    audit.record(actor, "site.update", site)


@atomic
def set_site_active(actor: User, site: Site, active: bool) -> None:
    require(actor, Action.MANAGE_ORGANISATION, site.organisation)
    if not active and site.active and len(site.organisation.active_sites) <= 1:
        raise DomainError(_("An organisation needs at least one site. Add another one first."))
    site.active = active
    audit.record(actor, "site.restore" if active else "site.archive", site)
