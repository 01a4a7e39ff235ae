"""The words listings' titles use, for typo suggestions ("Bedoelde je: rollator?",
services/search/suggestions.py), one design per database.

SQLite: `listing_fts_vocab`, an fts5vocab table over the full-text index (models/search_index.py)
in 'col' mode: one row per word and column, always current, which tells whether a typed word is
known (a range of `term` from the word: 0.3 ms). Reading candidates from it costs too much: it
counts each word's listings from the index itself, 20-55 ms for the words with one first letter
at 100,000 listings. So `listing_fts_words` keeps the words of the `title` column and their
number of listings (the description's words include every typo posters make, the stems column
no real words), a plain table read by a range of `word` (under a millisecond).

PostgreSQL: `search_vocabulary`, a materialized view of the words of published listings' titles
(each title's words by the 'simple' configuration: lower case, no stems; a plain query, not
ts_stat's SQL in a string, which pg_restore could not run), with a pg_trgm GIN index for
`similarity()` and `%`.

Both copies are refreshed by housekeeping (cron), the demo seed and tests
(`suggestions.refresh_vocabulary`); a word new since then is suggested after the next refresh.

Words of drafts, withdrawn listings and internal phases may be in either: a suggestion is
offered only when searching it finds listings the viewer may see.

`db.create_all()` and `db.drop_all()` make and remove these through the DDL events below, after
the full-text index; migration 0018 holds the same statements (copied: migrations never import
the application). Alembic's autogenerate skips them (migration_support: `listing_fts` prefix; a
materialized view is not a table to it).
"""

from __future__ import annotations

from sqlalchemy import DDL, event

from .listing import Listing

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE listing_fts_vocab USING fts5vocab(listing_fts, 'col')",
    "CREATE TABLE listing_fts_words (word TEXT PRIMARY KEY, ndoc INTEGER NOT NULL) "
    "WITHOUT ROWID",
)
SQLITE_REFRESH = (
    "DELETE FROM listing_fts_words",
    "INSERT INTO listing_fts_words (word, ndoc) SELECT term, doc FROM listing_fts_vocab "
    "WHERE col = 'title' AND length(term) >= 3",
)
SQLITE_DROP = ("DROP TABLE IF EXISTS listing_fts_vocab", "DROP TABLE IF EXISTS listing_fts_words")
POSTGRES_CREATE = (
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE MATERIALIZED VIEW search_vocabulary AS
        SELECT word, count(*)::integer AS ndoc
        FROM listing, unnest(tsvector_to_array(to_tsvector('simple'::regconfig, title))) AS word
        WHERE status = 'published' AND length(word) >= 3
        GROUP BY word""",
    # Unique: REFRESH … CONCURRENTLY needs it, and then searches never wait for a refresh.
    "CREATE UNIQUE INDEX ix_search_vocabulary_word ON search_vocabulary (word)",
    "CREATE INDEX ix_search_vocabulary_trigrams ON search_vocabulary USING gin "
    "(word gin_trgm_ops)",
)
POSTGRES_DROP = ("DROP MATERIALIZED VIEW IF EXISTS search_vocabulary",)

for _statement in SQLITE_CREATE:
    event.listen(Listing.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRES_CREATE:
    event.listen(Listing.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))
# Before the full-text index goes (insert=True: these run first), and the view before its table.
for _statement in SQLITE_DROP:
    event.listen(Listing.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"),
                 insert=True)
for _statement in POSTGRES_DROP:
    event.listen(Listing.__table__, "before_drop",
                 DDL(_statement).execute_if(dialect="postgresql"), insert=True)
