"""search words: Dutch and English stems on SQLite (listing.search_stems, indexed by listing_fts)
and part-of-word matching in titles (SQLite: listing_parts, FTS5 trigrams; PostgreSQL: a pg_trgm
index on listing.title)

A copy of marketplace/models/search_index.py and models/search_text.py as they were when this
was written (migrations never import the application).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:00:00

"""
import re
import unicodedata

import snowballstemmer
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_WORD = re.compile(r"[^\W_]+")
_STEMMERS = (snowballstemmer.stemmer("dutch"), snowballstemmer.stemmer("english"))


def _without_marks(text):
    return "".join(part for part in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(part))


def _stems(title, description):
    folded = _without_marks(_without_marks(f"{title or ''} {description or ''}").casefold())
    seen = {}
    for word in _WORD.findall(folded):
        for stemmer in _STEMMERS:
            seen.setdefault(stemmer.stemWord(word))
    return " ".join(seen)


SQLITE_TRIGGERS = ("listing_fts_after_insert", "listing_fts_after_delete",
                   "listing_fts_after_update")
SQLITE_CREATE = (
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
    """CREATE TRIGGER listing_fts_after_update AFTER UPDATE OF title, description, search_stems
    ON listing BEGIN
        INSERT INTO listing_fts(listing_fts, rowid, title, description, search_stems)
        VALUES ('delete', old.id, old.title, old.description, old.search_stems);
        INSERT INTO listing_fts(rowid, title, description, search_stems)
        VALUES (new.id, new.title, new.description, new.search_stems);
        INSERT INTO listing_parts(listing_parts, rowid, title) VALUES ('delete', old.id, old.title);
        INSERT INTO listing_parts(rowid, title) VALUES (new.id, new.title);
    END""",
    "INSERT INTO listing_fts(listing_fts) VALUES ('rebuild')",
    "INSERT INTO listing_parts(listing_parts) VALUES ('rebuild')",
)
# As migration 0003 (with 0015) left them.
SQLITE_BEFORE = (
    """CREATE VIRTUAL TABLE listing_fts USING fts5(
        title, description, content='listing', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3')""",
    """CREATE TRIGGER listing_fts_after_insert AFTER INSERT ON listing BEGIN
        INSERT INTO listing_fts(rowid, title, description)
        VALUES (new.id, new.title, new.description);
    END""",
    """CREATE TRIGGER listing_fts_after_delete AFTER DELETE ON listing BEGIN
        INSERT INTO listing_fts(listing_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
    END""",
    """CREATE TRIGGER listing_fts_after_update AFTER UPDATE OF title, description ON listing
    BEGIN
        INSERT INTO listing_fts(listing_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
        INSERT INTO listing_fts(rowid, title, description)
        VALUES (new.id, new.title, new.description);
    END""",
    "INSERT INTO listing_fts(listing_fts) VALUES ('rebuild')",
)


def _drop_sqlite_index(tables):
    for trigger in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in tables:
        op.execute(f"DROP TABLE IF EXISTS {table}")


def _fill_stems():
    connection = op.get_bind()
    listing = sa.table('listing', sa.column('id', sa.Integer), sa.column('title', sa.Text),
                       sa.column('description', sa.Text), sa.column('search_stems', sa.Text))
    rows = connection.execute(sa.select(listing.c.id, listing.c.title,
                                        listing.c.description)).all()
    for start in range(0, len(rows), 1000):
        connection.execute(
            listing.update().where(listing.c.id == sa.bindparam('listing_id'))
            .values(search_stems=sa.bindparam('stems')),
            [{'listing_id': row.id, 'stems': _stems(row.title, row.description)}
             for row in rows[start:start + 1000]])


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        _drop_sqlite_index(("listing_fts",))
    op.add_column('listing', sa.Column('search_stems', sa.Text(), server_default='',
                                       nullable=False))
    _fill_stems()
    if sqlite:
        for statement in SQLITE_CREATE:
            op.execute(statement)
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_listing_title_trigrams ON listing "
                   "USING gin (title gin_trgm_ops)")


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        _drop_sqlite_index(("listing_fts", "listing_parts"))
    else:
        op.execute("DROP INDEX IF EXISTS ix_listing_title_trigrams")
    with op.batch_alter_table('listing', schema=None) as batch_op:
        batch_op.drop_column('search_stems')
    if sqlite:
        for statement in SQLITE_BEFORE:
            op.execute(statement)
