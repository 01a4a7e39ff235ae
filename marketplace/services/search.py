"""Searching listings: words, filters, sorting and pages, the same on SQLite and PostgreSQL.

Words are matched by the full-text index of models/search_index.py. On SQLite (FTS5) every word
of two or more characters also matches longer words that start with it ("rolstoel" finds
"rolstoelen" and "rolstoelkussen"); accents never count. On PostgreSQL words are stemmed in
Dutch and in English ("rolstoelen" finds "rolstoel", "wheelchairs" finds "wheelchair"). All
words must match. Whatever the user types is split into words here and passed to the database
as quoted phrases (SQLite) or through plainto_tsquery (PostgreSQL), never as query syntax.

Only listings a viewer may see are found: published, not past their "available until" date, of
an active organisation, and not in their internal phase unless the viewer belongs to the
listing's organisation or is a platform admin (security.listing_visible_to in SQL).

Results are `ListingCard`s, what a result card shows, read with two plain queries: loading
24 full Listing objects with their organisation, site, category and photos through the ORM cost
more than the query that found them.

Pages and counts: one narrow query fetches the ordered ids of the matches, up to COUNT_LIMIT
or PAGES_AHEAD pages past the page shown, whichever is further (so the count costs no second
query, and `SearchResults.total_is_exact` is False when it stopped); a second query loads the
listings of the page with what a result card shows. Pages past the first MAX_RESULTS results
are empty: a search that wide is refined with words or filters, not paged through.

Kept results (listings/pages.py): `find_listings` gives the ordered ids with what they are
sorted by (`Found`), `page_of` the page's cards, and `refind` brings a kept `Found` up to date
after some listings changed, by asking only about those listings, not repeating the search.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, any_, func, literal_column, or_, select, table
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from ..extensions import db
from ..models import (
    Category,
    Condition,
    Listing,
    ListingPhoto,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Photo,
    Province,
    Site,
    Unit,
)
from ..models.base import DATABASE_INT_MAX, utcnow
from ..security import in_good_standing
from .categories import category_with_descendants

DEFAULT_PER_PAGE = 24
MAX_PER_PAGE = 100
COUNT_LIMIT = 500  # counting stops here, or a few pages past the page shown
PAGES_AHEAD = 5
# A page starting past this many matches is read from its first (SQL OFFSET), not the matches
# before it: a listing's id and sort key each cost the page 3 µs (page 200 read 4,921).
DEEP_PAGE = 500
MAX_RESULTS = 10_000  # pages past the first this many results are empty: refine the search
MAX_PAGE_ARG = 1_000_000  # larger page numbers in a URL are garbage, not a page
MAX_TEXT_LENGTH = 200  # characters of search text considered
MAX_WORDS = 8
MAX_WORD_LENGTH = 40
MAX_DAYS = 3650
PREFIX_MIN_LENGTH = 2  # shorter words match whole words only (a one-letter prefix is everything)
TITLE_WEIGHT = 5.0  # on SQLite, a word in the title counts this many times one in the description
# SQLite: words found in more listings than this never drive the query (see _sqlite_words).
DRIVE_LIMIT = 10_000
# Words found in more listings than this are shown newest first, also when relevance is asked:
# ranking costs ~0.6 µs a match (bm25, SQLite) to ~0.8 µs (ts_rank, PostgreSQL), and a word
# found in that many listings says little about which come first.
RANK_LIMIT = 10_000

_HAS_WORD_CHARACTER = re.compile(r"[^\W_]")
_NUMBER = re.compile(r"[0-9]{1,9}")
_TRUE = {"1", "true", "on", "yes", "y"}
_E = TypeVar("_E", bound=enum.Enum)


class Sort(enum.StrEnum):
    NEWEST = "newest"
    EXPIRING = "expiring"
    RELEVANCE = "relevance"


@dataclass(frozen=True)
class SearchQuery:
    """What a member asks for; build it from URL parameters with `from_args`."""

    text: str = ""
    category_id: int | None = None  # with its children
    condition: Condition | None = None
    province: Province | None = None
    organisation_kind: OrganisationKind | None = None
    delivery_only: bool = False
    posted_within_days: int | None = None
    sort: Sort = Sort.NEWEST  # RELEVANCE only makes sense with words; without, NEWEST
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SearchQuery:
        """Read URL parameters (q, category, condition, province, kind, delivery, days, sort,
        page); a missing, unknown or invalid value is left at its default, never an error."""
        text = args.get("q")
        return cls(
            text=" ".join(text[:MAX_TEXT_LENGTH].split()) if isinstance(text, str) else "",
            category_id=_number(args.get("category"), 1, DATABASE_INT_MAX),
            condition=_member(Condition, args.get("condition")),
            province=_member(Province, args.get("province")),
            organisation_kind=_member(OrganisationKind, args.get("kind")),
            delivery_only=str(args.get("delivery", "")).strip().lower() in _TRUE,
            posted_within_days=_number(args.get("days"), 1, MAX_DAYS),
            sort=_member(Sort, args.get("sort")) or Sort.NEWEST,
            page=_number(args.get("page"), 1, MAX_PAGE_ARG) or 1,
        )

    def to_args(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of this query with `changes` applied, leaving out defaults: for
        links that keep the filters (`query.to_args(page=2)`, `query.to_args(sort="newest")`)."""
        query = replace(self, **changes) if changes else self
        args: dict[str, str] = {}
        if query.text.strip():
            args["q"] = query.text
        if query.category_id is not None:
            args["category"] = str(query.category_id)
        for key, value in (("condition", query.condition), ("province", query.province),
                           ("kind", query.organisation_kind)):
            if value is not None:
                args[key] = str(value)
        if query.delivery_only:
            args["delivery"] = "1"
        if query.posted_within_days is not None:
            args["days"] = str(query.posted_within_days)
        if query.sort is not Sort.NEWEST:
            args["sort"] = str(query.sort)
        if query.page != 1:
            args["page"] = str(query.page)
        return args

    @property
    def words(self) -> list[str]:
        return search_words(self.text)

    @property
    def effective_sort(self) -> Sort:
        if self.sort is Sort.RELEVANCE and not self.words:
            return Sort.NEWEST
        return self.sort


