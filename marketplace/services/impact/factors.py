"""CO₂e factors: which one each category gets (its own, its nearest ancestor's, the floor), the
table of factors in use, and changing them (platform admins, audited)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Category, ImpactFactor, User
from ...security import Action, require
from ...unit_of_work import atomic
from .. import audit
from ..errors import DomainError
from .rounding import KG, ZERO

FACTOR_MAX = Decimal(100)


@dataclass(frozen=True)
class CategoryName:
    id: int | None
    slug: str
    name_nl: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_nl if language == "nl" else self.name_en


@dataclass(frozen=True)
class FactorInUse:
    """One row of the factor table: whose factor, how much, where from."""

    factor: ImpactFactor
    category: CategoryName | None  # None: the floor
    parent: CategoryName | None
    value: Decimal
    source: str


@dataclass(frozen=True)
class FactorChoice:
    """The factor a category gets, and where it was found."""

    value: Decimal
    factor_id: int | None
    inherited_from: int | None  # the ancestor category, or None for its own / the floor
    floor: bool


class FactorBook:
    """Every category's CO₂e factor: its own, else its nearest ancestor's, else the floor."""

    def __init__(self) -> None:
        self.parents: dict[int, int | None] = dict(db.session.execute(
            select(Category.id, Category.parent_id)).all())
        self.factors: dict[int | None, ImpactFactor] = {
            factor.category_id: factor for factor in db.session.scalars(select(ImpactFactor))}
        self._cache: dict[int, FactorChoice] = {}

    def for_category(self, category_id: int) -> FactorChoice:
        if category_id not in self._cache:
            self._cache[category_id] = self._lookup(category_id)
        return self._cache[category_id]

    def _lookup(self, category_id: int) -> FactorChoice:
        current: int | None = category_id
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            factor = self.factors.get(current)
            if factor is not None:
                return FactorChoice(Decimal(factor.kg_co2e_per_kg), factor.id,
                                    None if current == category_id else current, floor=False)
            current = self.parents.get(current)
        floor = self.factors.get(None)
        if floor is None:
            return FactorChoice(ZERO, None, None, floor=True)
        return FactorChoice(Decimal(floor.kg_co2e_per_kg), floor.id, None, floor=True)


def factor_for(category: Category) -> FactorChoice:
    """The factor `category` gets (own, parent's, floor)."""
    return FactorBook().for_category(category.id)


def category_names() -> dict[int, CategoryName]:
    """Every category's slug and names, by id."""
    return {row.id: CategoryName(row.id, row.slug, row.name_nl, row.name_en)
            for row in db.session.execute(
                select(Category.id, Category.slug, Category.name_nl, Category.name_en))}


def unknown_category(category_id: int) -> CategoryName:
    """A name for a category that is gone: its id."""
    return CategoryName(category_id, str(category_id), str(category_id), str(category_id))


def factors_in_use() -> list[FactorInUse]:
    """Every factor with its category (None for the floor) and source: categories in tree
    order as the category pages show them, the floor last."""
    names = category_names()
    parents = dict(db.session.execute(select(Category.id, Category.parent_id)).all())
    positions = dict(db.session.execute(select(Category.id, Category.position)).all())

    def sort_key(factor: ImpactFactor) -> tuple:
        if factor.category_id is None:
            return (1, ())
        current: int | None = factor.category_id
        path, seen = [], set()
        while current is not None and current not in seen:
            seen.add(current)
            path.append((positions.get(current, 0), names[current].name_en))
            current = parents.get(current)
        return (0, tuple(reversed(path)))

    rows = []
    for factor in sorted(db.session.scalars(select(ImpactFactor)), key=sort_key):
        category = names.get(factor.category_id) if factor.category_id else None
        parent_id = parents.get(factor.category_id) if factor.category_id else None
        rows.append(FactorInUse(factor, category, names.get(parent_id) if parent_id else None,
                                Decimal(factor.kg_co2e_per_kg), factor.source))
    return rows


def categories_without_factor() -> list[Category]:
    """Categories that borrow their factor (from an ancestor or the floor)."""
    own = select(ImpactFactor.category_id).where(ImpactFactor.category_id.is_not(None))
    return list(db.session.scalars(select(Category).where(Category.id.not_in(own))
                                   .order_by(Category.position, Category.name_en)))


@atomic
def update_factor(actor: User, factor: ImpactFactor, value: Decimal | str,
                  source: str) -> ImpactFactor:
    """Change a factor (platform admins). Raises DomainError for a value outside 0 to 100 or an
    empty source, PermissionDenied for others; writes `impact_factor.update` with old → new."""
    require(actor, Action.ADMINISTER_PLATFORM)
    new_value, new_source = _valid_factor(value, source)
    old_value, old_source = Decimal(factor.kg_co2e_per_kg), factor.source
    factor.kg_co2e_per_kg = new_value
    factor.source = new_source
    factor.updated_by_id = actor.id
    reason = change_reason(f"{_plain(old_value)} → {_plain(new_value)} kg CO2e/kg",
                           old_source, new_source)
    audit.record(actor, "impact_factor.update", factor, reason=reason,
                 label=_factor_label(factor))
    return factor


@atomic
def set_factor(actor: User, category: Category, value: Decimal | str,
               source: str) -> ImpactFactor:
    """Give `category` a factor of its own (or change the one it has), platform admins only;
    writes `impact_factor.create` for a new one."""
    require(actor, Action.ADMINISTER_PLATFORM)
    existing = db.session.scalar(select(ImpactFactor).where(
        ImpactFactor.category_id == category.id))
    if existing is not None:
        return update_factor(actor, existing, value, source)
    new_value, new_source = _valid_factor(value, source)
    inherited = factor_for(category)
    factor = ImpactFactor(category=category, kg_co2e_per_kg=new_value, source=new_source,
                          updated_by_id=actor.id)
    db.session.add(factor)
    db.session.flush()
    audit.record(actor, "impact_factor.create", factor, label=_factor_label(factor),
                 reason=f"{_plain(inherited.value)} (borrowed) → {_plain(new_value)} kg CO2e/kg")
    return factor


def _valid_factor(value: Decimal | str, source: str) -> tuple[Decimal, str]:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip()
                                                                   .replace(",", "."))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not ZERO <= number <= FACTOR_MAX:
        raise DomainError(_("Give a number from 0 to 100 (kilograms of CO₂e per kilogram)."),
                          field="value")
    return number.quantize(KG, rounding=ROUND_HALF_UP), valid_source(source)


def change_reason(change: str, old_source: str, new_source: str) -> str:
    """The audit reason of a changed setting: `change` (old → new), and the source's old → new
    when it changed too, cut to what the audit log keeps."""
    if old_source != new_source:
        change += f"; source: {old_source} → {new_source}"
    return change[:4000]


def valid_source(source: str) -> str:
    """The source of a number an admin sets, trimmed. Raises DomainError when it is empty or
    longer than the column holds."""
    source = (source or "").strip()
    if not source:
        raise DomainError(_("Say where the number comes from: it is shown next to it."),
                          field="source")
    if len(source) > 1000:
        raise DomainError(_("Keep the source under 1,000 characters."), field="source")
    return source


def _factor_label(factor: ImpactFactor) -> str:
    if factor.category is None:
        return "Impact factor: floor"
    return f"Impact factor: {factor.category.name_en}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
