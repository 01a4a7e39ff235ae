"""The category tree."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import (
    DEFAULT_CATEGORIES,
    DEFAULT_SUBCATEGORIES,
    Alert,
    Category,
    ImpactFactor,
    Listing,
    ListingStatus,
    User,
    Wanted,
)
from ..security import Action, require
from ..unit_of_work import atomic
from . import audit
from .errors import DomainError


@atomic
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


# --- administration (platform admins) ---------------------------------------------------------

NAME_MAX_LENGTH = 80
SLUG_MAX_LENGTH = 60  # the column's length
_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class CategoryUse:
    """What refers to a category: anything here keeps it from being deleted."""

    listings: int = 0
    children: int = 0
    wanted: int = 0
    alerts: int = 0

    @property
    def in_use(self) -> bool:
        return bool(self.listings or self.children or self.wanted or self.alerts)

    def reasons(self) -> list[str]:
        """Why the category cannot be deleted, one phrase per kind of use."""
        reasons = []
        if self.listings:
            reasons.append(ngettext("%(num)d listing uses it", "%(num)d listings use it",
                                    self.listings))
        if self.children:
            reasons.append(ngettext("it has %(num)d subcategory", "it has %(num)d subcategories",
                                    self.children))
        if self.wanted:
            reasons.append(ngettext("%(num)d wanted post uses it", "%(num)d wanted posts use it",
                                    self.wanted))
        if self.alerts:
            reasons.append(ngettext("%(num)d alert uses it", "%(num)d alerts use it",
                                    self.alerts))
        return reasons


@dataclass(frozen=True)
class CategoryRow:
    """One line of the admin's category tree."""

    category: Category
    depth: int
    use: CategoryUse
    first: bool  # among its siblings
    last: bool


# The retired categories, and those of them the search filter still offers.
RetiredCategories = tuple[frozenset[int], frozenset[int]]


def browsing_category_tree(language: str,
                           retired: RetiredCategories | None = None) -> list[CategoryChoice]:
    """The categories to offer as a search filter: the active ones, and retired ones that
    still hold published listings (directly or in a subcategory), so those stay findable.
    `retired`: retired_categories(), when asked already."""
    retired_ids, shown = retired or retired_categories()
    return [choice for choice in category_tree(language, include_retired=True)
            if choice.id not in retired_ids or choice.id in shown]


def retired_categories() -> RetiredCategories:
    """The retired categories, and those of them that hold published listings or are the
    parent of one that does (the only part of the search filter that changes with the
    listings). One small query when none is retired."""
    retired = {row.id: row.parent_id for row in db.session.execute(
        select(Category.id, Category.parent_id).where(Category.retired.is_(True)))}
    # Only the retired categories are looked up, each through the category index: a DISTINCT
    # over every published listing took 250 ms a search page at 100,000 listings.
    published = set(db.session.scalars(
        select(Category.id).where(Category.id.in_(retired), select(Listing.id).where(
            Listing.category_id == Category.id, Listing.status == ListingStatus.PUBLISHED,
        ).exists()))) if retired else set()
    parents_in_use = {retired[category_id] for category_id in published}
    return frozenset(retired), frozenset(published | (parents_in_use & set(retired)))


def category_uses() -> dict[int, CategoryUse]:
    """Per category id, what refers to it: one grouped query per kind, not one per category."""
    def counts(column: Any) -> dict[int, int]:
        rows = db.session.execute(select(column, func.count()).where(column.is_not(None))
                                  .group_by(column)).all()
        return {row[0]: row[1] for row in rows}

    listings = counts(Listing.category_id)
    children = counts(Category.parent_id)
    wanted = counts(Wanted.category_id)
    alerts = counts(Alert.category_id)
    ids = set(listings) | set(children) | set(wanted) | set(alerts)
    return {category_id: CategoryUse(listings.get(category_id, 0), children.get(category_id, 0),
                                     wanted.get(category_id, 0), alerts.get(category_id, 0))
            for category_id in ids}


def category_use(category: Category) -> CategoryUse:
    def count(column: Any) -> int:
        return db.session.scalar(select(func.count()).where(column == category.id)) or 0

    return CategoryUse(count(Listing.category_id), count(Category.parent_id),
                       count(Wanted.category_id), count(Alert.category_id))


