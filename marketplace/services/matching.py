"""Matching categories: an alert or a wanted post on a category matches its children's
listings. (Words: alerts and wanted posts match them with the search, `search.has_words`.)"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Category


def category_and_ancestors(category_id: int) -> list[int]:
    """The category and every category above it: an alert or a wanted post on a parent
    category matches listings in its children."""
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
    chain: list[int] = []
    current: int | None = category_id
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain
