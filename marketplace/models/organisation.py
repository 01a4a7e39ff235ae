"""Organisations (care providers) and their pick-up sites."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .base import Model, UTCDateTime, enum_column, shown_on_cards, utcnow
from .states import Transitions

if TYPE_CHECKING:
    from .user import User


class OrganisationKind(enum.StrEnum):
    HOSPITAL = "hospital"
    ELDERLY_CARE = "elderly_care"
    DISABILITY_CARE = "disability_care"
    MENTAL_HEALTH = "mental_health"
    GP = "gp"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(ORGANISATION_KIND_LABELS[self])


ORGANISATION_KIND_LABELS = {
    OrganisationKind.HOSPITAL: _l("Hospital"),
    OrganisationKind.ELDERLY_CARE: _l("Elderly care"),
    OrganisationKind.DISABILITY_CARE: _l("Disability care"),
    OrganisationKind.MENTAL_HEALTH: _l("Mental health care"),
    OrganisationKind.GP: _l("GP practice"),
    OrganisationKind.OTHER: _l("Other care organisation"),
}


class OrganisationStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return str(ORGANISATION_STATUS_LABELS[self])


ORGANISATION_STATUS_LABELS = {
    OrganisationStatus.PENDING: _l("Awaiting approval"),
    OrganisationStatus.ACTIVE: _l("Active"),
    OrganisationStatus.SUSPENDED: _l("Suspended"),
}
_O = OrganisationStatus
# Made pending by a sign-up, active by operators; suspension (also of one still waiting) ends
# with reactivation.
ORGANISATION_TRANSITIONS = Transitions(OrganisationStatus, initial={_O.PENDING, _O.ACTIVE},
                                       edges={
    _O.PENDING: {_O.ACTIVE, _O.SUSPENDED},
    _O.ACTIVE: {_O.SUSPENDED},
    _O.SUSPENDED: {_O.ACTIVE},
})


class Province(enum.StrEnum):
    """The twelve Dutch provinces; listings are searched by them."""

    DRENTHE = "drenthe"
    FLEVOLAND = "flevoland"
    FRIESLAND = "friesland"
    GELDERLAND = "gelderland"
    GRONINGEN = "groningen"
    LIMBURG = "limburg"
    NOORD_BRABANT = "noord_brabant"
    NOORD_HOLLAND = "noord_holland"
    OVERIJSSEL = "overijssel"
    UTRECHT = "utrecht"
    ZEELAND = "zeeland"
    ZUID_HOLLAND = "zuid_holland"

    @property
    def label(self) -> str:
        return PROVINCE_NAMES[self]


# Proper names: the same in Dutch and English (Friesland's official name is Fryslân).
PROVINCE_NAMES = {
    Province.DRENTHE: "Drenthe",
    Province.FLEVOLAND: "Flevoland",
    Province.FRIESLAND: "Fryslân",
    Province.GELDERLAND: "Gelderland",
    Province.GRONINGEN: "Groningen",
    Province.LIMBURG: "Limburg",
    Province.NOORD_BRABANT: "Noord-Brabant",
    Province.NOORD_HOLLAND: "Noord-Holland",
    Province.OVERIJSSEL: "Overijssel",
    Province.UTRECHT: "Utrecht",
    Province.ZEELAND: "Zeeland",
    Province.ZUID_HOLLAND: "Zuid-Holland",
}


def organisation_name_key(name: str) -> str:
    """What makes two names the same organisation: case and spacing do not count."""
    return " ".join(name.split()).casefold()


@shown_on_cards(new_shows_nothing=True)  # shows once a listing refers to it
class Organisation(Model):
    __tablename__ = "organisation"
    STATUS_TRANSITIONS: ClassVar[Transitions[OrganisationStatus]] = ORGANISATION_TRANSITIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Unique, computed in Python: SQLite's lower() only folds ASCII letters.
    name_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind))
    # The Chamber of Commerce (KvK) number: 8 digits, shown to the approving admin.
    kvk_number: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[OrganisationStatus] = mapped_column(
        enum_column(OrganisationStatus), default=OrganisationStatus.PENDING, index=True
    )
    # Trusted organisations publish listings without review (set by platform admins).
    trusted: Mapped[bool] = mapped_column(default=False)
    # A shared mailbox (the facilities desk, say) that hears of every claim on its listings.
    notification_email: Mapped[str | None] = mapped_column(String(254))
    # Claims of its members for medical devices wait for its medical technology's approval.
    requires_medical_sign_off: Mapped[bool] = mapped_column(default=False,
                                                            server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sites: Mapped[list[Site]] = relationship(
        back_populates="organisation", order_by="Site.name", cascade="all, delete-orphan"
    )
    users: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.name")

    @validates("name")
    def _normalise_name(self, _key: str, name: str) -> str:
        name = " ".join(name.split())
        self.name_key = organisation_name_key(name)
        return name

    @property
    def is_active(self) -> bool:
        return self.status is OrganisationStatus.ACTIVE

    @property
    def active_sites(self) -> list[Site]:
        return [site for site in self.sites if site.active]

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.status.value}>"


@shown_on_cards(new_shows_nothing=True)  # shows once a listing refers to it
class Site(Model):
    """An address of an organisation where items are picked up."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    street: Mapped[str] = mapped_column(String(160))
    postcode: Mapped[str] = mapped_column(String(7))
    city: Mapped[str] = mapped_column(String(80))
    province: Mapped[Province] = mapped_column(enum_column(Province))
    # From the offline gazetteer (services/places.py) whenever the address changes; NULL
    # where the place is unknown: the site works, its distances cannot be shown.
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Sites are archived rather than deleted: listings and claims keep pointing at them.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When items can be picked up, Monday first, as services/opening_hours.py writes and reads
    # it ("08:00-16:30|08:00-12:00,13:00-16:30|…", an empty day closed); NULL: not known, any
    # time may be agreed.
    opening_hours: Mapped[str | None] = mapped_column(String(300))
    # Standing directions for whoever comes to collect: loading dock, reception, who to ask.
    pickup_instructions: Mapped[str] = mapped_column(Text, default="", server_default="")

    organisation: Mapped[Organisation] = relationship(back_populates="sites")

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postcode} {self.city}"

    def __repr__(self) -> str:
        return f"<Site {self.id} {self.name!r}>"
