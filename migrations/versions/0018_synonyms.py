"""synonyms admins keep, and the search vocabulary for typo suggestions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 00:00:00

The synonym groups (seeded with the demo categories' things, Dutch and English) and the words
of listings' titles for "Did you mean …?": an fts5vocab table and a kept copy of its title words
on SQLite, a materialized view with a trigram index on PostgreSQL (models/search_vocabulary.py; copied, as migrations never import
the application).
"""
import unicodedata
from datetime import datetime, timezone

import snowballstemmer
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

SYNONYM_GROUPS = (
    ("handschoenen", "handschoen", "gloves", "glove"),
    ("rolstoel", "rolstoelen", "wheelchair", "wheelchairs"),
    ("rollator", "rollators", "walker", "walkers", "looprek"),
    ("tillift", "tilliften", "patientenlift", "hoist", "patient hoist"),
    ("tilband", "tilbanden", "sling", "lifting sling"),
    ("zorgbed", "hoog-laagbed", "hoog-laagbedden", "care bed", "hospital bed"),
    ("matras", "matrassen", "mattress", "mattresses"),
    ("mondkapje", "mondmasker", "mondkapjes", "face mask", "mask"),
    ("schort", "schorten", "apron", "gown"),
    ("verband", "verbandmiddelen", "bandage", "dressing"),
    ("desinfectiemiddel", "desinfectie", "disinfectant"),
    ("infuuspaal", "infuuspalen", "drip stand", "iv pole"),
    ("bloeddrukmeter", "bloeddrukmeters", "blood pressure monitor"),
    ("beddengoed", "laken", "lakens", "bed linen", "sheets"),
    ("handdoek", "handdoeken", "towel", "towels"),
    ("douchestoel", "douchestoelen", "shower chair"),
    ("stoel", "stoelen", "chair", "chairs"),
    ("bureau", "bureaus", "desk", "desks"),
    ("tafel", "tafels", "table", "tables"),
    ("kast", "kasten", "cupboard", "cabinet"),
    ("beeldscherm", "beeldschermen", "monitor", "monitors"),
    ("laptop", "laptops", "notebook"),
    ("krukken", "kruk", "crutches", "crutch"),
    ("wandelstok", "wandelstokken", "walking stick", "cane"),
    ("deken", "dekens", "blanket", "blankets"),
    ("zuurstof", "oxygen"),
    ("speelgoed", "toys", "toy"),
    ("koffiezetapparaat", "koffieapparaat", "coffee maker"),
    ("incontinentiemateriaal", "incontinentie", "incontinence"),
    ("glucosemeter", "bloedglucosemeter", "glucose meter"),

)

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE listing_fts_vocab USING fts5vocab(listing_fts, 'col')",
    "CREATE TABLE listing_fts_words (word TEXT PRIMARY KEY, ndoc INTEGER NOT NULL) "
    "WITHOUT ROWID",
    "INSERT INTO listing_fts_words (word, ndoc) SELECT term, doc FROM listing_fts_vocab "
    "WHERE col = 'title' AND length(term) >= 3",
)
POSTGRES_CREATE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE MATERIALIZED VIEW search_vocabulary AS
        SELECT word, count(*)::integer AS ndoc
        FROM listing, unnest(tsvector_to_array(to_tsvector('simple'::regconfig, title))) AS word
        WHERE status = 'published' AND length(word) >= 3
        GROUP BY word""",
    "CREATE UNIQUE INDEX ix_search_vocabulary_word ON search_vocabulary (word)",
    "CREATE INDEX ix_search_vocabulary_trigrams ON search_vocabulary USING gin "
    "(word gin_trgm_ops)",
)
_STEMMERS = (snowballstemmer.stemmer("dutch"), snowballstemmer.stemmer("english"))


def _fold(text):
    """marketplace.words.fold: case and accents ignored, white space collapsed."""
    def without_marks(value):
        return "".join(part for part in unicodedata.normalize("NFKD", value)
                       if not unicodedata.combining(part))
    return " ".join(without_marks(without_marks(text).casefold()).split())


def _stem(word, stemmer):
    """A phrase's stem: each of its words stemmed (services/synonyms.py)."""
    return " ".join(stemmer.stemWord(part) for part in word.split())


def upgrade():
    op.create_table('synonym_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synonym_group'))
    )
    op.create_table('synonym_word',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('word', sa.String(length=60), nullable=False),
    sa.Column('dutch_stem', sa.String(length=60), nullable=False),
    sa.Column('english_stem', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['synonym_group.id'], name=op.f('fk_synonym_word_group_id_synonym_group'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synonym_word')),
    sa.UniqueConstraint('word', name=op.f('uq_synonym_word_word'))
    )
    with op.batch_alter_table('synonym_word', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_synonym_word_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_synonym_word_english_stem'), ['english_stem'], unique=False)
        batch_op.create_index(batch_op.f('ix_synonym_word_dutch_stem'), ['dutch_stem'], unique=False)
    _seed_synonyms()
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_CREATE if postgres else SQLITE_CREATE:
        op.execute(statement)


def _seed_synonyms():
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    group = sa.table("synonym_group", sa.column("id", sa.Integer),
                     sa.column("created_at", sa.DateTime(timezone=True)),
                     sa.column("updated_at", sa.DateTime(timezone=True)))
    word = sa.table("synonym_word", sa.column("group_id", sa.Integer),
                    sa.column("word", sa.String), sa.column("dutch_stem", sa.String),
                    sa.column("english_stem", sa.String), sa.column("position", sa.Integer))
    dutch, english = _STEMMERS
    for words in SYNONYM_GROUPS:
        group_id = bind.execute(group.insert().values(created_at=now, updated_at=now)
                                .returning(group.c.id)).scalar_one()
        op.bulk_insert(word, [{"group_id": group_id, "word": _fold(text),
                               "dutch_stem": _stem(_fold(text), dutch),
                               "english_stem": _stem(_fold(text), english), "position": position}
                              for position, text in enumerate(words)])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP MATERIALIZED VIEW IF EXISTS search_vocabulary")
    else:
        op.execute("DROP TABLE IF EXISTS listing_fts_words")
        op.execute("DROP TABLE IF EXISTS listing_fts_vocab")
    with op.batch_alter_table('synonym_word', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_synonym_word_dutch_stem'))
        batch_op.drop_index(batch_op.f('ix_synonym_word_english_stem'))
        batch_op.drop_index(batch_op.f('ix_synonym_word_group_id'))
    op.drop_table('synonym_word')
    op.drop_table('synonym_group')
