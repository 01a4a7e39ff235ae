"""Moderation: reports on listings, standard reasons, watch-words, and once-a-day tasks."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, enum_column, utcnow
from .listing import Listing
from .states import Transitions
from .user import User


class ReportReason(enum.StrEnum):
    MEDICINE = "medicine"  # medicines or prescription products
    UNSAFE = "unsafe"  # unsafe, recalled or unhygienic
    FOR_SALE = "for_sale"  # asks money: the marketplace is for giving
    MISLEADING = "misleading"  # photos or description do not match
    OFFENSIVE = "offensive"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(REPORT_REASON_LABELS[self])


REPORT_REASON_LABELS = {
    ReportReason.MEDICINE: _l("It offers medicines or prescription products"),
    ReportReason.UNSAFE: _l("It is unsafe, recalled or unhygienic"),
    ReportReason.FOR_SALE: _l("It asks for money"),
    ReportReason.MISLEADING: _l("The photos or description are misleading"),
    ReportReason.OFFENSIVE: _l("It is offensive or inappropriate"),
    ReportReason.OTHER: _l("Something else"),
}


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return str(REPORT_STATUS_LABELS[self])


REPORT_STATUS_LABELS = {
    ReportStatus.OPEN: _l("Open"),
    ReportStatus.RESOLVED: _l("Resolved"),
}
REPORT_TRANSITIONS = Transitions(ReportStatus, initial={ReportStatus.OPEN},
                                 edges={ReportStatus.OPEN: {ReportStatus.RESOLVED}})


class ReportOutcome(enum.StrEnum):
    DISMISSED = "dismissed"  # nothing wrong found
    CHANGES_REQUESTED = "changes_requested"  # the poster was asked to change the listing
    LISTING_REMOVED = "listing_removed"

    @property
    def label(self) -> str:
        return str(REPORT_OUTCOME_LABELS[self])


REPORT_OUTCOME_LABELS = {
    ReportOutcome.DISMISSED: _l("No action: nothing wrong found"),
    ReportOutcome.CHANGES_REQUESTED: _l("The poster was asked to change the listing"),
    ReportOutcome.LISTING_REMOVED: _l("The listing was removed"),
}


class Report(Model):
    """A member's report of a listing; resolved by a platform admin with an outcome."""

    __tablename__ = "report"
    STATUS_TRANSITIONS: ClassVar[Transitions[ReportStatus]] = REPORT_TRANSITIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    reason: Mapped[ReportReason] = mapped_column(enum_column(ReportReason))
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus),
                                                 default=ReportStatus.OPEN, index=True)
    outcome: Mapped[ReportOutcome | None] = mapped_column(enum_column(ReportOutcome))
    resolution_note: Mapped[str | None] = mapped_column(String(1000))
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    listing: Mapped[Listing] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    def __repr__(self) -> str:
        return f"<Report {self.id} on listing {self.listing_id} {self.status.value}>"


class ModerationReason(Model):
    """A standard reason moderators pick when rejecting, asking for changes or removing."""

    __tablename__ = "moderation_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    text_nl: Mapped[str] = mapped_column(String(500))
    text_en: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def text(self, language: str) -> str:
        return self.text_nl if language == "nl" else self.text_en


class WatchWordKind(enum.StrEnum):
    MEDICINE = "medicine"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(WATCH_WORD_KIND_LABELS[self])


WATCH_WORD_KIND_LABELS = {
    WatchWordKind.MEDICINE: _l("Medicines"),
    WatchWordKind.OTHER: _l("Other watch-word"),
}


class WatchWord(Model):
    """A word or phrase that holds a listing for review whatever the organisation's trust."""

    __tablename__ = "watch_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored folded (lower case, accents removed) so matching is one comparison.
    word: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[WatchWordKind] = mapped_column(enum_column(WatchWordKind),
                                                default=WatchWordKind.OTHER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DailyTask(Model):
    """A task done once a day (the moderation summary): the primary key makes a second run
    of the same day fail to insert, so two housekeeping runs never both do it."""

    __tablename__ = "daily_task"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    done_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Seeded by migration 0007 (which keeps its own copy: migrations never import the app).
DEFAULT_MODERATION_REASONS: tuple[tuple[str, str], ...] = (
    ("Medicijnen en geneesmiddelen mogen niet op het marktplein worden aangeboden.",
     "Medicines may not be offered on the marketplace."),
    ("De foto's laten niet duidelijk zien wat je aanbiedt.",
     "The photos do not show clearly what you offer."),
    ("De beschrijving is te summier: vermeld de staat, de afmetingen en wat erbij hoort.",
     "The description is too brief: give the condition, the size and what is included."),
    ("Dit product mag om veiligheids- of hygiëneredenen niet worden hergebruikt.",
     "This product may not be reused for safety or hygiene reasons."),
    ("Verkopen is niet toegestaan: het marktplein is om gratis over te dragen.",
     "Selling is not allowed: the marketplace is for giving items away free of charge."),
    ("De houdbaarheidsdatum is verstreken of ligt te dichtbij.",
     "The best-before date has passed or is too close."),
)

DEFAULT_WATCH_WORDS: tuple[tuple[str, str], ...] = tuple(
    [(word, "medicine") for word in (
        # Dutch
        "medicijn", "medicijnen", "medicatie", "geneesmiddel", "geneesmiddelen", "tablet",
        "tabletten", "pil", "pillen", "capsule", "capsules", "ampul", "ampullen", "injectie",
        "injecties", "injectievloeistof", "recept", "receptplichtig", "zetpil", "zetpillen",
        "insuline", "morfine", "opiaat", "opiaten", "antibiotica", "vaccin", "vaccins",
        "infuusvloeistof", "apotheek",
        # English
        "medicine", "medicines", "medication", "medications", "drug", "drugs",
        "prescription", "pill", "pills", "tablets", "ampoule", "ampoules", "ampule",
        "ampules", "vial", "vials", "injection", "injections", "insulin", "morphine",
        "opioid", "opioids", "antibiotic", "antibiotics", "vaccine", "vaccines",
        "pharmacy",
    )]
    + [(word, "other") for word in (
        "te koop", "for sale", "asbest", "asbestos", "bloedproduct", "bloedproducten",
        "blood product", "blood products", "teruggeroepen", "recalled",
    )]
)
