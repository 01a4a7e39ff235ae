"""staged photos and drafts: a member's uploads kept for a form not yet saved (removed after a
day unused); a draft may be saved with a title alone, so its site, category, condition,
quantities and availability may be empty (NULL) until it is submitted

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


DRAFT_MAY_LEAVE_EMPTY = (
    ('site_id', sa.Integer()), ('category_id', sa.Integer()),
    ('condition', sa.Enum('new', 'as_new', 'good', 'fair', 'for_parts', name='condition',
                          native_enum=False, create_constraint=True, length=20)),
    ('quantity', sa.Integer()), ('quantity_available', sa.Integer()),
    ('available_until', sa.Date()),
)


# On SQLite a batch copies the listing table, and the triggers that keep its full-text index
# (0003) go with the old one: made again, as 0003 wrote them.
SQLITE_FTS_TRIGGERS = (
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


def _listing_columns_nullable(nullable):
    with op.batch_alter_table('listing', schema=None) as batch_op:
        for name, type_ in DRAFT_MAY_LEAVE_EMPTY:
            batch_op.alter_column(name, existing_type=type_, nullable=nullable)
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)


def upgrade():
    _listing_columns_nullable(True)
    op.create_table('staged_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_staged_photo_owner_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['photo.id'], name=op.f('fk_staged_photo_photo_id_photo')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staged_photo'))
    )
    with op.batch_alter_table('staged_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staged_photo_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_photo_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staged_photo_photo_id'), ['photo_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staged_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staged_photo_photo_id'))
        batch_op.drop_index(batch_op.f('ix_staged_photo_owner_id'))
        batch_op.drop_index(batch_op.f('ix_staged_photo_created_at'))
    op.drop_table('staged_photo')
    # Drafts saved with a title alone cannot stay: they go (their photos stay until purged).
    op.execute("DELETE FROM listing WHERE status = 'draft' AND (site_id IS NULL OR "
               "category_id IS NULL OR condition IS NULL OR quantity IS NULL OR "
               "quantity_available IS NULL OR available_until IS NULL)")
    _listing_columns_nullable(False)
