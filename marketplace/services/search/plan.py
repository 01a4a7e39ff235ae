"""The SELECT of the matching listing ids in the order asked for, read the way the database's
planner module chooses (`sqlite_plan`, `postgres_plan`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, select

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


def plan(visibility: Visibility, query: SearchQuery, terms: list[WordTerms],
         now: datetime) -> Plan:
    """The SELECT of the ids of the listings `visibility` sees that match `query` (its words'
    `terms`), in order."""
    sqlite = on_sqlite()
    match = sqlite_plan.choose(query, terms) if sqlite else postgres_plan.choose(query, terms)
    if match is None:
        return Plan(None, query.effective_sort)
    conditions = listing_conditions(visibility, query, now,
                                    lambda name: listing_column(name, sqlite, match.indexed))
    statement, score = _starting_point(match)
    if match.driving is None and match.condition is not None:
        conditions.append(match.condition)
    return Plan(statement.where(*conditions).order_by(*order(match.sort, score)), match.sort)


def _starting_point(match: WordMatch) -> tuple[Select, ColumnElement | None]:
    """What the query reads first, the listings or the words' matches, and the score."""
    if match.driving is None:
        return select(Listing.id), match.score
    # MATERIALIZED: joined with the filters in one WHERE, SQLite may run the full-text
    # query once per listing row, which takes seconds.
    matches = match.driving.cte("matches").prefix_with("MATERIALIZED")
    statement = select(Listing.id).select_from(matches).join(Listing, Listing.id == matches.c.id)
    return statement, matches.c.score if match.sort is Sort.RELEVANCE else match.score
