"""Periodic upkeep (`flask housekeeping`, from cron every few minutes).

Every task moves rows with conditional UPDATEs on their status (or a "told" timestamp), so two
runs at once never act, or email, twice. The tasks of this module skip, on PostgreSQL, a row that
another transaction holds (an overlapping run, or a member acting on it right now) instead of
waiting for it (SKIP LOCKED): whoever holds it decides, and a later run sees what is left to do.
Each row is a unit of work of its own (`each_in_own_unit`): one failure undoes no other row, and
locks are held briefly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, func, or_, select, update

from ..extensions import db
from ..localtime import local_today
from ..models import Claim, ClaimStatus, Listing, ListingStatus
from ..models.base import utcnow
from ..models.states import status_guard, transition_update
from ..unit_of_work import Skip, each_in_own_unit
from . import pick_up_calendar, transfers
from .alerts import send_daily_digests
from .announcements import announce_listings_whose_internal_phase_ended
from .claims import (
    claim_email_context,
    givers_of,
    lock_listing,
    mail_giving_side,
    release_claim,
    tell_waiting_claimants,
)
from .instructions_for_use import purge_stale_instructions
from .mail import deliver_pending, queue_email
from .medical_technology import sign_off_context
from .moderation import send_moderation_summary
from .personal_data import forget_mail_of_deleted_accounts
from .photos import purge_refused_listing_photos, purge_stale_staged
from .search import refresh_vocabulary
from .urls import external_url
from .wanted import expire_wanted

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

EXPIRY_WARNING_DAYS = 3
REMIND_UNANSWERED_AFTER = timedelta(days=3)
EXPIRE_UNANSWERED_AFTER = timedelta(days=7)
NO_SHOW_AFTER_DAYS = 14


def run(now: datetime | None = None) -> Iterator[str]:
    now = now or utcnow()
    today = local_today(now)
    yield f"listings: {warn_expiring_listings(today, now)} warned, " \
          f"{expire_listings(today)} expired"
    yield f"claims: {remind_pickups_tomorrow(today, now)} pick-up reminders, " \
          f"{remind_unanswered_claims(now)} reminders, " \
          f"{expire_unanswered_claims(now)} unanswered expired, " \
          f"{expire_uncollected_claims(today, now)} never collected"
    yield f"wanted posts: {expire_wanted(today)} expired"
    yield f"alerts: {announce_listings_whose_internal_phase_ended(now)} matched after the " \
          f"internal phase, {send_daily_digests(now)} digests"
    yield f"moderation: {send_moderation_summary(now)} summaries"
    yield f"personal data: photos of {purge_refused_listing_photos(now)} refused listings " \
          f"deleted, {forget_mail_of_deleted_accounts()} mails to deleted accounts cleared"
    yield f"photos: {purge_stale_staged(now)} staged a day ago and never used removed"
    yield f"device passports: {purge_stale_instructions(now)} instruction PDFs never used " \
          f"removed"
    yield f"transfers: {transfers.make_missing_documents()} documents made that a hand-over " \
          f"could not"
    yield f"search: {refresh_vocabulary()} words of titles for typo suggestions"
    report = deliver_pending()
    yield f"mail: sent {report.sent}, to retry {report.retried}, failed {report.failed}"


def _claimed(model: type[Claim] | type[Listing], row_id: int, *conditions: ColumnElement[bool],
             to: Enum | None = None, only_from: Enum | None = None, **values: Any) -> bool:
    """Apply `values` to the row when `conditions` still hold (and, with `to`, move its status
    there if its transition table allows it from `only_from` or any state that may):
    True for the one run that did."""
    if to is not None:
        conditions = (*conditions, status_guard(model, to, only_from))
    free = select(model.id).where(model.id == row_id, *conditions) \
        .with_for_update(skip_locked=True)
    if to is not None:
        statement = transition_update(model, to, model.id.in_(free), *conditions, **values)
    else:
        statement = update(model).where(model.id.in_(free), *conditions).values(**values) \
            .execution_options(synchronize_session=False)
    # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
    result = cast("CursorResult[Any]", db.session.execute(statement))
    return result.rowcount == 1


def warn_expiring_listings(today: date, now: datetime) -> int:
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    listings = db.session.scalars(select(Listing).where(
        Listing.status == ListingStatus.PUBLISHED, Listing.available_until <= soon,
        Listing.available_until >= today, Listing.expiry_warned_at.is_(None))).all()

    def warn(listing: Listing) -> bool:
        if not _claimed(Listing, listing.id, Listing.expiry_warned_at.is_(None),
                        expiry_warned_at=now):
            return False
        for giver in givers_of(listing):
            queue_email("listing_expiring", giver, title=listing.title, listing=listing,
                        listing_url=external_url("listings.show", listing_id=listing.id))
        return True

    return each_in_own_unit(listings, warn)


def expire_listings(today: date) -> int:
    listings = db.session.scalars(select(Listing).where(
        Listing.status == ListingStatus.PUBLISHED, Listing.available_until < today)).all()

    def expire(listing: Listing) -> bool:
        if not _claimed(Listing, listing.id, to=ListingStatus.EXPIRED):
            return False
        db.session.refresh(listing)
        tell_waiting_claimants(listing)
        for giver in givers_of(listing):
            queue_email("listing_expired", giver, title=listing.title, listing=listing,
                        listing_url=external_url("listings.show", listing_id=listing.id))
        return True

    return each_in_own_unit(listings, expire)


def _waiting_since() -> ColumnElement[datetime]:
    """When a claim began to wait for its answer: the giver's clock starts at the medical
    technology's approval, where one was needed."""
    return func.coalesce(Claim.signed_off_at, Claim.created_at)


def remind_unanswered_claims(now: datetime) -> int:
    claims = db.session.scalars(select(Claim).where(
        Claim.status == ClaimStatus.REQUESTED, _waiting_since() <= now - REMIND_UNANSWERED_AFTER,
        _waiting_since() > now - EXPIRE_UNANSWERED_AFTER, Claim.reminded_at.is_(None))).all()

    def remind(claim: Claim) -> bool:
        if not _claimed(Claim, claim.id, Claim.reminded_at.is_(None), reminded_at=now):
            return False
        mail_giving_side("claim_reminder", claim_email_context(claim))
        return True

    return each_in_own_unit(claims, remind)


def remind_pickups_tomorrow(today: date, now: datetime) -> int:
    """The claimant hears the day before the agreed pick-up date (once)."""
    claims = db.session.scalars(select(Claim).where(
        Claim.status == ClaimStatus.ACCEPTED,
        Claim.agreed_pickup_date == today + timedelta(days=1),
        Claim.pickup_reminded_at.is_(None))).all()

    def remind(claim: Claim) -> bool:
        if not _claimed(Claim, claim.id, Claim.pickup_reminded_at.is_(None),
                        pickup_reminded_at=now):
            return False
        if claim.claimant is not None:
            queue_email("claim_pickup_tomorrow", claim.claimant, **claim_email_context(claim),
                        site=claim.listing.site)
        return True

    return each_in_own_unit(claims, remind)


def expire_unanswered_claims(now: datetime) -> int:
    """Claims the giver, or the claimant's own medical technology, left unanswered a week."""
    claims = db.session.scalars(select(Claim).where(
        Claim.status.in_([ClaimStatus.REQUESTED, ClaimStatus.AWAITING_SIGN_OFF]),
        _waiting_since() <= now - EXPIRE_UNANSWERED_AFTER)).all()

    def expire(claim: Claim) -> bool:
        was = claim.status
        if was not in (ClaimStatus.REQUESTED, ClaimStatus.AWAITING_SIGN_OFF):
            return False  # another run (or the giver) was first
        if not _claimed(Claim, claim.id, to=ClaimStatus.EXPIRED, only_from=was, closed_at=now):
            return False
        db.session.refresh(claim)
        if claim.claimant is not None and was is ClaimStatus.AWAITING_SIGN_OFF:
            queue_email("claim_sign_off_expired", claim.claimant, **sign_off_context(claim))
        elif claim.claimant is not None:
            queue_email("claim_expired", claim.claimant, **claim_email_context(claim))
        return True

    return each_in_own_unit(claims, expire)


def expire_uncollected_claims(today: date, now: datetime) -> int:
    """Accepted claims not collected 14 days after the agreed date (or the acceptance): a
    no-show. The reserved quantity goes back to the listing."""
    cutoff = today - timedelta(days=NO_SHOW_AFTER_DAYS)
    claims = db.session.scalars(select(Claim).where(
        Claim.status == ClaimStatus.ACCEPTED,
        or_(Claim.agreed_pickup_date < cutoff,
            (Claim.agreed_pickup_date.is_(None))
            & (Claim.decided_at < now - timedelta(days=NO_SHOW_AFTER_DAYS))))).all()

    def expire(claim: Claim) -> bool:
        # The listing first, then the claim, as every claim change does (no deadlock with a
        # member marking it collected at this moment): its quantity is given back below.
        lock_listing(claim.listing_id)
        if not _claimed(Claim, claim.id, to=ClaimStatus.EXPIRED, only_from=ClaimStatus.ACCEPTED,
                        closed_at=now):
            raise Skip  # rolled back: the listing's lock goes at once
        db.session.refresh(claim)
        release_claim(claim)
        if claim.claimant is not None:
            # The claimant's calendar loses the appointment.
            queue_email("claim_not_collected", claim.claimant, **claim_email_context(claim),
                        attachments=pick_up_calendar.cancellation_attachments(claim))
        mail_giving_side("claim_not_collected", claim_email_context(claim))
        return True

    return each_in_own_unit(claims, expire)
