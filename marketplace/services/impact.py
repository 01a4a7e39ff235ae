"""The impact figures: what was given, received, saved and avoided over a period.

Only collected claims count; `collected_at` dates them. The figures come from four aggregate
queries (the claims grouped by month, category and side; the organisations; the listings
posted; the time to first claim), so the cost grows with the number of months and
categories, not with the number of claims (see bench/impact.py). CO₂e is kilograms per
category times that category's factor (its own, else its nearest ancestor's, else the floor
row), added up in Python per group, which is exact because the factor is per category. Dates
and months are UTC, like every time the application shows. docs/impact.md explains it all.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Numeric, and_, case, distinct, func, literal, or_, select, type_coerce
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Category, Claim, ClaimStatus, ImpactFactor, Listing, Organisation, User
from ..security import Action, require
from . import audit
from .errors import DomainError

MAX_PERIOD_YEARS = 10
EARLIEST_DATE = date(2000, 1, 1)  # bounds for typed dates: no overflow, no year 1
LATEST_DATE = date(2099, 12, 31)
TOP_CATEGORIES = 5
FACTOR_MAX = Decimal(100)
KG = Decimal("0.001")
CENTS = Decimal("0.01")
ZERO = Decimal(0)


# --- the period ------------------------------------------------------------------------------

class Preset(enum.StrEnum):
    THIS_MONTH = "this_month"
    LAST_12_MONTHS = "last_12_months"
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"
    ALL_TIME = "all_time"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return str(PRESET_LABELS[self])


PRESET_LABELS = {
    Preset.THIS_MONTH: _l("This month"),
    Preset.LAST_12_MONTHS: _l("Last 12 months"),
    Preset.THIS_YEAR: _l("This year"),
    Preset.LAST_YEAR: _l("Last year"),
    Preset.ALL_TIME: _l("All time"),
    Preset.CUSTOM: _l("Chosen dates"),
}
DEFAULT_PRESET = Preset.LAST_12_MONTHS


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included (UTC)."""

    start: date
    end: date
    preset: Preset = Preset.CUSTOM

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        months = []
        month = self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = _next_month(month)
        return months

    def slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @classmethod
    def from_preset(cls, preset: Preset, today: date | None = None) -> Period:
        today = today or datetime.now(UTC).date()
        match preset:
            case Preset.THIS_MONTH:
                return cls(today.replace(day=1), today, preset)
            case Preset.THIS_YEAR:
                return cls(today.replace(month=1, day=1), today, preset)
            case Preset.LAST_YEAR:
                return cls(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), preset)
            case Preset.ALL_TIME:
                first = _first_activity() or today
                return cls(max(first, _years_before(today)), today, preset)
        # The current month and the eleven before it: whole months in the chart.
        start = today.replace(day=1)
        for _month in range(11):
            start = (start - timedelta(days=1)).replace(day=1)
        return cls(start, today, Preset.LAST_12_MONTHS)


def parse_period(args: Mapping[str, str], today: date | None = None
                 ) -> tuple[Period, list[str]]:
    """The period a request asks for (`period` preset, or `from`/`to` dates), and messages for
    what could not be used. Bad input falls back to the default period; it never raises."""
    today = today or datetime.now(UTC).date()
    raw_preset = (args.get("period") or "").strip()
    raw_start = (args.get("from") or "").strip()[:20]
    raw_end = (args.get("to") or "").strip()[:20]
    try:
        preset = Preset(raw_preset) if raw_preset else None
    except ValueError:
        preset = None
    if preset is None and (raw_start or raw_end):
        preset = Preset.CUSTOM
    if preset is None:
        return Period.from_preset(DEFAULT_PRESET, today), []
    if preset is not Preset.CUSTOM:
        return Period.from_preset(preset, today), []

    fallback = Period.from_preset(DEFAULT_PRESET, today)
    start, end = _parse_date(raw_start), _parse_date(raw_end)
    if (raw_start and start is None) or (raw_end and end is None):
        return fallback, [_("That is not a date we can use (dates between 2000 and 2099, as "
                            "YYYY-MM-DD); showing the last 12 months instead.")]
    start = start or fallback.start
    end = end or today
    if end < start:
        return fallback, [_("The end date is before the start date; showing the last 12 "
                            "months instead.")]
    messages = []
    earliest = _years_before(end)
    if start < earliest:
        start = earliest
        messages.append(_("A period can cover at most %(years)d years; it now starts on "
                          "%(start)s.", years=MAX_PERIOD_YEARS, start=start.isoformat()))
    return Period(start, end, Preset.CUSTOM), messages