@dataclass(frozen=True)
class CardPhoto:
    content_hash: str
    width: int
    height: int


@dataclass(frozen=True)
class CardCover:
    photo: CardPhoto
    alt_text: str


@dataclass(frozen=True)
class CardOrganisation:
    id: int
    name: str


@dataclass(frozen=True)
class CardSite:
    city: str


@dataclass(frozen=True)
class CardCategory:
    id: int
    slug: str


@dataclass(frozen=True)
class ListingCard:
    """What a result card (templates/listings/_card.html) shows of a listing, with the same
    attribute names as Listing: `listing.organisation.name`, `listing.cover.photo`, …"""

    id: int
    title: str
    organisation: CardOrganisation
    site: CardSite
    category: CardCategory
    quantity_available: int
    unit: Unit
    condition: Condition
    delivery_possible: bool
    available_until: date
    cover: CardCover | None


@dataclass
class SearchResults:
    """One page of listings. With `total_is_exact` False there are more than `total` matches
    (counting stopped). `sorted_by` is the order applied: NEWEST where RELEVANCE was asked
    without words, or for words found in more than RANK_LIMIT listings."""

    listings: list[ListingCard]
    total: int
    page: int
    per_page: int
    total_is_exact: bool = True
    sorted_by: Sort = Sort.NEWEST

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def search_words(text: str) -> list[str]:
    """The words of a search text: split on white space, without control characters, at most
    MAX_WORDS of at most MAX_WORD_LENGTH characters; pieces without a letter or digit dropped."""
    cleaned = "".join(" " if unicodedata.category(character)[0] == "C" else character
                      for character in text[:MAX_TEXT_LENGTH])
    words = [word[:MAX_WORD_LENGTH] for word in cleaned.split()
             if _HAS_WORD_CHARACTER.search(word[:MAX_WORD_LENGTH])]
    return words[:MAX_WORDS]


@dataclass(frozen=True)
class Visibility:
    """Which published listings a viewer sees: those of every organisation past their internal
    phase, plus those of `organisation_id` in theirs, or with `everything` all (platform
    admins). Viewers with the same Visibility see the same results (page_cache keys on it)."""

    everything: bool = False
    organisation_id: int | None = None


