"""every word listings' titles have held, on PostgreSQL: where a part of a word finds no more
than the full-text index, the titles' trigrams are not read (listing_parts_words, kept by
triggers on listing)

A copy of marketplace/models/search_index.PARTS_WORDS_CREATE as it was when this was written
(migrations never import the application).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 00:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

POSTGRES_CREATE = (
    "CREATE TABLE listing_parts_words (word text PRIMARY KEY)",
    "CREATE INDEX ix_listing_parts_words_trigrams ON listing_parts_words "
    "USING gin (word gin_trgm_ops)",
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
# The words of the titles there are; the triggers keep up from here (in one transaction: a
# listing saved meanwhile waits for it).
FILL = """INSERT INTO listing_parts_words (word)
    SELECT DISTINCT word
    FROM listing, unnest(tsvector_to_array(to_tsvector('simple'::regconfig, title))) AS word"""


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("LOCK TABLE listing IN SHARE MODE")
    op.execute(POSTGRES_CREATE[0])
    op.execute(FILL)
    for statement in POSTGRES_CREATE[1:]:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS listing_parts_words_after_update ON listing")
    op.execute("DROP TRIGGER IF EXISTS listing_parts_words_after_insert ON listing")
    op.execute("DROP FUNCTION IF EXISTS listing_parts_words_add()")
    op.execute("DROP TABLE IF EXISTS listing_parts_words")