def _parse_date(raw: str) -> date | None:
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if EARLIEST_DATE <= value <= LATEST_DATE else None


def _years_before(day: date, years: int = MAX_PERIOD_YEARS) -> date:
    try:
        return day.replace(year=day.year - years) + timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28) + timedelta(days=1)


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else month.replace(month=month.month + 1)


def _first_activity() -> date | None:
    first = db.session.scalar(select(func.min(Listing.published_at)))
    return first.date() if first else None


# --- factors ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryName:
    id: int | None
    slug: str
    name_nl: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_nl if language == "nl" else self.name_en


@dataclass(frozen=True)
class FactorInUse:
    """One row of the factor table: whose factor, how much, where from."""

    factor: ImpactFactor
    category: CategoryName | None  # None: the floor
    parent: CategoryName | None
    value: Decimal
    source: str


@dataclass(frozen=True)
class FactorChoice:
    """The factor a category gets, and where it was found."""

    value: Decimal
    factor_id: int | None
    inherited_from: int | None  # the ancestor category, or None for its own / the floor
    floor: bool


class FactorBook:
    """Every category's CO₂e factor: its own, else its nearest ancestor's, else the floor."""

    def __init__(self) -> None:
        self.parents: dict[int, int | None] = dict(db.session.execute(
            select(Category.id, Category.parent_id)).all())
        self.factors: dict[int | None, ImpactFactor] = {
            factor.category_id: factor for factor in db.session.scalars(select(ImpactFactor))}
        self._cache: dict[int, FactorChoice] = {}

    def for_category(self, category_id: int) -> FactorChoice:
        if category_id not in self._cache:
            self._cache[category_id] = self._lookup(category_id)
        return self._cache[category_id]

    def _lookup(self, category_id: int) -> FactorChoice:
        current: int | None = category_id
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            factor = self.factors.get(current)
            if factor is not None:
                return FactorChoice(Decimal(factor.kg_co2e_per_kg), factor.id,
                                    None if current == category_id else current, floor=False)
            current = self.parents.get(current)
        floor = self.factors.get(None)
        if floor is None:
            return FactorChoice(ZERO, None, None, floor=True)
        return FactorChoice(Decimal(floor.kg_co2e_per_kg), floor.id, None, floor=True)


def factor_for(category: Category) -> FactorChoice:
    """The factor `category` gets (own, parent's, floor)."""
    return FactorBook().for_category(category.id)


def _names() -> dict[int, CategoryName]:
    return {row.id: CategoryName(row.id, row.slug, row.name_nl, row.name_en)
            for row in db.session.execute(
                select(Category.id, Category.slug, Category.name_nl, Category.name_en))}


def factors_in_use() -> list[FactorInUse]:
    """Every factor with its category (None for the floor) and source: categories in tree
    order as the category pages show them, the floor last."""
    names = _names()
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
    positions = dict(db.session.execute(select(Category.id, Category.position)).all())

    def sort_key(factor: ImpactFactor) -> tuple:
        if factor.category_id is None:
            return (1, ())
        path, current, seen = [], factor.category_id, set()
        while current is not None and current not in seen:
            seen.add(current)
            path.append((positions.get(current, 0), names[current].name_en))
            current = parents.get(current)
        return (0, tuple(reversed(path)))

    rows = []
    for factor in sorted(db.session.scalars(select(ImpactFactor)), key=sort_key):
        category = names.get(factor.category_id) if factor.category_id else None
        parent_id = parents.get(factor.category_id) if factor.category_id else None
        rows.append(FactorInUse(factor, category, names.get(parent_id) if parent_id else None,
                                Decimal(factor.kg_co2e_per_kg), factor.source))
    return rows


