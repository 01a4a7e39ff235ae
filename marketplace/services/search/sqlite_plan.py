"""SQLite's plan, chosen by what each way reads: SQLite has no statistics and picks its index by
the WHERE clause, not by the ORDER BY, then sorts every visible listing. So the plan is chosen
here, and columns that must not drive the query are wrapped in a no-op unary plus, which SQLite
does not index (`conditions.listing_column`). Without words (or with words found in many
listings) the listings are read in the order of the sort index until enough are found, unless a
category or province filter leaves few enough to read them all through that filter's index
(`_filter_to_drive`); with words found in few listings, those are looked up by id."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sqlalchemy import Select, func, select

from ...extensions import db
from ...models import Condition, Listing, ListingStatus, OrganisationKind, Site
from ..categories import category_with_descendants
from . import limits
from .conditions import about_how_many_listings
from .distance import nearest_order, sites_should_drive
from .fulltext import (
    WordMatch,
    sqlite_matching_ids,
    sqlite_scored_matches,
    sqlite_text_ids,
    sqlite_words_condition,
)
from .query import SearchQuery, Sort, read_limit
from .terms import WordTerms

# Costs are in reads of one index entry: a match of the words joined to its listing costs about
# eight (2 µs against 0.25 µs, measured at 100,000 listings), an entry of the expiring sort's
# index, which does not cover the filters, about four (its listing is read too).
_WORD_MATCH_COST = 8
_EXPIRING_ENTRY_COST = 4
# What share of the listings a filter without an index of its own lets pass, about.
_SHARE_OF_CONDITION = 1 / len(Condition)
_SHARE_OF_KIND = 1 / len(OrganisationKind)
_SHARE_WITH_DELIVERY = 1 / 3
# Several words, each in more listings than the limits, may be together in few: `stoel
# elektrische` at 100,000 listings, 13,065 and 12,768 matches, 630 together. Read in order, the
# listings holding both were looked for among all 85,000 published (46 ms); their share among
# the newest _SAMPLE listings (2-5 ms) says where they are few enough to be read first.
_SAMPLE = 5_000


def choose(query: SearchQuery, terms: list[WordTerms]) -> WordMatch | None:
    """How to read the listings matching `query` (its words' `terms`): the words' part and the
    columns whose index may be used (`WordMatch.indexed`); None when no listing has the words."""
    estimate = _estimate(query)
    if terms:
        match = _sqlite_words(terms, query, query.effective_sort, estimate)
        if match is None:
            return None
    else:
        match = WordMatch(query.effective_sort)
    if match.sort is Sort.NEAREST and query.located_origin is not None:
        # Read by the ring's sites through their covering index, nearest first (distance.py).
        match = replace(match, score=nearest_order(query.located_origin, Listing.site_id))
        return match if match.driving is not None else replace(match, indexed=("site_id",))
    if match.driving is not None:
        return match
    drive = _filter_to_drive(query, match.sort, estimate, match.found)
    if drive is None and query.distance_km is not None and \
            sites_should_drive(query, about_how_many_listings()):
        drive = "site_id"  # a radius holding few listings (distance.py)
    if drive is not None:
        indexed: tuple[str, ...] = (drive,)
    elif match.sort is Sort.EXPIRING:
        indexed = ("status", "available_until")
    else:
        indexed = ("status", "published_at")
    return replace(match, indexed=indexed)


@dataclass(frozen=True)
class _Estimate:
    """About how many listings there are, how many pass the filters that have an index
    (counted: "category_id", "site_id" for the province), and the share the others let pass."""

    listings: int
    counts: dict[str, int]
    other_share: float

    def share(self, words_found: int | None) -> float:
        share = self.other_share
        for count in self.counts.values():
            share *= count / self.listings
        if words_found is not None:
            share *= min(words_found / self.listings, 1.0)
        return share

    def sort_scan(self, query: SearchQuery, sort: Sort, words_found: int | None) -> float:
        """Reading the sort's index in order until enough pass."""
        share = self.share(words_found)
        entries = self.listings if share <= 0 else min(self.listings, read_limit(query) / share)
        return entries * (_EXPIRING_ENTRY_COST if sort is Sort.EXPIRING else 1)


def _estimate(query: SearchQuery) -> _Estimate:
    """A fraction of a millisecond: the counts read the filters' covering indexes only."""
    counts: dict[str, int] = {}
    published = Listing.status == ListingStatus.PUBLISHED
    if query.category_id is not None:
        counts["category_id"] = db.session.scalar(select(func.count()).where(
            Listing.category_id.in_(category_with_descendants(query.category_id)),
            published)) or 0
    if query.province is not None:
        counts["site_id"] = db.session.scalar(select(func.count()).where(
            Listing.site_id.in_(select(Site.id).where(Site.province == query.province)),
            published)) or 0
    listings = about_how_many_listings() if counts or query.words else 1
    other_share = 1.0
    if query.condition is not None:
        other_share *= _SHARE_OF_CONDITION
    if query.organisation_kind is not None:
        other_share *= _SHARE_OF_KIND
    if query.delivery_only:
        other_share *= _SHARE_WITH_DELIVERY
    return _Estimate(listings, counts, other_share)


def _filter_to_drive(query: SearchQuery, sort: Sort, estimate: _Estimate,
                     words_found: int | None) -> str | None:
    """The column ("category_id", "site_id") whose covering index should drive the query (read
    whole, what passes sorted), or None for the sort's own index (read in order until enough
    pass). Without this, a category in one province was a scan of every published listing
    (22 ms at 100,000 listings; 2 ms through the category's index)."""
    if query.posted_within_days is not None or not estimate.counts:
        return None  # the newest-first scan stops at the date
    column, entries = min(estimate.counts.items(), key=lambda item: item[1])
    return column if entries < estimate.sort_scan(query, sort, words_found) else None


def _sqlite_words(terms: list[WordTerms], query: SearchQuery, sort: Sort,
                  estimate: _Estimate) -> WordMatch | None:
    """None when no listing has the words. Their matches drive the query when they are few
    (reading them costs more per match than reading an index entry: `_WORD_MATCH_COST`), or
    when ranked by relevance; else the words are a condition on the listings read."""
    found = _found_at_most(terms)
    if found == 0:
        return None
    found = _together(terms, query, sort, estimate, found)
    if sort is Sort.RELEVANCE and found > limits.RANK_LIMIT:
        sort = Sort.NEWEST
    if sort is not Sort.RELEVANCE and (found > limits.DRIVE_LIMIT or found * _WORD_MATCH_COST
                                       > min([estimate.sort_scan(query, sort, found),
                                              *estimate.counts.values()])):
        return WordMatch(sort, condition=sqlite_words_condition(terms), found=found)
    return WordMatch(sort, driving=sqlite_scored_matches(terms) if sort is Sort.RELEVANCE
                     else sqlite_matching_ids(terms))


def _found_at_most(terms: list[WordTerms]) -> int:
    """How many listings have the words, counted only as far as the limits need (counting all
    85,000 listings that hold a common word took 9 ms). Words found beyond the full-text index
    (part of a word, a category's name) are counted each by its own indexes, with repeats, and
    the word found least gives the figure: at most that many have them all (a UNION of a
    common word's matches before the count took 30 ms)."""
    cap = max(limits.DRIVE_LIMIT, limits.RANK_LIMIT) + 1

    def counted(ids: Select) -> int:
        return db.session.scalar(select(func.count()).select_from(
            ids.limit(cap).subquery())) or 0

    if not any(word.beyond_words for word in terms):
        return counted(sqlite_matching_ids(terms))
    at_most = cap
    for word in terms:
        found = counted(sqlite_text_ids(word, distinct=False))
        if word.category_ids:
            found += db.session.scalar(select(func.count()).where(
                Listing.category_id.in_(word.category_ids),
                Listing.status == ListingStatus.PUBLISHED)) or 0
        at_most = min(at_most, found)
    return at_most


def _together(terms: list[WordTerms], query: SearchQuery, sort: Sort, estimate: _Estimate,
              found: int) -> int:
    """`found`, or where several words were counted each past the limits (by
    `_found_at_most`, which then says nothing of them together), about how many listings have
    them all, where those are few enough to be read first (and ranked) rather than looked for
    in order."""
    if len(terms) < 2 or not any(word.beyond_words for word in terms) \
            or found <= max(limits.DRIVE_LIMIT, limits.RANK_LIMIT):
        return found
    together = _sampled(terms)
    in_order = Sort.NEWEST if sort is Sort.RELEVANCE else sort
    pays = together * _WORD_MATCH_COST < estimate.sort_scan(query, in_order, together)
    return together if pays else found


def _sampled(terms: list[WordTerms]) -> int:
    """About how many listings have every word, from their share among the newest _SAMPLE
    (ids grow with time; drafts and the rest counted, as by `_found_at_most`)."""
    listings = about_how_many_listings()
    newest = range(max(listings - _SAMPLE, 0) + 1, listings + 1)
    met = db.session.scalar(select(func.count()).select_from(
        sqlite_matching_ids(terms, newest).subquery())) or 0
    return math.ceil(met * listings / len(newest))
