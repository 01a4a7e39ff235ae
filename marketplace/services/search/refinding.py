"""Kept results brought up to date (listings/pages.py, page_cache): after some listings changed,
`refind` asks only about those listings instead of repeating the search."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select

from ...extensions import db
from ...models import Listing
from ...models.base import utcnow
from . import limits
from .conditions import listing_column, listing_conditions, on_sqlite
from .finding import Found, key_column, sort_key
from .fulltext import words_condition
from .query import SearchQuery, Sort
from .terms import terms_of
from .visibility import Visibility


def refind(found: Found, visibility: Visibility, query: SearchQuery, changed: Collection[int],
           now: datetime | None = None) -> Found | None:
    """`found` brought up to date after the listings `changed` changed (any way: new, edited,
    claimed, withdrawn), asking only about those: each now in its place if it matches, gone if
    not. None when that cannot tell: results by relevance, too many changes, or fewer matches
    than were read where the count had stopped (what now comes last was never read)."""
    # Relevance asked: whether so many match that they are shown newest first may change too.
    # A deep page does not hold the matches before it, which a change may move it by.
    if len(changed) > limits.REFIND_LIMIT or found.offset:
        return None
    changed = set(changed)
    now = now or utcnow()
    if found.keys is None or query.effective_sort is Sort.RELEVANCE:
        return _unless_touched(found, visibility, query, changed, now)
    kept = [(key, listing_id) for key, listing_id in zip(found.keys, found.ids, strict=True)
            if listing_id not in changed]
    matching = _matching(visibility, query, changed, now, found.sorted_by)
    if matching is None:
        return None
    newest = found.sorted_by is not Sort.EXPIRING
    if not found.exact and found.keys:
        # Past the last kept match lie matches never read: a listing sorted there is not known
        # to come before them.
        last = (found.keys[-1], found.ids[-1])
        matching = [pair for pair in matching if (pair > last if newest else pair < last)]
    pairs = sorted([*kept, *matching], reverse=newest)[:found.limit]
    if len(pairs) < found.limit and not found.exact:
        return None  # a match lost: which one comes next is past what was read
    return Found(tuple(listing_id for _key, listing_id in pairs),
                 tuple(key for key, _listing_id in pairs), found.limit, found.sorted_by)


def _unless_touched(found: Found, visibility: Visibility, query: SearchQuery,
                    changed: set[int], now: datetime) -> Found | None:
    """Results in an order a listing alone cannot place (best match first, nearest first) stay
    as they are when no changed listing was among them or matches now (a
    claim on another listing, most often); else None: search again."""
    if changed.intersection(found.ids) or _matching(visibility, query, changed, now, None):
        return None
    return found


def _matching(visibility: Visibility, query: SearchQuery, ids: set[int], now: datetime,
              sort: Sort | None) -> list[tuple[int, int]] | None:
    """(sort key, id) of those of `ids` that match; None when `sort` has no such key (no sort:
    (0, id) of each)."""
    sqlite = on_sqlite()
    conditions = listing_conditions(visibility, query, now,
                                    lambda name: listing_column(name, sqlite, ()))
    conditions.append(Listing.id.in_(ids))
    words = query.words
    if words:
        conditions.append(words_condition(terms_of(words), sqlite))
    if sort is None:
        return [(0, listing_id) for listing_id in db.session.scalars(
            select(Listing.id).where(*conditions))]
    key = key_column(sort)
    if key is None:
        return None
    return [(sort_key(row[1]), row[0])
            for row in db.session.execute(select(Listing.id, key).where(*conditions))]
