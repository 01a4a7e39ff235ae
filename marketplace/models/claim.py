"""Claims: a member asks for (part of) a listing; giver and claimant finish the hand-over."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    false,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, enum_column, utcnow
from .listing import Listing
from .organisation import Organisation
from .states import Transitions
from .user import User


class ClaimStatus(enum.StrEnum):
    # Waits for the claimant's own medical technology (issue 20): the giver hears nothing yet.
    AWAITING_SIGN_OFF = "awaiting_sign_off"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    COLLECTED = "collected"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # by the claimant
    EXPIRED = "expired"  # unanswered, or accepted and never collected
    NOT_SIGNED_OFF = "not_signed_off"  # refused by the claimant's own medical technology

    @property
    def label(self) -> str:
        return str(CLAIM_STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        return self in OPEN_CLAIM_STATUSES

    @property
    def ended_without_hand_over(self) -> bool:
        """Final, and the items never changed hands (an agreed pick-up is off)."""
        return self not in OPEN_CLAIM_STATUSES and self is not ClaimStatus.COLLECTED


CLAIM_STATUS_LABELS = {
    ClaimStatus.AWAITING_SIGN_OFF: _l("Waiting for approval by medical technology"),
    ClaimStatus.REQUESTED: _l("Waiting for an answer"),
    ClaimStatus.ACCEPTED: _l("Accepted"),
    ClaimStatus.COLLECTED: _l("Collected"),
    ClaimStatus.DECLINED: _l("Declined"),
    ClaimStatus.CANCELLED: _l("Cancelled"),
    ClaimStatus.EXPIRED: _l("Expired"),
    ClaimStatus.NOT_SIGNED_OFF: _l("Not approved by medical technology"),
}
CLAIM_TRANSITIONS = Transitions(ClaimStatus, initial={ClaimStatus.REQUESTED,
                                                     ClaimStatus.AWAITING_SIGN_OFF}, edges={
    ClaimStatus.AWAITING_SIGN_OFF: {ClaimStatus.REQUESTED, ClaimStatus.NOT_SIGNED_OFF,
                                    ClaimStatus.CANCELLED, ClaimStatus.EXPIRED},
    ClaimStatus.REQUESTED: {ClaimStatus.ACCEPTED, ClaimStatus.DECLINED, ClaimStatus.CANCELLED,
                            ClaimStatus.EXPIRED},
    ClaimStatus.ACCEPTED: {ClaimStatus.COLLECTED, ClaimStatus.CANCELLED, ClaimStatus.EXPIRED},
})
# Open: a claim that may still change (waiting or accepted), at most one per member and listing.
OPEN_CLAIM_STATUSES = CLAIM_TRANSITIONS.open
# The same text as migration 0024 writes ("status IN ('awaiting_sign_off', 'requested',
# 'accepted')").
_OPEN_CLAIM_SQL = CLAIM_TRANSITIONS.sql_in("status", OPEN_CLAIM_STATUSES)


class Claim(Model):
    __tablename__ = "claim"
    STATUS_TRANSITIONS: ClassVar[Transitions[ClaimStatus]] = CLAIM_TRANSITIONS
    __table_args__ = (
        # One open claim per member per listing, also against a double-click.
        Index("uq_claim_open_per_member", "listing_id", "claimant_id", unique=True,
              sqlite_where=text(_OPEN_CLAIM_SQL), postgresql_where=text(_OPEN_CLAIM_SQL)),
        Index("ix_claim_listing_status", "listing_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"))
    claimant_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # Kept apart from the claimant: the organisation's record outlives a deleted account.
    claimant_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                          index=True)
    quantity: Mapped[int]
    message: Mapped[str] = mapped_column(Text, default="")
    preferred_pickup_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus),
                                                default=ClaimStatus.REQUESTED)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    agreed_pickup_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # cancelled/declined/expired
    # Set when freed-up quantity made this waiting claim possible again (told by email once).
    next_in_line_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the giver was reminded of an unanswered claim (once).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the claimant was reminded of the pick-up the day before (once).
    pickup_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The agreed time window (agreed_pickup_date is its local day, kept for what reads a day).
    pickup_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pickup_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The calendar file's SEQUENCE: bumped each time the agreed time moves.
    pickup_sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    # A new time one side proposed, open until the other side answers (services/pick_up_times).
    proposed_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    # The side, kept apart from the user: their account may go, the proposal stays answerable.
    proposed_by_giver: Mapped[bool | None]
    # Medical sign-off (services/medical_sign_off): the claim started awaiting it; who of the
    # claimant's medical technology answered, when, and why not (a refusal's reason).
    needs_sign_off: Mapped[bool] = mapped_column(default=False, server_default=false())
    signed_off_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sign_off_note: Mapped[str | None] = mapped_column(String(1000))

    listing: Mapped[Listing] = relationship()
    claimant: Mapped[User | None] = relationship(foreign_keys=[claimant_id])
    claimant_organisation: Mapped[Organisation] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    signed_off_by: Mapped[User | None] = relationship(foreign_keys=[signed_off_by_id])
    messages: Mapped[list[ClaimMessage]] = relationship(
        back_populates="claim", order_by="ClaimMessage.created_at",
        cascade="all, delete-orphan")

    @property
    def has_proposal(self) -> bool:
        """A new pick-up time waits for the other side's answer."""
        return self.proposed_starts_at is not None

    @property
    def reached_giver(self) -> bool:
        """The giving side knows of it: it needed no sign-off, or was signed off (a claim
        cancelled or expired while it waited never reached them)."""
        return not self.needs_sign_off or (self.signed_off_at is not None
                                           and self.status is not ClaimStatus.NOT_SIGNED_OFF)

    def __repr__(self) -> str:
        return f"<Claim {self.id} {self.quantity} of listing {self.listing_id} {self.status}>"


def claim_reached_giver() -> ColumnElement[bool]:
    """Claim.reached_giver in SQL: what the giving side's lists may show."""
    return or_(Claim.needs_sign_off.is_(False),
               and_(Claim.signed_off_at.is_not(None),
                    Claim.status != ClaimStatus.NOT_SIGNED_OFF))


class ClaimMessage(Model):
    """A short message between giver and claimant on one claim (also emailed)."""

    __tablename__ = "claim_message"
    __table_args__ = (
        # A reply by email is stored once, however often its mail server delivers it.
        Index("uq_claim_message_source_message_id", "source_message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"),
                                          index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The Message-ID of the email reply it came from (None: written on the website).
    source_message_id: Mapped[str | None] = mapped_column(String(255))

    claim: Mapped[Claim] = relationship(back_populates="messages")
    author: Mapped[User | None] = relationship()