def admin_category_rows() -> list[CategoryRow]:
    """Every category, retired ones included, in tree order, with what uses it."""
    uses = category_uses()
    by_parent: dict[int | None, list[Category]] = {}
    for category in db.session.scalars(select(Category).order_by(Category.position,
                                                                 Category.id)):
        by_parent.setdefault(category.parent_id, []).append(category)
    rows: list[CategoryRow] = []

    def walk(parent_id: int | None, depth: int) -> None:
        siblings = by_parent.get(parent_id, [])
        for index, category in enumerate(siblings):
            rows.append(CategoryRow(category, depth, uses.get(category.id, CategoryUse()),
                                    first=index == 0, last=index == len(siblings) - 1))
            walk(category.id, depth + 1)

    walk(None, 0)
    return rows


def top_level_categories() -> list[Category]:
    """The categories that can be a parent (the tree is two levels deep)."""
    return list(db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                                   .order_by(Category.position, Category.id)))


def siblings_of(category: Category) -> list[Category]:
    """The category and the others under the same parent, in their order."""
    return _siblings(category.parent_id)


@atomic
def add_category(actor: User, name_nl: str, name_en: str,
                 parent_id: int | None = None) -> Category:
    """Add a category at the end of its parent's (or the top level's) list.

    Raises PermissionDenied for anyone but platform admins, DomainError(field=…) for missing,
    too long or duplicate names, an unknown or retired parent, or a third level.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    name_nl, name_en = _clean_names(name_nl, name_en)
    parent = _parent(parent_id)
    if parent is not None and parent.retired:
        raise DomainError(_("%(name)s is retired; restore it before adding subcategories to it.",
                            name=_shown(parent)), field="parent")
    _check_unique_names(parent_id, name_nl, name_en)
    siblings = _siblings(parent_id)
    category = Category(slug=_unique_slug(name_en), name_nl=name_nl, name_en=name_en,
                        parent_id=parent_id,
                        position=max((sibling.position for sibling in siblings), default=0) + 1)
    db.session.add(category)
    db.session.flush()
    audit.record(actor, "category.add", category,
                 reason=f"under {parent.slug}" if parent is not None else "at the top level")
    return category


@atomic
def rename_category(actor: User, category: Category, name_nl: str, name_en: str) -> None:
    """Give a category new Dutch and English names (its slug stays, so links keep working).

    Raises PermissionDenied, or DomainError(field=…) for missing, too long or duplicate names.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    name_nl, name_en = _clean_names(name_nl, name_en)
    _check_unique_names(category.parent_id, name_nl, name_en, exclude=category)
    if (name_nl, name_en) == (category.name_nl, category.name_en):
        return
    previous = f"was: {category.name_nl} / {category.name_en}"
    category.name_nl, category.name_en = name_nl, name_en
    audit.record(actor, "category.rename", category, reason=previous)


@atomic
def move_category(actor: User, category: Category, parent_id: int | None,
                  position: int | None = None) -> None:
    """Put a category under another parent (None: the top level) and/or at `position` among
    its siblings (1 is first; None: last when the parent changes, unchanged otherwise).

    Raises PermissionDenied, or DomainError(field="parent") for an unknown parent, a cycle, a
    third level (a subcategory cannot have subcategories, nor can a category with
    subcategories go under another), or an active category under a retired parent.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    if parent_id is not None and parent_id in category_with_descendants(category.id):
        raise DomainError(_("A category cannot go under itself or one of its subcategories."),
                          field="parent")
    parent = _parent(parent_id)
    if parent is not None and category.children:
        raise DomainError(_("%(name)s has subcategories, and categories go at most two levels "
                            "deep: it can only stay at the top level. Move its subcategories "
                            "first.", name=_shown(category)), field="parent")
    if parent is not None and parent.retired and not category.retired:
        raise DomainError(_("%(name)s is retired; restore it before moving categories under it.",
                            name=_shown(parent)), field="parent")
    if parent_id != category.parent_id:
        _check_unique_names(parent_id, category.name_nl, category.name_en, exclude=category)
    old_parent_id, old_siblings = category.parent_id, _siblings(category.parent_id)
    old_index = old_siblings.index(category) + 1
    if parent_id == old_parent_id:
        siblings = [sibling for sibling in old_siblings if sibling is not category]
        index = old_index if position is None else position
    else:
        siblings = _siblings(parent_id)
        index = len(siblings) + 1 if position is None else position
    index = min(max(index, 1), len(siblings) + 1)
    if parent_id == old_parent_id and index == old_index:
        return
    if parent_id != old_parent_id:
        _renumber([sibling for sibling in old_siblings if sibling is not category])
        category.parent_id = parent_id
        category.parent = parent
    siblings.insert(index - 1, category)
    _renumber(siblings)
    where = parent.slug if parent is not None else "top level"
    audit.record(actor, "category.move", category, reason=f"to {where}, place {index}")


@atomic
def set_category_retired(actor: User, category: Category, retired: bool) -> None:
    """Retire a category (with its subcategories) or restore it.

    Retired categories take no new listings and leave the posting forms; listings already in
    them keep them. Restoring does not restore subcategories. Raises PermissionDenied, or
    DomainError when nothing would change or the parent of a category to restore is retired.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    if retired:
        if category.retired:
            raise DomainError(_("%(name)s is retired already.", name=_shown(category)))
        category.retired = True
        audit.record(actor, "category.retire", category)
        for child in category.children:
            if not child.retired:
                child.retired = True
                audit.record(actor, "category.retire", child,
                             reason=f"with its parent {category.slug}")
    else:
        if not category.retired:
            raise DomainError(_("%(name)s is not retired.", name=_shown(category)))
        if category.parent is not None and category.parent.retired:
            raise DomainError(_("%(name)s is under %(parent)s, which is retired: restore "
                                "%(parent)s first.", name=_shown(category),
                                parent=_shown(category.parent)))
        category.retired = False
        audit.record(actor, "category.restore", category)