def visibility_of(viewer: Any) -> Visibility:
    if not in_good_standing(viewer):  # awaiting approval, or suspended: what visitors see
        return Visibility()
    if viewer.is_platform_admin:
        return Visibility(everything=True)
    return Visibility(organisation_id=viewer.organisation_id)


def results_visibility(viewer: Any, now: datetime | None = None) -> Visibility:
    """The Visibility whose results `viewer` gets. Only its own organisation's listings in their
    internal phase set a member apart, so while it has none, a member gets what everyone gets
    (and is served the pages kept for everyone: page_cache)."""
    visibility = visibility_of(viewer)
    if visibility.organisation_id is None:
        return visibility
    internal = db.session.scalar(select(Listing.id).where(
        Listing.organisation_id == visibility.organisation_id,
        Listing.status == ListingStatus.PUBLISHED,
        Listing.internal_until > (now or utcnow())).limit(1))
    return visibility if internal is not None else Visibility()


def next_visibility_change(now: datetime) -> datetime | None:
    """When the results found `now` may next change with time alone: the end of the next
    listing's internal phase (it then shows to everyone). The other change with time, listings
    past their "available until" date, comes with the date. None when nothing is ahead."""
    return db.session.scalar(select(func.min(Listing.internal_until)).where(
        Listing.status == ListingStatus.PUBLISHED, Listing.internal_until > now))


def search_listings(viewer: Any, query: SearchQuery, now: datetime | None = None) -> SearchResults:
    """The page `query.page` of the listings `viewer` (a User, anonymous or None) may see that
    match `query`. A page past the end is empty; nothing the query holds raises."""
    return page_of(find_listings(visibility_of(viewer), query, now), query)


@dataclass(frozen=True)
class Found:
    """The first `limit` - 1 matches of a query, or all when fewer (one query gives the page
    and the count: the ids up to a few pages past the page asked for), from the `offset`-th on:
    a page past the count (DEEP_PAGE) is read from its own first match. `keys` are what the ids
    are sorted by (`_sort_key`), so that a listing that comes to match can be put in its place;
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
    limit = _limit(query)
    plan = _plan(visibility, query, now)
    if plan.statement is None:
        return Found((), _no_keys(plan.sorted_by), limit, plan.sorted_by)
    offset = (max(query.page, 1) - 1) * _per_page(query)
    if offset < DEEP_PAGE or limit <= offset:
        offset = 0
    found = _read(plan, limit, offset)
    if offset and not found.ids:
        return _read(plan, limit, 0)  # past the last page: the count comes from the first
    return found


def _read(plan: _Plan, limit: int, offset: int) -> Found:
    statement = plan.statement.limit(limit - offset).offset(offset or None)
    key = _key_column(plan.sorted_by)
    if key is None:
        return Found(tuple(db.session.scalars(statement)), None, limit, plan.sorted_by, offset)
    rows = db.session.execute(statement.add_columns(key)).all()
    return Found(tuple(row[0] for row in rows), tuple(_sort_key(row[1]) for row in rows), limit,
                 plan.sorted_by, offset)


# Asking about more changed listings than this costs about what the search itself costs.
REFIND_LIMIT = 500


def refind(found: Found, visibility: Visibility, query: SearchQuery, changed: Collection[int],
           now: datetime | None = None) -> Found | None:
    """`found` brought up to date after the listings `changed` changed (any way: new, edited,
    claimed, withdrawn), asking only about those: each now in its place if it matches, gone if
    not. None when that cannot tell: results by relevance, too many changes, or fewer matches
    than were read where the count had stopped (what now comes last was never read)."""
    # Relevance asked: whether so many match that they are shown newest first may change too.
    # A deep page does not hold the matches before it, which a change may move it by.
    if (found.keys is None or query.effective_sort is Sort.RELEVANCE or found.offset
            or len(changed) > REFIND_LIMIT):
        return None
    changed = set(changed)
    now = now or utcnow()
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


def page_of(found: Found, query: SearchQuery) -> SearchResults:
    """The page `query.page` of `found`, with its cards."""
    return SearchResults(_load(list(page_ids(found, query))), found.total, max(query.page, 1),
                         _per_page(query), found.exact, found.sorted_by)


def page_ids(found: Found, query: SearchQuery) -> tuple[int, ...]:
    """The ids of the listings on the page `query.page` of `found`."""
    per_page, page = _per_page(query), max(query.page, 1)
    if page > math.ceil(MAX_RESULTS / per_page):
        return ()
    start = (page - 1) * per_page - found.offset
    return found.ids[max(start, 0):max(start + per_page, 0)]


def _per_page(query: SearchQuery) -> int:
    return min(max(query.per_page, 1), MAX_PER_PAGE)


def _limit(query: SearchQuery) -> int:
    """How many ids to read: up to a few pages past this one, or COUNT_LIMIT, plus one to tell
    whether there are more."""
    per_page, page = _per_page(query), max(query.page, 1)
    served = page <= math.ceil(MAX_RESULTS / per_page)
    return (min(max(COUNT_LIMIT, (page + PAGES_AHEAD) * per_page), MAX_RESULTS) if served
            else COUNT_LIMIT) + 1


def _key_column(sort: Sort) -> ColumnElement | None:
    """What `_order` sorts by before the id, where a listing alone tells it."""
    if sort is Sort.NEWEST:
        return Listing.published_at
    if sort is Sort.EXPIRING:
        return Listing.available_until
    return None


def _no_keys(sort: Sort) -> tuple[int, ...] | None:
    return None if _key_column(sort) is None else ()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _sort_key(value: datetime | date | None) -> int:
    """A datetime as microseconds since 1970, a date as its ordinal: in the order of the
    column's values, and an int in JSON."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(microseconds=1)
    return value.toordinal()


