"""replies by email: a claim message keeps the Message-ID of the email reply it came from
(unique, so a reply delivered twice is stored once), and claim mail its Reply-To address

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases (nullable, no default): no table copy on SQLite.
    op.add_column('claim_message', sa.Column('source_message_id', sa.String(length=255),
                                             nullable=True))
    op.create_index('uq_claim_message_source_message_id', 'claim_message',
                    ['source_message_id'], unique=True)
    op.add_column('outbox_message', sa.Column('reply_to', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('reply_to')
    op.drop_index('uq_claim_message_source_message_id', table_name='claim_message')
    with op.batch_alter_table('claim_message', schema=None) as batch_op:
        batch_op.drop_column('source_message_id')
