"""Claims: the state machine from "I need that" to "collected".

requested → accepted → collected, or requested → declined / cancelled / expired, and
accepted → cancelled (by the claimant) / expired (never collected). Accepting reserves the
quantity with a conditional UPDATE (`quantity_available >= n`), so two accepts can never give
away more than the listing has, whatever runs at the same time; releasing (a cancel of an
accepted claim) gives it back and tells the next claim in line. Every transition is one
conditional UPDATE on the claim's status, so a double-click changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..localtime import local_today
from ..models import (
    Claim,
    ClaimMessage,
    ClaimStatus,
    Listing,
    ListingStatus,
    Role,
    User,
    UserStatus,
)
from ..models.base import utcnow
from ..models.claim import OPEN_CLAIM_STATUSES
from ..models.states import move, transition_update
from ..security import Action, can, is_giver, participation_block_reason, require
from ..unit_of_work import atomic, savepoint
from . import medical_technology, opening_hours, pick_up_calendar, transfers
from .errors import DomainError, PermissionDenied
from .following import GivingReason, GivingRecipient, followers_of
from .mail import queue_email
from .urls import external_url

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

MAX_MESSAGE_LENGTH = 2000
MAX_PICKUP_DAYS_AHEAD = 120


# --- who may do what (decided in security.py) -----------------------------------------------

# --- transitions -----------------------------------------------------------------------------

def lock_listing(listing_id: int) -> None:
    """Serialise changes to one listing's claims: a no-op UPDATE takes the row lock (the write
    lock on SQLite) before anything is read. Always the listing first, then its claims, as
    accept_claim does, so two transactions never wait for each other in a circle."""
    db.session.execute(update(Listing).where(Listing.id == listing_id)
                       .values(id=Listing.id)
                       .execution_options(synchronize_session=False, lock_only=True))


def _transition(claim: Claim, to: ClaimStatus, only_from: ClaimStatus | None = None,
                **values: object) -> bool:
    """Move the claim to `to` when the transition table allows it from its status now (or it
    is `only_from` now), as the database sees it."""
    # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
    result = cast("CursorResult[Any]", db.session.execute(
        transition_update(Claim, to, Claim.id == claim.id, only_from=only_from, **values)))
    if result.rowcount != 1:
        return False
    db.session.refresh(claim)
    return True


@atomic
def claim_listing(actor: User, listing: Listing, quantity: int | None, message: str = "",
                  preferred_pickup_date: date | None = None) -> Claim:
    """Ask for `quantity` of a published listing of another organisation; the giver is emailed."""
    block = participation_block_reason(actor)
    if block:
        raise PermissionDenied(block)
    if not can(actor, Action.VIEW_LISTING, listing) or listing.status is not \
            ListingStatus.PUBLISHED:
        raise DomainError(_("This listing is no longer on offer."))
    if listing.organisation_id == actor.organisation_id:
        raise DomainError(_("This is your own organisation's listing."))
    if listing.available_until < local_today():
        raise DomainError(_("This listing is no longer on offer."))
    if quantity is None or quantity < 1:
        raise DomainError(_("Ask for at least 1."), field="quantity")
    if quantity > listing.quantity_available:
        raise DomainError(_("Only %(quantity)s available.",
                            quantity=listing.unit.quantity(listing.quantity_available))
                          if listing.quantity_available
                          else _("Nothing of this listing is left to offer."), field="quantity")
    if preferred_pickup_date is not None and not (
        local_today() <= preferred_pickup_date <= local_today()
        + timedelta(days=MAX_PICKUP_DAYS_AHEAD)
    ):
        raise DomainError(_("Choose a date from today on, within four months."),
                          field="preferred_pickup_date")
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE_LENGTH:
        raise DomainError(_("Keep the message under %(max)d characters.",
                            max=MAX_MESSAGE_LENGTH), field="message")
    existing = open_claim_of(actor, listing)
    if existing is not None:
        raise DomainError(_("You have claimed this listing already."))
    # A medical device may first wait for the claimant's medical technology (medical_sign_off).
    sign_off = medical_technology.needs_sign_off(actor, listing)
    claim = Claim(listing=listing, claimant=actor,
                  claimant_organisation_id=actor.organisation_id, quantity=quantity,
                  message=message, preferred_pickup_date=preferred_pickup_date,
                  needs_sign_off=sign_off)
    move(claim, ClaimStatus.AWAITING_SIGN_OFF if sign_off else ClaimStatus.REQUESTED)
    try:
        with savepoint():
            db.session.add(claim)
            db.session.flush()
    except IntegrityError as error:  # the same member, a moment ago (a double-click)
        raise DomainError(_("You have claimed this listing already.")) from error
    if sign_off:
        medical_technology.ask_for_sign_off(claim)
    else:
        mail_giving_side("claim_received", claim_email_context(claim))
    return claim


def open_claim_of(user: User, listing: Listing) -> Claim | None:
    """The member's requested or accepted claim on the listing, if any."""
    return db.session.scalar(select(Claim).where(
        Claim.listing_id == listing.id, Claim.claimant_id == user.id,
        Claim.status.in_(OPEN_CLAIM_STATUSES)))


