"""Green Deal terms of a period: kilograms avoided per material class, CO₂e gross, the CO₂e of
the transport the hand-overs took, net, and with displacement (docs/impact.md).

For one organisation the figures are its received side (what it did not have to buy); for the
platform every hand-over once. Two aggregate queries: the collected claims grouped by category
(kilograms, and CO₂e at each category's factor), and grouped by (listing's site, receiving
organisation); with each organisation's receiving site (one row per organisation) that gives the
pairs of sites, whose distances are computed once per pair in Python (at most sites², never one
per claim)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...extensions import db
from ...i18n import current_language
from ...models import Claim, GreenDealSetting, Listing, MaterialClass, Organisation, Site
from .. import organisations, search
from . import queries
from .factors import FactorBook
from .materials import (
    TRIPS_PER_HAND_OVER,
    MaterialBook,
    SettingInUse,
    category_materials,
    settings_in_use,
)
from .period import Period
from .rounding import KG, ZERO

KM = Decimal("0.001")  # distances to the metre


@dataclass
class MaterialFigure:
    material_class: MaterialClass
    kilograms: Decimal = ZERO
    co2e_kg: Decimal = ZERO

    @property
    def label(self) -> str:
        return self.material_class.label


@dataclass
class Transport:
    """The hand-overs' transport: how many, how far, how much CO₂e."""

    hand_overs: int = 0
    without_distance: int = 0  # a site without a known place: not subtracted
    straight_km: Decimal = ZERO  # one way, summed over the hand-overs with a distance
    road_km: Decimal = ZERO  # estimated: straight x detour factor x trips
    co2e_kg: Decimal = ZERO


@dataclass
class GreenDealFigures:
    period: Period
    organisation_id: int | None
    materials: list[MaterialFigure]  # classes with kilograms, most first
    transport: Transport
    settings: dict[GreenDealSetting, SettingInUse] = field(default_factory=dict)
    kilograms: Decimal = ZERO
    gross_co2e_kg: Decimal = ZERO

    @property
    def net_co2e_kg(self) -> Decimal:
        return self.gross_co2e_kg - self.transport.co2e_kg

    @property
    def displacement_rate(self) -> Decimal | None:
        return self.settings[GreenDealSetting.DISPLACEMENT_RATE].value

    @property
    def displaced_co2e_kg(self) -> Decimal | None:
        """Gross x displacement rate - transport; None while the rate is not set."""
        rate = self.displacement_rate
        if rate is None:
            return None
        return (self.gross_co2e_kg * rate).quantize(KG) - self.transport.co2e_kg


def green_deal_figures(period: Period, organisation_id: int | None = None) -> GreenDealFigures:
    """The Green Deal figures of `period`: for one organisation what it received, for the
    platform every hand-over once."""
    scope = queries.collected_in(period, None)
    if organisation_id is not None:
        scope.append(Claim.claimant_organisation_id == organisation_id)
    settings = settings_in_use()
    materials, kilograms, gross = _materials(scope)
    return GreenDealFigures(period=period, organisation_id=organisation_id,
                            materials=materials, transport=_transport(scope, settings),
                            settings=settings, kilograms=kilograms, gross_co2e_kg=gross)


def _materials(scope: list) -> tuple[list[MaterialFigure], Decimal, Decimal]:
    """Kilograms and gross CO₂e per material class, from the claims grouped by category."""
    factors, classes = FactorBook(), MaterialBook()
    figures: dict[MaterialClass, MaterialFigure] = {}
    kilograms = gross = ZERO
    rows = db.session.execute(queries.sums(select(Listing.category_id)).where(*scope)
                              .group_by(Listing.category_id))
    for row in rows:
        totals = queries.totals_of(row, factors.for_category(row.category_id).value)
        material_class = classes.class_of(row.category_id)
        figure = figures.setdefault(material_class, MaterialFigure(material_class))
        figure.kilograms += totals.kilograms
        figure.co2e_kg += totals.co2e_kg
        kilograms += totals.kilograms
        gross += totals.co2e_kg
    ordered = sorted((figure for figure in figures.values() if figure.kilograms > 0),
                     key=lambda figure: (-figure.kilograms, figure.material_class.value))
    return ordered, kilograms, gross


