"""What an organisation has going on, at a glance: its claims (made and received) grouped by who
acts next, and its listings per status with their open claims counted.

Read-only: nothing here changes data. Which side of a claim the reader is on is decided by
`security.is_giver` (an insider of the listing's organisation), as the claim pages decide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Claim, ClaimStatus, Listing, ListingStatus, Organisation
from ..models.base import utcnow
from ..models.claim import OPEN_CLAIM_STATUSES, claim_reached_giver
from ..security import Action, can, in_good_standing, is_giver

# Open claims are few (each waits days at most); the cap only bounds a runaway page.
OPEN_LIMIT = 300
FINISHED_PAGE_SIZE = 20
# The order of "Our listings" tabs; the first that holds something opens by default.
LISTING_TABS = (ListingStatus.PUBLISHED, ListingStatus.PENDING_REVIEW, ListingStatus.DRAFT,
                ListingStatus.REJECTED, ListingStatus.EXPIRED, ListingStatus.WITHDRAWN,
                ListingStatus.CLOSED, ListingStatus.REMOVED)
LISTINGS_SHOWN = 200


@dataclass(frozen=True)
class ClaimRow:
    """One claim as the reader's organisation sees it."""

    claim: Claim
    giving: bool  # we gave the listing (else we asked for it)
    other: Organisation  # the organisation on the other side
    waited: timedelta | None  # how long a claim without an answer has waited

    @property
    def listing(self) -> Listing:
        return self.claim.listing


@dataclass
class ClaimOverview:
    waiting_for_us: list[ClaimRow] = field(default_factory=list)  # we answer next
    running: list[ClaimRow] = field(default_factory=list)  # others answer, or the hand-over
    finished: list[ClaimRow] = field(default_factory=list)  # one page, the latest first
    finished_page: int = 1
    more_finished: bool = False
    only_own: bool = False  # a member not in good standing sees only their own claims

    @property
    def is_empty(self) -> bool:
        return not (self.waiting_for_us or self.running or self.finished
                    or self.finished_page > 1)


def claim_overview(user: Any, finished_page: int = 1) -> ClaimOverview:
    """The claims of `user`'s organisation, made and received, in three groups: waiting for our
    answer (requested on our listings, the longest waiting first, and new pick-up times the
    other side proposed), running (ours waiting for
    others, and accepted ones on both sides, the next hand-over first) and finished (collected,
    declined, cancelled, expired; the latest first, a page of FINISHED_PAGE_SIZE). To a member
    not in good standing only the claims they made themselves."""
    only_own = not in_good_standing(user)
    mine = _claims_of(user, only_own)
    now = utcnow()
    overview = ClaimOverview(finished_page=max(finished_page, 1), only_own=only_own)
    open_claims = db.session.scalars(_with_rows(
        select(Claim).where(mine, Claim.status.in_(OPEN_CLAIM_STATUSES))
        .order_by(Claim.created_at, Claim.id).limit(OPEN_LIMIT))).all()
    for claim in open_claims:
        row = _row(user, claim, now)
        # One waiting for medical technology is the approver's to answer, running to others.
        if _we_answer_next(row) or can(user, Action.SIGN_OFF_CLAIM, claim):
            overview.waiting_for_us.append(row)
        else:
            overview.running.append(row)
    overview.running.sort(key=_next_hand_over_first)
    finished = db.session.scalars(_with_rows(
        select(Claim).where(mine, Claim.status.not_in(OPEN_CLAIM_STATUSES))
        .order_by(_finished_at().desc(), Claim.id.desc())
        .limit(FINISHED_PAGE_SIZE + 1)
        .offset((overview.finished_page - 1) * FINISHED_PAGE_SIZE))).all()
    overview.more_finished = len(finished) > FINISHED_PAGE_SIZE
    overview.finished = [_row(user, claim, now) for claim in finished[:FINISHED_PAGE_SIZE]]
    return overview


def _claims_of(user: Any, only_own: bool) -> ColumnElement[bool]:
    if only_own:
        return Claim.claimant_id == user.id
    ours = select(Listing.id).where(Listing.organisation_id == user.organisation_id)
    return or_(Claim.claimant_organisation_id == user.organisation_id,
               Claim.listing_id.in_(ours.scalar_subquery()) & claim_reached_giver())


def _with_rows(statement: Any) -> Any:
    """Everything a row shows, loaded with a fixed number of queries however many rows."""
    return statement.options(
        selectinload(Claim.listing).selectinload(Listing.organisation),
        selectinload(Claim.listing).selectinload(Listing.photos),  # ListingPhoto.photo joins
        selectinload(Claim.claimant_organisation))


