"""The words in SQL: FTS5 on SQLite (every word a quoted phrase, prefix-matched), tsquery on
PostgreSQL (Dutch or English stems), so nothing typed is query syntax; and `WordMatch`, how a
plan lets the words take part in the query."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from sqlalchemy import ColumnElement, Select, func, literal_column, select, table
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from .conditions import listing_column
from .limits import PREFIX_MIN_LENGTH
from .query import Sort

FTS = table("listing_fts", literal_column("rowid"))


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


def fts5_query(words: list[str]) -> str:
    """Each word an FTS5 string (a '"' inside doubled), so nothing typed is query syntax;
    words of PREFIX_MIN_LENGTH characters or more also match longer words."""
    phrases = []
    for word in words:
        phrase = '"' + word.replace('"', '""') + '"'
        phrases.append(phrase + "*" if len(word) >= PREFIX_MIN_LENGTH else phrase)
    return " ".join(phrases)


def fts_match(fts_query: str) -> ColumnElement[bool]:
    return literal_column("listing_fts").op("MATCH", is_comparison=True)(fts_query)


def fts_condition(match: ColumnElement[bool]) -> ColumnElement[bool]:
    """The listing is among the matches, read once as a list (never driving the query)."""
    return listing_column("id", True, ()).in_(
        select(literal_column("rowid")).select_from(FTS).where(match))


def tsquery(words: list[str]) -> ColumnElement:
    """Every word must match, in its Dutch or its English form; plainto_tsquery reads no
    query syntax, so nothing typed is an operator."""
    eithers = [func.plainto_tsquery("dutch", word).op("||", return_type=TSQUERY)(
        func.plainto_tsquery("english", word)) for word in words]
    return reduce(lambda both, either: both.op("&&", return_type=TSQUERY)(either), eithers)


def search_vector() -> ColumnElement:
    """The listing's full-text column (PostgreSQL)."""
    return literal_column("listing.search_vector", TSVECTOR)


def words_condition(words: list[str], sqlite: bool) -> ColumnElement[bool]:
    """The listing holds every word of `words`, as a condition that never drives the query."""
    if sqlite:
        # The matches read once, as the search's own condition does: a lookup per rowid
        # (EXISTS … rowid = listing.id) evaluates the whole full-text query each time, 2 ms
        # per changed listing for a common word's prefix.
        return fts_condition(fts_match(fts5_query(words)))
    return search_vector().bool_op("@@")(tsquery(words))
