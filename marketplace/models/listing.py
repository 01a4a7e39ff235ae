"""Listings: what an organisation offers, from draft to handed over."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from flask_babel import format_decimal, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, enum_column, shown_on_cards, utcnow
from .category import Category
from .device_passport import DevicePassport
from .organisation import Organisation, Site
from .photo import ListingPhoto
from .search_text import stems_of_inserted_text
from .states import Transitions

if TYPE_CHECKING:
    from collections.abc import Callable

    from .user import User


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PUBLISHED = "published"
    CLOSED = "closed"  # everything handed over
    WITHDRAWN = "withdrawn"  # by the owner
    REJECTED = "rejected"  # by moderation, with a reason
    EXPIRED = "expired"
    REMOVED = "removed"  # by moderation after publication

    @property
    def label(self) -> str:
        return str(LISTING_STATUS_LABELS[self])


LISTING_STATUS_LABELS = {
    ListingStatus.DRAFT: _l("Draft"),
    ListingStatus.PENDING_REVIEW: _l("Waiting for review"),
    ListingStatus.PUBLISHED: _l("Published"),
    ListingStatus.CLOSED: _l("Handed over"),
    ListingStatus.WITHDRAWN: _l("Withdrawn"),
    ListingStatus.REJECTED: _l("Rejected"),
    ListingStatus.EXPIRED: _l("Expired"),
    ListingStatus.REMOVED: _l("Removed by moderation"),
}

_L = ListingStatus
# Submitting goes to review, or straight to published for a trusted organisation; relisting
# (expired, withdrawn) submits again; an edit of a published listing may send it back to review
# and one waiting for review is submitted again as it is. Handed over and removed are final.
LISTING_TRANSITIONS = Transitions(ListingStatus, initial={_L.DRAFT}, edges={
    _L.DRAFT: {_L.PENDING_REVIEW, _L.PUBLISHED, _L.WITHDRAWN, _L.REMOVED},
    _L.PENDING_REVIEW: {_L.PENDING_REVIEW, _L.PUBLISHED, _L.REJECTED, _L.DRAFT, _L.WITHDRAWN,
                        _L.REMOVED},
    _L.PUBLISHED: {_L.PENDING_REVIEW, _L.CLOSED, _L.WITHDRAWN, _L.EXPIRED, _L.DRAFT,
                   _L.REMOVED},
    _L.REJECTED: {_L.PENDING_REVIEW, _L.PUBLISHED, _L.REMOVED},
    _L.WITHDRAWN: {_L.PENDING_REVIEW, _L.PUBLISHED, _L.REMOVED},
    _L.EXPIRED: {_L.PENDING_REVIEW, _L.PUBLISHED, _L.REMOVED},
})
# What the poster may still change, take off the marketplace, or offer again: the service checks
# them (with words for the member) and security.can offers the buttons by them.
EDITABLE = frozenset({_L.DRAFT, _L.PENDING_REVIEW, _L.PUBLISHED, _L.REJECTED})
WITHDRAWABLE = LISTING_TRANSITIONS.sources_of(_L.WITHDRAWN)
RELISTABLE = frozenset({_L.EXPIRED, _L.WITHDRAWN})


class Condition(enum.StrEnum):
    NEW = "new"
    AS_NEW = "as_new"
    GOOD = "good"
    FAIR = "fair"
    FOR_PARTS = "for_parts"

    @property
    def label(self) -> str:
        return str(CONDITION_LABELS[self])


CONDITION_LABELS = {
    Condition.NEW: _l("New"),
    Condition.AS_NEW: _l("As new"),
    Condition.GOOD: _l("Good"),
    Condition.FAIR: _l("Fair, signs of use"),
    Condition.FOR_PARTS: _l("For parts"),
}


class Unit(enum.StrEnum):
    PIECE = "piece"
    BOX = "box"
    PACK = "pack"
    PALLET = "pallet"
    SET = "set"
    PAIR = "pair"
    ROLL = "roll"

    @property
    def label(self) -> str:
        return str(UNIT_LABELS[self])

    def quantity(self, number: int) -> str:
        """`number` of this unit in the current language, singular or plural as it takes:
        "1 stuk", "3 stuks", "1.000 stuks"; "1 box", "2 boxes"."""
        return UNIT_COUNTS[self](number)


UNIT_LABELS = {
    Unit.PIECE: _l("pieces"),
    Unit.BOX: _l("boxes"),
    Unit.PACK: _l("packs"),
    Unit.PALLET: _l("pallets"),
    Unit.SET: _l("sets"),
    Unit.PAIR: _l("pairs"),
    Unit.ROLL: _l("rolls"),
}

# A count of each unit (what Unit.quantity says), through ngettext so that each language has its
# own forms; "%(count)s" is the number as the language writes it.
UNIT_COUNTS: dict[Unit, Callable[[int], str]] = {
    Unit.PIECE: lambda n: ngettext("%(count)s piece", "%(count)s pieces", n,
                                   count=format_decimal(n)),
    Unit.BOX: lambda n: ngettext("%(count)s box", "%(count)s boxes", n,
                                 count=format_decimal(n)),
    Unit.PACK: lambda n: ngettext("%(count)s pack", "%(count)s packs", n,
                                  count=format_decimal(n)),
    Unit.PALLET: lambda n: ngettext("%(count)s pallet", "%(count)s pallets", n,
                                    count=format_decimal(n)),
    Unit.SET: lambda n: ngettext("%(count)s set", "%(count)s sets", n,
                                 count=format_decimal(n)),
    Unit.PAIR: lambda n: ngettext("%(count)s pair", "%(count)s pairs", n,
                                  count=format_decimal(n)),
    Unit.ROLL: lambda n: ngettext("%(count)s roll", "%(count)s rolls", n,
                                  count=format_decimal(n)),
}


@shown_on_cards(listing="id")
class Listing(Model):
    __tablename__ = "listing"
    STATUS_TRANSITIONS: ClassVar[Transitions[ListingStatus]] = LISTING_TRANSITIONS
    __table_args__ = (
        # The browse page: published listings, newest first, read until enough pass the
        # filters; covering every filtered column, so only the index is read (migration 0009).
        Index("ix_listing_browse", "status", "published_at", "id", "available_until",
              "internal_until", "organisation_id", "site_id", "category_id", "condition",
              "delivery_possible"),
        # A category, or the sites of a province, with their published listings: read whole
        # when that filter leaves few (services/search/sqlite_plan.py; migration 0011).
        Index("ix_listing_category_browse", "category_id", "status", "published_at", "id",
              "available_until", "internal_until", "organisation_id", "site_id", "condition",
              "delivery_possible"),
        Index("ix_listing_site_browse", "site_id", "status", "published_at", "id",
              "available_until", "internal_until", "organisation_id", "category_id", "condition",
              "delivery_possible"),
        Index("ix_listing_status_available_until", "status", "available_until"),
        # When the next internal phase ends (page_cache keeps results until then; 0010).
        Index("ix_listing_status_internal_until", "status", "internal_until"),
        # Whether a member's organisation has listings in their internal phase, asked on every
        # member's search page (search.results_visibility): one entry, not all of its listings
        # (20 % of a member's page at 4,000 listings an organisation; 0020).
        Index("ix_listing_organisation_internal", "organisation_id", "status", "internal_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # NULL only in a draft (saved with a title alone; migration 0015): a listing leaves the
    # draft state only once services/listings.py checked all of these (site, category,
    # condition, quantities, availability), so the code that reads listings past that point
    # (claims, alerts, impact) takes them as present, and its types say so.
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), nullable=True)  # indexed above
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), nullable=True)

    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    # The Dutch and English stems of title and description, for SQLite's full-text index
    # (models/search_index.py); set on every insert, ORM or not, and by search_index when the
    # text changes. PostgreSQL stems in the database and does not read it.
    search_stems: Mapped[str] = mapped_column(Text, default=stems_of_inserted_text,
                                              server_default="")
    condition: Mapped[Condition] = mapped_column(enum_column(Condition), nullable=True)
    quantity: Mapped[int] = mapped_column(nullable=True)
    quantity_available: Mapped[int] = mapped_column(nullable=True)
    unit: Mapped[Unit] = mapped_column(enum_column(Unit), default=Unit.PIECE)
    value_per_unit: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # EUR, estimated
    weight_per_unit_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    available_until: Mapped[date] = mapped_column(Date, nullable=True)
    delivery_possible: Mapped[bool] = mapped_column(default=False)

    # Consumables.
    best_before: Mapped[date | None] = mapped_column(Date)
    batch_number: Mapped[str | None] = mapped_column(String(60))
    packaging_unopened: Mapped[bool | None]
    storage_conditions: Mapped[str | None] = mapped_column(String(200))
    # Medical aids and equipment.
    cleaned_on: Mapped[date | None] = mapped_column(Date)
    inspected_on: Mapped[date | None] = mapped_column(Date)

    # Internal first: for this many days after publication only the own organisation sees it.
    internal_days: Mapped[int] = mapped_column(default=0)
    internal_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    status: Mapped[ListingStatus] = mapped_column(
        enum_column(ListingStatus), default=ListingStatus.DRAFT, index=True
    )
    # The moderator's reason for a rejection, a removal or the changes asked (then a draft).
    moderation_reason: Mapped[str | None] = mapped_column(String(1000))
    # Watch-words found at the last submission: held for review whatever the trust (shown
    # highlighted to the moderator); folded, comma-separated.
    held_words: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expiry_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # told once
    # When wanted alerts were matched (at publication, or when the internal phase ended).
    alerts_matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    site: Mapped[Site] = relationship()
    category: Mapped[Category] = relationship()
    created_by: Mapped[User | None] = relationship()
    photos: Mapped[list[ListingPhoto]] = relationship(
        order_by="ListingPhoto.position", cascade="all, delete-orphan",
        passive_deletes=True,
    )
    # Medical devices only (a category marked medical_device): see models/device_passport.py.
    passport: Mapped[DevicePassport | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def cover(self) -> ListingPhoto | None:
        return self.photos[0] if self.photos else None

    def is_internal_at(self, moment: datetime) -> bool:
        return self.internal_until is not None and moment < self.internal_until

    def __repr__(self) -> str:
        return f"<Listing {self.id} {self.title!r} {self.status.value}>"
