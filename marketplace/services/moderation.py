"""Moderation: the decisions on listings, standard reasons and the daily summary.

Decisions (platform admins only; each audited, the poster emailed with the reason):
- approve: pending_review → published.
- reject: pending_review → rejected. The poster can edit and resubmit it.
- request_changes: pending_review or published → draft, `moderation_reason` saying what to
  change; the poster edits and resubmits. From published, the listing leaves the marketplace
  as when the owner withdraws it: waiting claims are closed and their claimants told, accepted
  claims keep going (the hand-over was agreed; a moderator who wants it stopped removes the
  listing instead).
- remove: any status but closed and removed → removed. Every open claim (waiting and accepted)
  is cancelled, accepted quantities go back to the listing, and each claimant is emailed.

Watch-words, which hold a listing for review, are in `services.watch_words`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..localtime import local_time
from ..models import (
    AuditEvent,
    DailyTask,
    Listing,
    ListingPhoto,
    ListingStatus,
    ModerationReason,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    OutboxStatus,
    Report,
    ReportOutcome,
    ReportStatus,
    Role,
    User,
    UserStatus,
)
from ..models.base import utcnow
from ..models.listing import LISTING_TRANSITIONS
from ..models.states import move, transition_update
from ..security import Action, require
from ..unit_of_work import atomic, savepoint
from . import audit
from .claims import cancel_claims_for_removed_listing, givers_of, tell_waiting_claimants
from .errors import DomainError
from .listings import publish
from .mail import queue_email
from .urls import external_url

if TYPE_CHECKING:
    from sqlalchemy import CursorResult
    from sqlalchemy.orm import InstrumentedAttribute

MAX_REASON_LENGTH = 1000
SUMMARY_TASK = "moderation_summary"
QUEUE_PAGE_SIZE = 20

# From the listing's transition table: the states each decision may start from.
REJECTABLE = LISTING_TRANSITIONS.sources_of(ListingStatus.REJECTED)
CHANGEABLE = LISTING_TRANSITIONS.sources_of(ListingStatus.DRAFT)
REMOVABLE = LISTING_TRANSITIONS.sources_of(ListingStatus.REMOVED)



# --- reasons ---------------------------------------------------------------------------------

def active_reasons() -> list[ModerationReason]:
    """The standard reasons a moderator picks from, in their order."""
    return list(db.session.scalars(select(ModerationReason)
                                   .where(ModerationReason.active.is_(True))
                                   .order_by(ModerationReason.position, ModerationReason.id)))


def poster_language(listing: Listing) -> str:
    """The language the poster reads email in (the first recipient of moderation mail)."""
    people = givers_of(listing) or ([listing.created_by] if listing.created_by else [])
    return people[0].language.value if people else "nl"


def compose_reason(listing: Listing, reason_id: int | None, own_text: str | None) -> str:
    """The reason sent to the poster: the chosen standard reason (in the poster's language)
    followed by the moderator's own words, or either alone. Raises DomainError when there is
    neither, the reason is unknown, or the whole is too long."""
    parts = []
    if reason_id is not None:
        reason = db.session.get(ModerationReason, reason_id)
        if reason is None or not reason.active:
            raise DomainError(_("Choose one of the reasons."), field="reason_id")
        parts.append(reason.text(poster_language(listing)))
    own = (own_text or "").strip()
    if own:
        parts.append(own)
    text = "\n\n".join(parts)
    if not text:
        raise DomainError(_("Choose a reason or write your own."), field="text")
    if len(text) > MAX_REASON_LENGTH:
        raise DomainError(_("Keep the reason under %(max)d characters.", max=MAX_REASON_LENGTH),
                          field="text")
    return text


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Choose a reason or write your own."), field="text")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(_("Keep the reason under %(max)d characters.", max=MAX_REASON_LENGTH),
                          field="text")
    return reason


# --- decisions on listings -------------------------------------------------------------------

def _tell_poster(template: str, listing: Listing, **context: Any) -> None:
    for person in givers_of(listing):
        queue_email(template, person, title=listing.title, listing=listing,
                    listing_url=external_url("listings.show", listing_id=listing.id),
                    edit_url=external_url("listings.edit", listing_id=listing.id), **context)


@atomic
def approve_listing(actor: User, listing: Listing) -> None:
    """Publish a listing waiting for review; the poster is emailed."""
    require(actor, Action.ADMINISTER_PLATFORM)
    if listing.status is not ListingStatus.PENDING_REVIEW:
        raise DomainError(_("Only listings waiting for review can be approved."))
    publish(listing)
    audit.record(actor, "listing.approve", listing)
    _tell_poster("listing_published", listing)


@atomic
def reject_listing(actor: User, listing: Listing, reason: str) -> None:
    """Refuse a listing waiting for review; the poster may edit and resubmit it. Claims still
    waiting from before an edit sent it back to review are closed, as on withdrawal; accepted
    claims keep going."""
    require(actor, Action.ADMINISTER_PLATFORM)
    reason = _clean_reason(reason)
    if listing.status not in REJECTABLE:
        raise DomainError(_("Only listings waiting for review can be rejected."))
    move(listing, ListingStatus.REJECTED)
    listing.moderation_reason = reason
    db.session.flush()
    tell_waiting_claimants(listing)
    audit.record(actor, "listing.reject", listing, reason=reason)
    _tell_poster("listing_rejected", listing, reason=reason)


@atomic
def request_changes(actor: User, listing: Listing, reason: str) -> None:
    """Send a listing waiting for review, or published, back to its poster as a draft with
    what to change. Waiting claims (of a published listing, or from before an edit sent it
    back to review) are closed as on withdrawal; accepted claims keep going."""
    require(actor, Action.ADMINISTER_PLATFORM)
    reason = _clean_reason(reason)
    if listing.status not in CHANGEABLE:
        raise DomainError(_("Changes can be asked only for listings waiting for review or "
                            "published."))
    move(listing, ListingStatus.DRAFT)
    listing.moderation_reason = reason
    db.session.flush()
    tell_waiting_claimants(listing)
    audit.record(actor, "listing.request_changes", listing, reason=reason)
    _tell_poster("listing_changes_requested", listing, reason=reason)


@atomic
def remove_listing(actor: User, listing: Listing, reason: str) -> None:
    """Take a listing off the marketplace for good: every open claim is cancelled (accepted
    quantities return to the listing) and the claimants and the poster are emailed."""
    require(actor, Action.ADMINISTER_PLATFORM)
    reason = _clean_reason(reason)
    if listing.status not in REMOVABLE:
        raise DomainError(_("A listing that is %(status)s cannot be removed.",
                            status=listing.status.label))
    # Conditional on the status it was read with: of two moderators at once, one removes it.
    # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
    removed = cast("CursorResult[Any]", db.session.execute(
        transition_update(Listing, ListingStatus.REMOVED, Listing.id == listing.id,
                          only_from=listing.status, moderation_reason=reason))).rowcount == 1
    if not removed:
        raise DomainError(_("Someone else has just changed this listing."))
    db.session.refresh(listing)  # the listing row first (locked), then its claims
    cancel_claims_for_removed_listing(listing)
    # Reports on it are answered by the removal (when it came from the reports, none are open).
    close_open_reports(actor, listing, ReportOutcome.LISTING_REMOVED, reason)
    audit.record(actor, "listing.remove", listing, reason=reason)
    _tell_poster("listing_removed", listing, reason=reason)


def hold_for_review(actor: User, listing: Listing, reason: str) -> bool:
    """Take a published listing off the marketplace until a moderator reviews it (one waiting
    for review keeps waiting), with `reason` for the moderator; in the caller's unit of work,
    audited. Waiting and accepted claims stay as on an edit that sends it back to review. The
    caller tells the poster. False when the listing is in neither state."""
    require(actor, Action.ADMINISTER_PLATFORM)
    if listing.status is ListingStatus.PUBLISHED:
        move(listing, ListingStatus.PENDING_REVIEW)
        listing.submitted_at = utcnow()
    elif listing.status is not ListingStatus.PENDING_REVIEW:
        return False
    listing.moderation_reason = _clean_reason(reason)
    audit.record(actor, "listing.hold", listing, reason=listing.moderation_reason)
    return True


def close_open_reports(actor: User, listing: Listing, outcome: ReportOutcome,
                       note: str = "") -> int:
    """Resolve the open reports on `listing` (if any) in the caller's unit of work: audited, and
    every reporter still active is told. Used by `services.reports.resolve_reports` and when a
    moderator removes a reported listing from the review queue. Raises DomainError when another
    moderator resolves them meanwhile."""
    is_open = Report.status == ReportStatus.OPEN
    reports = list(db.session.scalars(
        select(Report).where(Report.listing_id == listing.id, is_open)
        .order_by(Report.created_at, Report.id)))
    if not reports:
        return 0
    # Conditional on still being open: of two moderators resolving at once, one wins.
    resolved = cast("CursorResult[Any]", db.session.execute(transition_update(
        Report, ReportStatus.RESOLVED, Report.id.in_([report.id for report in reports]),
        outcome=outcome, resolution_note=note or None, resolved_by_id=actor.id,
        resolved_at=utcnow()))).rowcount
    if resolved != len(reports):
        raise DomainError(_("Someone else has just handled these reports."))
    audit.record(actor, "report.resolve", listing,
                 reason=f"{outcome.value}: {note}" if note else outcome.value)
    for reporter in dict.fromkeys(report.reporter for report in reports):
        if reporter is not None and reporter.is_active:
            queue_email("report_resolved", reporter, title=listing.title, outcome=outcome)
    return resolved


# --- the queue -------------------------------------------------------------------------------

def pending_listings(page: int = 1, per_page: int = QUEUE_PAGE_SIZE) -> Pagination:
    """Listings waiting for review, oldest submission first, a page at a time (with their
    photos, organisation, category and poster loaded in a few queries)."""
    statement = (
        select(Listing).where(Listing.status == ListingStatus.PENDING_REVIEW)
        .order_by(Listing.submitted_at, Listing.id)
        .options(selectinload(Listing.photos).selectinload(ListingPhoto.photo),
                 selectinload(Listing.organisation), selectinload(Listing.category),
                 selectinload(Listing.created_by)))
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


@dataclass
class Track:
    """What one poster or organisation did before: listings published, rejections,
    removals, and open reports on their listings."""

    published: int = 0
    rejected: int = 0
    removed: int = 0
    open_reports: int = 0


@dataclass
class History:
    poster: Track | None
    organisation: Track = field(default_factory=Track)


def histories(listings: Iterable[Listing]) -> dict[int, History]:
    """The track record of each listing's poster and organisation, in a few grouped queries."""
    listings = list(listings)
    organisation_ids = {listing.organisation_id for listing in listings}
    poster_ids = {listing.created_by_id for listing in listings if listing.created_by_id}
    by_org: dict[int, Track] = {key: Track() for key in organisation_ids}
    by_poster: dict[int, Track] = {key: Track() for key in poster_ids}
    # Listings without a poster never match the IN (ids) below, so every key read is an int.
    poster_column = cast("InstrumentedAttribute[int]", Listing.created_by_id)
    for column, tracks in ((Listing.organisation_id, by_org), (poster_column, by_poster)):
        if not tracks:
            continue
        for key, number in db.session.execute(
                select(column, func.count(Listing.id))
                .where(column.in_(list(tracks)), Listing.published_at.is_not(None))
                .group_by(column)):
            tracks[key].published = number
        for key, action, number in db.session.execute(
                select(column, AuditEvent.action, func.count(AuditEvent.id))
                .join(Listing, (AuditEvent.target_id == Listing.id)
                      & (AuditEvent.target_type == "listing"))
                .where(column.in_(list(tracks)),
                       AuditEvent.action.in_(["listing.reject", "listing.remove"]))
                .group_by(column, AuditEvent.action)):
            if action == "listing.reject":
                tracks[key].rejected = number
            else:
                tracks[key].removed = number
        for key, number in db.session.execute(
                select(column, func.count(Report.id)).join(Listing, Report.listing_id == Listing.id)
                .where(column.in_(list(tracks)), Report.status == ReportStatus.OPEN)
                .group_by(column)):
            tracks[key].open_reports = number
    return {listing.id: History(
        poster=by_poster.get(listing.created_by_id) if listing.created_by_id else None,
        organisation=by_org[listing.organisation_id]) for listing in listings}


# --- standard reasons ------------------------------------------------------------------------

def all_reasons() -> list[ModerationReason]:
    return list(db.session.scalars(select(ModerationReason).order_by(
        ModerationReason.active.desc(), ModerationReason.position, ModerationReason.id)))


def _validate_reason_texts(text_nl: str, text_en: str, position: int | None) -> tuple[str, str]:
    text_nl, text_en = (text_nl or "").strip(), (text_en or "").strip()
    for name, value in (("text_nl", text_nl), ("text_en", text_en)):
        if not value:
            raise DomainError(_("Write the reason in this language too."), field=name)
        if len(value) > 500:
            raise DomainError(_("Keep the reason under %(max)d characters.", max=500),
                              field=name)
    if position is not None and not 0 <= position <= 10_000:
        raise DomainError(_("Enter a position from 0 to 10,000."), field="position")
    return text_nl, text_en


@atomic
def add_reason(actor: User, text_nl: str, text_en: str,
               position: int | None = None) -> ModerationReason:
    """A new standard reason, last in the list unless a position is given."""
    require(actor, Action.ADMINISTER_PLATFORM)
    text_nl, text_en = _validate_reason_texts(text_nl, text_en, position)
    if position is None:
        position = (db.session.scalar(select(func.max(ModerationReason.position))) or 0) + 1
    reason = ModerationReason(text_nl=text_nl, text_en=text_en, position=position, active=True)
    db.session.add(reason)
    db.session.flush()
    audit.record(actor, "moderation_reason.add", reason)
    return reason


@atomic
def update_reason(actor: User, reason: ModerationReason, text_nl: str, text_en: str,
                  position: int | None) -> None:
    require(actor, Action.ADMINISTER_PLATFORM)
    text_nl, text_en = _validate_reason_texts(text_nl, text_en, position)
    reason.text_nl, reason.text_en = text_nl, text_en
    if position is not None:
        reason.position = position
    audit.record(actor, "moderation_reason.update", reason)


@atomic
def set_reason_active(actor: User, reason: ModerationReason, active: bool) -> None:
    """Deactivated reasons are no longer offered; listings keep the text they were sent."""
    require(actor, Action.ADMINISTER_PLATFORM)
    if reason.active is active:
        return
    reason.active = active
    audit.record(actor, "moderation_reason.activate" if active
                 else "moderation_reason.deactivate", reason)


# --- the daily summary -----------------------------------------------------------------------

@dataclass(frozen=True)
class Waiting:
    listings: int
    oldest_listing_at: datetime | None
    reports: int
    organisations: int
    failed_mail: int

    @property
    def total(self) -> int:
        return self.listings + self.reports + self.organisations + self.failed_mail


def waiting() -> Waiting:
    """What waits for platform admins now."""
    listings, oldest = db.session.execute(
        select(func.count(Listing.id), func.min(Listing.submitted_at))
        .where(Listing.status == ListingStatus.PENDING_REVIEW)).one()
    return Waiting(
        listings=listings, oldest_listing_at=oldest,
        reports=db.session.execute(select(func.count(Report.id))
                                   .where(Report.status == ReportStatus.OPEN)).scalar_one(),
        organisations=db.session.execute(select(func.count(Organisation.id)).where(
            Organisation.status == OrganisationStatus.PENDING)).scalar_one(),
        failed_mail=db.session.execute(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status == OutboxStatus.FAILED)).scalar_one(),
    )


@atomic
def send_moderation_summary(now: datetime | None = None) -> int:
    """Email every platform admin what waits, once a day at the first run after DIGEST_HOUR
    local time, and not at all when nothing waits. Two runs at once: the DailyTask row's
    primary key lets one of them through. Returns how many emails were queued."""
    now = now or utcnow()
    local = local_time(now)
    if local.hour < current_app.config["DIGEST_HOUR"]:
        return 0
    figures = waiting()
    if figures.total == 0:
        return 0
    try:
        with savepoint():
            db.session.add(DailyTask(name=SUMMARY_TASK, day=local.date(), done_at=now))
            db.session.flush()
    except IntegrityError:
        return 0  # another run sent today's summary
    admins = db.session.scalars(select(User).where(
        User.role == Role.PLATFORM_ADMIN, User.status == UserStatus.ACTIVE,
        User.email_confirmed_at.is_not(None))).all()
    days = (now - figures.oldest_listing_at).days if figures.oldest_listing_at else 0
    sent = 0
    for admin in admins:
        if queue_email("moderation_summary", admin, count=str(figures.total), waiting=figures,
                       oldest_days=days, queue_url=external_url("admin.listings"),
                       admin_url=external_url("admin.index")) is not None:
            sent += 1
    return sent
