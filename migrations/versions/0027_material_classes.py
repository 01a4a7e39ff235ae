"""material classes of categories and the Green Deal transport settings

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05 00:00:00

"""
from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

MATERIAL_CLASSES = ('metals', 'plastics', 'electrical', 'textiles', 'wood_furniture',
                    'paper_board', 'mixed')
SETTINGS = ('transport_factor', 'detour_factor', 'displacement_rate')

# The seeds as they were when this migration was written (models/material.py has the current
# defaults; a migration never imports the application).
CATEGORY_MATERIALS = (
    ('medical-aids', 'metals', "Walking aids, wheelchairs and hoists are mostly steel and "
     "aluminium; their CO₂e factor uses DEFRA 2025 material use 'Metals'"),
    ('monitoring', 'electrical', "Monitors and meters: DEFRA 2025 material use 'Electrical "
     "items - small'"),
    ('care-beds', 'electrical', "Powered care beds: DEFRA 2025 material use 'Electrical "
     "items - large'"),
    ('furniture', 'wood_furniture', "Furniture: WRAP (2011) Benefits of reuse, furniture case "
     "studies; DEFRA 2025 material use 'Wood' for the material"),
    ('consumables', 'mixed', "Plastics and paper together: the CO₂e factor is the mean of "
     "DEFRA 2025 'average plastics' and 'paper and board: mixed'"),
    ('ppe', 'plastics', "Gloves, aprons, masks: DEFRA 2025 material use 'Plastics: average "
     "plastics'"),
    ('office-it', 'electrical', "Monitors, printers, computers: DEFRA 2025 material use "
     "'Electrical items - small' and 'IT'"),
    ('kitchen', 'metals', "Stainless-steel kitchen and catering equipment: DEFRA 2025 material "
     "use 'Metals' (appliances alone would be electrical items)"),
    ('linen-textiles', 'textiles', "Linen and clothing: DEFRA 2025 material use 'Clothing'; "
     "WRAP Clothing Knowledge Hub"),
    ('cleaning', 'mixed', "Cleaning equipment and products of several materials"),
    ('activities', 'mixed', "Games, crafts and recreation goods of several materials"),
    ('other', 'mixed', "Anything else: no single material"),
)
GREEN_DEAL_FACTORS = (
    ('transport_factor', '0.25023',
     "[R, second-hand] UK DEFRA GHG conversion factors 2024 v1.1, Delivery vehicles, Vans, "
     "Average (up to 3.5 tonnes), Diesel: 0.25023 kg CO2e per km, as quoted in a public factor "
     "catalogue (read 2026-12-05). The Dutch list co2emissiefactoren.nl (goederenvervoer) "
     "could not be read here: replace this with its van figure and its date"),
    ('detour_factor', '1.343',
     "[R] Average radial physical detour (road over straight-line distance) of 1.343 across "
     "300 European cities, Environment and Planning B (2023), doi 10.1177/23998083231168870"),
    ('displacement_rate', None,
     "Not set: the figures assume every reused item replaces a purchase"),
)


def upgrade():
    op.create_table('category_material',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('material_class', sa.Enum(*MATERIAL_CLASSES, name='materialclass', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('source', sa.String(length=1000), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_category_material_category_id_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_category_material_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_material')),
    sa.UniqueConstraint('category_id', name=op.f('uq_category_material_category_id'))
    )
    op.create_table('green_deal_factor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('setting', sa.Enum(*SETTINGS, name='greendealsetting', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('value', sa.Numeric(precision=10, scale=5), nullable=True),
    sa.Column('source', sa.String(length=1000), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_green_deal_factor_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_green_deal_factor')),
    sa.UniqueConstraint('setting', name=op.f('uq_green_deal_factor_setting'))
    )
    _seed()


def _seed():
    now = datetime.now(timezone.utc)
    category_ids = dict(op.get_bind().execute(sa.text("SELECT slug, id FROM category")).all())
    material = sa.table('category_material', sa.column('category_id', sa.Integer),
                        sa.column('material_class', sa.String), sa.column('source', sa.String),
                        sa.column('updated_at', sa.DateTime(timezone=True)))
    op.bulk_insert(material, [
        {'category_id': category_ids[slug], 'material_class': material_class,
         'source': source, 'updated_at': now}
        for slug, material_class, source in CATEGORY_MATERIALS if slug in category_ids])
    factor = sa.table('green_deal_factor', sa.column('setting', sa.String),
                      sa.column('value', sa.Numeric(10, 5)), sa.column('source', sa.String),
                      sa.column('updated_at', sa.DateTime(timezone=True)))
    op.bulk_insert(factor, [
        {'setting': setting, 'value': Decimal(value) if value else None, 'source': source,
         'updated_at': now}
        for setting, value, source in GREEN_DEAL_FACTORS])


def downgrade():
    op.drop_table('green_deal_factor')
    op.drop_table('category_material')