def _matching(visibility: Visibility, query: SearchQuery, ids: set[int], now: datetime,
              sort: Sort) -> list[tuple[int, int]] | None:
    """(sort key, id) of those of `ids` that match; None when `sort` has no such key."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    conditions = _conditions(visibility, query, now,
                             lambda name: _column(name, sqlite, ()))
    conditions.append(Listing.id.in_(ids))
    words = query.words
    if words:
        if sqlite:
            # The matches read once, as the search's own condition does: a lookup per rowid
            # (EXISTS … rowid = listing.id) evaluates the whole full-text query each time, 2 ms
            # per changed listing for a common word's prefix.
            conditions.append(_fts_condition(_fts_match(_fts5_query(words))))
        else:
            conditions.append(literal_column("listing.search_vector", TSVECTOR)
                              .bool_op("@@")(_tsquery(words)))
    key = _key_column(sort)
    if key is None:
        return None
    return [(_sort_key(row[1]), row[0])
            for row in db.session.execute(select(Listing.id, key).where(*conditions))]


# --- the query -------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Plan:
    statement: Select | None  # listing ids in order; None when nothing can match
    sorted_by: Sort


@dataclass(frozen=True)
class _WordMatch:
    """How the words take part in the query: a condition on listing, or (SQLite, few matches)
    the matches themselves, with their score, as the table the query starts from."""

    sort: Sort
    condition: ColumnElement[bool] | None = None
    driving: Select | None = None  # SELECT id[, score] of the matches
    score: ColumnElement | None = None  # lower is better
    found: int | None = None  # listings with the words (SQLite; counted up to a limit)


def _plan(visibility: Visibility, query: SearchQuery, now: datetime) -> _Plan:
    """The SELECT of the matching listing ids in the order asked for.

    SQLite without statistics picks its index by the WHERE clause, not by the ORDER BY, and
    then sorts every visible listing. So on SQLite the plan is chosen here: columns that must
    not drive the query are wrapped in a no-op unary plus, which SQLite does not index. Without
    words (or with words found in many listings) the listings are read in the order of the sort
    index until enough are found, unless a category or province filter leaves few enough to
    read them all through that filter's index (`_filter_to_drive`); with words found in few
    listings, those are looked up by id.
    """
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    estimate = _estimate(query) if sqlite else None
    words = query.words
    if words:
        match = _sqlite_words(words, query, query.effective_sort, estimate) if estimate \
            else _postgres_words(words, query, query.effective_sort)
        if match is None:
            return _Plan(None, query.effective_sort)
    else:
        match = _WordMatch(query.effective_sort)
    drive = None if estimate is None or match.driving is not None else _filter_to_drive(
        query, match.sort, estimate, match.found)
    if match.driving is not None:
        indexed: tuple[str, ...] = ()
    elif drive is not None:
        indexed = (drive,)
    elif match.sort is Sort.EXPIRING:
        indexed = ("status", "available_until")
    else:
        indexed = ("status", "published_at")
    conditions = _conditions(visibility, query, now,
                             lambda name: _column(name, sqlite, indexed))
    score = match.score
    if match.driving is not None:
        # MATERIALIZED: joined with the filters in one WHERE, SQLite may run the full-text
        # query once per listing row, which takes seconds.
        matches = match.driving.cte("matches").prefix_with("MATERIALIZED")
        statement = select(Listing.id).select_from(matches).join(Listing,
                                                                 Listing.id == matches.c.id)
        if match.sort is Sort.RELEVANCE:
            score = matches.c.score
    else:
        statement = select(Listing.id)
        if match.condition is not None:
            conditions.append(match.condition)
    return _Plan(statement.where(*conditions).order_by(*_order(match.sort, score)), match.sort)


# SQLite's plan, chosen by what each way reads (services/search._plan). Costs are in reads of
# one index entry: a match of the words joined to its listing costs about eight (2 µs against
# 0.25 µs, measured at 100,000 listings), an entry of the expiring sort's index, which does not
# cover the filters, about four (its listing is read too).
_WORD_MATCH_COST = 8
_EXPIRING_ENTRY_COST = 4
# What share of the listings a filter without an index of its own lets pass, about.
_SHARE_OF_CONDITION = 1 / len(Condition)
_SHARE_OF_KIND = 1 / len(OrganisationKind)
_SHARE_WITH_DELIVERY = 1 / 3


@dataclass(frozen=True)
class _Estimate:
    """SQLite: about how many listings there are, how many pass the filters that have an index
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
        entries = self.listings if share <= 0 else min(self.listings, _limit(query) / share)
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
    listings = _about_how_many_listings() if counts or query.words else 1
    other_share = 1.0
    if query.condition is not None:
        other_share *= _SHARE_OF_CONDITION
    if query.organisation_kind is not None:
        other_share *= _SHARE_OF_KIND
    if query.delivery_only:
        other_share *= _SHARE_WITH_DELIVERY
    return _Estimate(listings, counts, other_share)


