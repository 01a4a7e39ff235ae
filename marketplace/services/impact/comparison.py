"""An organisation's own figures beside the cooperative's median for approved (active)
organisations of its kind, over the same period.

Never another member's figures: only the median, and only when at least
MIN_ORGANISATIONS_TO_COMPARE organisations stand behind it, so that no member's figure can be
read back from it. Organisations of the kind with nothing in the period count as zero (a rate
counts only organisations that posted listings: without listings there is no rate). One
grouped query per side, whatever the number of organisations.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, exists, func, select

from ...extensions import db
from ...models import (
    Claim,
    Listing,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)
from . import queries
from .factors import FactorBook
from .performance import TAKER_STATUSES
from .period import Period
from .rounding import CENTS, KG, ZERO

# Fewer than this many organisations of a kind: no median (it would come too close to
# showing what one member did).
MIN_ORGANISATIONS_TO_COMPARE = 5
RATE_PLACES = Decimal("0.0001")
HALF = Decimal("0.1")


class Compared(enum.StrEnum):
    """The figures compared, in the order shown."""

    RECEIVED_ITEMS = "received_items"
    RECEIVED_EUROS = "received_euros"
    RECEIVED_KILOGRAMS = "received_kilograms"
    RECEIVED_CO2E_KG = "received_co2e_kg"
    GIVEN_ITEMS = "given_items"
    GIVEN_EUROS = "given_euros"
    GIVEN_KILOGRAMS = "given_kilograms"
    LISTINGS_POSTED = "listings_posted"
    CLAIM_RATE = "claim_rate"  # share of its listings posted in the period that found a taker


COUNTS = (Compared.RECEIVED_ITEMS, Compared.GIVEN_ITEMS, Compared.LISTINGS_POSTED)


@dataclass(frozen=True)
class ComparedFigure:
    metric: Compared
    own: Decimal | None  # None: no rate (it posted no listings)
    median: Decimal | None  # None: too few organisations to compare
    organisations: int  # how many organisations the median is over

    @property
    def label(self) -> str:
        return str(COMPARED_LABELS[self.metric])

    @property
    def unit(self) -> str:
        return UNITS[self.metric]


@dataclass
class Comparison:
    kind: OrganisationKind
    organisations: int  # approved organisations of the kind
    figures: list[ComparedFigure] = field(default_factory=list)

    @property
    def enough(self) -> bool:
        return self.organisations >= MIN_ORGANISATIONS_TO_COMPARE

    @property
    def kind_label(self) -> str:
        return self.kind.label


def compare(organisation: Organisation, period: Period) -> Comparison:
    """`organisation`'s figures of `period` beside the median of the active organisations of
    its kind (itself included when active). Medians are None below the minimum."""
    peers = set(db.session.scalars(select(Organisation.id).where(
        Organisation.kind == organisation.kind,
        Organisation.status == OrganisationStatus.ACTIVE)))
    values = _received(organisation.kind, period) | _given(organisation.kind, period)
    comparison = Comparison(organisation.kind, len(peers))
    for metric in Compared:
        per_organisation = values.get(metric, {})
        if metric is Compared.CLAIM_RATE:
            among = [per_organisation[peer] for peer in peers if peer in per_organisation]
        else:
            among = [per_organisation.get(peer, ZERO) for peer in peers]
        own = per_organisation.get(organisation.id,
                                   None if metric is Compared.CLAIM_RATE else ZERO)
        shown = (_median(among, metric) if len(among) >= MIN_ORGANISATIONS_TO_COMPARE
                 else None)
        comparison.figures.append(ComparedFigure(metric, own, shown, len(among)))
    return comparison


def comparison_csv_rows(comparison: Comparison | None) -> Iterator[tuple]:
    """The `comparison` section of the figures CSV (section, key, metric, value, unit, label):
    the kind, how many organisations it has, and per figure its own value and the median
    (empty: too few organisations, or no rate)."""
    if comparison is None:
        return
    yield ("comparison", "", "organisation_kind", comparison.kind.value, "",
           comparison.kind_label)
    yield ("comparison", "", "organisations_of_kind", comparison.organisations,
           "organisations", _("Approved organisations of this kind"))
    for figure in comparison.figures:
        for metric, value in (("own", figure.own), ("median", figure.median)):
            yield ("comparison", figure.metric.value, metric, "" if value is None else value,
                   figure.unit, figure.label)


def _median(values: list[Decimal], metric: Compared) -> Decimal:
    middle = Decimal(median(values))
    if metric in COUNTS:  # whole, or a half between two counts
        return middle.quantize(Decimal(1) if middle == middle.to_integral() else HALF)
    places = {Compared.RECEIVED_EUROS: CENTS, Compared.GIVEN_EUROS: CENTS,
              Compared.CLAIM_RATE: RATE_PLACES}.get(metric, KG)
    return middle.quantize(places)


_Values = dict[Compared, dict[int, Decimal]]


def _received(kind: OrganisationKind, period: Period) -> _Values:
    """Received, per claimant organisation of `kind`: grouped by organisation and category
    (the CO₂e factor is per category)."""
    book = FactorBook()
    statement = (queries.sums(select(Claim.claimant_organisation_id.label("organisation_id"),
                                     Listing.category_id))
                 .join(Organisation, Organisation.id == Claim.claimant_organisation_id)
                 .where(*queries.collected_in(period, None), Organisation.kind == kind)
                 .group_by(Claim.claimant_organisation_id, Listing.category_id))
    values: _Values = {metric: {} for metric in (
        Compared.RECEIVED_ITEMS, Compared.RECEIVED_EUROS, Compared.RECEIVED_KILOGRAMS,
        Compared.RECEIVED_CO2E_KG)}
    for row in db.session.execute(statement):
        totals = queries.totals_of(row, book.for_category(row.category_id).value)
        for metric, amount in ((Compared.RECEIVED_ITEMS, totals.items),
                               (Compared.RECEIVED_EUROS, totals.euros),
                               (Compared.RECEIVED_KILOGRAMS, totals.kilograms),
                               (Compared.RECEIVED_CO2E_KG, totals.co2e_kg)):
            _add(values[metric], row.organisation_id, Decimal(amount))
    return values


def _given(kind: OrganisationKind, period: Period) -> _Values:
    """Given, listings posted and the claim rate, per listing organisation of `kind`."""
    given = (queries.sums(select(Listing.organisation_id))
             .join(Organisation, Organisation.id == Listing.organisation_id)
             .where(*queries.collected_in(period, None), Organisation.kind == kind)
             .group_by(Listing.organisation_id))
    values: _Values = {metric: {} for metric in (
        Compared.GIVEN_ITEMS, Compared.GIVEN_EUROS, Compared.GIVEN_KILOGRAMS,
        Compared.LISTINGS_POSTED, Compared.CLAIM_RATE)}
    for row in db.session.execute(given):
        totals = queries.totals_of(row, ZERO)
        values[Compared.GIVEN_ITEMS][row.organisation_id] = Decimal(totals.items)
        values[Compared.GIVEN_EUROS][row.organisation_id] = totals.euros
        values[Compared.GIVEN_KILOGRAMS][row.organisation_id] = totals.kilograms
    for organisation_id, posted, taken in db.session.execute(_posted(kind, period)):
        values[Compared.LISTINGS_POSTED][organisation_id] = Decimal(posted)
        values[Compared.CLAIM_RATE][organisation_id] = (
            Decimal(int(taken or 0)) / Decimal(posted)).quantize(RATE_PLACES)
    return values


def _posted(kind: OrganisationKind, period: Period) -> Select:
    """Listings published in the period per organisation of `kind`, and how many of them
    found a taker (as "How well it works" counts it: a claim accepted or collected now)."""
    taken = exists().where(Claim.listing_id == Listing.id, Claim.status.in_(TAKER_STATUSES))
    return (select(Listing.organisation_id, func.count(Listing.id),
                   func.sum(case((taken, 1), else_=0)))
            .join(Organisation, Organisation.id == Listing.organisation_id)
            .where(Listing.published_at >= period.starts_at,
                   Listing.published_at < period.ends_before, Organisation.kind == kind)
            .group_by(Listing.organisation_id))


def _add(into: dict[int, Decimal], key: int, amount: Decimal) -> None:
    into[key] = into.get(key, ZERO) + amount


# How each figure is written on the page and in the CSV: its unit.
UNITS: dict[Compared, str] = {
    Compared.RECEIVED_ITEMS: "items", Compared.RECEIVED_EUROS: "EUR",
    Compared.RECEIVED_KILOGRAMS: "kg", Compared.RECEIVED_CO2E_KG: "kg CO2e",
    Compared.GIVEN_ITEMS: "items", Compared.GIVEN_EUROS: "EUR", Compared.GIVEN_KILOGRAMS: "kg",
    Compared.LISTINGS_POSTED: "listings", Compared.CLAIM_RATE: "share",
}
COMPARED_LABELS = {
    Compared.RECEIVED_ITEMS: _l("Items received"),
    Compared.RECEIVED_EUROS: _l("Received: value (purchases avoided)"),
    Compared.RECEIVED_KILOGRAMS: _l("Received: kilograms"),
    Compared.RECEIVED_CO2E_KG: _l("Received: CO₂e avoided"),
    Compared.GIVEN_ITEMS: _l("Items given"),
    Compared.GIVEN_EUROS: _l("Given: value passed on"),
    Compared.GIVEN_KILOGRAMS: _l("Given: kilograms"),
    Compared.LISTINGS_POSTED: _l("Listings posted"),
    Compared.CLAIM_RATE: _l("Share of its listings that found a taker"),
}
