"""Wanted posts: members ask for what they need; givers answer with a listing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, cast

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..localtime import local_today
from ..models import (
    Category,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationStatus,
    Province,
    User,
    UserStatus,
    Wanted,
    WantedAnswer,
    WantedStatus,
)
from ..models.states import move, transition_update
from ..security import Action, participation_block_reason, require
from ..unit_of_work import atomic, savepoint
from .errors import DomainError, PermissionDenied
from .mail import queue_email
from .matching import category_and_ancestors
from .search import has_words, search_words
from .urls import external_url

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

MAX_DAYS_AHEAD = 90


@dataclass
class WantedDetails:
    title: str
    description: str
    quantity: int | None
    needed_by: date | None
    category_id: int | None
    province: Province | str | None


def _validate(details: WantedDetails) -> None:
    if len(details.title.strip()) < 3:
        raise DomainError(_("Say what you need in at least 3 characters."), field="title")
    if details.quantity is not None and not 1 <= details.quantity <= 100_000:
        raise DomainError(_("Enter a quantity from 1 to 100000."), field="quantity")
    today = local_today()
    if details.needed_by is None or not today <= details.needed_by <= today + timedelta(
            days=MAX_DAYS_AHEAD):
        raise DomainError(_("Choose a date from today on, within three months."),
                          field="needed_by")
    if details.category_id is not None and db.session.get(Category, details.category_id) \
            is None:
        raise DomainError(_("Choose a category."), field="category")


@atomic
def post_wanted(actor: User, details: WantedDetails) -> Wanted:
    block = participation_block_reason(actor)
    if block:
        raise PermissionDenied(block)
    _validate(details)
    wanted = Wanted(author=actor, organisation_id=actor.organisation_id,
                    title=" ".join(details.title.split()),
                    description=(details.description or "").strip()[:5000],
                    quantity=details.quantity, needed_by=details.needed_by,
                    category_id=details.category_id,
                    province=Province(details.province) if details.province else None)
    db.session.add(wanted)
    return wanted


@atomic
def close_wanted(actor: User, wanted: Wanted, fulfilled: bool) -> None:
    require(actor, Action.CLOSE_WANTED, wanted)
    if wanted.status is not WantedStatus.OPEN:
        raise DomainError(_("This request is closed already."))
    move(wanted, WantedStatus.FULFILLED if fulfilled else WantedStatus.WITHDRAWN)


@atomic
def answer_wanted(actor: User, wanted: Wanted, listing: Listing) -> WantedAnswer:
    """A giver links one of their organisation's published listings; the requester is told."""
    block = participation_block_reason(actor)
    if block:
        raise PermissionDenied(block)
    if wanted.status is not WantedStatus.OPEN:
        raise DomainError(_("This request is closed."))
    if listing.organisation_id != actor.organisation_id or \
            listing.status is not ListingStatus.PUBLISHED:
        raise DomainError(_("Choose one of your organisation's published listings."),
                          field="listing")
    if wanted.organisation_id == actor.organisation_id:
        raise DomainError(_("This request is from your own organisation."))
    answer = _link(wanted, listing, responder=actor)
    if answer is None:
        raise DomainError(_("This listing has been offered for this request already."))
    return answer


def _link(wanted: Wanted, listing: Listing, responder: User | None) -> WantedAnswer | None:
    """Link once (the unique pair), and tell the requester."""
    if db.session.scalar(select(WantedAnswer.id).where(
            WantedAnswer.wanted_id == wanted.id, WantedAnswer.listing_id == listing.id)):
        return None
    answer = WantedAnswer(wanted_id=wanted.id, listing_id=listing.id,
                          responder_id=responder.id if responder else None)
    try:
        with savepoint():  # a race for the same pair loses quietly
            db.session.add(answer)
            db.session.flush()
    except IntegrityError:
        return None
    author = wanted.author
    if author is not None and author.status is UserStatus.ACTIVE:
        template = "wanted_answered" if responder is not None else "wanted_likely_match"
        queue_email(template, author, title=wanted.title, listing_title=listing.title,
                    listing=listing, wanted=wanted,
                    listing_url=external_url("listings.show", listing_id=listing.id))
    return answer


def suggest_for_listing(listing: Listing) -> int:
    """At publication: tell authors of open wanted posts this listing likely matches (once).

    A likely match: searching the request's title finds the listing by its words
    (`search.has_words`, the search's own matcher), and its category and province (when given)
    fit. Called once per listing, by
    `services.announcements.announce`, in its unit of work.
    """
    ancestors = category_and_ancestors(listing.category_id)
    candidates = db.session.scalars(select(Wanted).where(
        Wanted.status == WantedStatus.OPEN,
        Wanted.organisation_id != listing.organisation_id,
        Wanted.needed_by >= local_today(),
        or_(Wanted.category_id.is_(None), Wanted.category_id.in_(ancestors)),
        or_(Wanted.province.is_(None), Wanted.province == listing.site.province))).all()
    suggested = 0
    for wanted in candidates:
        if search_words(wanted.title) and has_words(listing.id, wanted.title) \
                and _link(wanted, listing, None) is not None:
            suggested += 1
    return suggested


@atomic
def expire_wanted(today: date | None = None) -> int:
    today = today or local_today()
    # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
    result = cast("CursorResult[Any]", db.session.execute(
        transition_update(Wanted, WantedStatus.EXPIRED, Wanted.needed_by < today)))
    return result.rowcount


def open_wanted(category_id: int | None = None, province: Province | None = None,
                page_size: int = 50) -> list[Wanted]:
    # As with listings, an organisation that is not active shows nothing (security.VIEW_WANTED)
    statement = select(Wanted).join(Organisation, Organisation.id == Wanted.organisation_id) \
        .where(Wanted.status == WantedStatus.OPEN, Wanted.needed_by >= local_today(),
               Organisation.status == OrganisationStatus.ACTIVE)
    if category_id is not None:
        from .categories import category_with_descendants

        statement = statement.where(Wanted.category_id.in_(
            category_with_descendants(category_id)))
    if province is not None:
        statement = statement.where(Wanted.province == province)
    return list(db.session.scalars(statement.order_by(Wanted.created_at.desc())
                                   .limit(page_size)))


def default_needed_by() -> date:
    return local_today() + timedelta(days=30)
