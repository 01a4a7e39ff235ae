"""The full-text index over listings' title and description, one design per database.

SQLite: `listing_fts`, an FTS5 table with external content (it stores only the index, the text
stays in `listing`), kept in step by triggers on `listing`: title, description and
`search_stems`, the Dutch and English Snowball stems of both, made in Python
(models/search_text.py). Diacritics are folded. `listing_parts` indexes the title's trigrams
(FTS5's trigram tokenizer), so part of a word finds it: "stoel" in "Douchestoelen".

PostgreSQL: `listing.search_vector`, a generated tsvector column with both Dutch and English
stems (title weight A, description weight B) and a GIN index. The column exists only in the
database: the model does not know it, so it is never part of an INSERT or UPDATE. Part of a
word: a pg_trgm GIN index on the title, read by ILIKE '%part%', and `listing_parts_words`,
every word titles have held, which tells where a part finds no more than the full-text index.

`db.create_all()` and `db.drop_all()` make and remove these through the DDL events below;
migrations 0003, 0016 and 0028 hold the same statements for real databases (copies: migrations
never import the application). Alembic's autogenerate skips these objects (migration_support).

Beware on SQLite: a later migration that rebuilds `listing` in batch mode (copy, drop, rename)
drops the triggers with the old table; such a migration must create them again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, event, inspect

from .listing import Listing
from .search_text import listing_stems

FTS_TABLE = "listing_fts"
SEARCH_VECTOR_COLUMN = "search_vector"
SEARCH_VECTOR_INDEX = "ix_listing_search_vector"
PARTS_WORDS_TABLE = "listing_parts_words"

SQLITE_CREATE = (
    # Prefix indexes for 2 and 3 characters keep short prefix queries ("ro*") fast.
    """CREATE VIRTUAL TABLE listing_fts USING fts5(
        title, description, search_stems, content='listing', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE VIRTUAL TABLE listing_parts USING fts5(
        title, content='listing', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER listing_fts_after_insert AFTER INSERT ON listing BEGIN
        INSERT INTO listing_fts(rowid, title, description, search_stems)
        VALUES (new.id, new.title, new.description, new.search_stems);
        INSERT INTO listing_parts(rowid, title) VALUES (new.id, new.title);
    END""",
    """CREATE TRIGGER listing_fts_after_delete AFTER DELETE ON listing BEGIN
        INSERT INTO listing_fts(listing_fts, rowid, title, description, search_stems)
        VALUES ('delete', old.id, old.title, old.description, old.search_stems);
        INSERT INTO listing_parts(listing_parts, rowid, title) VALUES ('delete', old.id, old.title);
    END""",
    # Only when the text changes: quantities and statuses change far more often.
    """CREATE TRIGGER listing_fts_after_update AFTER UPDATE OF title, description, search_stems
    ON listing BEGIN
        INSERT INTO listing_fts(listing_fts, rowid, title, description, search_stems)
        VALUES ('delete', old.id, old.title, old.description, old.search_stems);
        INSERT INTO listing_fts(rowid, title, description, search_stems)
        VALUES (new.id, new.title, new.description, new.search_stems);
        INSERT INTO listing_parts(listing_parts, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO listing_parts(rowid, title) VALUES (new.id, new.title);
    END""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS listing_fts_after_insert",
    "DROP TRIGGER IF EXISTS listing_fts_after_delete",
    "DROP TRIGGER IF EXISTS listing_fts_after_update",
    "DROP TABLE IF EXISTS listing_fts",
    "DROP TABLE IF EXISTS listing_parts",
)
# Every word a listing's title has held (by the 'simple' configuration: lower case, not
# stemmed), kept by triggers in the same transaction: a part of a word that no title word holds
# beyond the words the full-text index finds is not looked for in the titles
# (services/search/postgres_plan.prepare). Words are never removed: a word no title holds any
# more only keeps a part looked for.
PARTS_WORDS_CREATE = (
    "CREATE TABLE listing_parts_words (word text PRIMARY KEY)",
    "CREATE INDEX ix_listing_parts_words_trigrams ON listing_parts_words "
    "USING gin (word gin_trgm_ops)",
    # In the order of the words, so that two listings adding the same new words never wait on
    # each other crosswise (a deadlock).
    """CREATE FUNCTION listing_parts_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO listing_parts_words (word)
        SELECT DISTINCT word
        FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, NEW.title))) AS word
        ORDER BY word
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER listing_parts_words_after_insert AFTER INSERT ON listing "
    "FOR EACH ROW EXECUTE FUNCTION listing_parts_words_add()",
    "CREATE TRIGGER listing_parts_words_after_update AFTER UPDATE OF title ON listing "
    "FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) "
    "EXECUTE FUNCTION listing_parts_words_add()",
)
# Both stemmers on both fields: a listing in either language is found by words in either.
# (services/search/postgres_plan.prepare makes a title word's lexemes the same way.)
POSTGRES_CREATE = (
    """ALTER TABLE listing ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('dutch'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('dutch'::regconfig, description), 'B')
        || setweight(to_tsvector('english'::regconfig, description), 'B')
    ) STORED""",
    "CREATE INDEX ix_listing_search_vector ON listing USING gin (search_vector)",
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_listing_title_trigrams ON listing USING gin (title gin_trgm_ops)",
    *PARTS_WORDS_CREATE,
)
POSTGRES_DROP = (
    "DROP TABLE IF EXISTS listing_parts_words",
    "DROP FUNCTION IF EXISTS listing_parts_words_add()",
)

for _statement in SQLITE_CREATE:
    event.listen(Listing.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in SQLITE_DROP:
    event.listen(Listing.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRES_CREATE:
    event.listen(Listing.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))
# On PostgreSQL the column, its indexes and the triggers go with the table; the words' table
# and the triggers' function after it.
for _statement in POSTGRES_DROP:
    event.listen(Listing.__table__, "after_drop",
                 DDL(_statement).execute_if(dialect="postgresql"))


@event.listens_for(Listing, "before_update")
def _stem_changed_text(_mapper: Any, _connection: Any, listing: Listing) -> None:
    """The stems follow an ORM change of title or description (inserts: the column default)."""
    state = inspect(listing)
    if state.attrs.title.history.has_changes() or state.attrs.description.history.has_changes():
        listing.search_stems = listing_stems(listing.title, listing.description)
