"""listing filter indexes: a category's or a site's listings, covering the browse columns

Replaces ix_listing_category_id and ix_listing_site_id (one column each; still used for the
foreign keys, as the leading column). A search whose category or province filter leaves few
listings reads them all through that index alone and sorts them, instead of scanning every
published listing newest first until enough pass (22 ms against 2 ms at 100,000 listings on
SQLite, bench/README.md); services/search._filter_to_drive chooses.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 08:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BROWSE = ['status', 'published_at', 'id', 'available_until', 'internal_until', 'organisation_id']


def upgrade():
    op.create_index('ix_listing_category_browse', 'listing',
                    ['category_id', *BROWSE, 'site_id', 'condition', 'delivery_possible'],
                    unique=False)
    op.create_index('ix_listing_site_browse', 'listing',
                    ['site_id', *BROWSE, 'category_id', 'condition', 'delivery_possible'],
                    unique=False)
    op.drop_index('ix_listing_category_id', table_name='listing')
    op.drop_index('ix_listing_site_id', table_name='listing')


def downgrade():
    op.create_index('ix_listing_site_id', 'listing', ['site_id'], unique=False)
    op.create_index('ix_listing_category_id', 'listing', ['category_id'], unique=False)
    op.drop_index('ix_listing_site_browse', table_name='listing')
    op.drop_index('ix_listing_category_browse', table_name='listing')