def _row(user: Any, claim: Claim, now: datetime) -> ClaimRow:
    giving = is_giver(user, claim)
    other = claim.claimant_organisation if giving else claim.listing.organisation
    waited = now - claim.created_at if claim.status is ClaimStatus.REQUESTED else None
    return ClaimRow(claim=claim, giving=giving, other=other, waited=waited)


def _we_answer_next(row: ClaimRow) -> bool:
    """The next step is ours: a claim on our listing waiting for a yes or no, or a new pick-up
    time the other side proposed."""
    claim = row.claim
    if claim.status is ClaimStatus.REQUESTED:
        return row.giving
    return claim.has_proposal and claim.proposed_by_giver is not row.giving


def _next_hand_over_first(row: ClaimRow) -> tuple[bool, date, datetime]:
    return (row.claim.status is not ClaimStatus.ACCEPTED,
            row.claim.agreed_pickup_date or date.max, row.claim.created_at)


def _finished_at() -> ColumnElement[datetime]:
    return func.coalesce(Claim.collected_at, Claim.closed_at, Claim.decided_at,
                         Claim.created_at)


# --- our listings ---------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenClaims:
    waiting: int = 0  # requested, for us to answer (closed, their claimants told, if it goes)
    accepted: int = 0  # accepted, not yet collected (they stay: their hand-over is agreed)


@dataclass
class ListingOverview:
    tabs: list[tuple[ListingStatus, int]]  # the tabs that hold something, and the current one
    current: ListingStatus
    listings: Sequence[Listing]
    open_claims: dict[int, OpenClaims]  # per listing id; listings without any are left out

    @property
    def is_empty(self) -> bool:
        return not any(count for _status, count in self.tabs)


def listing_overview(organisation_id: int, status: str | None) -> ListingOverview:
    """The organisation's listings in one status (`status`, else the first tab holding some),
    with each status's count and, per listing, its open claims counted in one query."""
    counts: dict[ListingStatus, int] = {
        ListingStatus(found): count for found, count in db.session.execute(
            select(Listing.status, func.count(Listing.id))
            .where(Listing.organisation_id == organisation_id)
            .group_by(Listing.status))}
    current = next((tab for tab in LISTING_TABS if tab.value == status), None) or next(
        (tab for tab in LISTING_TABS if counts.get(tab)), ListingStatus.PUBLISHED)
    listings = db.session.scalars(
        select(Listing).where(Listing.organisation_id == organisation_id,
                              Listing.status == current)
        .order_by(Listing.updated_at.desc(), Listing.id.desc()).limit(LISTINGS_SHOWN)
        .options(selectinload(Listing.photos), selectinload(Listing.site),
                 selectinload(Listing.created_by))).all()
    return ListingOverview(
        tabs=[(tab, counts.get(tab, 0)) for tab in LISTING_TABS
              if counts.get(tab) or tab is current],
        current=current, listings=listings,
        open_claims=open_claims_of([listing.id for listing in listings]))


def open_claims_on(listing: Listing) -> OpenClaims:
    """How many claims on `listing` are open, by what withdrawing it would do to them."""
    return open_claims_of([listing.id]).get(listing.id, OpenClaims())


def open_claims_of(listing_ids: Sequence[int]) -> dict[int, OpenClaims]:
    """The open claims of each listing, counted by status in one GROUP BY query."""
    if not listing_ids:
        return {}
    found: dict[int, dict[ClaimStatus, int]] = {}
    for listing_id, status, count in db.session.execute(
            select(Claim.listing_id, Claim.status, func.count(Claim.id))
            .where(Claim.listing_id.in_(listing_ids), Claim.status.in_(OPEN_CLAIM_STATUSES))
            .group_by(Claim.listing_id, Claim.status)):
        found.setdefault(listing_id, {})[ClaimStatus(status)] = count
    return {listing_id: OpenClaims(waiting=by_status.get(ClaimStatus.REQUESTED, 0),
                                   accepted=by_status.get(ClaimStatus.ACCEPTED, 0))
            for listing_id, by_status in found.items()}


# --- how a claimant kept its word ------------------------------------------------------------

@dataclass(frozen=True)
class Reliability:
    collected: int
    no_shows: int  # accepted and never collected

    @property
    def known(self) -> bool:
        return self.collected + self.no_shows > 0


def reliability_of(organisation_id: int) -> Reliability:
    """How an organisation kept its word as a claimant: collected versus no-shows."""
    rows = dict(db.session.execute(
        select(Claim.status, func.count(Claim.id))
        .where(Claim.claimant_organisation_id == organisation_id,
               Claim.status.in_([ClaimStatus.COLLECTED, ClaimStatus.EXPIRED]),
               Claim.decided_at.is_not(None))
        .group_by(Claim.status)).all())
    return Reliability(collected=rows.get(ClaimStatus.COLLECTED, 0),
                       no_shows=rows.get(ClaimStatus.EXPIRED, 0))
