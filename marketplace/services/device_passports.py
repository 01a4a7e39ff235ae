"""Device passports of medical listings (issue 20): what a category requires and the checks on
the values (UDI-DI a GS1 GTIN, years and dates, single use). The instructions for use, an
uploaded PDF, are checked and kept by instructions_for_use.py; `apply_passport` takes a staged
one over in the listing's unit of work.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from stdnum import ean

from ..extensions import db
from ..localtime import local_today
from ..models import PASSPORT_FIELDS, Category, DevicePassport, Listing, User
from ..security import Action, require
from ..unit_of_work import atomic
from . import audit
from .errors import DomainError
from .instructions_for_use import StagedInstructions, delete_unreferenced_after_commit

log = logging.getLogger(__name__)

EARLIEST_YEAR = 1950

# The default categories of medical devices and the passport fields they require (migration
# 0023 marks the same on a platform that exists).
DEFAULT_MEDICAL_CATEGORIES = {
    "mobility": "manufacturer,model,year_of_manufacture",
    "care-beds": "manufacturer,model,year_of_manufacture,last_maintenance_on",
    "lifting": "manufacturer,model,year_of_manufacture,last_maintenance_on",
    "monitoring": "manufacturer,model,year_of_manufacture,last_safety_test_on",
}

# The form field each passport field's error belongs to.
FIELD_PREFIX = "passport_"


def field_name(name: str) -> str:
    return FIELD_PREFIX + ("instructions_file" if name == "instructions" else name)


def field_labels() -> dict[str, str]:
    """The passport fields a category may require, by name, as the admin form and messages
    call them."""
    return {
        "manufacturer": _("Manufacturer"),
        "model": _("Model"),
        "single_use": _("Single use or reusable"),
        "ce_marked": _("CE marking"),
        "udi_di": _("UDI-DI (GTIN)"),
        "serial_numbers": _("Serial or lot numbers"),
        "year_of_manufacture": _("Year of manufacture"),
        "last_maintenance_on": _("Last maintenance"),
        "last_safety_test_on": _("Last electrical safety test"),
        "instructions": _("Instructions for use"),
    }


def required_fields(category: Category | None) -> list[str]:
    """The passport fields `category` requires, in PASSPORT_FIELDS order ([] when it holds no
    medical devices)."""
    if category is None or not category.medical_device:
        return []
    named = {part.strip() for part in (category.passport_requirements or "").split(",")}
    return [name for name in PASSPORT_FIELDS if name in named]


def requirements_text(names: list[str]) -> str:
    """Category.passport_requirements for the chosen names (unknown ones left out)."""
    return ",".join(name for name in PASSPORT_FIELDS if name in set(names))


def ensure_default_medical_categories() -> None:
    """Mark the default medical categories when no category is marked yet (a new platform, a
    test database); an admin's later choices stay."""
    if db.session.scalar(select(Category.id).where(Category.medical_device).limit(1)):
        return
    for category in db.session.scalars(
            select(Category).where(Category.slug.in_(DEFAULT_MEDICAL_CATEGORIES))):
        category.medical_device = True
        category.passport_requirements = DEFAULT_MEDICAL_CATEGORIES[category.slug]


def medical_categories() -> list[Category]:
    """The categories whose listings carry a passport (for the form's toggle)."""
    return list(db.session.scalars(select(Category).where(Category.medical_device)
                                   .order_by(Category.id)))


@atomic
def set_medical_device(actor: User, category: Category, medical: bool,
                       requirements: list[str]) -> None:
    """Mark `category` as holding medical devices (or not) and choose the passport fields its
    listings must fill in before they are published; audited. Raises PermissionDenied, or
    DomainError for a field name not in PASSPORT_FIELDS."""
    require(actor, Action.ADMINISTER_PLATFORM)
    unknown = set(requirements) - set(PASSPORT_FIELDS)
    if unknown:
        raise DomainError(_("Choose among the passport's fields."), field="requirements")
    text = requirements_text(requirements) if medical else ""
    if (category.medical_device, category.passport_requirements) == (medical, text):
        return
    previous = (f"was: {'medical device' if category.medical_device else 'not medical'}"
                f" [{category.passport_requirements}]")
    category.medical_device, category.passport_requirements = medical, text
    audit.record(actor, "category.medical_device", category, reason=previous)


