"""listing organisation internal index: whether an organisation has listings in their internal
phase, asked on every member's search page, read from one index entry

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 00:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


# Plain CREATE INDEX, no batch: on SQLite a batch may copy the table, and the full-text index's
# triggers would go with it.
def upgrade():
    op.create_index('ix_listing_organisation_internal', 'listing',
                    ['organisation_id', 'status', 'internal_until'], unique=False)


def downgrade():
    op.drop_index('ix_listing_organisation_internal', table_name='listing')
