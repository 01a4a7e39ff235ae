"""Wanted posts: a public request for something, which givers answer with a listing."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, enum_column, utcnow
from .category import Category
from .listing import Listing
from .organisation import Organisation, Province
from .states import Transitions
from .user import User


class WantedStatus(enum.StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return str(WANTED_STATUS_LABELS[self])


WANTED_STATUS_LABELS = {
    WantedStatus.OPEN: _l("Open"),
    WantedStatus.FULFILLED: _l("Found"),
    WantedStatus.WITHDRAWN: _l("Withdrawn"),
    WantedStatus.EXPIRED: _l("Expired"),
}
WANTED_TRANSITIONS = Transitions(WantedStatus, initial={WantedStatus.OPEN}, edges={
    WantedStatus.OPEN: {WantedStatus.FULFILLED, WantedStatus.WITHDRAWN, WantedStatus.EXPIRED},
})


class Wanted(Model):
    __tablename__ = "wanted"
    STATUS_TRANSITIONS: ClassVar[Transitions[WantedStatus]] = WANTED_TRANSITIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int | None]
    needed_by: Mapped[date] = mapped_column(Date, index=True)  # it expires after this day
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    province: Mapped[Province | None] = mapped_column(enum_column(Province))
    status: Mapped[WantedStatus] = mapped_column(enum_column(WantedStatus),
                                                 default=WantedStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    category: Mapped[Category | None] = relationship()
    answers: Mapped[list[WantedAnswer]] = relationship(
        back_populates="wanted", order_by="WantedAnswer.created_at",
        cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Wanted {self.id} {self.title!r} {self.status}>"


class WantedAnswer(Model):
    """A listing offered for a wanted post: by a giver, or suggested when it was published."""

    __tablename__ = "wanted_answer"
    __table_args__ = (UniqueConstraint("wanted_id", "listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    wanted_id: Mapped[int] = mapped_column(ForeignKey("wanted.id", ondelete="CASCADE"),
                                           index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            index=True)
    responder_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))  # None: a suggestion
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    wanted: Mapped[Wanted] = relationship(back_populates="answers")
    listing: Mapped[Listing] = relationship()
    responder: Mapped[User | None] = relationship()
