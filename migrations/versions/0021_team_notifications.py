"""team in the loop: organisation notification address and followers

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('listing_follower',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listing.id'], name=op.f('fk_listing_follower_listing_id_listing'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_listing_follower_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_follower')),
    sa.UniqueConstraint('listing_id', 'user_id', name=op.f('uq_listing_follower_listing_id'))
    )
    op.create_index(op.f('ix_listing_follower_user_id'), 'listing_follower', ['user_id'],
                    unique=False)
    # Nullable: a plain ADD COLUMN, no table copy on SQLite.
    op.add_column('organisation', sa.Column('notification_email', sa.String(length=254),
                                            nullable=True))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follows_organisation_listings', sa.Boolean(),
                                      nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('follows_organisation_listings')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('notification_email')
    op.drop_index(op.f('ix_listing_follower_user_id'), table_name='listing_follower')
    op.drop_table('listing_follower')
