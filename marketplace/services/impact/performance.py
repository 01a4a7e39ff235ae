"""How well it works: of the listings published in a period, how many got a claim, found a
taker, were collected or expired without a taker, and how long the first claim and the first
collection took (median and 80th percentile), in total, per category and (for the platform)
per organisation.

A fixed number of statements whatever the number of listings: one listing per row as a common
table expression, read by (1) the counts of every breakdown, grouped queries joined by UNION
ALL, and (2) the waits of every breakdown ranked with window functions (ROW_NUMBER and COUNT
OVER a partition, which SQLite and PostgreSQL both do), read only at the ranks the
percentiles need; (3) the names of the organisations (platform only). docs/impact.md, "How well
it works", defines each figure.
"""

from __future__ import annotations

import math
from collections import defaultdict
from fractions import Fraction
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal_column, or_, select, union_all

from ...extensions import db
from ...models import Claim, ClaimStatus, Listing, ListingStatus, Organisation
from .factors import category_names, unknown_category
from .period import Period
from .queries import seconds_between
from .report import CategoryUptake, OrganisationUptake, Performance, Uptake, Waits

# A listing found a taker when a claim of it is accepted (the items are kept for the taker) or
# collected; a claim accepted and then cancelled or expired no longer is a taker.
TAKER_STATUSES = (ClaimStatus.ACCEPTED, ClaimStatus.COLLECTED)
MEDIAN, P80 = Fraction(1, 2), Fraction(4, 5)
PERCENTILES = (MEDIAN, P80)

# The breakdowns (column `kind`) and the waits (column `measure`) in both statements.
TOTAL, CATEGORY, ORGANISATION = 0, 1, 2
TO_CLAIM, TO_COLLECTION = 0, 1
COUNTS = ("listings", "claimed", "taken", "collected", "expired_unclaimed")

Key = tuple[int, int]  # (kind, category or organisation id; 0 for the total)


def uptake(period: Period, organisation_id: int | None = None) -> Performance:
    """How well it worked for the listings published in `period` (by one organisation, or on
    the whole platform, then also per organisation)."""
    per_listing = _per_listing(period, organisation_id)
    breakdowns = _breakdowns(per_listing, platform=organisation_id is None)
    counts = {(row.kind, row.key): row for row in db.session.execute(
        union_all(*(_counted(per_listing, kind, key) for kind, key in breakdowns)))}
    waits = _waits(per_listing, breakdowns)

    def uptake_of(key: Key) -> Uptake:
        row = counts.get(key)
        return Uptake(**{name: int(getattr(row, name) or 0) if row else 0 for name in COUNTS},
                      to_first_claim=waits.get((TO_CLAIM, *key), Waits()),
                      to_first_collection=waits.get((TO_COLLECTION, *key), Waits()))

    names = category_names()
    categories = [CategoryUptake(names.get(key) or unknown_category(key), uptake_of((kind, key)))
                  for kind, key in counts if kind == CATEGORY]
    categories.sort(key=lambda row: (-row.uptake.listings, row.category.name_en))
    organisation_ids = [key for kind, key in counts if kind == ORGANISATION]
    organisations = [OrganisationUptake(id_, name, uptake_of((ORGANISATION, id_)))
                     for id_, name in _organisation_names(organisation_ids).items()]
    organisations.sort(key=lambda row: (-row.uptake.listings, row.name))
    return Performance(total=uptake_of((TOTAL, 0)), categories=categories,
                       organisations=organisations)


