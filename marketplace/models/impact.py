"""CO₂e factors per category for the impact figures (platform admins can change them)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow
from .category import Category
from .user import User


class ImpactFactor(Model):
    """Kilograms of CO₂e avoided per kilogram reused, for one category.

    The row without a category is the floor for categories with no factor of their own (or of
    an ancestor). `source` says where the number comes from; it is shown on the dashboard.
    """

    __tablename__ = "impact_factor"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="CASCADE"), unique=True)
    kg_co2e_per_kg: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    source: Mapped[str] = mapped_column(String(1000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))

    category: Mapped[Category | None] = relationship()
    updated_by: Mapped[User | None] = relationship()


# The defaults of docs/impact.md, by category slug (None: the floor). Seeded by migration 0007
# (which keeps its own copy); [R] read in the source, [I] derived from read numbers.
DEFAULT_IMPACT_FACTORS: tuple[tuple[str | None, str, str], ...] = (
    ("medical-aids", "3.3", "[I] DEFRA 2025 GHG conversion factors, metals primary 3,824 kg/t "
     "x 0.87, the saving of a refurbished walking aid (NHS England, Greener AHP hub, "
     "'Walking aid reuse')"),
    ("mobility", "3.3", "[I] DEFRA 2025 metals primary 3,824 kg/t x 0.87 (NHS England, "
     "Greener AHP hub, 'Walking aid reuse')"),
    ("lifting", "3.3", "[I] DEFRA 2025 metals primary 3,824 kg/t x 0.87 (NHS England, "
     "Greener AHP hub)"),
    ("monitoring", "5.6", "[R] DEFRA 2025 'Electrical items - small' 5,648 kg/t"),
    ("care-beds", "2.8", "[I] DEFRA 2025 'Electrical items - large' 3,267 kg/t x 0.87"),
    ("furniture", "1.05", "[R] WRAP (2011) Benefits of reuse, domestic furniture: 1.05 t/t "
     "preparation for reuse (1.45 direct reuse)"),
    ("office-furniture", "2.6", "[R] WRAP (2011) Benefits of reuse, office furniture: 2.6 t/t "
     "preparation for reuse (3.0 direct reuse)"),
    ("residential-furniture", "1.05", "[R] WRAP (2011) Benefits of reuse, domestic furniture: "
     "1.05 t/t preparation for reuse (1.45 direct reuse)"),
    ("consumables", "2.2", "[I] mean of DEFRA 2025 average plastics primary 3,172 and paper "
     "and board (mixed) 1,289 kg/t"),
    ("wound-care", "2.2", "[I] mean of DEFRA 2025 average plastics 3,172 and paper and board "
     "1,289 kg/t"),
    ("incontinence", "2.2", "[I] mean of DEFRA 2025 average plastics 3,172 and paper and "
     "board 1,289 kg/t"),
    ("ppe", "3.2", "[R/I] DEFRA 2025 average plastics primary 3,172 kg/t (its use for PPE "
     "is an inference)"),
    ("office-it", "5.6", "[R] DEFRA 2025 'Electrical items - small' 5,648 kg/t (monitors, "
     "printers; PCs and laptops would be 12 [I], half of 'Electrical items - IT')"),
    ("kitchen", "3.3", "[I] between DEFRA 2025 large electricals 3,267 and metals 3,824 kg/t"),
    ("linen-textiles", "4.0", "[R] WRAP Clothing Knowledge Hub: four tonnes saved per tonne "
     "of re-used clothing and household textiles"),
    ("cleaning", "1.0", "[R] TNO for BKN (Dutch thrift shops): one tonne of goods reused "
     "saves one tonne of CO₂"),
    ("activities", "1.0", "[R] TNO for BKN: one tonne of goods reused saves one tonne of CO₂"),
    ("other", "1.0", "[R] TNO for BKN: one tonne of goods reused saves one tonne of CO₂"),
    (None, "0.51", "[R] flat rate used by Freegle (iznik-server, ReuseBenefit.php), "
     "attributed to WRAP: the floor for categories without a factor"),
)
