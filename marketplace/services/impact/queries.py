"""The aggregate SQL behind the figures, written once for SQLite and PostgreSQL: which claims
count, their sums per group, the organisations, the listings posted, the time to first claim.
bench/impact.py times each of these on its own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, case, distinct, func, or_, select, type_coerce

from ...extensions import db
from ...models import Claim, ClaimStatus, Listing
from .period import Period
from .report import FirstClaim, Totals
from .rounding import CENTS, KG, to_places


def collected_in(period: Period, organisation_id: int | None) -> list:
    """The conditions on claims (joined to their listing) that count: collected in the period,
    and for one organisation, where it gave or received."""
    conditions = [Claim.status == ClaimStatus.COLLECTED,
                  Claim.collected_at >= period.starts_at,
                  Claim.collected_at < period.ends_before]
    if organisation_id is not None:
        conditions.append(or_(Listing.organisation_id == organisation_id,
                              Claim.claimant_organisation_id == organisation_id))
    return conditions


def _kg_expression() -> Any:
    return type_coerce(Claim.quantity * Listing.weight_per_unit_kg, Numeric(18, 3))


def _euro_expression() -> Any:
    return type_coerce(Claim.quantity * Listing.value_per_unit, Numeric(18, 2))


def sums(statement: Any) -> Any:
    """Add the sums every breakdown needs to `statement` (claims joined to their listing)."""
    return statement.add_columns(
        func.count(Claim.id).label("claims"),
        func.coalesce(func.sum(Claim.quantity), 0).label("items"),
        func.sum(_kg_expression()).label("kilograms"),
        func.sum(_euro_expression()).label("euros"),
        func.sum(case((Listing.weight_per_unit_kg.is_(None), 1), else_=0)).label("no_weight"),
        func.sum(case((Listing.value_per_unit.is_(None), 1), else_=0)).label("no_value"),
    ).select_from(Claim).join(Listing, Claim.listing_id == Listing.id)


def totals_of(row: Any, factor: Decimal) -> Totals:
    """A row of `sums` as Totals, its CO₂e at `factor` kg per kg."""
    kilograms = to_places(row.kilograms, KG)
    return Totals(claims=row.claims, items=int(row.items or 0), kilograms=kilograms,
                  euros=to_places(row.euros, CENTS), co2e_kg=(kilograms * factor).quantize(KG),
                  claims_without_weight=int(row.no_weight or 0),
                  claims_without_value=int(row.no_value or 0))


def month_expression() -> Any:
    """'YYYY-MM' of the collection (UTC), written for each database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Claim.collected_at), "YYYY-MM")
    return func.strftime("%Y-%m", Claim.collected_at)


def organisations(scope: list, organisation_id: int | None) -> tuple[int, int]:
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


def listings_posted(period: Period, organisation_id: int | None) -> int:
    """How many listings were published in the period (by the organisation)."""
    statement = select(func.count(Listing.id)).where(
        Listing.published_at >= period.starts_at, Listing.published_at < period.ends_before)
    if organisation_id is not None:
        statement = statement.where(Listing.organisation_id == organisation_id)
    return db.session.scalar(statement) or 0


def seconds_between(earlier: Any, later: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def first_claim(period: Period, organisation_id: int | None) -> FirstClaim:
    """Median and mean time from publication to the first claim (of any outcome), over the
    listings published in the period that got one. One statement: the waits as a CTE, read
    for the count, the mean and the middle values (ORDER BY … OFFSET, which both databases
    do; a CTE used more than once is computed once by both)."""
    waits_query = (select(seconds_between(Listing.published_at, func.min(Claim.created_at))
                          .label("seconds"))
                   .select_from(Listing).join(Claim, Claim.listing_id == Listing.id)
                   .where(Listing.published_at >= period.starts_at,
                          Listing.published_at < period.ends_before)
                   .group_by(Listing.id, Listing.published_at))
    if organisation_id is not None:
        waits_query = waits_query.where(Listing.organisation_id == organisation_id)
    waits = waits_query.cte("waits")
    count = select(func.count()).select_from(waits).scalar_subquery()

    def nth(offset: Any) -> Any:
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
