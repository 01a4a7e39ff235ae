"""outbox threads and one-click unsubscribe

thread_key groups the mail about one thing (a claim: "claim-<id>"); in_reply_to is the
Message-ID of the first message of that thread to the same address, which the later ones answer
(In-Reply-To, References) so mail programs show a claim's mail as one conversation.
unsubscribe_url is the signed one-click link of optional mail (List-Unsubscribe, RFC 8058).
Rows written before have none of these and are sent as before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 23:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_key', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('in_reply_to', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('unsubscribe_url', sa.String(length=500), nullable=True))
        batch_op.create_index('ix_outbox_message_thread', ['thread_key', 'recipient'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_thread')
        batch_op.drop_column('unsubscribe_url')
        batch_op.drop_column('in_reply_to')
        batch_op.drop_column('thread_key')