# --- UDI-DI --------------------------------------------------------------------------------------

def normalise_gtin(value: str) -> str:
    """The GS1 GTIN in `value` as 14 digits (GTIN-8, -12 and -13 padded with zeros); spaces and
    a leading "(01)" application identifier are allowed. Raises DomainError on the field."""
    text = re.sub(r"[\s.-]", "", value or "")
    if text.startswith("(01)"):
        text = text[4:]
    if not text.isdigit() or not text.isascii():
        raise DomainError(_("A UDI-DI is a GTIN of 8, 12, 13 or 14 digits, without letters."),
                          field=field_name("udi_di"))
    if len(text) not in (8, 12, 13, 14):
        raise DomainError(_("A UDI-DI is a GTIN of 8, 12, 13 or 14 digits; this one has "
                            "%(count)d.", count=len(text)), field=field_name("udi_di"))
    gtin = text.zfill(14)
    if not ean.is_valid(gtin):
        raise DomainError(_("This UDI-DI's check digit is wrong: check the number on the label."),
                          field=field_name("udi_di"))
    return gtin


# --- the passport on a listing ----------------------------------------------------------------

@dataclass
class PassportDetails:
    """What the poster fills in of the passport (the form's Apparaatpaspoort fieldset)."""

    manufacturer: str | None = None
    model: str | None = None
    single_use: bool | None = None
    ce_marked: bool | None = None
    udi_di: str | None = None
    serial_numbers: str | None = None
    year_of_manufacture: int | None = None
    last_maintenance_on: date | None = None
    last_safety_test_on: date | None = None
    instructions_url: str | None = None
    instructions: StagedInstructions | None = None  # a new upload (replaces the one it had)
    remove_instructions: bool = False
    history_notes: str | None = None

    def is_empty(self) -> bool:
        return not any((self.manufacturer, self.model, self.single_use is not None,
                        self.ce_marked is not None, self.udi_di, self.serial_numbers,
                        self.year_of_manufacture, self.last_maintenance_on,
                        self.last_safety_test_on, self.instructions_url, self.instructions,
                        self.history_notes))


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _check_url(url: str | None) -> str | None:
    url = _text(url)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise DomainError(_("Enter a web address that starts with https:// or http://."),
                          field=field_name("instructions_url"))
    return url


def _missing_message(name: str) -> str:
    if name == "instructions":
        return _("This category asks for the instructions for use: upload the PDF or link to "
                 "the manufacturer's.")
    return _("This category asks for this field of the device passport: %(field)s.",
             field=field_labels()[name])


def apply_passport(listing: Listing, category: Category | None, details: PassportDetails | None,
                   draft: bool) -> None:
    """Check the passport and put it on `listing` (in the caller's unit of work, after the
    listing's own fields are applied). Raises DomainError(field=…) for the first problem. A
    `draft` may leave required fields empty; what it fills in must be right. A listing outside a
    medical category keeps no passport (a draft without a category keeps what it was given);
    `details` None leaves the passport as it is."""
    if details is None:  # not from the posting form (the demo, other callers): left as it is
        return
    medical = category is not None and category.medical_device
    if not medical and (category is not None or details.is_empty()):
        if listing.passport is not None:
            delete_unreferenced_after_commit(listing.passport.instructions_key)
            db.session.delete(listing.passport)
            listing.passport = None
        return
    checked = _checked(listing, details)
    passport = listing.passport or DevicePassport()
    old_key = passport.instructions_key
    for name, value in checked.items():
        setattr(passport, name, value)
    if details.instructions is not None:
        staged = details.instructions
        passport.instructions_key = staged.key
        passport.instructions_filename = staged.filename
        passport.instructions_bytes = staged.size
        passport.instructions_sha256 = staged.sha256
    elif details.remove_instructions:
        passport.instructions_key = passport.instructions_filename = None
        passport.instructions_bytes = None
        passport.instructions_sha256 = None
    if not draft:
        for name in required_fields(category):
            if not _has(passport, name):
                raise DomainError(_missing_message(name), field=field_name(name))
        _check_single_use_offered(listing, passport)
    if listing.passport is None:
        listing.passport = passport
    if old_key and old_key != passport.instructions_key:
        delete_unreferenced_after_commit(old_key)


