"""outbox claims: which sender holds a claim, and messages waiting only for the SMTP server

claimed_by names the sender process holding a SENDING claim (host, pid, a random part); its
claimed_at is now a heartbeat, confirmed between messages every few seconds, so a sender that was
killed leaves claims that another takes back within a minute (services/mail.STALE_CLAIM).
server_unreachable marks messages whose last attempt failed only because the server could not
be reached: they go out as soon as it takes mail again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 20:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('server_unreachable', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('server_unreachable')
        batch_op.drop_column('claimed_by')