def _per_listing(period: Period, organisation_id: int | None) -> Any:
    """One row per listing published in the period: its claims counted, whether it found a
    taker, was collected, expired; the seconds from publication to its first claim and first
    collection (claims of an earlier publication of a relisted listing left out)."""
    collected = Claim.status == ClaimStatus.COLLECTED
    first_claim = func.min(case((Claim.created_at >= Listing.published_at, Claim.created_at)))
    first_collection = func.min(case(
        (and_(collected, Claim.collected_at >= Listing.published_at), Claim.collected_at)))
    statement = (
        select(Listing.category_id.label("category_id"),
               Listing.organisation_id.label("organisation_id"),
               func.count(Claim.id).label("claims"),
               func.max(case((Claim.status.in_(TAKER_STATUSES), 1), else_=0)).label("taken"),
               func.max(case((collected, 1), else_=0)).label("collected"),
               case((Listing.status == ListingStatus.EXPIRED, 1), else_=0).label("expired"),
               seconds_between(Listing.published_at, first_claim).label("to_claim"),
               seconds_between(Listing.published_at, first_collection).label("to_collection"))
        .select_from(Listing).outerjoin(Claim, Claim.listing_id == Listing.id)
        .where(Listing.published_at >= period.starts_at,
               Listing.published_at < period.ends_before)
        # By the primary key alone: the other listing columns depend on it (PostgreSQL allows
        # them so), and SQLite then reads the listings in key order without sorting them.
        .group_by(Listing.id))
    if organisation_id is not None:
        statement = statement.where(Listing.organisation_id == organisation_id)
    return statement.cte("per_listing")


def _constant(value: int) -> Any:
    # Written into the SQL, not bound: both databases then type a UNION's column alike.
    return literal_column(str(value), Integer)


def _breakdowns(per_listing: Any, *, platform: bool) -> list[tuple[int, Any]]:
    """(kind, the column that keys it) of each breakdown."""
    breakdowns = [(TOTAL, _constant(0)), (CATEGORY, per_listing.c.category_id)]
    if platform:
        breakdowns.append((ORGANISATION, per_listing.c.organisation_id))
    return breakdowns


def _counted(per_listing: Any, kind: int, key: Any) -> Any:
    listing = per_listing.c
    statement = select(
        _constant(kind).label("kind"), key.label("key"),
        func.count().label("listings"),
        func.sum(case((listing.claims > 0, 1), else_=0)).label("claimed"),
        func.sum(listing.taken).label("taken"),
        func.sum(listing.collected).label("collected"),
        func.sum(case((and_(listing.expired == 1, listing.taken == 0), 1), else_=0))
        .label("expired_unclaimed"))
    return statement if kind == TOTAL else statement.group_by(key)


def _waits(per_listing: Any, breakdowns: list[tuple[int, Any]]) -> dict[tuple[int, int, int],
                                                                          Waits]:
    """The median and 80th percentile of each wait in each breakdown, keyed (measure, kind,
    key): the waits ranked per partition, read only at the ranks either side of each
    percentile."""
    parts = [select(_constant(measure).label("measure"), _constant(kind).label("kind"),
                    key.label("key"), seconds.label("seconds")).where(seconds.is_not(None))
             for measure, seconds in ((TO_CLAIM, per_listing.c.to_claim),
                                      (TO_COLLECTION, per_listing.c.to_collection))
             for kind, key in breakdowns]
    waits = union_all(*parts).subquery("waits")
    partition = (waits.c.measure, waits.c.kind, waits.c.key)
    ranked = select(*partition, waits.c.seconds,
                    (func.row_number().over(partition_by=partition, order_by=waits.c.seconds)
                     - 1).label("rank"),
                    func.count().over(partition_by=partition).label("n")).subquery("ranked")
    last = ranked.c.n - 1
    wanted = [ranked.c.rank == (p.numerator * last) // p.denominator for p in PERCENTILES]
    wanted += [ranked.c.rank == (p.numerator * last + p.denominator - 1) // p.denominator
               for p in PERCENTILES]
    found: dict[tuple[int, int, int], tuple[int, dict[int, float]]] = defaultdict(
        lambda: (0, {}))
    for row in db.session.execute(select(ranked).where(or_(*wanted))):
        group = (row.measure, row.kind, row.key)
        found[group] = (int(row.n), {**found[group][1], int(row.rank): float(row.seconds)})
    return {group: Waits(n, _percentile(values, n, MEDIAN) / 3600,
                         _percentile(values, n, P80) / 3600)
            for group, (n, values) in found.items()}


def _percentile(values: dict[int, float], n: int, p: Fraction) -> float:
    """The `p` percentile of n sorted values of which `values` holds the ranks needed: linear
    between the two ranks either side of p * (n - 1)."""
    position = p * (n - 1)
    lower, upper = math.floor(position), math.ceil(position)
    return values[lower] + float(position - lower) * (values[upper] - values[lower])


def _organisation_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())