def _about_how_many_listings() -> int:
    """Ids grow by one per listing: the highest is about how many there are, at no cost."""
    return max(db.session.scalar(select(func.max(Listing.id))) or 1, 1)


def _filter_to_drive(query: SearchQuery, sort: Sort, estimate: _Estimate,
                     words_found: int | None) -> str | None:
    """SQLite: the column ("category_id", "site_id") whose covering index should drive the
    query (read whole, what passes sorted), or None for the sort's own index (read in order
    until enough pass). Without this, a category in one province was a scan of every published
    listing (22 ms at 100,000 listings; 2 ms through the category's index)."""
    if query.posted_within_days is not None or not estimate.counts:
        return None  # the newest-first scan stops at the date
    column, entries = min(estimate.counts.items(), key=lambda item: item[1])
    return column if entries < estimate.sort_scan(query, sort, words_found) else None


def _sqlite_words(words: list[str], query: SearchQuery, sort: Sort,
                  estimate: _Estimate) -> _WordMatch | None:
    """None when no listing has the words. Their matches drive the query when they are few
    (reading them costs more per match than reading an index entry: `_WORD_MATCH_COST`), or
    when ranked by relevance; else the words are a condition on the listings read."""
    fts_match = _fts_match(_fts5_query(words))
    # Counted only as far as the limits below need: counting all 85,000 listings that hold a
    # common word took 9 ms.
    found = db.session.scalar(select(func.count()).select_from(
        select(literal_column("rowid")).select_from(_FTS).where(fts_match)
        .limit(max(DRIVE_LIMIT, RANK_LIMIT) + 1).subquery())) or 0
    if found == 0:
        return None
    if sort is Sort.RELEVANCE and found > RANK_LIMIT:
        sort = Sort.NEWEST
    if sort is not Sort.RELEVANCE and (found > DRIVE_LIMIT or found * _WORD_MATCH_COST > min(
            [estimate.sort_scan(query, sort, found), *estimate.counts.values()])):
        return _WordMatch(sort, condition=_fts_condition(fts_match), found=found)
    columns = [literal_column("rowid").label("id")]
    if sort is Sort.RELEVANCE:
        columns.append(func.bm25(literal_column("listing_fts"), TITLE_WEIGHT, 1.0).label("score"))
    return _WordMatch(sort, driving=select(*columns).select_from(_FTS).where(fts_match))