# What "post similar" takes over of a passport: what the device is and its instructions; the
# serials, year and dates belong to the units of one batch.
_COPIED = ("manufacturer", "model", "single_use", "ce_marked", "udi_di", "instructions_url",
           "instructions_key", "instructions_filename", "instructions_bytes",
           "instructions_sha256")


def copy_passport(source: DevicePassport | None) -> DevicePassport | None:
    """A new passport for "post similar", with what `source` says of the device itself."""
    if source is None:
        return None
    return DevicePassport(**{name: getattr(source, name) for name in _COPIED})


def _has(passport: DevicePassport, name: str) -> bool:
    if name == "instructions":
        return bool(passport.instructions_key or passport.instructions_url)
    value = getattr(passport, name)
    return value is not None and value != ""


def _checked(listing: Listing, details: PassportDetails) -> dict[str, Any]:
    """The passport's values, checked and tidied; raises DomainError(field=…)."""
    today = local_today()
    year = details.year_of_manufacture
    if year is not None and not EARLIEST_YEAR <= year <= today.year:
        raise DomainError(_("Enter a year of manufacture from %(first)d to %(last)d.",
                            first=EARLIEST_YEAR, last=today.year),
                          field=field_name("year_of_manufacture"))
    for name in ("last_maintenance_on", "last_safety_test_on"):
        value = getattr(details, name)
        if value is not None and value > today:
            raise DomainError(_("This date cannot be in the future."), field=field_name(name))
        if value is not None and value.year < EARLIEST_YEAR:
            raise DomainError(_("Enter a date from %(year)d on.", year=EARLIEST_YEAR),
                              field=field_name(name))
    if details.single_use:
        # MDR 2017/745: a single-use device is not reprocessed here; only a sealed one whose
        # expiry has not passed can be passed on as it was made.
        if listing.packaging_unopened is False:
            raise DomainError(_("A single-use device can only be offered with its packaging "
                                "unopened."), field="packaging_unopened")
        if listing.best_before is not None and listing.best_before < today:
            raise DomainError(_("A single-use device past its expiry date cannot be offered."),
                              field="best_before")
    serials = "\n".join(line.strip() for line in (details.serial_numbers or "").splitlines()
                        if line.strip())
    return {
        "manufacturer": _text(details.manufacturer),
        "model": _text(details.model),
        "single_use": details.single_use,
        "ce_marked": details.ce_marked,
        "udi_di": normalise_gtin(details.udi_di or "") if _text(details.udi_di) else None,
        "serial_numbers": serials or None,
        "year_of_manufacture": year,
        "last_maintenance_on": details.last_maintenance_on,
        "last_safety_test_on": details.last_safety_test_on,
        "instructions_url": _check_url(details.instructions_url),
        "history_notes": _text(details.history_notes),
    }


def _check_single_use_offered(listing: Listing, passport: DevicePassport) -> None:
    """Before a single-use device leaves the draft state: its packaging said unopened and its
    expiry date given (the draft may still lack them)."""
    if not passport.single_use:
        return
    if listing.packaging_unopened is not True:
        raise DomainError(_("A single-use device can only be offered with its packaging "
                            "unopened: say so under \"Packaging unopened\"."),
                          field="packaging_unopened")
    if listing.best_before is None:
        raise DomainError(_("Give the expiry date of the single-use device as its best-before "
                            "date."), field="best_before")
