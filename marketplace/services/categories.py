"""The category tree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import DEFAULT_CATEGORIES, DEFAULT_SUBCATEGORIES, Category


def ensure_default_categories() -> None:
    """Add the default categories that are missing (the migration seeds them; tests use this)."""
    existing = {category.slug: category for category in db.session.scalars(select(Category))}
    for position, (slug, name_nl, name_en) in enumerate(DEFAULT_CATEGORIES, start=1):
        if slug not in existing:
            existing[slug] = Category(slug=slug, name_nl=name_nl, name_en=name_en,
                                      position=position)
            db.session.add(existing[slug])
    for position, (parent, slug, name_nl, name_en) in enumerate(DEFAULT_SUBCATEGORIES, 1):
        if slug not in existing:
            db.session.add(Category(slug=slug, name_nl=name_nl, name_en=name_en,
                                    position=position, parent=existing[parent]))
    db.session.commit()


@dataclass(frozen=True)
class CategoryChoice:
    id: int
    label: str
    depth: int


def category_tree(language: str, include_retired: bool = False) -> list[CategoryChoice]:
    """Every category in tree order (parents before their children), named in `language`."""
    categories = list(db.session.scalars(select(Category).order_by(Category.position)))
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        if include_retired or not category.retired:
            by_parent.setdefault(category.parent_id, []).append(category)
    ordered: list[CategoryChoice] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for category in by_parent.get(parent_id, []):
            ordered.append(CategoryChoice(category.id, category.name(language), depth))
            walk(category.id, depth + 1)

    walk(None, 0)
    return ordered


def category_with_descendants(category_id: int) -> list[int]:
    """The ids of a category and everything below it (for "category with its children")."""
    rows = db.session.execute(select(Category.id, Category.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row.id)
    found, frontier = [], [category_id]
    while frontier:
        current = frontier.pop()
        found.append(current)
        frontier.extend(children.get(current, []))
    return found
