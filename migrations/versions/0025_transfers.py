"""transfers of ownership: the document of each collected claim

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'transfer',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=30), nullable=False),
        sa.Column('giver_organisation_id', sa.Integer(), nullable=False),
        sa.Column('receiver_organisation_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('document_key', sa.String(length=200), nullable=True),
        sa.Column('document_sha256', sa.String(length=64), nullable=True),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('manufacturer', sa.String(length=120), nullable=True),
        sa.Column('model', sa.String(length=120), nullable=True),
        sa.Column('udi_di', sa.String(length=14), nullable=True),
        sa.Column('serial_numbers', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['claim_id'], ['claim.id'],
                                name=op.f('fk_transfer_claim_id_claim')),
        sa.ForeignKeyConstraint(['giver_organisation_id'], ['organisation.id'],
                                name=op.f('fk_transfer_giver_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['receiver_organisation_id'], ['organisation.id'],
                                name=op.f('fk_transfer_receiver_organisation_id_organisation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer')),
        sa.UniqueConstraint('claim_id', name=op.f('uq_transfer_claim_id')),
        sa.UniqueConstraint('reference', name=op.f('uq_transfer_reference')),
    )
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_giver_organisation_id'),
                              ['giver_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_receiver_organisation_id'),
                              ['receiver_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_udi_di'), ['udi_di'], unique=False)


def downgrade():
    with op.batch_alter_table('transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_udi_di'))
        batch_op.drop_index(batch_op.f('ix_transfer_receiver_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_giver_organisation_id'))
    op.drop_table('transfer')