# PostgreSQL, per match the planner expects: reading the matches through the full-text index
# and sorting them costs about 3.2 µs; reading listings in order and testing the words on each,
# 1.8 µs per listing in date order and 3.9 µs in expiry order (its index does not cover the
# filters), for the limit / share listings read. Measured at 100,000 listings.
_POSTGRES_MATCH_COST = 3.2
_POSTGRES_TEST_COST = {Sort.NEWEST: 1.8, Sort.EXPIRING: 3.9}
# Fewer expected matches than this, PostgreSQL's own plan reads them first.
_POSTGRES_FEW_MATCHES = 2_000


def _postgres_words(words: list[str], query: SearchQuery, sort: Sort) -> _WordMatch:
    """PostgreSQL plans by its statistics, but counts testing the words on a listing as almost
    free: for a word in 3 % of the listings it read 34,000 listings in date order testing each
    (24 ms; 55 ms in expiry order) where the full-text index finds the matches at once (12 and
    11 ms with them sorted). So where the planner expects (`_planned_rows`, half a millisecond)
    that reading the matches costs less than reading limit / share listings in order, the
    matches are read first, as an array the listings are looked up in. Not with filters: with
    fewer expected, PostgreSQL's own plan reads the matches first, or uses a filter's index."""
    tsquery = _tsquery(words)
    vector = literal_column("listing.search_vector", TSVECTOR)
    condition = vector.bool_op("@@")(tsquery)
    if sort is not Sort.RELEVANCE:
        if _filtered(query):
            return _WordMatch(sort, condition=condition)
        estimate = _planned_rows(select(Listing.id).where(condition))
        if estimate > _POSTGRES_FEW_MATCHES and estimate * _POSTGRES_MATCH_COST < \
                _limit(query) * _about_how_many_listings() / estimate * _POSTGRES_TEST_COST[sort]:
            matching = aliased(Listing, name="matching")
            ids = select(matching.id).where(literal_column(
                "matching.search_vector", TSVECTOR).bool_op("@@")(tsquery))
            return _WordMatch(sort, condition=Listing.id == any_(
                func.array(ids.scalar_subquery())))
        return _WordMatch(sort, condition=condition)
    # Ranked only up to RANK_LIMIT matches, counted exactly, unless the planner expects far
    # more (`_planned_rows`, half a millisecond). Not counted "up to a limit": with a LIMIT,
    # PostgreSQL reads every listing testing the words (86 ms for a word in 4 % of 100,000
    # listings), as it counts that test almost free; without, it uses the full-text index.
    estimate = _planned_rows(select(Listing.id).where(condition))
    found = RANK_LIMIT + 1 if estimate > 3 * RANK_LIMIT else db.session.scalar(
        select(func.count()).select_from(Listing).where(condition)) or 0
    if found > RANK_LIMIT:
        return _WordMatch(Sort.NEWEST, condition=condition)
    # ts_rank grows with relevance; negated, lower is better as with bm25.
    return _WordMatch(sort, condition=condition, score=-func.ts_rank(vector, tsquery))


def _filtered(query: SearchQuery) -> bool:
    return query != SearchQuery(text=query.text, sort=query.sort, page=query.page,
                                per_page=query.per_page)


def _planned_rows(statement: Select) -> float:
    """How many rows PostgreSQL's planner expects `statement` to give (EXPLAIN, not run)."""
    compiled = statement.compile(dialect=db.session.get_bind().dialect)
    plan = db.session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return float(plan[0]["Plan"]["Plan Rows"])


def _conditions(visibility: Visibility, query: SearchQuery, now: datetime,
                column: Callable[[str], ColumnElement]) -> list[ColumnElement[bool]]:
    """What a listing must be to be seen with `visibility` and to pass the filters of `query`."""
    today = now.astimezone().date()  # the server's date, as services/listings.py uses it
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
    return conditions


