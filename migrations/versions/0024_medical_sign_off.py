"""sign-off by the receiver's medical technology: claims awaiting approval

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

OLD_STATUSES = ('requested', 'accepted', 'collected', 'declined', 'cancelled', 'expired')
NEW_STATUSES = ('awaiting_sign_off', *OLD_STATUSES, 'not_signed_off')
# The open claims (models/claim.OPEN_CLAIM_STATUSES), spelled as the model spells them.
OLD_OPEN = "status IN ('requested', 'accepted')"
NEW_OPEN = "status IN ('awaiting_sign_off', 'requested', 'accepted')"


def _status(values):
    return sa.Enum(*values, name='claimstatus', native_enum=False, create_constraint=True,
                   length=20)


def _open_claim_index(where):
    op.create_index('uq_claim_open_per_member', 'claim', ['listing_id', 'claimant_id'],
                    unique=True, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade():
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_medical_sign_off', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('medical_technology', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    # The partial index names the open statuses: it goes while the CHECK widens, and comes
    # back with the new open status (a table SQLite rebuilds would not keep its WHERE).
    op.drop_index('uq_claim_open_per_member', table_name='claim')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(OLD_STATUSES),
                              type_=_status(NEW_STATUSES), existing_nullable=False)
        batch_op.add_column(sa.Column('needs_sign_off', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('signed_off_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('signed_off_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('sign_off_note', sa.String(length=1000), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_claim_signed_off_by_id_user_account'),
                                    'user_account', ['signed_off_by_id'], ['id'],
                                    ondelete='SET NULL')
    _open_claim_index(NEW_OPEN)


def downgrade():
    # Claims in the new statuses have no place in the old CHECK: what waited is cancelled,
    # what was refused counts as declined.
    op.execute("UPDATE claim SET status = 'cancelled' WHERE status = 'awaiting_sign_off'")
    op.execute("UPDATE claim SET status = 'declined' WHERE status = 'not_signed_off'")
    op.drop_index('uq_claim_open_per_member', table_name='claim')
    with op.batch_alter_table('claim', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_claim_signed_off_by_id_user_account'),
                                 type_='foreignkey')
        for column in ('sign_off_note', 'signed_off_at', 'signed_off_by_id', 'needs_sign_off'):
            batch_op.drop_column(column)
        batch_op.alter_column('status', existing_type=_status(NEW_STATUSES),
                              type_=_status(OLD_STATUSES), existing_nullable=False)
    _open_claim_index(OLD_OPEN)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('medical_technology')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('requires_medical_sign_off')