@atomic
def delete_category(actor: User, category: Category) -> None:
    """Delete a category nothing refers to (with its impact factor).

    Raises PermissionDenied, or DomainError saying why and to retire it instead when
    listings, subcategories, wanted posts or alerts use it.
    """
    require(actor, Action.ADMINISTER_PLATFORM)
    use = category_use(category)
    if use.in_use:
        raise DomainError(_("%(name)s cannot be deleted: %(reasons)s. Retire it instead: it then "
                            "takes no new listings.", name=_shown(category),
                            reasons="; ".join(use.reasons())))
    audit.record(actor, "category.delete", category,
                 reason=f"slug {category.slug}; {category.name_nl} / {category.name_en}")
    parent_id = category.parent_id
    # The foreign key cascades, but SQLite only enforces that with its pragma on.
    db.session.execute(delete(ImpactFactor).where(ImpactFactor.category_id == category.id))
    db.session.delete(category)
    db.session.flush()
    _renumber(_siblings(parent_id))


def _shown(category: Category) -> str:
    """A category's name in the language of the page (or mail) being made."""
    return category.name(str(get_locale() or "en"))



def _clean_names(name_nl: str | None, name_en: str | None) -> tuple[str, str]:
    cleaned = []
    for field, name, missing in (("name_nl", name_nl, _("Enter the Dutch name.")),
                                 ("name_en", name_en, _("Enter the English name."))):
        name = " ".join((name or "").split())
        if not name:
            raise DomainError(missing, field=field)
        if len(name) > NAME_MAX_LENGTH:
            raise DomainError(_("Keep the name to %(max)d characters.", max=NAME_MAX_LENGTH),
                              field=field)
        cleaned.append(name)
    return cleaned[0], cleaned[1]


def _check_unique_names(parent_id: int | None, name_nl: str, name_en: str,
                        exclude: Category | None = None) -> None:
    for sibling in _siblings(parent_id):
        if sibling is exclude:
            continue
        if sibling.name_nl.casefold() == name_nl.casefold():
            raise DomainError(_("There is a category named %(name)s here already.",
                                name=sibling.name_nl), field="name_nl")
        if sibling.name_en.casefold() == name_en.casefold():
            raise DomainError(_("There is a category named %(name)s here already.",
                                name=sibling.name_en), field="name_en")


def _parent(parent_id: int | None) -> Category | None:
    """The parent to put a category under; a parent cannot have a parent itself."""
    if parent_id is None:
        return None
    parent = db.session.get(Category, parent_id)
    if parent is None:
        raise DomainError(_("Choose a parent category."), field="parent")
    if parent.parent_id is not None:
        raise DomainError(_("%(name)s is a subcategory itself, and categories go at most two "
                            "levels deep (the forms and search show two): choose a top-level "
                            "category.", name=_shown(parent)), field="parent")
    return parent


def _siblings(parent_id: int | None) -> list[Category]:
    where = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    return list(db.session.scalars(select(Category).where(where)
                                   .order_by(Category.position, Category.id)))


def _renumber(siblings: list[Category]) -> None:
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position


def _unique_slug(name: str) -> str:
    """ASCII, lower case, words joined by hyphens; -2, -3… when taken."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    base = _NON_SLUG.sub("-", ascii_name.lower()).strip("-") or "category"
    base = base[:SLUG_MAX_LENGTH - 4].rstrip("-")
    taken = set(db.session.scalars(select(Category.slug).where(Category.slug.like(f"{base}%"))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug
