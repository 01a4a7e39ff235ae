"""The words in SQL, from their terms (terms.py). SQLite: FTS5 over the words and their stems
(every form a quoted string, so nothing typed is query syntax), FTS5 trigrams for part of a
title's word. PostgreSQL: tsquery (Dutch or English stems, through plainto_tsquery, which reads
no syntax) and ILIKE on the title's trigram index. Every word must match, one way or another;
whole words and stems rank before part of a word and a category's name. And `WordMatch`, how a
plan lets the words take part in the query."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from ...models import Listing
from ...models.base import escape_like
from ...words import stems
from .conditions import listing_column, unindexed
from .limits import PREFIX_MIN_LENGTH, TITLE_WEIGHT
from .query import Sort
from .terms import WordTerms

FTS = table("listing_fts", literal_column("rowid"))
PARTS = table("listing_parts", literal_column("rowid"))
# The score of a listing found only by part of a word or by its category: after every listing
# found by its words (bm25 is negative, lower is better).
BEYOND_WORDS_SCORE = 1.0


@dataclass(frozen=True)
class WordMatch:
    """How the words take part in the query: a condition on listing, or (SQLite, few matches)
    the matches themselves, with their score, as the table the query starts from."""

    sort: Sort
    condition: ColumnElement[bool] | None = None
    driving: Select | None = None  # SELECT id[, score] of the matches
    score: ColumnElement | None = None  # lower is better
    found: int | None = None  # listings with the words (SQLite; counted up to a limit)
    indexed: tuple[str, ...] = ()  # SQLite: the columns whose index the query may use
    # PostgreSQL: the listings within the radius read first, the words tested on each (plan.py)
    ring_first: bool = False
    # PostgreSQL: by relevance only while at most this many match, as counted by the search's
    # own statement; else newest first (plan.py)
    ranked_up_to: int | None = None


# --- SQLite ---------------------------------------------------------------------------------

def _fts5_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts5_group(terms: WordTerms) -> str:
    """One word's forms as FTS5 strings (long enough ones also as the start of a longer word)
    or any of their stems."""
    alternatives: dict[str, None] = {}
    for form in terms.forms:
        string = _fts5_string(form)
        alternatives.setdefault(string + "*" if len(form) >= PREFIX_MIN_LENGTH else string)
        if " " not in form:
            for stem in stems(form):
                alternatives.setdefault(_fts5_string(stem))
    return "(" + " OR ".join(alternatives) + ")"


def fts5_query(terms: list[WordTerms]) -> str:
    """Every word's group: all must match."""
    return " AND ".join(fts5_group(word) for word in terms)


def fts_match(fts_query: str) -> ColumnElement[bool]:
    return literal_column("listing_fts").op("MATCH", is_comparison=True)(fts_query)


def _parts_match(parts: tuple[str, ...]) -> ColumnElement[bool]:
    query = " OR ".join(_fts5_string(part) for part in parts)
    return literal_column("listing_parts").op("MATCH", is_comparison=True)(query)


def _index_matches(index: Any, match: ColumnElement[bool], rowids: range | None) -> Select:
    statement: Select = select(literal_column("rowid").label("id")).select_from(index).where(
        match)
    return statement if rowids is None else statement.where(
        *_within(literal_column("rowid"), rowids))


def _within(column: Any, rowids: range) -> tuple[ColumnElement[bool], ...]:
    """`column` in `rowids` (FTS5 seeks its doclists to the range instead of reading them).
    One id is compared as such: given a range, SQLite read a category's listings through the
    category's index (`rolstoel` for one listing: 2.2 ms, against 1.4)."""
    if len(rowids) == 1:
        return (column == rowids.start,)
    return column >= rowids.start, column < rowids.stop


def _union(ways: list[Select], distinct: bool = True) -> Select:
    # SQLite reads no parenthesised compound inside another: each a subquery.
    if len(ways) == 1:
        return ways[0]
    return select(literal_column("id")).select_from(
        (union(*ways) if distinct else union_all(*ways)).subquery())


def sqlite_text_ids(word: WordTerms, rowids: range | None = None,
                    distinct: bool = True) -> Select:
    """SELECT id of the listings one word matches by its text: words, stems, part of a word
    (not `distinct`: an id may come twice, which an IN list and an upper bound do not mind and
    which costs half a UNION's time)."""
    ways = [_index_matches(FTS, fts_match(fts5_group(word)), rowids)]
    if word.parts:
        ways.append(_index_matches(PARTS, _parts_match(word.parts), rowids))
    return _union(ways, distinct)


