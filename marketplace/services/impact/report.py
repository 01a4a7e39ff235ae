"""What the figures are made of: totals, a category's and a month's figures, the time to first
claim, the report of a period, and the top categories of a metric."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .factors import CategoryName, FactorChoice
from .period import Period
from .rounding import ZERO

TOP_CATEGORIES = 5
METRICS = ("items", "kilograms", "co2e_kg")


@dataclass
class Totals:
    claims: int = 0
    items: int = 0
    kilograms: Decimal = ZERO
    euros: Decimal = ZERO
    co2e_kg: Decimal = ZERO
    claims_without_weight: int = 0
    claims_without_value: int = 0

    def add(self, other: Totals) -> None:
        self.claims += other.claims
        self.items += other.items
        self.kilograms += other.kilograms
        self.euros += other.euros
        self.co2e_kg += other.co2e_kg
        self.claims_without_weight += other.claims_without_weight
        self.claims_without_value += other.claims_without_value


@dataclass
class CategoryFigure:
    category: CategoryName | None  # None: every category outside the top
    totals: Totals
    factor: FactorChoice | None = None

    @property
    def is_rest(self) -> bool:
        return self.category is None


@dataclass
class MonthFigure:
    month: date
    items: int = 0
    kilograms: Decimal = ZERO
    co2e_kg: Decimal = ZERO
    euros: Decimal = ZERO

    def add(self, totals: Totals) -> None:
        self.items += totals.items
        self.kilograms += totals.kilograms
        self.co2e_kg += totals.co2e_kg
        self.euros += totals.euros


@dataclass
class FirstClaim:
    listings: int  # published in the period and claimed at least once
    median_hours: float | None
    mean_hours: float | None


@dataclass(frozen=True)
class Waits:
    """Time from publication to an event (the first claim, the first collection), over the
    listings where it happened; percentiles interpolate between ranks (Excel's PERCENTILE.INC)."""

    listings: int = 0
    median_hours: float | None = None
    p80_hours: float | None = None


@dataclass(frozen=True)
class Uptake:
    """What became of the listings published in the period (docs/impact.md, "How well it
    works")."""

    listings: int = 0  # published in the period
    claimed: int = 0  # got any claim, whatever came of it
    taken: int = 0  # found a taker: a claim now accepted or collected
    collected: int = 0  # at least one claim collected
    expired_unclaimed: int = 0  # expired without a taker
    to_first_claim: Waits = field(default_factory=Waits)
    to_first_collection: Waits = field(default_factory=Waits)


@dataclass(frozen=True)
class CategoryUptake:
    category: CategoryName
    uptake: Uptake


@dataclass(frozen=True)
class OrganisationUptake:
    organisation_id: int
    name: str
    uptake: Uptake


@dataclass
class Performance:
    """How well it works: in total, per category (most listings first) and, for the platform,
    per organisation (for one organisation that list is empty)."""

    total: Uptake = field(default_factory=Uptake)
    categories: list[CategoryUptake] = field(default_factory=list)
    organisations: list[OrganisationUptake] = field(default_factory=list)


@dataclass
class ImpactReport:
    period: Period
    organisation_id: int | None
    listings_posted: int
    total: Totals  # every collected claim in scope (for one organisation: given or received)
    given: Totals
    received: Totals
    organisations_gave: int
    organisations_received: int
    categories: list[CategoryFigure]  # every category with collected claims, most items first
    months: list[MonthFigure]
    first_claim: FirstClaim
    top: dict[str, list[CategoryFigure]] = field(default_factory=dict)  # items, kg, co2e
    # One organisation: its categories and months per side, never added together (what it
    # received is purchase avoided, what it gave is passed on). Empty for the platform.
    received_categories: list[CategoryFigure] = field(default_factory=list)
    given_categories: list[CategoryFigure] = field(default_factory=list)
    received_months: list[MonthFigure] = field(default_factory=list)
    given_months: list[MonthFigure] = field(default_factory=list)
    performance: Performance = field(default_factory=Performance)

    @property
    def items_given(self) -> int:
        return self.given.items

    @property
    def items_received(self) -> int:
        return self.received.items


def top_categories(categories: list[CategoryFigure], metric: str,
                   limit: int = TOP_CATEGORIES) -> list[CategoryFigure]:
    """The `limit` largest by `metric` (items, kilograms or co2e_kg), then one row for the
    rest; categories at zero are left out."""
    ranked = sorted((figure for figure in categories if getattr(figure.totals, metric) > 0),
                    key=lambda figure: (-getattr(figure.totals, metric),
                                        figure.category.name_en if figure.category else ""))
    top, rest = ranked[:limit], ranked[limit:]
    if rest:
        other = Totals()
        for figure in rest:
            other.add(figure.totals)
        top.append(CategoryFigure(None, other))
    return top