@atomic
def accept_claim(actor: User, claim: Claim, note: str = "",
                 agreed_pickup_date: date | None = None, pickup_from: str | None = None,
                 pickup_until: str | None = None) -> None:
    """Reserve the quantity and send the claimant the pick-up details (with a calendar file
    when a day is agreed: its window is `pickup_from`-`pickup_until`, "HH:MM" in the
    platform's time, by default the site's first opening hours that day or 09:00-12:00).

    Raises DomainError when too little is left (the claim then keeps waiting in line), or on
    the field at fault for a day or window the site's opening hours do not allow.
    """
    require(actor, Action.DECIDE_CLAIM, claim,
            _("Only the giving organisation can decide on this claim."))
    listing = claim.listing
    # A suspended (or pending) organisation neither gives nor receives; the claim waits.
    if not (listing.organisation.is_active and claim.claimant_organisation.is_active):
        raise DomainError(_("This claim cannot be accepted now: the giving or the claiming "
                            "organisation is suspended or not yet approved."))
    if claim.status is not ClaimStatus.REQUESTED:
        raise DomainError(_("This claim has been answered already."))
    if listing.status is not ListingStatus.PUBLISHED:
        raise DomainError(_("The listing is no longer on offer."))
    agreed = agreed_pickup_date or claim.preferred_pickup_date
    if agreed is not None and agreed < local_today():
        raise DomainError(_("Choose a pick-up date from today on."), field="agreed_pickup_date")
    if agreed is not None and agreed > local_today() + timedelta(days=MAX_PICKUP_DAYS_AHEAD):
        # As for the claimant's date; also keeps the calendar's end date (a day later) a date.
        raise DomainError(_("Choose a date from today on, within four months."),
                          field="agreed_pickup_date")
    window = opening_hours.pickup_window(listing.site, agreed, pickup_from, pickup_until) \
        if agreed is not None else (None, None)
    reserved = cast("CursorResult[Any]", db.session.execute(
        update(Listing)
        .where(Listing.id == listing.id, Listing.status == ListingStatus.PUBLISHED,
               Listing.quantity_available >= claim.quantity)
        .values(quantity_available=Listing.quantity_available - claim.quantity)
        .execution_options(synchronize_session=False)
    )).rowcount == 1
    if not reserved:
        db.session.refresh(listing)  # what it is now, for the words (the unit rolls back)
        if listing.status is not ListingStatus.PUBLISHED:
            raise DomainError(_("The listing is no longer on offer."))
        if not listing.quantity_available:
            raise DomainError(_("Nothing is left, so this claim cannot be accepted now. It "
                                "keeps its place in line."))
        raise DomainError(_("Only %(quantity)s left, so this claim cannot be accepted now. It "
                            "keeps its place in line.",
                            quantity=listing.unit.quantity(listing.quantity_available)))
    if not _transition(claim, ClaimStatus.ACCEPTED,
                       decided_by_id=actor.id, decided_at=utcnow(),
                       decision_note=(note or "").strip()[:1000] or None,
                       agreed_pickup_date=agreed, pickup_starts_at=window[0],
                       pickup_ends_at=window[1]):
        # Someone else answered it a moment ago: the unit's rollback undoes the reservation.
        raise DomainError(_("This claim has been answered already."))
    db.session.refresh(listing)
    if claim.claimant is not None:
        queue_email("claim_accepted", claim.claimant, **claim_email_context(claim),
                    giver=actor, site=listing.site,
                    attachments=[pick_up_calendar.calendar_attachment(claim)]
                    if pick_up_calendar.has_appointment(claim) else None)


