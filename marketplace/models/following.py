"""Colleagues who follow a listing of their organisation: they hear of its claims too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow
from .listing import Listing
from .user import User


class ListingFollower(Model):
    """One member following one listing (services/following.py); rows go with either."""

    __tablename__ = "listing_follower"
    __table_args__ = (UniqueConstraint("listing_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    listing: Mapped[Listing] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ListingFollower listing={self.listing_id} user={self.user_id}>"
