"""device passports: medical-device categories and their passports

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# The demo's medical categories and what their passports must say (services/defaults.py seeds
# the same on a new platform).
MEDICAL = {
    'mobility': 'manufacturer,model,year_of_manufacture',
    'care-beds': 'manufacturer,model,year_of_manufacture,last_maintenance_on',
    'lifting': 'manufacturer,model,year_of_manufacture,last_maintenance_on',
    'monitoring': 'manufacturer,model,year_of_manufacture,last_safety_test_on',
}


def upgrade():
    # Plain ALTERs, not batch mode: SQLite would copy and drop `category`, which listings and
    # alerts refer to (a constant default is all SQLite needs to add a NOT NULL column).
    op.add_column('category', sa.Column('medical_device', sa.Boolean(),
                                        server_default=sa.false(), nullable=False))
    op.add_column('category', sa.Column('passport_requirements', sa.String(length=300),
                                        server_default='', nullable=False))
    op.create_table(
        'device_passport',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('listing_id', sa.Integer(), nullable=False),
        sa.Column('manufacturer', sa.String(length=120), nullable=True),
        sa.Column('model', sa.String(length=120), nullable=True),
        sa.Column('single_use', sa.Boolean(), nullable=True),
        sa.Column('ce_marked', sa.Boolean(), nullable=True),
        sa.Column('udi_di', sa.String(length=14), nullable=True),
        sa.Column('serial_numbers', sa.Text(), nullable=True),
        sa.Column('year_of_manufacture', sa.Integer(), nullable=True),
        sa.Column('last_maintenance_on', sa.Date(), nullable=True),
        sa.Column('last_safety_test_on', sa.Date(), nullable=True),
        sa.Column('instructions_url', sa.String(length=500), nullable=True),
        sa.Column('instructions_key', sa.String(length=200), nullable=True),
        sa.Column('instructions_filename', sa.String(length=200), nullable=True),
        sa.Column('instructions_bytes', sa.Integer(), nullable=True),
        sa.Column('instructions_sha256', sa.String(length=64), nullable=True),
        sa.Column('history_notes', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['listing_id'], ['listing.id'],
                                name=op.f('fk_device_passport_listing_id_listing'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_device_passport')),
        sa.UniqueConstraint('listing_id', name=op.f('uq_device_passport_listing_id')),
    )
    with op.batch_alter_table('device_passport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_passport_udi_di'), ['udi_di'], unique=False)
    category = sa.table('category', sa.column('slug', sa.String),
                        sa.column('medical_device', sa.Boolean),
                        sa.column('passport_requirements', sa.String))
    for slug, requirements in MEDICAL.items():
        op.execute(category.update().where(category.c.slug == slug)
                   .values(medical_device=True, passport_requirements=requirements))


def downgrade():
    with op.batch_alter_table('device_passport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_passport_udi_di'))
    op.drop_table('device_passport')
    op.drop_column('category', 'passport_requirements')
    op.drop_column('category', 'medical_device')