@atomic
def decline_claim(actor: User, claim: Claim, note: str = "") -> None:
    require(actor, Action.DECIDE_CLAIM, claim,
            _("Only the giving organisation can decide on this claim."))
    if not _transition(claim, ClaimStatus.DECLINED,
                       decided_by_id=actor.id, decided_at=utcnow(), closed_at=utcnow(),
                       decision_note=(note or "").strip()[:1000] or None):
        raise DomainError(_("This claim has been answered already."))
    if claim.claimant is not None:
        queue_email("claim_declined", claim.claimant, **claim_email_context(claim))


@atomic
def cancel_claim(actor: User, claim: Claim) -> None:
    """The claimant withdraws; an accepted quantity goes back to the listing."""
    require(actor, Action.CANCEL_CLAIM, claim, _("Only the one who claimed can do this."))
    lock_listing(claim.listing_id)
    # The database says whether it was accepted (an accept may have landed a moment ago).
    if _transition(claim, ClaimStatus.CANCELLED, ClaimStatus.ACCEPTED,
                   closed_at=utcnow()):
        release_claim(claim)
    elif _transition(claim, ClaimStatus.CANCELLED, ClaimStatus.AWAITING_SIGN_OFF,
                     closed_at=utcnow()):
        return  # the giver never heard of it
    elif not _transition(claim, ClaimStatus.CANCELLED, ClaimStatus.REQUESTED,
                         closed_at=utcnow()):
        raise DomainError(_("This claim cannot be cancelled any more."))
    mail_giving_side("claim_cancelled", claim_email_context(claim))
    if claim.claimant is not None and pick_up_calendar.has_appointment(claim):
        # Their calendar has the appointment: the file that takes it out.
        queue_email("claim_withdrawn", claim.claimant, **claim_email_context(claim),
                    attachments=pick_up_calendar.cancellation_attachments(claim))


@atomic
def mark_collected(actor: User, claim: Claim) -> None:
    """Either side confirms the hand-over; the listing closes when everything is collected."""
    require(actor, Action.CONFIRM_COLLECTION, claim,
            _("Only the giver and the claimant can confirm the hand-over."))
    # Hand-overs of one listing one after another, so the last one sees all the others.
    lock_listing(claim.listing_id)
    if not _transition(claim, ClaimStatus.COLLECTED, collected_at=utcnow()):
        raise DomainError(_("Only an accepted claim can be marked as collected."))
    listing = claim.listing
    db.session.refresh(listing)
    # An aggregate gives exactly one row, and coalesce makes its value a number.
    collected = db.session.execute(
        select(func.coalesce(func.sum(Claim.quantity), 0))
        .where(Claim.listing_id == listing.id, Claim.status == ClaimStatus.COLLECTED)
    ).scalar_one()
    if collected >= listing.quantity:
        db.session.execute(
            transition_update(Listing, ListingStatus.CLOSED, Listing.id == listing.id))
        db.session.refresh(listing)
        tell_waiting_claimants(listing)
    transfers.record_transfer(actor, claim)  # the document the collected mail names
    saved = impact_of(claim)
    if claim.claimant is not None:
        queue_email("claim_collected", claim.claimant, **claim_email_context(claim),
                    saved=saved)
    mail_giving_side("claim_collected", claim_email_context(claim), saved=saved)


@atomic
def post_message(actor: User, claim: Claim, body: str,
                 now: datetime | None = None,
                 source_message_id: str | None = None) -> ClaimMessage:
    """A message on the claim, written `now` (default: this moment), emailed to the other
    side. A reply by email passes its Message-ID (unique: an IntegrityError when stored
    already)."""
    require(actor, Action.MESSAGE_CLAIM, claim,
            _("Only the giver and the claimant can write here."))
    if not claim.reached_giver:
        raise DomainError(_("The giver has not received this claim yet."))
    giver_side = is_giver(actor, claim)
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Write a message first."), field="body")
    if len(body) > MAX_MESSAGE_LENGTH:
        raise DomainError(_("Keep the message under %(max)d characters.",
                            max=MAX_MESSAGE_LENGTH), field="body")
    message = ClaimMessage(claim=claim, author=actor, body=body, created_at=now or utcnow(),
                           source_message_id=source_message_id)
    db.session.add(message)
    words = {**claim_email_context(claim), "author": actor.name, "body": body,
             "sent_at": message.created_at}
    if not giver_side:
        mail_giving_side("claim_message", words, skip=actor)
    elif claim.claimant is not None and claim.claimant.id != actor.id:
        queue_email("claim_message", claim.claimant, **words)
    return message


