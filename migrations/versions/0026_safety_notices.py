"""field safety notices and who acknowledged them

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('safety_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manufacturer', sa.String(length=120), nullable=True),
    sa.Column('model', sa.String(length=120), nullable=True),
    sa.Column('udi_di', sa.String(length=14), nullable=True),
    sa.Column('serials_from', sa.String(length=60), nullable=True),
    sa.Column('serials_to', sa.String(length=60), nullable=True),
    sa.Column('serials_listed', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_safety_notice_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_notice'))
    )
    op.create_index(op.f('ix_safety_notice_created_at'), 'safety_notice', ['created_at'],
                    unique=False)
    op.create_table('safety_notice_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['safety_notice.id'], name=op.f('fk_safety_notice_recipient_notice_id_safety_notice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_safety_notice_recipient_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfer.id'], name=op.f('fk_safety_notice_recipient_transfer_id_transfer')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user_account.id'], name=op.f('fk_safety_notice_recipient_acknowledged_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_notice_recipient')),
    sa.UniqueConstraint('notice_id', 'organisation_id', name=op.f('uq_safety_notice_recipient_notice_id'))
    )
    op.create_index(op.f('ix_safety_notice_recipient_notice_id'), 'safety_notice_recipient',
                    ['notice_id'], unique=False)
    op.create_index(op.f('ix_safety_notice_recipient_organisation_id'),
                    'safety_notice_recipient', ['organisation_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_safety_notice_recipient_organisation_id'),
                  table_name='safety_notice_recipient')
    op.drop_index(op.f('ix_safety_notice_recipient_notice_id'),
                  table_name='safety_notice_recipient')
    op.drop_table('safety_notice_recipient')
    op.drop_index(op.f('ix_safety_notice_created_at'), table_name='safety_notice')
    op.drop_table('safety_notice')
