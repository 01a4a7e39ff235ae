"""PostgreSQL's plan: its planner chooses, except that where a word is in a few thousand
listings (by its estimate or, where that may be too high, by a sample), the matches are read
through the full-text index first; relevance is ranked only for words found in at most
RANK_LIMIT listings, counted through the indexes; a province's sites are also given as an array,
whose index the planner can AND with the words' (docs/search.md, "Words")."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    any_,
    column,
    func,
    literal,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ClauseElement, Executable
from sqlalchemy.sql.visitors import InternalTraversal

from ...extensions import db
from ...models import Listing, ListingStatus, Site
from ...models.base import escape_like
from ...models.search_index import PARTS_WORDS_TABLE
from . import limits
from .conditions import about_how_many_listings
from .distance import nearest_order, sites_within
from .fulltext import (
    WordMatch,
    postgres_condition,
    postgres_matching_ids,
    postgres_score,
    postgres_ways,
    word_tsquery,
)
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
# The planner expected up to 4.4 times the matches of a word's ways (`gloves` with its synonym:
# 12,211 for 2,753): below this many times the matches that make reading them first pay, the
# share of matches among the newest _SAMPLE listings decides (1 ms) instead of its estimate.
_ESTIMATE_SLACK = 5
_SAMPLE = 500
# Radii up to this read the ring first where it pays. At 1,000,000 listings 25 km around a site
# held 48,000 (30 sites; `rolstoel` 240 -> 50 ms, `contact` 190 -> 32); at 50 km the planner's
# own plan was the faster (47 and 10 ms against 94 and 80), and at 10 km about even.
_RING_FIRST_KM = 25
_RING_SHARE = 0.25
_PARTS_WORDS = table(PARTS_WORDS_TABLE, column("word"))
_DUTCH = literal("dutch", REGCONFIG)
_ENGLISH = literal("english", REGCONFIG)


# A bitmap of the listings an index found takes 64 bytes per table page it holds (PostgreSQL's
# tidbitmap.c), with a margin; past work_mem it keeps only which pages hold them, and every
# listing on those pages is tested again.
_BITMAP_BYTES_PER_PAGE = 80
# For this transaction: work_mem large enough for a bitmap over every page of listing, never
# less than the server's own setting.
_ROOM_FOR_BITMAPS = text(
    "SELECT set_config('work_mem', greatest(pg_size_bytes(current_setting('work_mem')),"
    " relpages::bigint * :bytes) / 1024 || 'kB', true)"
    " FROM pg_class WHERE oid = 'listing'::regclass").bindparams(bytes=_BITMAP_BYTES_PER_PAGE)


def choose(query: SearchQuery, terms: list[WordTerms]) -> WordMatch:
    """How the words of `query` (their `terms`) take part in the query (there are none: its
    sort alone)."""
    if query.effective_sort is Sort.NEAREST and query.located_origin is not None:
        # The words as a condition on the listings of the ring's sites (distance.py).
        return WordMatch(Sort.NEAREST, condition=_with_sites(postgres_condition(terms), query)
                         if terms else None,
                         score=nearest_order(query.located_origin, Listing.site_id))
    if not terms:
        return WordMatch(query.effective_sort)
    if query.effective_sort is Sort.RELEVANCE:
        match = _ranked(terms, query)
    else:
        match = _in_order(terms, query, query.effective_sort)
    ringed = _ring_first(match, query)
    return ringed if ringed.ring_first else replace(
        match, condition=_with_sites(match.condition, query))


def _ring_first(match: WordMatch, query: SearchQuery) -> WordMatch:
    """`match`, reading the listings within the radius first (plan._ring_first) where that
    pays. In order, about limit / share of the ring's listings are read before enough match
    (share: the words' share of the listings, from the newest _SAMPLE); that pays where it is
    fewer than the words' matches (else they are read first through their indexes: a rare
    word) and than a _RING_SHARE of the ring, as the sample may err (else PostgreSQL's reading
    of the whole ring in the order of its pages costs less: `stoel` within 25 km at 100,000
    listings, 488 matches of 4,800, 60 against 80 ms). The ring is counted only that far.
    Past _RING_FIRST_KM it is too large to sort first. A province's sites are a ring too:
    where the planner misjudged how many of its listings hold the words, it read them all
    testing each (`kast` in Utrecht at 1,000,000 listings: 64,000 listings, 318 ms; 75 ms
    read first). The words' share is sampled without the province."""
    ring = _ring_sites(query)
    if match.condition is None or match.sort not in (Sort.NEWEST, Sort.EXPIRING) or ring is None:
        return match
    listings = about_how_many_listings()
    matches = _sampled(match.condition, listings)
    reads = read_limit(query) * listings / max(matches, 1)
    if matches <= reads:
        return match
    counted = math.ceil(reads / _RING_SHARE)
    in_ring = db.session.scalar(select(func.count()).select_from(
        select(Listing.id).where(Listing.site_id.in_(ring),
                                 Listing.status == ListingStatus.PUBLISHED)
        .limit(counted).subquery()))
    return replace(match, ring_first=True) if (in_ring or 0) >= counted else match