def _transport(scope: list, settings: dict[GreenDealSetting, SettingInUse]) -> Transport:
    """The collected claims counted per (listing's site, receiving organisation) in SQL, the
    receiving organisations' sites read once (one row per organisation), and each pair of
    sites' distance computed once. A hand-over is one trip there and back."""
    counted = db.session.execute(
        select(Listing.site_id, Claim.claimant_organisation_id,
               func.count(Claim.id).label("hand_overs"))
        .select_from(Claim).join(Listing, Claim.listing_id == Listing.id).where(*scope)
        .group_by(Listing.site_id, Claim.claimant_organisation_id)).all()
    # Per organisation, not per claim: a correlated lookup per claim took 0.4 s at 16,000.
    receiving: dict[int, int | None] = dict(db.session.execute(
        select(Organisation.id, organisations.receiving_site_id(Organisation.id))).all())
    places = {row.id: search.Origin(row.id, "", row.latitude, row.longitude)
              for row in db.session.execute(select(Site.id, Site.latitude, Site.longitude))}
    metres: dict[tuple[int | None, int | None], int | None] = {}
    transport, straight_metres = Transport(), 0
    for from_site, receiver, hand_overs in counted:
        pair = (from_site, receiving.get(receiver))
        if pair not in metres:
            metres[pair] = _metres(places.get(pair[0]), places.get(pair[1]))
        distance = metres[pair]
        transport.hand_overs += hand_overs
        if distance is None:
            transport.without_distance += hand_overs
        else:
            straight_metres += distance * hand_overs
    transport.straight_km = Decimal(straight_metres) / 1000
    detour = settings[GreenDealSetting.DETOUR_FACTOR].value or Decimal(1)
    per_km = settings[GreenDealSetting.TRANSPORT_FACTOR].value or ZERO
    transport.road_km = (transport.straight_km * detour * TRIPS_PER_HAND_OVER).quantize(KM)
    transport.co2e_kg = (transport.road_km * per_km).quantize(KG)
    return transport


def _metres(origin: search.Origin | None, destination: search.Origin | None) -> int | None:
    """The straight line between two sites in whole metres, None where a place is unknown
    (whole metres keep the sums exact and quick)."""
    if origin is None or destination is None:
        return None
    km = search.km_between(origin, destination.latitude, destination.longitude)
    return None if km is None else round(km * 1000)


@dataclass(frozen=True)
class FactorRow:
    """A factor and its source, as the factors page and the paper report list them."""

    name: str
    value: Decimal | None  # None: not set
    unit: str
    source: str


def green_deal_factor_rows() -> list[FactorRow]:
    """The transport and displacement settings, then each category's material class, with
    their sources (for the dashboard and the last page of the paper report)."""
    rows = [FactorRow(setting.name, setting.value, setting.unit, setting.source)
            for setting in settings_in_use().values()]
    rows.append(FactorRow(_("Trips per hand-over (there and back)"),
                          Decimal(TRIPS_PER_HAND_OVER), _("trips"),
                          _("Assumed: the receiver drives to the giver's site and back.")))
    return rows


def material_class_rows() -> list[tuple[str, str, str]]:
    """(category, material class, source) of every category, in the page's language."""
    language = current_language()
    return [(row.category.name(language), row.material_class.label, row.source)
            for row in category_materials()]


def green_deal_csv_rows(figures: GreenDealFigures) -> Iterator[tuple]:
    """The `material` and `transport` sections of the figures CSV (docs/impact.md)."""
    for figure in figures.materials:
        yield ("material", figure.material_class.value, "kilograms", figure.kilograms, "kg",
               figure.label)
        yield ("material", figure.material_class.value, "co2e_kg", figure.co2e_kg, "kg CO2e",
               figure.label)
    yield ("material", "all", "kilograms", figures.kilograms, "kg",
           _("Kilograms avoided (all material classes)"))
    yield ("material", "all", "co2e_kg", figures.gross_co2e_kg, "kg CO2e",
           _("CO₂e avoided, gross"))
    transport = figures.transport
    rate = figures.displacement_rate
    displaced = figures.displaced_co2e_kg
    for metric, value, unit, label in (
        ("hand_overs", transport.hand_overs, "claims", _("Hand-overs")),
        ("hand_overs_without_distance", transport.without_distance, "claims",
         _("Hand-overs without a known distance (transport not subtracted)")),
        ("straight_line_km", transport.straight_km, "km",
         _("Straight-line distance, one way, summed")),
        ("estimated_road_km", transport.road_km, "km",
         _("Estimated road distance driven (detour factor, there and back)")),
        ("transport_co2e_kg", transport.co2e_kg, "kg CO2e", _("CO₂e of the transport")),
        ("net_co2e_kg", figures.net_co2e_kg, "kg CO2e", _("CO₂e avoided, net of transport")),
        ("displacement_rate", "" if rate is None else rate, "share",
         _("Displacement rate (empty: not set)")),
        ("displaced_co2e_kg", "" if displaced is None else displaced, "kg CO2e",
         _("CO₂e avoided with displacement (empty: rate not set)")),
    ):
        yield ("transport", "", metric, value, unit, label)
