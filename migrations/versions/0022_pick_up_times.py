"""pick-up times: site opening hours and instructions, claim time windows and proposals

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite cannot add a foreign key with ALTER TABLE; PostgreSQL alters in place.
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('pickup_instructions', sa.Text(), server_default='',
                                      nullable=False))
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pickup_starts_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('pickup_ends_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('pickup_sequence', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('proposed_starts_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('proposed_ends_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('proposed_by_giver', sa.Boolean(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_claim_proposed_by_id_user_account'),
                                    'user_account', ['proposed_by_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_claim_proposed_by_id_user_account'),
                                 type_='foreignkey')
        for column in ('proposed_by_giver', 'proposed_by_id', 'proposed_ends_at',
                       'proposed_starts_at', 'pickup_sequence', 'pickup_ends_at',
                       'pickup_starts_at'):
            batch_op.drop_column(column)
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('pickup_instructions')
        batch_op.drop_column('opening_hours')