# --- releasing and waiting in line -----------------------------------------------------------

def _return_quantity(claim: Claim) -> None:
    """Give the claim's accepted quantity back to its listing (the row is locked already)."""
    db.session.execute(
        update(Listing).where(Listing.id == claim.listing_id)
        .values(quantity_available=Listing.quantity_available + claim.quantity)
        .execution_options(synchronize_session=False))


def release_claim(claim: Claim) -> None:
    """Give an accepted quantity back to the listing and tell the next claim in line."""
    _return_quantity(claim)
    listing = claim.listing
    db.session.refresh(listing)
    notify_next_in_line(listing)


def _cancel_open_claim(claim: Claim) -> ClaimStatus | None:
    """Cancel a waiting or accepted claim (an accepted one's quantity goes back to the
    listing); the status it had, or None when it was no longer open."""
    if _transition(claim, ClaimStatus.CANCELLED, ClaimStatus.ACCEPTED,
                   closed_at=utcnow()):
        _return_quantity(claim)
        return ClaimStatus.ACCEPTED
    for waiting in (ClaimStatus.REQUESTED, ClaimStatus.AWAITING_SIGN_OFF):
        if _transition(claim, ClaimStatus.CANCELLED, waiting, closed_at=utcnow()):
            return waiting
    return None


def notify_next_in_line(listing: Listing) -> Claim | None:
    """Tell the oldest waiting claim that now fits the quantity left (once per claim)."""
    if listing.status is not ListingStatus.PUBLISHED:
        return None
    waiting = db.session.scalar(
        select(Claim).where(Claim.listing_id == listing.id,
                            Claim.status == ClaimStatus.REQUESTED,
                            Claim.quantity <= listing.quantity_available,
                            Claim.next_in_line_notified_at.is_(None))
        .order_by(Claim.created_at, Claim.id).limit(1))
    if waiting is None:
        return None
    waiting.next_in_line_notified_at = utcnow()
    if waiting.claimant is not None:
        queue_email("claim_quantity_freed", waiting.claimant, **claim_email_context(waiting))
    mail_giving_side("claim_quantity_freed_giver", claim_email_context(waiting))
    return waiting


def tell_waiting_claimants(listing: Listing) -> int:
    """The listing is gone (closed, withdrawn, expired, removed): close the waiting claims and
    tell their claimants. Accepted claims stay: their hand-over is agreed."""
    waiting = list(db.session.scalars(
        select(Claim).where(Claim.listing_id == listing.id, Claim.status.in_(
            [ClaimStatus.REQUESTED, ClaimStatus.AWAITING_SIGN_OFF]))))
    for claim in waiting:
        if _transition(claim, ClaimStatus.EXPIRED, claim.status,
                       closed_at=utcnow()) and claim.claimant is not None:
            queue_email("claim_listing_gone", claim.claimant, **claim_email_context(claim))
    return len(waiting)


# --- figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Impact:
    items: int
    kilograms: Decimal
    euros: Decimal


def impact_of(claim: Claim) -> Impact:
    listing = claim.listing
    return Impact(
        items=claim.quantity,
        kilograms=(listing.weight_per_unit_kg or Decimal(0)) * claim.quantity,
        euros=(listing.value_per_unit or Decimal(0)) * claim.quantity,
    )


# --- helpers ---------------------------------------------------------------------------------

def givers_of(listing: Listing, claim: Claim | None = None) -> list[User]:
    """Who hears about the listing itself (expiry, moderation): the poster, else the
    organisation's admins (and the colleague who decided `claim`). Claim mail goes to
    giving_side_recipients."""
    people: list[User] = []
    if listing.created_by is not None and listing.created_by.status is UserStatus.ACTIVE:
        people.append(listing.created_by)
    if claim is not None and claim.decided_by is not None and claim.decided_by not in people:
        people.append(claim.decided_by)
    if not people:
        people = [user for user in listing.organisation.users
                  if user.role is Role.ORG_ADMIN and user.status is UserStatus.ACTIVE]
    return people