def prepare(terms: list[WordTerms]) -> list[WordTerms]:
    """For the transaction of a search with words, once before its plans (nearest first plans a
    search per ring), in one statement: room for the bitmaps, and `terms` without the parts of
    a word that find nothing more than its words and stems.

    Room: the words' indexes are read as bitmaps, ANDed and ORed (each word, its ways). With
    the default 4 MB a bitmap holds the listings of 65,000 pages (about 460,000 listings); past
    that PostgreSQL keeps only the pages of some, and reads and tests every listing on them:
    `stoel elektrische` at 1,000,000 listings read 15,800 pages for 6,252 matches (137 ms),
    6,100 with room (65 ms).

    Parts: where every word a title has held that holds the part (`listing_parts_words`, kept
    by triggers in the same transaction as the titles) is found whole by the word's full-text
    query, the titles' trigrams are not read for it (`stoel elektrische` at 1,000,000
    listings: `%elektrische%` is in 64,000 titles, all found by `elektrisch`; 95 -> 70 ms).
    Each part is answered from the words' trigram index. A part holding anything but letters
    and digits may span words (a synonym of two words): always kept."""
    asked = [(index, part) for index, word in enumerate(terms) for part in word.parts
             if part.isalnum()]
    # A title word's lexemes as `listing.search_vector` makes a title's (models/search_index.py:
    # Dutch and English): a change there must change this too.
    alone = func.to_tsvector(_DUTCH, _PARTS_WORDS.c.word).op("||")(
        func.to_tsvector(_ENGLISH, _PARTS_WORDS.c.word))
    _room, *answers = db.session.execute(select(
        _ROOM_FOR_BITMAPS.columns(column("work_mem")).scalar_subquery(),
        *(select(_PARTS_WORDS.c.word).where(
            _PARTS_WORDS.c.word.like("%" + escape_like(part) + "%", escape="\\"),
            ~alone.bool_op("@@")(word_tsquery(terms[index]))).exists()
          for index, part in asked))).one()
    finds_more = dict(zip(asked, answers, strict=True))
    return [replace(word, parts=tuple(part for part in word.parts
                                      if finds_more.get((index, part), True)))
            for index, word in enumerate(terms)]


def _ring_sites(query: SearchQuery) -> Select | None:
    """The sites whose listings `_ring_first` would read first: those within the radius, up to
    _RING_FIRST_KM, or else the province's."""
    origin, km = query.located_origin, query.distance_km
    if origin is not None and km is not None:
        return sites_within(origin, km) if km <= _RING_FIRST_KM else None
    if query.province is not None:
        return select(Site.id).where(Site.province == query.province)
    return None


