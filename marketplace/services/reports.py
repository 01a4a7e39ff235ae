"""Reports on listings: members report, platform admins resolve them per listing.

A member has at most one open report per listing. Reports wait in a queue grouped per listing,
oldest first; resolving a listing's reports closes all of them with one outcome, which may ask
the poster for changes or remove the listing (through `services.moderation`), and tells each
reporter. Reporting is not audited (a member's act); resolving is.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Listing,
    Report,
    ReportOutcome,
    ReportReason,
    ReportStatus,
    User,
)
from ..security import Action, can, require
from ..unit_of_work import atomic
from . import moderation
from .errors import DomainError, PermissionDenied
from .mail import queue_email
from .organisations import platform_admins
from .urls import external_url

MAX_TEXT_LENGTH = 2000
MAX_NOTE_LENGTH = 1000  # Report.resolution_note
MAX_POSTER_REASON_LENGTH = 1000  # Listing.moderation_reason
# Outcomes that change the listing, and so need a reason the poster reads.
LISTING_ACTIONS = frozenset({ReportOutcome.CHANGES_REQUESTED, ReportOutcome.LISTING_REMOVED})
QUEUE_PAGE_SIZE = 20


# --- reporting -------------------------------------------------------------------------------

@atomic
def report_listing(actor: User, listing: Listing, reason: ReportReason | str,
                   text: str) -> Report:
    """Record `actor`'s report of `listing` and email every platform admin.

    Raises PermissionDenied when the actor may not report this listing, and DomainError
    (field "reason" or "text") for an unknown reason, a missing or too long text, or a second
    open report by the same member on the same listing.
    """
    if not can(actor, Action.REPORT_LISTING, listing):
        raise PermissionDenied(_("You cannot report this listing."))
    try:
        reason = ReportReason(reason)
    except ValueError:
        raise DomainError(_("Choose a reason from the list."), field="reason") from None
    text = (text or "").strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise DomainError(_("Keep it to %(max)d characters.", max=MAX_TEXT_LENGTH),
                          field="text")
    if reason is ReportReason.OTHER and not text:
        raise DomainError(_("Tell the moderators what is wrong with this listing."),
                          field="text")
    _lock_user(actor)
    if _open_report_of(actor, listing) is not None:
        raise DomainError(_("You have already reported this listing; the moderators will "
                            "look at it."))
    report = Report(listing=listing, reporter=actor, reason=reason, text=text,
                    status=ReportStatus.OPEN)
    db.session.add(report)
    reports_url = external_url("admin.reports")
    for admin in platform_admins():
        queue_email("report_received", admin, title=listing.title, reason=reason, text=text,
                    organisation=listing.organisation.name, reports_url=reports_url,
                    listing_url=external_url("listings.show", listing_id=listing.id))
    return report


def _lock_user(user: User) -> None:
    """Serialise one member's reports (a no-op UPDATE takes their row lock, the write lock on
    SQLite), so two quick submissions cannot both pass the one-open-report check."""
    db.session.execute(update(User).where(User.id == user.id).values(id=User.id)
                       .execution_options(synchronize_session=False))


def _open_report_of(user: User, listing: Listing) -> Report | None:
    return db.session.scalar(select(Report).where(
        Report.listing_id == listing.id, Report.reporter_id == user.id,
        Report.status == ReportStatus.OPEN).limit(1))


def has_open_report(user: User, listing: Listing) -> bool:
    """Whether `user` has reported `listing` and it has not been handled yet."""
    if not getattr(user, "is_authenticated", False):
        return False
    return _open_report_of(user, listing) is not None


# --- the queue -------------------------------------------------------------------------------

@dataclass
class Page:
    """One page of results, with the attributes Flask-SQLAlchemy's pagination offers."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


@dataclass
class ReportedListing:
    """A listing with its open reports (oldest first), for the queue."""

    listing: Listing
    reports: list[Report] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.reports)

    @property
    def oldest(self) -> datetime:
        return self.reports[0].created_at

    @property
    def reasons(self) -> list[tuple[ReportReason, int]]:
        """Each reason given with how often, most frequent first."""
        counts = Counter(report.reason for report in self.reports)
        order = list(ReportReason)
        return sorted(counts.items(), key=lambda item: (-item[1], order.index(item[0])))


def _open() -> ColumnElement[bool]:
    return Report.status == ReportStatus.OPEN


