"""Typo suggestions: "Bedoelde je: rollator?" under a search that finds few listings.

Each word of four or more letters that the listings' own vocabulary (models/search_vocabulary.py:
the words of their titles) does not know is replaced by the closest word that vocabulary has.
Candidates come from the database (SQLite: the title words with the same first letter;
PostgreSQL: pg_trgm's `%` on the trigram index), and rapidfuzz's `fuzz.ratio` (the Indel distance
as a percentage) ranks them on both, a word in more listings first among equals.

The vocabulary holds words of listings the viewer may not see (drafts, internal phases; on
SQLite also withdrawn ones), so `did_you_mean` offers a suggestion only when searching it, with
the same filters and the viewer's visibility, finds more than the search itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import Select, func, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from ...extensions import db
from ...models import Listing
from ...models.base import utcnow
from ...models.search_vocabulary import SQLITE_REFRESH
from ...unit_of_work import atomic
from ...words import fold
from .conditions import listing_column, listing_conditions
from .query import SearchQuery
from .visibility import Visibility

SUGGEST_UP_TO = 2  # a search finding this many listings or fewer gets a suggestion
MIN_LENGTH = 4  # shorter words are too often right, and too close to too many others
MIN_SCORE = 75.0  # fuzz.ratio: "rolator" → "rollator" 93, "bedd" → "beds" 75
CANDIDATES = 3  # closest words kept per unknown word
TRIED = 3  # suggestions searched at most, best first

_SQLITE_KNOWN = text(
    "SELECT 1 FROM listing_fts_vocab WHERE term >= :low AND term < :high "
    "AND col IN ('title', 'description') LIMIT 1")
_SQLITE_CANDIDATES = text(
    "SELECT word, ndoc FROM listing_fts_words WHERE word >= :low AND word < :high")
_POSTGRES_KNOWN = text(
    "SELECT 1 FROM search_vocabulary WHERE word LIKE :prefix ESCAPE '\\' LIMIT 1")
_POSTGRES_CANDIDATES = text(
    "SELECT word, ndoc FROM search_vocabulary WHERE word % :word "
    "ORDER BY similarity(word, :word) DESC LIMIT 20")


def suggest(words: list[str]) -> list[str] | None:
    """`words` with each unknown word (MIN_LENGTH letters or more, not in the vocabulary)
    replaced by the closest word of the listings' vocabulary; None when every word is known
    or an unknown word has no close word."""
    options = _options(words)
    return None if options is None else [choices[0] for choices in options]


def did_you_mean(visibility: Visibility, query: SearchQuery, found: int,
                 now: datetime | None = None) -> str | None:
    """The search text to offer under `query`, which found `found` listings: a suggestion
    (see `suggest`) that finds more of the listings `visibility` sees, with the same filters;
    None when the search found more than SUGGEST_UP_TO or nothing better is known."""
    if found > SUGGEST_UP_TO or not query.words:
        return None
    options = _options(query.words)
    if options is None:
        return None
    for words in _best_first(options)[:TRIED]:
        suggested = " ".join(words)
        if _finds_more(visibility, replace(query, text=suggested), found, now or utcnow()):
            return suggested
    return None


def _finds_more(visibility: Visibility, query: SearchQuery, than: int, now: datetime) -> bool:
    """Whether `query` finds more than `than` listings `visibility` sees, counting only those
    that hold its words themselves (as words or their start): the search finds these and more
    (stems, synonyms, parts), and they are read from the index at once, where the search's own
    plan costs what the search does (150 ms for a common word's synonyms at 100,000 listings)."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    # On SQLite no column's index: the words' matches drive, and the first few decide.
    conditions = listing_conditions(visibility, query, now,
                                    lambda name: listing_column(name, sqlite, ()))
    if sqlite:
        phrases = " AND ".join('"' + word.replace('"', '""') + '"*' for word in query.words)
        matches: Select[Any] = select(literal_column("rowid")).select_from(
            table("listing_fts")).where(
            literal_column("listing_fts").op("MATCH", is_comparison=True)(phrases))
        conditions.append(Listing.id.in_(matches))
    else:
        vector = literal_column("listing.search_vector", TSVECTOR)
        for word in query.words:
            either = func.plainto_tsquery("dutch", word).op("||", return_type=TSQUERY)(
                func.plainto_tsquery("english", word))
            conditions.append(vector.bool_op("@@")(either))
    found = db.session.scalars(select(Listing.id).where(*conditions).limit(than + 1)).all()
    return len(found) > than


@atomic
def refresh_vocabulary() -> int:
    """Bring the kept words of titles up to date with the listings; the number of words. On
    PostgreSQL searches read the old ones meanwhile (CONCURRENTLY)."""
    if db.session.get_bind().dialect.name != "postgresql":
        for statement in SQLITE_REFRESH:
            db.session.execute(text(statement))
        return int(db.session.scalar(text("SELECT count(*) FROM listing_fts_words")) or 0)
    db.session.execute(text("REFRESH MATERIALIZED VIEW CONCURRENTLY search_vocabulary"))
    return int(db.session.scalar(text("SELECT count(*) FROM search_vocabulary")) or 0)


def _options(words: list[str]) -> list[list[str]] | None:
    """Per word, the words to try in its place, best first: itself when known."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    options: list[list[str]] = []
    unknown = False
    for word in words:
        folded = fold(word)
        if len(folded) < MIN_LENGTH or not folded.isalpha() or _known(folded, postgres):
            options.append([word])
            continue
        candidates = _closest(folded, postgres)
        if not candidates:
            return None
        options.append(candidates)
        unknown = True
    return options if unknown else None


def _known(word: str, postgres: bool) -> bool:
    """Whether the index has `word` or a longer word starting with it (SQLite finds those)."""
    if postgres:
        prefix = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return db.session.scalar(_POSTGRES_KNOWN, {"prefix": prefix}) is not None
    return db.session.scalar(_SQLITE_KNOWN, {"low": word, "high": _after(word)}) is not None


def _closest(word: str, postgres: bool) -> list[str]:
    """The CANDIDATES words of the vocabulary closest to `word`, best first."""
    if postgres:
        rows = db.session.execute(_POSTGRES_CANDIDATES, {"word": word}).all()
    else:
        first = word[0]
        rows = db.session.execute(_SQLITE_CANDIDATES, {"low": first, "high": _after(first)}).all()
    listings: dict[str, int] = dict(rows)
    scored = process.extract(word, list(listings), scorer=fuzz.ratio, score_cutoff=MIN_SCORE,
                             limit=CANDIDATES * 4)
    ranked = sorted(((score, listings[term], term) for term, score, _index in scored),
                    reverse=True)
    return [term for _score, _count, term in ranked[:CANDIDATES]]


def _after(prefix: str) -> str:
    """The first string after every string that starts with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _best_first(options: list[list[str]]) -> list[tuple[str, ...]]:
    """The best candidate for every word, then each word's second best with the others' best."""
    best = tuple(choices[0] for choices in options)
    return [best, *((*best[:index], choices[1], *best[index + 1:])
                    for index, choices in enumerate(options) if len(choices) > 1)]
