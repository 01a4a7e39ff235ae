"""Finding: the ordered ids of the matches (`Found`), as far as the page and the count need, and
the page of cards made from them. One narrow query fetches the ordered ids of the matches, up to
COUNT_LIMIT or PAGES_AHEAD pages past the page shown, whichever is further (so the count costs
no second query); a second query loads the listings of the page with what a result card
shows. Pages past the first MAX_RESULTS results are empty."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import QueryableAttribute

from ...extensions import db
from ...models import Listing
from ...models.base import utcnow
from . import limits
from .cards import SearchResults, load_cards
from .distance import first_ring, next_ring
from .plan import Plan, plan, prepare
from .query import SearchQuery, Sort, per_page, read_limit
from .terms import WordTerms, terms_of
from .visibility import Visibility, visibility_of


def search_listings(viewer: Any, query: SearchQuery, now: datetime | None = None) -> SearchResults:
    """The page `query.page` of the listings `viewer` (a User, anonymous or None) may see that
    match `query`. A page past the end is empty; nothing the query holds raises."""
    return page_of(find_listings(visibility_of(viewer), query, now), query)


@dataclass(frozen=True)
class Found:
    """The first `limit` - 1 matches of a query, or all when fewer (one query gives the page
    and the count: the ids up to a few pages past the page asked for), from the `offset`-th on:
    a page past the count (DEEP_PAGE) is read from its own first match. `keys` are what the ids
    are sorted by (`sort_key`), so that a listing that comes to match can be put in its place;
    None where that is a relevance score, which only the whole search gives."""

    ids: tuple[int, ...]
    keys: tuple[int, ...] | None
    limit: int
    sorted_by: Sort
    offset: int = 0

    @property
    def exact(self) -> bool:
        return self.offset + len(self.ids) < self.limit

    @property
    def total(self) -> int:
        """All matches when `exact`, else how many there are more than."""
        return self.offset + len(self.ids) if self.exact else self.limit - 1

    def to_json(self) -> dict[str, Any]:
        return {"ids": self.ids, "keys": self.keys, "limit": self.limit,
                "sorted_by": str(self.sorted_by), "offset": self.offset}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Found:
        keys = value["keys"]
        return cls(tuple(value["ids"]), None if keys is None else tuple(keys), value["limit"],
                   Sort(value["sorted_by"]), value["offset"])


def find_listings(visibility: Visibility, query: SearchQuery,
                  now: datetime | None = None) -> Found:
    """The ordered ids of the listings `visibility` sees that match `query`, as far as the page
    `query.page` and the count need."""
    now = now or utcnow()
    terms = prepare(terms_of(query.words))  # once: each ring asks the same words
    radius = first_ring(query)
    while radius is not None:
        # Nearest first: the listings within a radius, all of them sorted, are the nearest once
        # there are enough; else a wider radius, or all (distance.py).
        found = _find(visibility, replace(query, within_km=radius), terms, now)
        if not found.exact:
            return found
        radius = next_ring(query, radius, found.total, found.limit)
    return _find(visibility, query, terms, now)


def _find(visibility: Visibility, query: SearchQuery, terms: list[WordTerms],
          now: datetime) -> Found:
    limit = read_limit(query)
    chosen = plan(visibility, query, terms, now)
    offset = (max(query.page, 1) - 1) * per_page(query)
    if offset < limits.DEEP_PAGE or limit <= offset:
        offset = 0
    found = _read(chosen, limit, offset)
    if offset and not found.ids:
        # past the last page: the count comes from the first
        return _read(chosen, limit, 0)
    return found


def _read(chosen: Plan, limit: int, offset: int) -> Found:
    if chosen.statement is None:
        return Found((), no_keys(chosen.sorted_by), limit, chosen.sorted_by)
    statement = chosen.statement.limit(limit - offset).offset(offset or None)
    if chosen.ranked_up_to is not None and chosen.otherwise is not None:
        # Every match is read to be ranked: counting them in the same statement costs no more
        # reading (a count of its own read them all once more: 70 of 150 ms at 1,000,000).
        rows = db.session.execute(statement.add_columns(func.count().over())).all()
        if rows and rows[0][1] > chosen.ranked_up_to:
            return _read(chosen.otherwise, limit, offset)
        return Found(tuple(row[0] for row in rows), None, limit, chosen.sorted_by, offset)
    sorted_by = chosen.sorted_by
    key = key_column(sorted_by)
    if key is None:
        return Found(tuple(db.session.scalars(statement)), None, limit, sorted_by, offset)
    rows = db.session.execute(statement.add_columns(key)).all()
    return Found(tuple(row[0] for row in rows), tuple(sort_key(row[1]) for row in rows), limit,
                 sorted_by, offset)


def page_of(found: Found, query: SearchQuery) -> SearchResults:
    """The page `query.page` of `found`, with its cards."""
    return SearchResults(load_cards(list(page_ids(found, query)), query.origin), found.total,
                         max(query.page, 1), per_page(query), found.exact, found.sorted_by)


def page_ids(found: Found, query: SearchQuery) -> tuple[int, ...]:
    """The ids of the listings on the page `query.page` of `found`."""
    size, page = per_page(query), max(query.page, 1)
    if page > math.ceil(limits.MAX_RESULTS / size):
        return ()
    start = (page - 1) * size - found.offset
    return found.ids[max(start, 0):max(start + size, 0)]


def key_column(sort: Sort) -> QueryableAttribute[Any] | None:
    """What `conditions.order` sorts by before the id, where a listing alone tells it."""
    if sort is Sort.NEWEST:
        return Listing.published_at
    if sort is Sort.EXPIRING:
        return Listing.available_until
    return None


def no_keys(sort: Sort) -> tuple[int, ...] | None:
    return None if key_column(sort) is None else ()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sort_key(value: datetime | date | None) -> int:
    """A datetime as microseconds since 1970, a date as its ordinal: in the order of the
    column's values, and an int in JSON."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(microseconds=1)
    return value.toordinal()
