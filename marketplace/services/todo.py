"""What waits for a member: the home page's to-do list and the navigation's counts.

Read-only. Each section holds at most SECTION_SIZE items and the total, counted in the same
statement (a window count), so a full list costs one query a section; `counts_for`, asked by
every member page's navigation, is one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db, prepared
from ..localtime import local_today
from ..models import (
    Claim,
    ClaimStatus,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationStatus,
    SafetyNoticeRecipient,
    User,
    UserStatus,
)
from ..models.moderation import Report, ReportStatus
from ..security import Action, in_good_standing, permitted
from . import moderation, reports, safety_notices
from .housekeeping import EXPIRY_WARNING_DAYS
from .reports import ReportedListing

SECTION_SIZE = 5
# "This week" on the home page: today and the six days after it.
PICKUP_DAYS_AHEAD = 6

T = TypeVar("T")
# The organisation's own claims waiting for the giver, or first for its medical technology.
_WAITING_FOR_OTHERS = (ClaimStatus.AWAITING_SIGN_OFF, ClaimStatus.REQUESTED)


@dataclass(frozen=True)
class Section(Generic[T]):
    """The first items of one kind of task, and how many there are in all."""

    items: list[T] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> bool:
        return self.total > len(self.items)

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass(frozen=True)
class ToDo:
    """A member's tasks, in the order the home page shows them; an empty section shows not."""

    # Field safety notices for devices the organisation received, until a member acknowledges.
    safety_notices: Section[SafetyNoticeRecipient] = field(default_factory=Section)
    claims_to_answer: Section[Claim] = field(default_factory=Section)
    # Claims of the organisation for medical devices, for its medical technology to approve.
    claims_to_sign_off: Section[Claim] = field(default_factory=Section)
    pickups: Section[Claim] = field(default_factory=Section)
    claims_awaiting_answer: Section[Claim] = field(default_factory=Section)
    expiring_listings: Section[Listing] = field(default_factory=Section)
    colleagues_to_approve: Section[User] = field(default_factory=Section)
    listings_to_review: Section[Listing] = field(default_factory=Section)
    organisations_to_approve: Section[Organisation] = field(default_factory=Section)
    reported_listings: Section[ReportedListing] = field(default_factory=Section)
    today: date | None = None

    @property
    def empty(self) -> bool:
        return not any((self.safety_notices, self.claims_to_answer, self.claims_to_sign_off,
                        self.pickups, self.claims_awaiting_answer,
                        self.expiring_listings, self.colleagues_to_approve,
                        self.listings_to_review, self.organisations_to_approve,
                        self.reported_listings))


@dataclass(frozen=True)
class Counts:
    """What the navigation shows beside its links."""

    claims_to_answer: int = 0  # "Claims (2)"
    colleagues_to_approve: int = 0  # "My organisation (1)"
    admin_queue: int = 0  # "Admin (5)": review queue, organisations, reported listings


def to_do_for(user: User, today: date | None = None) -> ToDo:
    """What waits for `user` (a member in good standing; anyone else has nothing to do here:
    the page tells them what their account waits for)."""
    if not in_good_standing(user):
        return ToDo()
    today = today or local_today()
    sections: dict[str, Any] = {"today": today}
    organisation_id = user.organisation_id
    if organisation_id is not None:
        sections.update(
            safety_notices=_section(
                select(SafetyNoticeRecipient).where(safety_notices.open_for(organisation_id))
                .order_by(SafetyNoticeRecipient.id)
                .options(selectinload(SafetyNoticeRecipient.notice))),
            claims_to_answer=_section(
                select(Claim).join(Listing, Claim.listing_id == Listing.id)
                .where(_to_answer_by(organisation_id))
                .order_by(Claim.created_at, Claim.id)
                .options(selectinload(Claim.claimant_organisation),
                         selectinload(Claim.claimant))),
            pickups=_section(
                select(Claim).join(Listing, Claim.listing_id == Listing.id)
                .where(Claim.status == ClaimStatus.ACCEPTED,
                       or_(Listing.organisation_id == organisation_id,
                           Claim.claimant_organisation_id == organisation_id),
                       Claim.agreed_pickup_date.is_not(None),
                       Claim.agreed_pickup_date <= today + timedelta(days=PICKUP_DAYS_AHEAD))
                .order_by(Claim.agreed_pickup_date, Claim.id)
                .options(selectinload(Claim.claimant_organisation),
                         selectinload(Claim.listing).selectinload(Listing.organisation),
                         selectinload(Claim.listing).selectinload(Listing.site))),
            claims_awaiting_answer=_section(
                select(Claim).where(Claim.claimant_organisation_id == organisation_id,
                                    Claim.status.in_(_WAITING_FOR_OTHERS))
                .order_by(Claim.created_at, Claim.id)
                .options(selectinload(Claim.listing).selectinload(Listing.organisation))),
            expiring_listings=_section(
                select(Listing).where(
                    Listing.organisation_id == organisation_id,
                    Listing.status == ListingStatus.PUBLISHED,
                    Listing.available_until >= today,
                    Listing.available_until <= today + timedelta(days=EXPIRY_WARNING_DAYS))
                .order_by(Listing.available_until, Listing.id)),
        )
        sections["claims_to_sign_off"] = _to_sign_off_by(user)
        if permitted(user, Action.MANAGE_ORGANISATION, user.organisation):
            sections["colleagues_to_approve"] = _section(
                select(User).where(_to_approve_in(organisation_id))
                .order_by(User.created_at, User.id))
    if permitted(user, Action.ADMINISTER_PLATFORM):
        review = moderation.pending_listings(per_page=SECTION_SIZE)
        reported = reports.open_reports_by_listing(per_page=SECTION_SIZE)
        sections.update(
            listings_to_review=Section(list(review.items), review.total or 0),
            organisations_to_approve=_section(
                select(Organisation).where(Organisation.status == OrganisationStatus.PENDING)
                .order_by(Organisation.created_at, Organisation.id)),
            reported_listings=Section(list(reported.items), reported.total),
        )
    return ToDo(**sections)