def sqlite_matching_ids(terms: list[WordTerms], rowids: range | None = None) -> Select:
    """SELECT id of the listings every word matches (drafts and the rest included: the search's
    conditions decide what is seen); of those whose id is in `rowids` alone, when given."""
    plain = [word for word in terms if not word.beyond_words]
    if len(plain) == len(terms):
        return _index_matches(FTS, fts_match(fts5_query(terms)), rowids)
    each_word: list[Select] = []
    if plain:
        each_word.append(_index_matches(FTS, fts_match(fts5_query(plain)), rowids))
    for word in terms:
        if word.beyond_words:
            ways = [sqlite_text_ids(word, rowids, distinct=False)]
            if word.category_ids:
                in_category = select(Listing.id.label("id")).where(
                    Listing.category_id.in_(word.category_ids))
                ways.append(in_category if rowids is None
                            else in_category.where(*_within(Listing.id, rowids)))
            each_word.append(_union(ways, distinct=False))
    return _in_all(each_word)


def _in_all(each_word: list[Select]) -> Select:
    """SELECT id, once each, of the listings in every one of `each_word` (each a SELECT id,
    with repeats): the first's ids, each looked up among the others' (an IN list each, built
    once). At 1,000,000 listings `stoel elektrische` (130,705 and 127,632 ids, 6,252 in both)
    took 79 ms so, 134 ms as an INTERSECT of each word's UNION. Looked up as `+id`: given the
    plain column, SQLite handed the list to the full-text table, which ran its query once for
    each id (2.5 s at 100,000 listings)."""
    first = each_word[0].subquery("matching_words")
    return select(first.c.id).distinct().where(
        *(unindexed(first.c.id).in_(other) for other in each_word[1:]))


def sqlite_words_condition(terms: list[WordTerms]) -> ColumnElement[bool]:
    """The same matches as `sqlite_matching_ids`, as a condition tested on each listing read:
    a category's listings are never listed, its id is compared (a word naming a category of
    12,000 listings made a list of them all)."""
    plain = [word for word in terms if not word.beyond_words]
    each_word = []
    if plain:
        each_word.append(fts_condition(_index_matches(FTS, fts_match(fts5_query(plain)), None)))
    for word in terms:
        if word.beyond_words:
            by_text = fts_condition(sqlite_text_ids(word, distinct=False))
            each_word.append(or_(by_text, listing_column("category_id", True, ()).in_(
                word.category_ids)) if word.category_ids else by_text)
    return and_(*each_word)


def sqlite_scored_matches(terms: list[WordTerms]) -> Select:
    """SELECT id, score of the matches: bm25 for those the words and stems find, then the rest."""
    by_words = select(literal_column("rowid").label("id"),
                      func.bm25(literal_column("listing_fts"), TITLE_WEIGHT, 1.0, 1.0)
                      .label("score")).select_from(FTS).where(fts_match(fts5_query(terms)))
    if not any(word.beyond_words for word in terms):
        return by_words
    ids = sqlite_matching_ids(terms).subquery("beyond_words")
    both = union_all(by_words, select(ids.c.id, literal(BEYOND_WORDS_SCORE).label("score")))
    scored = both.subquery("scored")
    return select(scored.c.id, func.min(scored.c.score).label("score")).group_by(scored.c.id)


def fts_condition(ids: Select) -> ColumnElement[bool]:
    """The listing is among the matches, read once as a list (never driving the query)."""
    return listing_column("id", True, ()).in_(ids)


# --- PostgreSQL ----------------------------------------------------------------------------

def _either_language(form: str) -> ColumnElement:
    return func.plainto_tsquery("dutch", form).op("||", return_type=TSQUERY)(
        func.plainto_tsquery("english", form))


@lru_cache(maxsize=256)
def word_tsquery(terms: WordTerms) -> ColumnElement:
    """One word's forms in Dutch or English: any may match. Built once per word's terms (an
    expression is immutable, and a search builds it several times: plan, count, score)."""
    return reduce(lambda either, other: either.op("||", return_type=TSQUERY)(other),
                  [_either_language(form) for form in terms.forms])


