"""Green Deal terms, the settings: each category's material class (its own, its nearest
ancestor's, else mixed) and the transport and displacement numbers; changing them (platform
admins, audited). The figures that use them are in green_deal.py."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import (
    DEFAULT_GREEN_DEAL_FACTORS,
    Category,
    CategoryMaterial,
    GreenDealFactor,
    GreenDealSetting,
    MaterialClass,
    User,
)
from ...models.material import DISPLACEMENT_NOT_SET
from ...security import Action, require
from ...unit_of_work import atomic
from .. import audit
from ..errors import DomainError
from .factors import change_reason, valid_source

# What each setting is, its unit, the numbers it may take, and whether it may be left unset.
SETTING_NAMES = {
    GreenDealSetting.TRANSPORT_FACTOR: _l("CO₂e of a delivery van per kilometre driven"),
    GreenDealSetting.DETOUR_FACTOR: _l("Detour factor (road distance over straight-line "
                                       "distance)"),
    GreenDealSetting.DISPLACEMENT_RATE: _l("Displacement rate (share of reused items that "
                                           "replace a purchase)"),
}
SETTING_UNITS = {
    GreenDealSetting.TRANSPORT_FACTOR: _l("kg CO₂e per vehicle-km"),
    GreenDealSetting.DETOUR_FACTOR: _l("road km per straight-line km"),
    GreenDealSetting.DISPLACEMENT_RATE: _l("share, from 0 to 1"),
}
SETTING_RANGES = {
    GreenDealSetting.TRANSPORT_FACTOR: (Decimal(0), Decimal(5)),
    GreenDealSetting.DETOUR_FACTOR: (Decimal(1), Decimal(3)),
    GreenDealSetting.DISPLACEMENT_RATE: (Decimal(0), Decimal(1)),
}
OPTIONAL_SETTINGS = frozenset({GreenDealSetting.DISPLACEMENT_RATE})
SETTING_PLACES = Decimal("0.00001")
# A hand-over is collected: the receiver drives to the giver's site and back.
TRIPS_PER_HAND_OVER = 2


@dataclass(frozen=True)
class SettingInUse:
    """One Green Deal setting as the figures use it (value None: not set)."""

    setting: GreenDealSetting
    value: Decimal | None
    source: str
    row: GreenDealFactor | None

    @property
    def name(self) -> str:
        return str(SETTING_NAMES[self.setting])

    @property
    def unit(self) -> str:
        return str(SETTING_UNITS[self.setting])


@dataclass(frozen=True)
class CategoryMaterialInUse:
    """A category's material class, and whether it is its own or borrowed."""

    category: Category
    material_class: MaterialClass
    source: str
    own: CategoryMaterial | None


class MaterialBook:
    """Every category's material class: its own, else its nearest ancestor's, else mixed."""

    def __init__(self) -> None:
        self.parents: dict[int, int | None] = dict(db.session.execute(
            select(Category.id, Category.parent_id)).all())
        self.own: dict[int, CategoryMaterial] = {
            row.category_id: row for row in db.session.scalars(select(CategoryMaterial))}

    def mapping_of(self, category_id: int) -> CategoryMaterial | None:
        """The row that decides `category_id`'s class (its own or an ancestor's), if any."""
        current: int | None = category_id
        seen: set[int] = set()
        while current is not None and current not in seen:
            seen.add(current)
            if current in self.own:
                return self.own[current]
            current = self.parents.get(current)
        return None

    def class_of(self, category_id: int) -> MaterialClass:
        mapping = self.mapping_of(category_id)
        return mapping.material_class if mapping is not None else MaterialClass.MIXED


def settings_in_use() -> dict[GreenDealSetting, SettingInUse]:
    """Every setting with its value and source; a missing row counts as its default."""
    rows = {row.setting: row for row in db.session.scalars(select(GreenDealFactor))}
    result = {}
    for setting, default, source in DEFAULT_GREEN_DEAL_FACTORS:
        row = rows.get(setting)
        if row is None:
            result[setting] = SettingInUse(setting, Decimal(default) if default else None,
                                           _shown(source), None)
        else:
            value = Decimal(row.value) if row.value is not None else None
            result[setting] = SettingInUse(setting, value, _shown(row.source), row)
    return result


