"""Which devices a field safety notice concerns: the one rule, used when a notice is recorded
(services/safety_notices.py) and when a listing is submitted (services/listings.py, which may
not import safety_notices: that imports moderation, which imports listings).

A device matches when its UDI-DI is the notice's (leading zeros ignored: a GTIN-13 is the
GTIN-14 with a 0 before it), or its manufacturer and model are (case and spaces ignored); and,
when the notice names serial or lot numbers, one of its numbers is among them. A device whose
numbers were not recorded matches too: nobody can say it is not affected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from ..extensions import db
from ..models import DevicePassport, Listing, SafetyNotice

_NUMBERED = re.compile(r"^(.*?)(\d+)$")  # "SN01000" → ("SN", "01000")
_SEPARATORS = re.compile(r"[\n\r,;]+")


def compact(text: str | None) -> str:
    """Case and spaces ignored, as manufacturers' names and models are compared."""
    return "".join((text or "").split()).lower()


def _compact_sql(column: Any) -> ColumnElement[str]:
    return func.replace(func.lower(column), " ", "")


def serial(text: str) -> str:
    """A serial or lot number as compared: without spaces, in capitals."""
    return "".join(text.split()).upper()


def serials_of(text: str | None) -> list[str]:
    """The serial or lot numbers in a text: one a line (commas and semicolons also part)."""
    return [serial(part) for part in _SEPARATORS.split(text or "") if part.strip()]


def numbered(text: str) -> tuple[str, int] | None:
    """("SN", 1000) for "SN1000": the letters before the number and the number."""
    match = _NUMBERED.match(text)
    return (match.group(1), int(match.group(2))) if match else None


def serial_rule(notice: SafetyNotice) -> Callable[[str | None], bool]:
    """Whether a device's serial or lot numbers (a passport's text) fall under the notice."""
    listed = set(serials_of(notice.serials_listed))
    first = numbered(serial(notice.serials_from or ""))
    last = numbered(serial(notice.serials_to or ""))
    if not listed and (first is None or last is None):
        return lambda _numbers: True

    def in_range(number: str) -> bool:
        parts = numbered(number)
        return (first is not None and last is not None and parts is not None
                and parts[0] == first[0] and first[1] <= parts[1] <= last[1])

    def applies(numbers: str | None) -> bool:
        serials = serials_of(numbers)
        if not serials:
            return True  # not recorded: it may be one of them
        return any(number in listed or in_range(number) for number in serials)

    return applies


def device_condition(notice: SafetyNotice, udi_column: Any, manufacturer_column: Any,
                     model_column: Any) -> ColumnElement[bool]:
    """SQL: the row's device (its UDI-DI, manufacturer and model columns) is the notice's."""
    conditions: list[ColumnElement[bool]] = []
    if notice.udi_di:
        conditions.append(func.ltrim(udi_column, "0") == notice.udi_di.lstrip("0"))
    if notice.manufacturer and notice.model:
        conditions.append(and_(_compact_sql(manufacturer_column) == compact(notice.manufacturer),
                               _compact_sql(model_column) == compact(notice.model)))
    return or_(*conditions) if conditions else false()


def notice_concerning(passport: DevicePassport | None) -> SafetyNotice | None:
    """The newest notice that concerns the device of `passport`, if any."""
    if passport is None:
        return None
    conditions: list[ColumnElement[bool]] = []
    if passport.udi_di:
        conditions.append(func.ltrim(SafetyNotice.udi_di, "0") == passport.udi_di.lstrip("0"))
    if passport.manufacturer and passport.model:
        conditions.append(and_(
            _compact_sql(SafetyNotice.manufacturer) == compact(passport.manufacturer),
            _compact_sql(SafetyNotice.model) == compact(passport.model)))
    if not conditions:
        return None
    for notice in db.session.scalars(select(SafetyNotice).where(or_(*conditions))
                                     .order_by(SafetyNotice.created_at.desc())):
        if serial_rule(notice)(passport.serial_numbers):
            return notice
    return None


def held_by_notice(listing: Listing) -> bool:
    """Whether a field safety notice concerns the listing's device: it waits for review."""
    return notice_concerning(listing.passport) is not None
