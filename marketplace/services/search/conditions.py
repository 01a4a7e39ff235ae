"""The SQL a search is made of on both databases: what a listing must be to be found
(`listing_conditions`), the order of the results, and each column as the plan allows SQLite to
use its index or not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from ...extensions import db
from ...localtime import local_today
from ...models import Listing, ListingStatus, Organisation, OrganisationStatus, Site
from ..categories import category_with_descendants
from .distance import sites_within
from .limits import MAX_DAYS
from .query import SearchQuery, Sort
from .visibility import Visibility


def on_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def listing_conditions(visibility: Visibility, query: SearchQuery, now: datetime,
                       column: Callable[[str], ColumnElement]) -> list[ColumnElement[bool]]:
    """What a listing must be to be seen with `visibility` and to pass the filters of `query`."""
    today = local_today(now)  # the platform's date, as services/listings.py uses it
    conditions = [column("status") == ListingStatus.PUBLISHED,
                  column("available_until") >= today]
    if not visibility.everything:
        public = or_(column("internal_until").is_(None), column("internal_until") <= now)
        if visibility.organisation_id is not None:
            public = or_(public, column("organisation_id") == visibility.organisation_id)
        conditions.append(public)
    organisations = select(Organisation.id).where(
        Organisation.status == OrganisationStatus.ACTIVE)
    if query.organisation_kind is not None:
        organisations = organisations.where(Organisation.kind == query.organisation_kind)
    conditions.append(column("organisation_id").in_(organisations))
    if query.category_id is not None:
        conditions.append(
            column("category_id").in_(category_with_descendants(query.category_id)))
    if query.condition is not None:
        conditions.append(column("condition") == query.condition)
    if query.province is not None:
        conditions.append(column("site_id").in_(
            select(Site.id).where(Site.province == query.province)))
    if query.delivery_only:
        conditions.append(column("delivery_possible").is_(True))
    if query.posted_within_days is not None:
        days = min(max(query.posted_within_days, 1), MAX_DAYS)
        conditions.append(column("published_at") >= now - timedelta(days=days))
    origin, km = query.located_origin, query.distance_km
    if origin is not None and km is not None:
        conditions.append(column("site_id").in_(sites_within(origin, km)))
    return conditions


def listing_column(name: str, sqlite: bool, indexed: tuple[str, ...]) -> ColumnElement:
    """Listing's column `name`; on SQLite as `+column` unless its index may be used."""
    column = getattr(Listing, name)
    if not sqlite or name in indexed:
        return column
    return unindexed(column.expression)


def unindexed(column: Any) -> ColumnElement:
    """`+column`: the same value, which SQLite uses no index (nor a virtual table) to find."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def order(sort: Sort, score: ColumnElement | None, listing: Any = Listing) -> list[ColumnElement]:
    """The ORDER BY of `sort`, on `listing`'s columns (Listing, an alias or a subquery's)."""
    newest: list[ColumnElement] = [listing.published_at.desc(), listing.id.desc()]
    if sort is Sort.RELEVANCE and score is not None:
        return [score.asc(), *newest]
    if sort is Sort.EXPIRING:
        return [listing.available_until.asc(), listing.id.asc()]
    if sort is Sort.NEAREST and score is not None:
        # The score is the site's squared distance (distance.nearest_order); unknown last.
        return [score.asc().nulls_last(), *newest]
    return newest


def about_how_many_listings() -> int:
    """Ids grow by one per listing: the highest is about how many there are, at no cost."""
    return max(db.session.scalar(select(func.max(Listing.id))) or 1, 1)
