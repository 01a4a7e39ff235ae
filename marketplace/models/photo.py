"""Photos, stored once per content hash, and their place in listings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, shown_on_cards, utcnow


@shown_on_cards(new_shows_nothing=True)  # shows once a ListingPhoto refers to it
class Photo(Model):
    """A processed image: upright, without metadata, at most 2048 px, with display variants.

    The files live in the photo storage under names derived from `content_hash` (see
    services/photos/); the same upload twice is one Photo.
    """

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the upload
    width: Mapped[int]
    height: Mapped[int]
    byte_size: Mapped[int]  # of the stored full-size file
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Photo {self.id} {self.content_hash[:12]} {self.width}x{self.height}>"


@shown_on_cards(listing="listing_id")
class ListingPhoto(Model):
    """A photo as shown on one listing: its place in the gallery and its alt text."""

    __tablename__ = "listing_photo"
    __table_args__ = (UniqueConstraint("listing_id", "photo_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            index=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    alt_text: Mapped[str] = mapped_column(String(200), default="")

    photo: Mapped[Photo] = relationship(lazy="joined")


class StagedPhoto(Model):
    """A photo a member has uploaded for a listing not yet saved: kept for that member only,
    so that a form shown again (an error, a refused photo, a request too large) never asks for
    it twice. It becomes a ListingPhoto when the form is saved; unused, it goes after a day
    (services/photos/staging.py)."""

    __tablename__ = "staged_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                          index=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photo.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    photo: Mapped[Photo] = relationship(lazy="joined")
