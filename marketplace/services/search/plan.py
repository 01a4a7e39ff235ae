"""The SELECT of the matching listing ids in the order asked for, read the way the database's
planner module chooses (`sqlite_plan`, `postgres_plan`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import aliased

from ...models import Listing
from . import postgres_plan, sqlite_plan
from .conditions import listing_column, listing_conditions, on_sqlite, order
from .fulltext import WordMatch
from .query import SearchQuery, Sort
from .terms import WordTerms
from .visibility import Visibility


@dataclass(frozen=True)
class Plan:
    statement: Select | None  # listing ids in order; None when nothing can match
    sorted_by: Sort
    # Ranked only while at most this many listings match, which the statement counts as it
    # reads them (its first page's rows say how many); else `otherwise`, newest first.
    ranked_up_to: int | None = None
    otherwise: Plan | None = None


def prepare(terms: list[WordTerms]) -> list[WordTerms]:
    """What a search with `terms` asks of the database once, before it plans, and the terms to
    plan with: on PostgreSQL, room for the bitmaps of the words' matches and no part of a word
    that finds nothing more than the full-text index (postgres_plan.prepare)."""
    return postgres_plan.prepare(terms) if terms and not on_sqlite() else terms


def plan(visibility: Visibility, query: SearchQuery, terms: list[WordTerms],
         now: datetime) -> Plan:
    """The SELECT of the ids of the listings `visibility` sees that match `query` (its words'
    `terms`), in order."""
    sqlite = on_sqlite()
    match = sqlite_plan.choose(query, terms) if sqlite else postgres_plan.choose(query, terms)
    if match is None:
        return Plan(None, query.effective_sort)
    if match.ring_first:
        return Plan(_ring_first(visibility, query, now, match), match.sort)
    statement = _statement(visibility, query, now, match, sqlite)
    if match.ranked_up_to is None:
        return Plan(statement, match.sort)
    newest = replace(match, sort=Sort.NEWEST, score=None, ranked_up_to=None)
    return Plan(statement, match.sort, match.ranked_up_to,
                Plan(_statement(visibility, query, now, newest, sqlite), Sort.NEWEST))


def _statement(visibility: Visibility, query: SearchQuery, now: datetime, match: WordMatch,
               sqlite: bool) -> Select:
    conditions = listing_conditions(visibility, query, now,
                                    lambda name: listing_column(name, sqlite, match.indexed))
    statement, score = _starting_point(match)
    if match.driving is None and match.condition is not None:
        conditions.append(match.condition)
    return statement.where(*conditions).order_by(*order(match.sort, score))


def _ring_first(visibility: Visibility, query: SearchQuery, now: datetime,
                match: WordMatch) -> Select:
    """The listings within the radius or the province first, with every filter, read from the
    sites' covering index alone and put in the sort's order in a subquery the planner keeps
    (OFFSET 0); then the words tested on each by its id, until enough match (postgres_plan
    chooses it). Left to itself PostgreSQL read every listing of the ring's sites to test the
    words: 48,000 rows for a word in 11 % of them at 1,000,000 listings (240 ms), where 4,700
    hold the newest 500."""
    ringed = aliased(Listing, name="ringed")
    ring = (select(ringed.id, ringed.published_at, ringed.available_until)
            .where(*listing_conditions(visibility, query, now,
                                       lambda name: getattr(ringed, name)))
            .order_by(*order(match.sort, None, ringed)).offset(0).subquery("ring"))
    words = [match.condition] if match.condition is not None else []
    return (select(Listing.id).join_from(ring, Listing, Listing.id == ring.c.id)
            .where(*words).order_by(*order(match.sort, None, ring.c)))


def _starting_point(match: WordMatch) -> tuple[Select, ColumnElement | None]:
    """What the query reads first, the listings or the words' matches, and the score."""
    if match.driving is None:
        return select(Listing.id), match.score
    # MATERIALIZED: joined with the filters in one WHERE, SQLite may run the full-text
    # query once per listing row, which takes seconds.
    matches = match.driving.cte("matches").prefix_with("MATERIALIZED")
    statement = select(Listing.id).select_from(matches).join(Listing, Listing.id == matches.c.id)
    return statement, matches.c.score if match.sort is Sort.RELEVANCE else match.score
