"""listing internal-phase index: when the next internal phase ends

The search page cache (marketplace/page_cache.py) keeps a page of results until the next
listing's internal phase ends, when that listing starts to show to everyone: the earliest
`internal_until` still ahead among published listings, read through this index at once instead
of by a scan of every published listing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 04:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_listing_status_internal_until', 'listing',
                    ['status', 'internal_until'], unique=False)


def downgrade():
    op.drop_index('ix_listing_status_internal_until', table_name='listing')