def tsquery(terms: list[WordTerms]) -> ColumnElement:
    """Every word must match."""
    return reduce(lambda both, other: both.op("&&", return_type=TSQUERY)(other),
                  [word_tsquery(word) for word in terms])


def search_vector(table_name: str = "listing") -> ColumnElement:
    """The full-text column (PostgreSQL) of `table_name` (the listing, or an alias of it)."""
    return literal_column(f"{table_name}.search_vector", TSVECTOR)


def _title_holds(title: Any, part: str) -> ColumnElement[bool]:
    """The title holds `part` as typed (its trigram index reads this; nothing is a wildcard)."""
    return title.ilike("%" + escape_like(part) + "%", escape="\\")


def postgres_condition(terms: list[WordTerms], table_name: str = "listing",
                       listing: Any = Listing) -> ColumnElement[bool]:
    """Every word matches `listing` (the model or an alias named `table_name`)."""
    vector = search_vector(table_name)
    if not any(word.beyond_words for word in terms):
        return vector.bool_op("@@")(tsquery(terms))
    return and_(*(or_(*postgres_ways(word, table_name, listing), *(
        () if word.beyond_words else (_finding_nothing_more(table_name),)))
        for word in terms))


# A lexeme no listing's vector holds: the parser splits text at spaces.
_NO_LEXEME = literal("'no word'").cast(TSQUERY)


def _finding_nothing_more(table_name: str) -> ColumnElement[bool]:
    """For a word matched by its words and stems alone, beside words that match beyond them: a
    second way, read through the same index, that finds nothing (a lexeme no vector holds, so
    the index has no entry to read). With one way, PostgreSQL's planner put the word into the
    other word's full-text index scan and tested it on every listing the other's ways found
    (`stoel new` at 1,000,000 listings: 110,000 listings, 415 ms); as an OR of two, it reads
    the word's own index and ANDs it with the others' (62 ms). Not the word's own query ANDed
    with that lexeme: the index read the word's entries for it, and the planner priced the
    word twice."""
    return search_vector(table_name).bool_op("@@")(_NO_LEXEME)


def postgres_ways(word: WordTerms, table_name: str = "listing",
                  listing: Any = Listing) -> list[ColumnElement[bool]]:
    """The ways `word` matches `listing`, each read through its own index: its words and stems,
    part of the title, its categories."""
    words_query = word_tsquery(word)
    # A word that is a stop word in both languages says nothing; it does not exclude.
    ways = [or_(func.numnode(words_query) == 0,
                search_vector(table_name).bool_op("@@")(words_query))]
    if word.parts:
        ways.append(or_(*(_title_holds(listing.title, part) for part in word.parts)))
    if word.category_ids:
        ways.append(listing.category_id.in_(word.category_ids))
    return ways


def postgres_matching_ids(terms: list[WordTerms]) -> Select:
    """SELECT id of the listings every word matches, each way of each word read by its own
    index (the GIN indexes, the category's): counted this way, a part of a word's matches took
    75 ms under load where PostgreSQL, misjudging the OR, tested it on every row (326 ms)."""
    each_word: list[Select] = []
    for word in terms:
        ways = [select(Listing.id).where(search_vector().bool_op("@@")(word_tsquery(word)))]
        ways += [select(Listing.id).where(_title_holds(Listing.title, part))
                 for part in word.parts]
        if word.category_ids:
            ways.append(select(Listing.id).where(Listing.category_id.in_(word.category_ids)))
        each_word.append(_union(ways, distinct=False))
    return _in_all(each_word)


def postgres_score(terms: list[WordTerms]) -> ColumnElement:
    """Lower is better: found by the words and stems first (by ts_rank), then the rest."""
    vector, words_query = search_vector(), tsquery(terms)
    return -(func.ts_rank(vector, words_query)
             + case((vector.bool_op("@@")(words_query), 1.0), else_=0.0))


def words_condition(terms: list[WordTerms], sqlite: bool) -> ColumnElement[bool]:
    """The listing holds every word, as a condition that never drives the query."""
    if sqlite:
        # The matches read once, as the search's own condition does: a lookup per rowid
        # (EXISTS … rowid = listing.id) evaluates the whole full-text query each time, 2 ms
        # per changed listing for a common word's prefix.
        return sqlite_words_condition(terms)
    return postgres_condition(terms)
