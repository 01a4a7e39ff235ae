"""Listing categories: a small tree, named in Dutch and English."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, shown_on_cards


@shown_on_cards()  # in the filter form, and a search by category finds its subcategories
class Category(Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name_nl: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)
    # Retired categories keep their listings but take no new ones.
    retired: Mapped[bool] = mapped_column(default=False)
    # Medical devices (issue 20): its listings carry a device passport; the passport fields it
    # requires, comma-separated names of device_passport.PASSPORT_FIELDS.
    medical_device: Mapped[bool] = mapped_column(default=False)
    passport_requirements: Mapped[str] = mapped_column(String(300), default="")

    parent: Mapped[Category | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Category]] = relationship(back_populates="parent",
                                                    order_by="Category.position")

    def name(self, language: str) -> str:
        return self.name_nl if language == "nl" else self.name_en

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


# The groups DESIGN.md names; seeded by the migration that creates the table.
DEFAULT_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("medical-aids", "Hulpmiddelen", "Medical aids"),
    ("care-beds", "Zorgbedden", "Care beds"),
    ("furniture", "Meubilair", "Furniture"),
    ("consumables", "Verbruiksmaterialen", "Consumables"),
    ("ppe", "Persoonlijke beschermingsmiddelen", "Personal protective equipment"),
    ("office-it", "Kantoor en IT", "Office and IT"),
    ("kitchen", "Keuken", "Kitchen"),
    ("linen-textiles", "Linnen en textiel", "Linen and textiles"),
    ("cleaning", "Schoonmaak", "Cleaning"),
    ("activities", "Activiteiten en recreatie", "Activities"),
    ("other", "Overig", "Other"),
)
# A few children, so "a category with its children" means something from the start.
DEFAULT_SUBCATEGORIES: tuple[tuple[str, str, str, str], ...] = (
    ("medical-aids", "mobility", "Loophulpmiddelen en rolstoelen", "Walkers and wheelchairs"),
    ("medical-aids", "lifting", "Tilliften en transfer", "Hoists and transfer aids"),
    ("medical-aids", "monitoring", "Meet- en bewakingsapparatuur", "Monitoring equipment"),
    ("consumables", "wound-care", "Wondzorg", "Wound care"),
    ("consumables", "incontinence", "Incontinentiematerialen", "Incontinence products"),
    ("furniture", "office-furniture", "Kantoormeubilair", "Office furniture"),
    ("furniture", "residential-furniture", "Woonmeubilair", "Residential furniture"),
)