def _column(name: str, sqlite: bool, indexed: tuple[str, ...]) -> ColumnElement:
    """Listing's column `name`; on SQLite as `+column` unless its index may be used."""
    column = getattr(Listing, name)
    if not sqlite or name in indexed:
        return column
    return UnaryExpression(column.expression, operator=custom_op("+"), type_=column.type)


_FTS = table("listing_fts", literal_column("rowid"))


def _fts5_query(words: list[str]) -> str:
    """Each word an FTS5 string (a '"' inside doubled), so nothing typed is query syntax;
    words of PREFIX_MIN_LENGTH characters or more also match longer words."""
    phrases = []
    for word in words:
        phrase = '"' + word.replace('"', '""') + '"'
        phrases.append(phrase + "*" if len(word) >= PREFIX_MIN_LENGTH else phrase)
    return " ".join(phrases)


def _fts_match(fts_query: str) -> ColumnElement[bool]:
    return literal_column("listing_fts").op("MATCH", is_comparison=True)(fts_query)


def _fts_condition(fts_match: ColumnElement[bool]) -> ColumnElement[bool]:
    """The listing is among the matches, read once as a list (never driving the query)."""
    return _column("id", True, ()).in_(
        select(literal_column("rowid")).select_from(_FTS).where(fts_match))


def _tsquery(words: list[str]) -> ColumnElement:
    """Every word must match, in its Dutch or its English form; plainto_tsquery reads no
    query syntax, so nothing typed is an operator."""
    tsquery = None
    for word in words:
        either = func.plainto_tsquery("dutch", word).op("||", return_type=TSQUERY)(
            func.plainto_tsquery("english", word))
        tsquery = either if tsquery is None else tsquery.op("&&", return_type=TSQUERY)(either)
    return tsquery


def _order(sort: Sort, score: ColumnElement | None) -> list[ColumnElement]:
    newest = [Listing.published_at.desc(), Listing.id.desc()]
    if sort is Sort.RELEVANCE and score is not None:
        return [score.asc(), *newest]
    if sort is Sort.EXPIRING:
        return [Listing.available_until.asc(), Listing.id.asc()]
    return newest


def _load(ids: list[int]) -> list[ListingCard]:
    """The cards of the listings `ids`, in that order."""
    if not ids:
        return []
    covers: dict[int, CardCover] = {}
    for row in db.session.execute(
            select(ListingPhoto.listing_id, ListingPhoto.alt_text, Photo.content_hash,
                   Photo.width, Photo.height)
            .join(Photo, Photo.id == ListingPhoto.photo_id)
            .where(ListingPhoto.listing_id.in_(ids))
            .order_by(ListingPhoto.listing_id, ListingPhoto.position, ListingPhoto.id)):
        if row.listing_id not in covers:  # the first in the gallery's order
            covers[row.listing_id] = CardCover(
                CardPhoto(row.content_hash, row.width, row.height), row.alt_text)
    rows = db.session.execute(
        select(Listing.id, Listing.title, Listing.organisation_id, Organisation.name,
               Site.city, Listing.category_id, Category.slug, Listing.quantity_available,
               Listing.unit, Listing.condition, Listing.delivery_possible,
               Listing.available_until)
        .join(Organisation, Organisation.id == Listing.organisation_id)
        .join(Site, Site.id == Listing.site_id)
        .join(Category, Category.id == Listing.category_id)
        .where(Listing.id.in_(ids)))
    by_id = {row.id: ListingCard(
        id=row.id, title=row.title,
        organisation=CardOrganisation(row.organisation_id, row.name), site=CardSite(row.city),
        category=CardCategory(row.category_id, row.slug),
        quantity_available=row.quantity_available, unit=row.unit, condition=row.condition,
        delivery_possible=row.delivery_possible, available_until=row.available_until,
        cover=covers.get(row.id)) for row in rows}
    return [by_id[listing_id] for listing_id in ids if listing_id in by_id]


# --- reading URL parameters ------------------------------------------------------------------

def _number(value: object, low: int, high: int) -> int | None:
    if not isinstance(value, str) or not _NUMBER.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if low <= number <= high else None


def _member(enum_class: type[_E], value: object) -> _E | None:
    try:
        return enum_class(value) if isinstance(value, str) else None
    except ValueError:
        return None