def _with_sites(condition: ColumnElement[bool] | None,
                query: SearchQuery) -> ColumnElement[bool] | None:
    """`condition` and the listing's site among the province's, as an array (the query's own
    filter has them as `IN (SELECT …)`): so PostgreSQL reads the site index with the words'
    indexes (a BitmapAnd), where it read every match of the words and joined their sites
    (`kast` in Utrecht: 14 ms, now 3.5 ms). The sites within a radius gain nothing so: the
    planner expects a few of them and reads their listings one site after the other."""
    if condition is None or query.province is None:
        return condition
    sites = select(Site.id).where(Site.province == query.province).scalar_subquery()
    return and_(condition, Listing.site_id == any_(func.array(sites)))


def _in_order(terms: list[WordTerms], query: SearchQuery, sort: Sort,
              estimate: float | None = None, counted: int | None = None) -> WordMatch:
    """PostgreSQL plans by its statistics, but counts testing the words on a listing as almost
    free: for a word in 3 % of the listings it read 34,000 listings in date order testing each
    (24 ms; 55 ms in expiry order) where the full-text index finds the matches at once (12 and
    11 ms with them sorted). So where the matches are few enough that reading them costs less
    than reading limit / share listings in order, they are read first, as an array the listings
    are looked up in. How many: the planner's estimate (`_planned`, half a millisecond), or,
    where that may be too high to tell, the share among the newest listings (`_sampled`). Not
    with filters: with fewer expected, PostgreSQL's own plan reads the matches first, or uses a
    filter's index. `estimate`: the planner's, where already asked; `counted`: at least how
    many match, where counted (`_ranked`): where reading that many first does not pay, more
    never do, and nothing is sampled."""
    condition = postgres_condition(terms)
    if is_filtered(query):
        return WordMatch(sort, condition=condition)
    if estimate is None:
        estimate = _planned(select(Listing.id).where(condition)).rows
    if estimate <= _POSTGRES_FEW_MATCHES:
        return WordMatch(sort, condition=condition)
    listings = about_how_many_listings()

    def first_pays(matches: float) -> bool:
        return matches * _POSTGRES_MATCH_COST < read_limit(query) * listings / max(matches, 1) \
            * _POSTGRES_TEST_COST[sort]

    if (counted is None or first_pays(counted)) and (
            first_pays(estimate) or (first_pays(estimate / _ESTIMATE_SLACK)
                                     and first_pays(_sampled(condition, listings)))):
        matching = aliased(Listing, name="matching")
        ids = select(matching.id).where(postgres_condition(terms, "matching", matching))
        return WordMatch(sort, condition=Listing.id == any_(func.array(ids.scalar_subquery())))
    return WordMatch(sort, condition=condition)


def _sampled(condition: ColumnElement[bool], listings: int) -> float:
    """About how many listings meet `condition`, from its share among the newest _SAMPLE (ids
    grow with time): those a newest-first read tests first."""
    read, met = db.session.execute(
        select(func.count(), func.count().filter(condition)).select_from(Listing)
        .where(Listing.id > listings - _SAMPLE)).one()
    return met * listings / max(read, 1)


def _ranked(terms: list[WordTerms], query: SearchQuery) -> WordMatch:
    """Ranked only up to RANK_LIMIT matches, counted exactly, unless the planner expects far
    more (`_planned`, half a millisecond); more are shown newest first, read as a newest-first
    search reads them (`_in_order`: `stoel elektrische` at 1,000,000 listings, 6,252 matches
    and five times as many expected, was read in date order testing each, 133 ms; 100 ms read
    first). Words found beyond the full-text index, where the planner reads them through the
    indexes (several words' BitmapAnd, one word's BitmapOr), are counted by the ranked search
    itself (`ranked_up_to`): counting them apart read the same listings (a title's part is
    tested on each) once more, 70 of 150 ms for `stoel elektrische` at 1,000,000 listings, 10
    of 36 ms for `kast` at 100,000. Not one word the planner expects in over 1.5 x RANK_LIMIT
    listings (its estimate runs 1.2 to 4.4 times the matches): ranking `stoel`'s 10,988 (35
    ms) only to show them newest first costs more than counting them (16-20 ms). Other words
    are counted first (`_found`)."""
    condition: ColumnElement[bool] = postgres_condition(terms)
    planned = _planned(select(Listing.id).where(condition))
    if planned.rows > 3 * limits.RANK_LIMIT:
        return _in_order(terms, query, Sort.NEWEST, planned.rows)
    ranked = WordMatch(Sort.RELEVANCE, condition=condition, score=postgres_score(terms))
    if planned.indexed and any(word.beyond_words for word in terms) and (
            len(terms) > 1 or planned.rows <= 1.5 * limits.RANK_LIMIT):
        return replace(ranked, ranked_up_to=limits.RANK_LIMIT)
    found = _found(terms, condition, planned)
    if found > limits.RANK_LIMIT:
        return _in_order(terms, query, Sort.NEWEST, planned.rows, found)
    return ranked


