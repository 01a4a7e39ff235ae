"""Wanted alerts: a member's saved search, and the listings it has matched."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, enum_column, utcnow
from .category import Category
from .listing import Condition, Listing
from .organisation import Province
from .user import User


class AlertFrequency(enum.StrEnum):
    INSTANT = "instant"
    DAILY = "daily"

    @property
    def label(self) -> str:
        return str(ALERT_FREQUENCY_LABELS[self])


ALERT_FREQUENCY_LABELS = {
    AlertFrequency.INSTANT: _l("Right away"),
    AlertFrequency.DAILY: _l("In a daily digest"),
}


class Alert(Model):
    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    words: Mapped[str] = mapped_column(String(200), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    province: Mapped[Province | None] = mapped_column(enum_column(Province))
    condition: Mapped[Condition | None] = mapped_column(enum_column(Condition))
    # Only listings within `within_km` of this site of the member's organisation; a site
    # removed leaves the alert without a radius.
    near_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"))
    within_km: Mapped[int | None] = mapped_column()
    frequency: Mapped[AlertFrequency] = mapped_column(enum_column(AlertFrequency),
                                                      default=AlertFrequency.INSTANT)
    paused: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    category: Mapped[Category | None] = relationship()

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.words!r}>"


class AlertMatch(Model):
    """A listing an alert matched: recorded once, emailed at once or in the next digest."""

    __tablename__ = "alert_match"
    __table_args__ = (UniqueConstraint("alert_id", "listing_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"),
                                          index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            index=True)
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the match went out by email (instantly or in a digest); NULL: still to send.
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    alert: Mapped[Alert] = relationship()
    listing: Mapped[Listing] = relationship()
