"""Green Deal terms of the impact figures: each category's material class, and the transport
and displacement settings (platform admins change both; docs/impact.md, "Green Deal terms")."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, enum_column, utcnow
from .category import Category
from .user import User


class MaterialClass(enum.StrEnum):
    """The material classes of DEFRA/DESNZ 2025 "material use" rows that our categories fall in
    (metal, plastics, electrical items, clothing and textiles, wood, paper and board), plus
    mixed for what is more than one of them."""

    METALS = "metals"
    PLASTICS = "plastics"
    ELECTRICAL = "electrical"
    TEXTILES = "textiles"
    WOOD_FURNITURE = "wood_furniture"
    PAPER_BOARD = "paper_board"
    MIXED = "mixed"

    @property
    def label(self) -> str:
        return str(MATERIAL_CLASS_LABELS[self])


MATERIAL_CLASS_LABELS = {
    MaterialClass.METALS: _l("Metals"),
    MaterialClass.PLASTICS: _l("Plastics"),
    MaterialClass.ELECTRICAL: _l("Electrical and electronic equipment"),
    MaterialClass.TEXTILES: _l("Textiles"),
    MaterialClass.WOOD_FURNITURE: _l("Wood and furniture"),
    MaterialClass.PAPER_BOARD: _l("Paper and board"),
    MaterialClass.MIXED: _l("Mixed and other materials"),
}


class GreenDealSetting(enum.StrEnum):
    """The numbers behind "CO₂e net of transport" and "with displacement"."""

    TRANSPORT_FACTOR = "transport_factor"  # kg CO₂e per vehicle-km of a delivery van
    DETOUR_FACTOR = "detour_factor"  # road distance over straight-line distance
    DISPLACEMENT_RATE = "displacement_rate"  # share of a reused item that replaces a purchase


class CategoryMaterial(Model):
    """The material class of a category. A category without a row uses its nearest ancestor's
    class, else "mixed"; `source` says why, and is shown beside it."""

    __tablename__ = "category_material"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("category.id", ondelete="CASCADE"), unique=True)
    material_class: Mapped[MaterialClass] = mapped_column(enum_column(MaterialClass))
    source: Mapped[str] = mapped_column(String(1000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    category: Mapped[Category] = relationship()
    updated_by: Mapped[User | None] = relationship()


class GreenDealFactor(Model):
    """One Green Deal setting: its value (NULL: not set, only the displacement rate may be)
    and where it comes from."""

    __tablename__ = "green_deal_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    setting: Mapped[GreenDealSetting] = mapped_column(enum_column(GreenDealSetting, 30),
                                                      unique=True)
    value: Mapped[Decimal | None] = mapped_column(Numeric(10, 5))
    source: Mapped[str] = mapped_column(String(1000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    updated_by: Mapped[User | None] = relationship()


# The defaults of docs/impact.md ("Green Deal terms"), by category slug; seeded by migration
# 0027 (which keeps its own copy). The class follows the material of the category's CO₂e factor.
DEFAULT_CATEGORY_MATERIALS: tuple[tuple[str, MaterialClass, str], ...] = (
    ("medical-aids", MaterialClass.METALS, "Walking aids, wheelchairs and hoists are mostly "
     "steel and aluminium; their CO₂e factor uses DEFRA 2025 material use 'Metals'"),
    ("monitoring", MaterialClass.ELECTRICAL, "Monitors and meters: DEFRA 2025 material use "
     "'Electrical items - small'"),
    ("care-beds", MaterialClass.ELECTRICAL, "Powered care beds: DEFRA 2025 material use "
     "'Electrical items - large'"),
    ("furniture", MaterialClass.WOOD_FURNITURE, "Furniture: WRAP (2011) Benefits of reuse, "
     "furniture case studies; DEFRA 2025 material use 'Wood' for the material"),
    ("consumables", MaterialClass.MIXED, "Plastics and paper together: the CO₂e factor is the "
     "mean of DEFRA 2025 'average plastics' and 'paper and board: mixed'"),
    ("ppe", MaterialClass.PLASTICS, "Gloves, aprons, masks: DEFRA 2025 material use "
     "'Plastics: average plastics'"),
    ("office-it", MaterialClass.ELECTRICAL, "Monitors, printers, computers: DEFRA 2025 "
     "material use 'Electrical items - small' and 'IT'"),
    ("kitchen", MaterialClass.METALS, "Stainless-steel kitchen and catering equipment: DEFRA "
     "2025 material use 'Metals' (appliances alone would be electrical items)"),
    ("linen-textiles", MaterialClass.TEXTILES, "Linen and clothing: DEFRA 2025 material use "
     "'Clothing'; WRAP Clothing Knowledge Hub"),
    ("cleaning", MaterialClass.MIXED, "Cleaning equipment and products of several materials"),
    ("activities", MaterialClass.MIXED, "Games, crafts and recreation goods of several "
     "materials"),
    ("other", MaterialClass.MIXED, "Anything else: no single material"),
)

# The seeded source of the displacement rate, which is not set: shown in the page's language.
DISPLACEMENT_NOT_SET = "Not set: the figures assume every reused item replaces a purchase"

DEFAULT_GREEN_DEAL_FACTORS: tuple[tuple[GreenDealSetting, str | None, str], ...] = (
    (GreenDealSetting.TRANSPORT_FACTOR, "0.25023",
     "[R, second-hand] UK DEFRA GHG conversion factors 2024 v1.1, Delivery vehicles, Vans, "
     "Average (up to 3.5 tonnes), Diesel: 0.25023 kg CO2e per km, as quoted in a public factor "
     "catalogue (read 2026-12-05). The Dutch list co2emissiefactoren.nl (goederenvervoer) "
     "could not be read here: replace this with its van figure and its date"),
    (GreenDealSetting.DETOUR_FACTOR, "1.343",
     "[R] Average radial physical detour (road over straight-line distance) of 1.343 across "
     "300 European cities, Environment and Planning B (2023), doi 10.1177/23998083231168870"),
    (GreenDealSetting.DISPLACEMENT_RATE, None, DISPLACEMENT_NOT_SET),
)