def categories_without_factor() -> list[Category]:
    """Categories that borrow their factor (from an ancestor or the floor)."""
    own = select(ImpactFactor.category_id).where(ImpactFactor.category_id.is_not(None))
    return list(db.session.scalars(select(Category).where(Category.id.not_in(own))
                                   .order_by(Category.position, Category.name_en)))


def update_factor(actor: User, factor: ImpactFactor, value: Decimal | str,
                  source: str) -> ImpactFactor:
    """Change a factor (platform admins). Raises DomainError for a value outside 0 to 100 or an
    empty source, PermissionDenied for others; writes `impact_factor.update` with old → new."""
    require(actor, Action.ADMINISTER_PLATFORM)
    new_value, new_source = _valid_factor(value, source)
    old_value, old_source = Decimal(factor.kg_co2e_per_kg), factor.source
    factor.kg_co2e_per_kg = new_value
    factor.source = new_source
    factor.updated_by_id = actor.id
    reason = f"{_plain(old_value)} → {_plain(new_value)} kg CO2e/kg"
    if old_source != new_source:
        reason += f"; source: {old_source} → {new_source}"
    audit.record(actor, "impact_factor.update", factor, reason=reason[:4000],
                 label=_factor_label(factor))
    db.session.commit()
    return factor


def set_factor(actor: User, category: Category, value: Decimal | str,
               source: str) -> ImpactFactor:
    """Give `category` a factor of its own (or change the one it has), platform admins only;
    writes `impact_factor.create` for a new one."""
    require(actor, Action.ADMINISTER_PLATFORM)
    existing = db.session.scalar(select(ImpactFactor).where(
        ImpactFactor.category_id == category.id))
    if existing is not None:
        return update_factor(actor, existing, value, source)
    new_value, new_source = _valid_factor(value, source)
    inherited = factor_for(category)
    factor = ImpactFactor(category=category, kg_co2e_per_kg=new_value, source=new_source,
                          updated_by_id=actor.id)
    db.session.add(factor)
    db.session.flush()
    audit.record(actor, "impact_factor.create", factor, label=_factor_label(factor),
                 reason=f"{_plain(inherited.value)} (borrowed) → {_plain(new_value)} kg CO2e/kg")
    db.session.commit()
    return factor



def _valid_factor(value: Decimal | str, source: str) -> tuple[Decimal, str]:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip()
                                                                   .replace(",", "."))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not ZERO <= number <= FACTOR_MAX:
        raise DomainError(_("Give a number from 0 to 100 (kilograms of CO₂e per kilogram)."),
                          field="value")
    source = (source or "").strip()
    if not source:
        raise DomainError(_("Say where the number comes from: it is shown next to it."),
                          field="source")
    if len(source) > 1000:
        raise DomainError(_("Keep the source under 1,000 characters."), field="source")
    return number.quantize(KG, rounding=ROUND_HALF_UP), source


def _factor_label(factor: ImpactFactor) -> str:
    if factor.category is None:
        return "Impact factor: floor"
    return f"Impact factor: {factor.category.name_en}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


# --- the figures -----------------------------------------------------------------------------

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

    @property
    def items_given(self) -> int:
        return self.given.items

    @property
    def items_received(self) -> int:
        return self.received.items


METRICS = ("items", "kilograms", "co2e_kg")


def impact_figures(period: Period, organisation_id: int | None = None) -> ImpactReport:
    """The figures of `period`, for the platform or for one organisation (where it gave or
    received). For the platform, given and received are both the total reused."""
    book = FactorBook()
    names = _names()
    scope = _collected_in(period, organisation_id)
    side = (case((Listing.organisation_id == organisation_id, literal("given")),
                 else_=literal("received"))
            if organisation_id is not None else literal("all")).label("side")

    # One pass over the period's claims, grouped by month, category and side: the month
    # series, the categories and the totals are all sums of these groups.
    months = {month.strftime("%Y-%m"): MonthFigure(month) for month in period.months()}
    month = _month_expression().label("month")
    given, received, total = Totals(), Totals(), Totals()
    by_category: dict[int, Totals] = {}
    for row in db.session.execute(
            _sums(select(month, Listing.category_id, side)).where(*scope)
            .group_by(month, Listing.category_id, side)):
        totals = _totals_of(row, book.for_category(row.category_id).value)
        by_category.setdefault(row.category_id, Totals()).add(totals)
        total.add(totals)
        if row.side in ("given", "all"):
            given.add(totals)
        if row.side in ("received", "all"):
            received.add(totals)
        figure = months.get(row.month)
        if figure is not None:  # always: the scope is inside the period
            figure.add(totals)

    categories = [CategoryFigure(names.get(category_id) or _unknown(category_id), totals,
                                 book.for_category(category_id))
                  for category_id, totals in by_category.items()]
    categories.sort(key=lambda figure: (-figure.totals.items, figure.category.name_en))
    gave, got = _organisations(scope, organisation_id)
    return ImpactReport(
        period=period, organisation_id=organisation_id,
        listings_posted=_listings_posted(period, organisation_id),
        total=total, given=given, received=received,
        organisations_gave=gave, organisations_received=got,
        categories=categories,
        months=list(months.values()),
        first_claim=_first_claim(period, organisation_id),
        top={metric: top_categories(categories, metric) for metric in METRICS},
    )


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


def _unknown(category_id: int) -> CategoryName:
    return CategoryName(category_id, str(category_id), str(category_id), str(category_id))


def _collected_in(period: Period, organisation_id: int | None) -> list:
    conditions = [Claim.status == ClaimStatus.COLLECTED,
                  Claim.collected_at >= period.starts_at,
                  Claim.collected_at < period.ends_before]
    if organisation_id is not None:
        conditions.append(or_(Listing.organisation_id == organisation_id,
                              Claim.claimant_organisation_id == organisation_id))
    return conditions


def _kg_expression():
    return type_coerce(Claim.quantity * Listing.weight_per_unit_kg, Numeric(18, 3))


def _euro_expression():
    return type_coerce(Claim.quantity * Listing.value_per_unit, Numeric(18, 2))


def _sums(statement):
    """Add the sums every breakdown needs to `statement` (claims joined to their listing)."""
    return statement.add_columns(
        func.count(Claim.id).label("claims"),
        func.coalesce(func.sum(Claim.quantity), 0).label("items"),
        func.sum(_kg_expression()).label("kilograms"),
        func.sum(_euro_expression()).label("euros"),
        func.sum(case((Listing.weight_per_unit_kg.is_(None), 1), else_=0)).label("no_weight"),
        func.sum(case((Listing.value_per_unit.is_(None), 1), else_=0)).label("no_value"),
    ).select_from(Claim).join(Listing, Claim.listing_id == Listing.id)


def _totals_of(row, factor: Decimal) -> Totals:
    kilograms = _decimal(row.kilograms, KG)
    return Totals(claims=row.claims, items=int(row.items or 0), kilograms=kilograms,
                  euros=_decimal(row.euros, CENTS), co2e_kg=(kilograms * factor).quantize(KG),
                  claims_without_weight=int(row.no_weight or 0),
                  claims_without_value=int(row.no_value or 0))


def _decimal(value, places: Decimal) -> Decimal:
    if value is None:
        return ZERO.quantize(places)
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