def _shown(source: str) -> str:
    """A source as written, except our own seeded sentence, which speaks the page's language."""
    if source == DISPLACEMENT_NOT_SET:
        return _("Not set: the figures assume every reused item replaces a purchase.")
    return source


def category_materials() -> list[CategoryMaterialInUse]:
    """Every category with its material class, in the order of the category pages."""
    book = MaterialBook()
    rows = []
    categories = db.session.scalars(select(Category).order_by(Category.position,
                                                              Category.name_en))
    for category in _tree_order(list(categories)):
        mapping = book.mapping_of(category.id)
        rows.append(CategoryMaterialInUse(
            category, mapping.material_class if mapping else MaterialClass.MIXED,
            mapping.source if mapping else "", book.own.get(category.id)))
    return rows


def _tree_order(categories: list[Category]) -> list[Category]:
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    ordered: list[Category] = []

    def visit(parent_id: int | None) -> None:
        for category in children.get(parent_id, []):
            ordered.append(category)
            visit(category.id)

    visit(None)
    return ordered


@atomic
def set_category_material(actor: User, category: Category, material_class: MaterialClass | str,
                          source: str) -> CategoryMaterial:
    """Give `category` a material class of its own (platform admins). Raises DomainError for an
    unknown class or an empty source, PermissionDenied for others; writes
    `category_material.update` with old → new."""
    require(actor, Action.ADMINISTER_PLATFORM)
    try:
        new_class = MaterialClass(material_class)
    except ValueError:
        raise DomainError(_("Choose one of the material classes."),
                          field="material_class") from None
    new_source = valid_source(source)
    row = db.session.scalar(select(CategoryMaterial).where(
        CategoryMaterial.category_id == category.id))
    old = MaterialBook().class_of(category.id)
    if row is None:
        row = CategoryMaterial(category_id=category.id, material_class=new_class)
        db.session.add(row)
    old_source = row.source or ""
    row.material_class, row.source, row.updated_by_id = new_class, new_source, actor.id
    db.session.flush()
    reason = change_reason(f"{old.value} → {new_class.value}", old_source, new_source)
    audit.record(actor, "category_material.update", row, reason=reason,
                 label=f"Material class: {category.name_en}")
    return row


@atomic
def update_green_deal_setting(actor: User, setting: GreenDealSetting, value: Decimal | str | None,
                              source: str) -> GreenDealFactor:
    """Change a transport or displacement setting (platform admins). An empty value leaves the
    displacement rate unset; the others are required. Raises DomainError for a number out of
    range or an empty source; writes `green_deal_factor.update` with old → new."""
    require(actor, Action.ADMINISTER_PLATFORM)
    new_value = _valid_setting_value(setting, value)
    new_source = valid_source(source)
    row = db.session.scalar(select(GreenDealFactor).where(GreenDealFactor.setting == setting))
    if row is None:
        row = GreenDealFactor(setting=setting)
        db.session.add(row)
    old_value, old_source = row.value, row.source or ""
    row.value, row.source, row.updated_by_id = new_value, new_source, actor.id
    db.session.flush()
    reason = change_reason(f"{setting.value}: {_plain(old_value)} → {_plain(new_value)}",
                           old_source, new_source)
    audit.record(actor, "green_deal_factor.update", row, reason=reason,
                 label=f"Green Deal setting: {setting.value}")
    return row


def _valid_setting_value(setting: GreenDealSetting,
                         value: Decimal | str | None) -> Decimal | None:
    text = "" if value is None else str(value).strip().replace(",", ".")
    if not text and setting in OPTIONAL_SETTINGS:
        return None
    try:
        number: Decimal | None = value if isinstance(value, Decimal) else Decimal(text)
    except (InvalidOperation, ValueError):
        number = None
    low, high = SETTING_RANGES[setting]
    if number is None or not number.is_finite() or not low <= number <= high:
        raise DomainError(_("Give a number from %(low)s to %(high)s.", low=_plain(low),
                            high=_plain(high)), field="value")
    return number.quantize(SETTING_PLACES, rounding=ROUND_HALF_UP)


def _plain(value: Decimal | None) -> str:
    if value is None:
        return "not set"
    return format(Decimal(value).normalize(), "f")
