"""The reference rows migrations seed (categories, moderation reasons, watch-words, impact
factors, synonyms), added when missing: for tests, which build the schema without migrations."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import (
    DEFAULT_CATEGORY_MATERIALS,
    DEFAULT_GREEN_DEAL_FACTORS,
    DEFAULT_IMPACT_FACTORS,
    DEFAULT_MODERATION_REASONS,
    DEFAULT_WATCH_WORDS,
    Category,
    CategoryMaterial,
    GreenDealFactor,
    ImpactFactor,
    ModerationReason,
    WatchWord,
    WatchWordKind,
)
from ..unit_of_work import atomic
from .categories import ensure_default_categories
from .device_passports import ensure_default_medical_categories
from .synonyms import ensure_default_groups


@atomic
def ensure_defaults() -> None:
    ensure_default_categories()
    db.session.flush()
    ensure_default_medical_categories()
    if db.session.scalar(select(ModerationReason.id).limit(1)) is None:
        for position, (text_nl, text_en) in enumerate(DEFAULT_MODERATION_REASONS, start=1):
            db.session.add(ModerationReason(text_nl=text_nl, text_en=text_en,
                                            position=position))
    if db.session.scalar(select(WatchWord.id).limit(1)) is None:
        for word, kind in DEFAULT_WATCH_WORDS:
            db.session.add(WatchWord(word=word, kind=WatchWordKind(kind)))
    if db.session.scalar(select(ImpactFactor.id).limit(1)) is None:
        category_ids = dict(db.session.execute(select(Category.slug, Category.id)).all())
        for slug, value, source in DEFAULT_IMPACT_FACTORS:
            if slug is None or slug in category_ids:
                db.session.add(ImpactFactor(category_id=category_ids.get(slug) if slug else None,
                                            kg_co2e_per_kg=Decimal(value), source=source))
    _ensure_green_deal_defaults()
    ensure_default_groups()


def _ensure_green_deal_defaults() -> None:
    """The material classes of the default categories and the transport settings (0027)."""
    if db.session.scalar(select(CategoryMaterial.id).limit(1)) is None:
        category_ids = dict(db.session.execute(select(Category.slug, Category.id)).all())
        for slug, material_class, source in DEFAULT_CATEGORY_MATERIALS:
            if slug in category_ids:
                db.session.add(CategoryMaterial(category_id=category_ids[slug],
                                                material_class=material_class, source=source))
    if db.session.scalar(select(GreenDealFactor.id).limit(1)) is None:
        for setting, value, source in DEFAULT_GREEN_DEAL_FACTORS:
            db.session.add(GreenDealFactor(setting=setting, source=source,
                                           value=Decimal(value) if value else None))