def _month_expression():
    """'YYYY-MM' of the collection (UTC), written for each database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Claim.collected_at), "YYYY-MM")
    return func.strftime("%Y-%m", Claim.collected_at)


def _organisations(scope: list, organisation_id: int | None) -> tuple[int, int]:
    """Platform: organisations that gave, that received. One organisation: those it received
    from, those it gave to."""
    if organisation_id is None:
        gave = func.count(distinct(Listing.organisation_id))
        got = func.count(distinct(Claim.claimant_organisation_id))
    else:
        gave = func.count(distinct(case(
            (Claim.claimant_organisation_id == organisation_id, Listing.organisation_id))))
        got = func.count(distinct(case(
            (Listing.organisation_id == organisation_id, Claim.claimant_organisation_id))))
    row = db.session.execute(select(gave, got).select_from(Claim)
                             .join(Listing, Claim.listing_id == Listing.id)
                             .where(*scope)).one()
    return int(row[0] or 0), int(row[1] or 0)


def _listings_posted(period: Period, organisation_id: int | None) -> int:
    statement = select(func.count(Listing.id)).where(
        Listing.published_at >= period.starts_at, Listing.published_at < period.ends_before)
    if organisation_id is not None:
        statement = statement.where(Listing.organisation_id == organisation_id)
    return db.session.scalar(statement) or 0


def _seconds_between(earlier, later):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _first_claim(period: Period, organisation_id: int | None) -> FirstClaim:
    """Median and mean time from publication to the first claim (of any outcome), over the
    listings published in the period that got one. One statement: the waits as a CTE, read
    for the count, the mean and the middle values (ORDER BY … OFFSET, which both databases
    do; a CTE used more than once is computed once by both)."""
    waits = (select(_seconds_between(Listing.published_at, func.min(Claim.created_at))
                    .label("seconds"))
             .select_from(Listing).join(Claim, Claim.listing_id == Listing.id)
             .where(Listing.published_at >= period.starts_at,
                    Listing.published_at < period.ends_before)
             .group_by(Listing.id, Listing.published_at))
    if organisation_id is not None:
        waits = waits.where(Listing.organisation_id == organisation_id)
    waits = waits.cte("waits")
    count = select(func.count()).select_from(waits).scalar_subquery()

    def nth(offset):
        return (select(waits.c.seconds).order_by(waits.c.seconds).limit(1).offset(offset)
                .scalar_subquery())

    row = db.session.execute(select(
        count, select(func.avg(waits.c.seconds)).scalar_subquery(),
        nth(select((func.count() - 1) // 2).select_from(waits).scalar_subquery()),
        nth(select(func.count() // 2).select_from(waits).scalar_subquery()))).one()
    listings, mean, lower, upper = row
    if not listings:
        return FirstClaim(0, None, None)
    median = (float(lower) + float(upper)) / 2
    return FirstClaim(int(listings), median / 3600, float(mean) / 3600)


# --- the collected claims, row by row (for the CSV export) -----------------------------------

@dataclass(frozen=True)
class CollectedClaim:
    collected_at: datetime
    claim_id: int
    listing_id: int
    title: str
    category: CategoryName
    giver: str
    receiver: str
    quantity: int
    unit: str
    kilograms: Decimal | None
    euros: Decimal | None
    co2e_kg: Decimal | None
    factor: Decimal


def collected_claims(period: Period, organisation_id: int | None = None,
                     batch: int = 1000) -> Iterator[CollectedClaim]:
    """Every collected claim of the period (for one organisation: where it gave or received),
    oldest first, read in batches so that an export of any size stays in bounded memory."""
    book = FactorBook()
    names = _names()
    giver, receiver = aliased(Organisation), aliased(Organisation)
    statement = (
        select(Claim.collected_at, Claim.id, Claim.quantity, Listing.id, Listing.title,
               Listing.category_id, Listing.unit, Listing.weight_per_unit_kg,
               Listing.value_per_unit, giver.name, receiver.name)
        .select_from(Claim).join(Listing, Claim.listing_id == Listing.id)
        .join(giver, and_(giver.id == Listing.organisation_id))
        .join(receiver, receiver.id == Claim.claimant_organisation_id)
        .where(*_collected_in(period, organisation_id))
        .order_by(Claim.collected_at, Claim.id)
        .execution_options(yield_per=batch))
    for (collected_at, claim_id, quantity, listing_id, title, category_id, unit, weight,
         value, giver_name, receiver_name) in db.session.execute(statement):
        factor = book.for_category(category_id).value
        kilograms = (Decimal(weight) * quantity).quantize(KG) if weight is not None else None
        yield CollectedClaim(
            collected_at=collected_at, claim_id=claim_id, listing_id=listing_id, title=title,
            category=names.get(category_id) or _unknown(category_id), giver=giver_name,
            receiver=receiver_name, quantity=quantity, unit=unit.value if unit else "",
            kilograms=kilograms,
            euros=(Decimal(value) * quantity).quantize(CENTS) if value is not None else None,
            co2e_kg=(kilograms * factor).quantize(KG) if kilograms is not None else None,
            factor=factor)