def giving_side_recipients(listing: Listing, claim: Claim | None = None,
                           ) -> list[GivingRecipient]:
    """Who on the giving side hears of a claim on `listing`, each once: the poster, the
    colleague who decided `claim`, the followers (of the listing, or of all the
    organisation's listings), and the organisation's notification address unless a member
    among them has it; when none of these, the organisation's admins. Only active members of
    the organisation; whether each wants this kind of email is queue_email's to decide."""
    people: list[GivingRecipient] = []

    def add(user: User | None, why: GivingReason) -> None:
        if (user is not None and user.status is UserStatus.ACTIVE
                and user.organisation_id == listing.organisation_id
                and all(user is not other.to for other in people)):
            people.append(GivingRecipient(user, why))

    add(listing.created_by, GivingReason.POSTER)
    if claim is not None:
        add(claim.decided_by, GivingReason.DECIDER)
    for follower, why in followers_of(listing):
        add(follower, why)
    address = listing.organisation.notification_email
    if address and address.strip().lower() not in {other.address for other in people}:
        people.append(GivingRecipient(address, GivingReason.NOTIFICATION_ADDRESS))
    if not people:
        for user in listing.organisation.users:
            if user.role is Role.ORG_ADMIN:
                add(user, GivingReason.ADMIN)
    return people


def mail_giving_side(template: str, context: dict[str, Any], *, skip: User | None = None,
                     **more: Any) -> None:
    """Queue `template` about the claim of `context` (claim_email_context) for everyone
    giving_side_recipients names (but `skip`, the one who wrote), each told why they get it.
    The notification address has no member to reply as, so its mail has no reply address
    (queue_email gives bare addresses none): its reader answers on the claim's page."""
    listing, claim = context["listing"], context["claim"]
    context = {**context, **more}
    for recipient in giving_side_recipients(listing, claim):
        if skip is not None and recipient.to is skip:
            continue
        queue_email(template, recipient.to, **context,
                    why=recipient.why.sentence(listing.organisation.name))


def claim_email_context(claim: Claim) -> dict[str, Any]:
    listing = claim.listing
    return {
        "claim": claim,
        "listing": listing,
        "title": listing.title,
        "organisation": claim.claimant_organisation.name,
        "claim_url": external_url("claims.show", claim_id=claim.id),
    }


# --- removal by moderation -------------------------------------------------------------------

def cancel_claims_for_removed_listing(listing: Listing) -> int:
    """The listing was removed by moderation: cancel every open claim, waiting or accepted
    (an accepted quantity goes back to the listing, nobody next in line is told: nothing is
    on offer any more), and email each claimant. Returns how many were cancelled.

    The caller has changed the listing's status already; the listing row is locked first."""
    lock_listing(listing.id)
    claims = list(db.session.scalars(
        select(Claim).where(Claim.listing_id == listing.id,
                            Claim.status.in_(OPEN_CLAIM_STATUSES))
        .order_by(Claim.created_at, Claim.id)))
    cancelled = 0
    for claim in claims:
        if _cancel_open_claim(claim) is None:
            continue
        cancelled += 1
        if claim.claimant is not None:
            queue_email("claim_listing_removed", claim.claimant, **claim_email_context(claim),
                        attachments=pick_up_calendar.cancellation_attachments(claim))
    db.session.refresh(listing)
    return cancelled


# --- a claimant's account deleted ------------------------------------------------------------

def cancel_claims_of_departing_member(claimant: User) -> int:
    """The claimant's account is being deleted: cancel their open claims, waiting or accepted
    (an accepted quantity goes back to the listing and the next in line is told), and email
    the givers. Returns how many were cancelled; in the caller's unit of work."""
    claims = list(db.session.scalars(
        select(Claim).where(Claim.claimant_id == claimant.id,
                            Claim.status.in_(OPEN_CLAIM_STATUSES))
        .order_by(Claim.listing_id, Claim.id)))
    cancelled = 0
    for claim in claims:
        lock_listing(claim.listing_id)
        was = _cancel_open_claim(claim)
        if was is None:
            continue
        if was is ClaimStatus.ACCEPTED:  # the quantity is back: the next in line may fit
            db.session.refresh(claim.listing)
            notify_next_in_line(claim.listing)
        cancelled += 1
        if claim.reached_giver:  # not one still waiting for its medical technology
            mail_giving_side("claim_cancelled", claim_email_context(claim))
    return cancelled