def _found(terms: list[WordTerms], condition: ColumnElement[bool], planned: _Planned) -> int:
    """How many listings have the words, exactly, or more than RANK_LIMIT. Not counted "up to
    a limit": with a LIMIT, PostgreSQL reads every listing testing the words (86 ms for a word
    in 4 % of 100,000 listings), as it counts that test almost free; without, it uses the
    indexes (words in the full-text index alone: from the index, where the listing's page is
    all visible). A word's ways (part of a word, a category) are an OR the planner misjudges,
    so one such word is counted by each way's own index (326 ms where it tested the OR on every
    listing): as the union of its ways (`postgres_matching_ids`), or, where the planner expects
    over one and a half times RANK_LIMIT (its estimate runs 1.2 to 4.4 times the matches), way
    by way until one holds more (`_found_by_ways`). Several words that the planner would test
    on every listing are counted as the intersection of each word's union."""

    def counted(statement: Select) -> int:
        return db.session.scalar(statement) or 0

    if not any(word.beyond_words for word in terms):
        return counted(select(func.count()).select_from(Listing).where(condition))
    if len(terms) == 1 and planned.rows > 1.5 * limits.RANK_LIMIT:
        return _found_by_ways(terms[0])  # one way may hold more than RANK_LIMIT
    return counted(select(func.count()).select_from(postgres_matching_ids(terms).subquery()))


def _found_by_ways(word: WordTerms) -> int:
    """How many listings one word finds, way by way (its category, part of the title, its words
    and stems), each way counted through its own index without the listings an earlier way
    found, until more than RANK_LIMIT: a word naming a category often has more in the category
    alone (`rolstoel`: 7 ms), a part of a word in titles alone (`stoel`: 12 ms, against 15 ms
    for the union of its ways)."""
    found = 0
    earlier: list[ColumnElement[bool]] = []
    for way in reversed(postgres_ways(word)):
        found += db.session.scalar(select(func.count()).select_from(Listing).where(
            way, *(other.is_not(true()) for other in earlier))) or 0
        if found > limits.RANK_LIMIT:
            break
        earlier.append(way)
    return found


@dataclass(frozen=True)
class _Planned:
    rows: float  # how many rows the planner expects
    indexed: bool  # whether it reads listing through indexes only, never all of it


class _Explain(Executable, ClauseElement):
    """EXPLAIN (FORMAT JSON) of a SELECT, compiled through SQLAlchemy's statement cache like
    the SELECT itself: compiled afresh for each search, the words' statement cost 2 ms of CPU."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement)]

    def __init__(self, statement: Select) -> None:
        self.statement = statement

    @property
    def _all_selected_columns(self) -> Any:
        # The compiled EXPLAIN holds the SELECT's result columns; its one row is read by place.
        return self.statement._all_selected_columns


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def _planned(statement: Select) -> _Planned:
    """What PostgreSQL's planner expects of `statement` (EXPLAIN, not run)."""
    plan: Any = db.session.execute(_Explain(statement)).scalar()
    return _Planned(float(plan[0]["Plan"]["Plan Rows"]), not _scans_all(plan[0]["Plan"]))


def _scans_all(node: dict[str, Any]) -> bool:
    return "Seq Scan" in node["Node Type"] or any(
        _scans_all(child) for child in node.get("Plans", ()))
