"""moderation reasons: the seeded Dutch reason speaks "je", like the rest of the platform

Only the text as it was seeded changes; a reason a platform admin wrote or edited stays theirs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

FORMAL = "De foto's laten niet duidelijk zien wat u aanbiedt."
INFORMAL = "De foto's laten niet duidelijk zien wat je aanbiedt."
reasons = sa.table('moderation_reason', sa.column('text_nl', sa.String))


def upgrade():
    op.execute(reasons.update().where(reasons.c.text_nl == FORMAL).values(text_nl=INFORMAL))


def downgrade():
    op.execute(reasons.update().where(reasons.c.text_nl == INFORMAL).values(text_nl=FORMAL))