def counts_for(user: User, read: Counts | None = None) -> Counts:
    """The navigation's counts for `user` (none for whom it shows none). `read`: the counts of
    `count_columns` as read with the user (session_user), which then cost no statement, except
    a platform admin's queue."""
    if not in_good_standing(user):
        return Counts()
    organisation_id = user.organisation_id
    shown = _Shown(
        claims=organisation_id is not None,
        colleagues=organisation_id is not None
        and permitted(user, Action.MANAGE_ORGANISATION, user.organisation),
        admin_queue=permitted(user, Action.ADMINISTER_PLATFORM))
    if shown == _Shown():
        return Counts()
    if read is not None and not shown.admin_queue:
        return Counts(claims_to_answer=read.claims_to_answer if shown.claims else 0,
                      colleagues_to_approve=read.colleagues_to_approve if shown.colleagues
                      else 0)
    row = db.session.execute(_counts_statement(shown),
                             {"organisation_id": organisation_id}).one()
    return Counts(**{name: int(value or 0) for name, value in row._mapping.items()})


def count_columns(organisation_id: Any) -> dict[str, Any]:
    """The counts of an organisation's members (session_user reads them with the user), named
    as in Counts, as scalar subqueries for `organisation_id` (a value, parameter or subquery)."""
    return {
        "claims_to_answer": (
            select(func.count(Claim.id)).join(Listing, Claim.listing_id == Listing.id)
            .where(_to_answer_by(organisation_id)).scalar_subquery()),
        "colleagues_to_approve": (
            select(func.count(User.id)).where(_to_approve_in(organisation_id))
            .scalar_subquery()),
    }


@dataclass(frozen=True)
class _Shown:
    claims: bool = False
    colleagues: bool = False
    admin_queue: bool = False


@cache
def _counts_statement(shown: _Shown) -> Select[Any]:
    """The counts' statement for what the navigation shows, built once: on every member's page,
    building it cost more than running it."""
    of_organisation = count_columns(bindparam("organisation_id", type_=Integer))
    columns: dict[str, Any] = {}
    if shown.claims:
        columns["claims_to_answer"] = of_organisation["claims_to_answer"]
    if shown.colleagues:
        columns["colleagues_to_approve"] = of_organisation["colleagues_to_approve"]
    if shown.admin_queue:
        columns["admin_queue"] = (
            select(func.count(Listing.id))
            .where(Listing.status == ListingStatus.PENDING_REVIEW).scalar_subquery()
            + select(func.count(Organisation.id))
            .where(Organisation.status == OrganisationStatus.PENDING).scalar_subquery()
            + select(func.count(func.distinct(Report.listing_id)))
            .where(Report.status == ReportStatus.OPEN).scalar_subquery())
    return prepared(select(*(column.label(name) for name, column in columns.items())))


def _to_answer_by(organisation_id: Any) -> Any:
    """Claims on the organisation's listings that wait for its answer."""
    return (Listing.organisation_id == organisation_id) & (Claim.status == ClaimStatus.REQUESTED)


def _to_sign_off_by(user: User) -> Section[Claim]:
    """Claims of a medical-technology colleague's organisation that wait for its approval."""
    if not user.medical_technology:
        return Section()
    return _section(
        select(Claim).where(Claim.claimant_organisation_id == user.organisation_id,
                            Claim.status == ClaimStatus.AWAITING_SIGN_OFF)
        .order_by(Claim.created_at, Claim.id)
        .options(selectinload(Claim.claimant),
                 selectinload(Claim.listing).selectinload(Listing.organisation)))


def _to_approve_in(organisation_id: Any) -> Any:
    """Colleagues who signed up and confirmed their address: their admin's turn (the admin
    pages count pending accounts the same way)."""
    return ((User.organisation_id == organisation_id) & (User.status == UserStatus.PENDING)
            & User.email_confirmed_at.is_not(None))


def _section(statement: Select[Any]) -> Section[Any]:
    """The first SECTION_SIZE rows of `statement` and the number of all, in one query."""
    rows = db.session.execute(statement.add_columns(func.count().over().label("total"))
                              .limit(SECTION_SIZE)).all()
    return Section([row[0] for row in rows], rows[0].total if rows else 0)
