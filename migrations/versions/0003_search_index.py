"""full-text search index over listings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00.000000

SQLite: an FTS5 table with external content (listing_fts) and the triggers that keep it in step.
PostgreSQL: a generated tsvector column (Dutch and English stems) with a GIN index.
A copy of marketplace/models/search_index.py as it was when this was written (never import the
app). Autogenerate ignores these objects (marketplace/migration_support.include_object).

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


SQLITE_UPGRADE = (
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
    # Index the listings that exist already.
    "INSERT INTO listing_fts(listing_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS listing_fts_after_insert",
    "DROP TRIGGER IF EXISTS listing_fts_after_delete",
    "DROP TRIGGER IF EXISTS listing_fts_after_update",
    "DROP TABLE IF EXISTS listing_fts",
)
POSTGRES_UPGRADE = (
    # A stored generated column is computed for the existing rows as it is added.
    """ALTER TABLE listing ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('dutch'::regconfig, title), 'A')
        || setweight(to_tsvector('english'::regconfig, title), 'A')
        || setweight(to_tsvector('dutch'::regconfig, description), 'B')
        || setweight(to_tsvector('english'::regconfig, description), 'B')
    ) STORED""",
    "CREATE INDEX ix_listing_search_vector ON listing USING gin (search_vector)",
)
POSTGRES_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_listing_search_vector",
    "ALTER TABLE listing DROP COLUMN IF EXISTS search_vector",
)


def _statements(sqlite, postgresql):
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite
    if dialect == "postgresql":
        return postgresql
    raise NotImplementedError(f"no full-text index for {dialect}")


def upgrade():
    for statement in _statements(SQLITE_UPGRADE, POSTGRES_UPGRADE):
        op.execute(statement)


def downgrade():
    for statement in _statements(SQLITE_DOWNGRADE, POSTGRES_DOWNGRADE):
        op.execute(statement)
