"""PostgreSQL's plan: its planner chooses, except that where it expects a word in a few
thousand listings, the matches are read through the full-text index first; relevance is ranked
only for words found in at most RANK_LIMIT listings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, any_, func, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Listing
from . import limits
from .conditions import about_how_many_listings
from .distance import nearest_order
from .fulltext import WordMatch, postgres_condition, postgres_matching_ids, postgres_score
from .query import SearchQuery, Sort, is_filtered, read_limit
from .terms import WordTerms

# Per match the planner expects: reading the matches through the full-text index and sorting
# them costs about 3.2 µs; reading listings in order and testing the words on each, 1.8 µs per
# listing in date order and 3.9 µs in expiry order (its index does not cover the filters), for
# the limit / share listings read. Measured at 100,000 listings.
_POSTGRES_MATCH_COST = 3.2
_POSTGRES_TEST_COST = {Sort.NEWEST: 1.8, Sort.EXPIRING: 3.9}
# Fewer expected matches than this, PostgreSQL's own plan reads them first.
_POSTGRES_FEW_MATCHES = 2_000


def choose(query: SearchQuery, terms: list[WordTerms]) -> WordMatch:
    """How the words of `query` (their `terms`) take part in the query (there are none: its
    sort alone)."""
    if query.effective_sort is Sort.NEAREST and query.located_origin is not None:
        # The words as a condition on the listings of the ring's sites (distance.py).
        return WordMatch(Sort.NEAREST, condition=postgres_condition(terms) if terms else None,
                         score=nearest_order(query.located_origin, Listing.site_id))
    if not terms:
        return WordMatch(query.effective_sort)
    if query.effective_sort is Sort.RELEVANCE:
        return _ranked(terms)
    return _in_order(terms, query, query.effective_sort)


def _in_order(terms: list[WordTerms], query: SearchQuery, sort: Sort) -> WordMatch:
    """PostgreSQL plans by its statistics, but counts testing the words on a listing as almost
    free: for a word in 3 % of the listings it read 34,000 listings in date order testing each
    (24 ms; 55 ms in expiry order) where the full-text index finds the matches at once (12 and
    11 ms with them sorted). So where the planner expects (`_planned_rows`, half a millisecond)
    that reading the matches costs less than reading limit / share listings in order, the
    matches are read first, as an array the listings are looked up in. Not with filters: with
    fewer expected, PostgreSQL's own plan reads the matches first, or uses a filter's index."""
    condition = postgres_condition(terms)
    if is_filtered(query):
        return WordMatch(sort, condition=condition)
    estimate = _planned_rows(select(Listing.id).where(condition))
    if estimate > _POSTGRES_FEW_MATCHES and estimate * _POSTGRES_MATCH_COST < \
            read_limit(query) * about_how_many_listings() / estimate * _POSTGRES_TEST_COST[sort]:
        matching = aliased(Listing, name="matching")
        ids = select(matching.id).where(postgres_condition(terms, "matching", matching))
        return WordMatch(sort, condition=Listing.id == any_(func.array(ids.scalar_subquery())))
    return WordMatch(sort, condition=condition)


def _ranked(terms: list[WordTerms]) -> WordMatch:
    """Ranked only up to RANK_LIMIT matches, counted exactly, unless the planner expects far
    more (`_planned_rows`, half a millisecond); more are shown newest first. Not counted "up to
    a limit": with a LIMIT, PostgreSQL reads every listing testing the words (86 ms for a word
    in 4 % of 100,000 listings), as it counts that test almost free; without, it uses the
    full-text index."""
    condition: ColumnElement[bool] = postgres_condition(terms)
    estimate = _planned_rows(select(Listing.id).where(condition))
    if estimate > 3 * limits.RANK_LIMIT:
        found = limits.RANK_LIMIT + 1
    elif any(word.beyond_words for word in terms):
        # A word's ways in an OR the planner misjudges: each way counted by its own index.
        found = db.session.scalar(select(func.count()).select_from(
            postgres_matching_ids(terms).subquery())) or 0
    else:
        found = db.session.scalar(select(func.count()).select_from(Listing).where(
            condition)) or 0
    if found > limits.RANK_LIMIT:
        return WordMatch(Sort.NEWEST, condition=condition)
    return WordMatch(Sort.RELEVANCE, condition=condition, score=postgres_score(terms))


def _planned_rows(statement: Select) -> float:
    """How many rows PostgreSQL's planner expects `statement` to give (EXPLAIN, not run)."""
    compiled = statement.compile(dialect=db.session.get_bind().dialect,
                                 compile_kwargs={"render_postcompile": True})
    plan: Any = db.session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return float(plan[0]["Plan"]["Plan Rows"])