def reported_listing_count() -> int:
    """How many listings have open reports: the length of the queue."""
    return db.session.scalar(select(func.count(func.distinct(Report.listing_id)))
                             .where(_open())) or 0


def open_reports_by_listing(page: int = 1,
                            per_page: int = QUEUE_PAGE_SIZE) -> Page:
    """One page of the queue: listings with open reports, the longest waiting first."""
    page = max(page, 1)
    oldest = func.min(Report.created_at)
    rows = db.session.execute(
        select(Report.listing_id).where(_open()).group_by(Report.listing_id)
        .order_by(oldest, Report.listing_id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    listing_ids = [row.listing_id for row in rows]
    entries: dict[int, ReportedListing] = {}
    if listing_ids:
        listings = db.session.scalars(
            select(Listing).where(Listing.id.in_(listing_ids))
            .options(selectinload(Listing.organisation), selectinload(Listing.photos)))
        entries = {listing.id: ReportedListing(listing) for listing in listings}
        reports = db.session.scalars(
            select(Report).where(_open(), Report.listing_id.in_(listing_ids))
            .order_by(Report.created_at, Report.id)
            .options(selectinload(Report.reporter).selectinload(User.organisation)))
        for report in reports:
            entries[report.listing_id].reports.append(report)
    return Page(items=[entries[listing_id] for listing_id in listing_ids
                       if listing_id in entries], page=page,
                per_page=per_page, total=reported_listing_count())


def resolved_reports(page: int = 1, per_page: int = QUEUE_PAGE_SIZE) -> Page:
    """Resolved reports, the most recently resolved first, with outcome and resolver."""
    page = max(page, 1)
    resolved = Report.status == ReportStatus.RESOLVED
    items = list(db.session.scalars(
        select(Report).where(resolved)
        .order_by(Report.resolved_at.desc(), Report.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
        .options(selectinload(Report.listing), selectinload(Report.resolved_by),
                 selectinload(Report.reporter).selectinload(User.organisation))))
    total = db.session.scalar(select(func.count(Report.id)).where(resolved)) or 0
    return Page(items=items, page=page, per_page=per_page, total=total)


def poster_reason(listing: Listing, standard_reason_id: int | None, text: str) -> str:
    """The reason the poster reads: a standard reason (in the poster's language) followed by
    what the moderator typed, either alone, or "" when neither was given (a dismissal needs
    none). Raises DomainError for an unknown standard reason or a reason too long."""
    if not standard_reason_id and not (text or "").strip():
        return ""
    return moderation.compose_reason(listing, standard_reason_id or None, text)


# --- resolving -------------------------------------------------------------------------------

@atomic
def resolve_reports(actor: User, listing: Listing, outcome: ReportOutcome | str, note: str,
                    reason_for_poster: str = "") -> int:
    """Resolve every open report on `listing` with `outcome`; return how many were resolved.

    Asking for changes and removing the listing go through `services.moderation` (joining
    this unit of work) and need `reason_for_poster`. Each reporter still active is
    emailed. Raises PermissionDenied for anyone but a platform admin, and DomainError for an
    unknown outcome, a missing reason, no open reports, or a refusal of the listing action;
    then nothing is written.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    try:
        outcome = ReportOutcome(outcome)
    except ValueError:
        raise DomainError(_("Choose what was done about the listing."),
                          field="outcome") from None
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise DomainError(_("Keep the note to %(max)d characters.", max=MAX_NOTE_LENGTH),
                          field="note")
    reason_for_poster = (reason_for_poster or "").strip()
    if outcome in LISTING_ACTIONS and not reason_for_poster:
        raise DomainError(_("Tell the poster why: they read this reason."),
                          field="reason_for_poster")
    if len(reason_for_poster) > MAX_POSTER_REASON_LENGTH:
        raise DomainError(_("Keep the reason to %(max)d characters.",
                            max=MAX_POSTER_REASON_LENGTH), field="reason_for_poster")
    resolved = moderation.close_open_reports(actor, listing, outcome, note)
    if not resolved:
        raise DomainError(_("There are no open reports on this listing."))
    # A refusal of the listing action rolls back the whole unit: the reports stay open.
    if outcome is ReportOutcome.CHANGES_REQUESTED:
        moderation.request_changes(actor, listing, reason_for_poster)
    elif outcome is ReportOutcome.LISTING_REMOVED:
        moderation.remove_listing(actor, listing, reason_for_poster)
    return resolved
