"""Dates, times, numbers and amounts as people read them, in the language of the page or
email and the platform's time zone. Machine formats (form values, CSV for programs, calendar
files) stay ISO and are not made here."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel import Locale, dates, numbers

from .i18n import current_language
from .localtime import local_time, time_zone

# English is written the British way ("4 December 2026, 19:25", a 24-hour clock), not the
# American one; the language, its translations and its code stay "en".
_LOCALES = {"nl": Locale.parse("nl_NL"), "en": Locale.parse("en_GB")}
_DATETIME_PATTERNS = {"nl": "d MMMM y 'om' HH:mm", "en": "d MMMM y, HH:mm"}
_DATE_PATTERN = "d MMMM y"  # "4 december 2026", "4 December 2026"


def _language() -> str:
    language = current_language()
    return language if language in _LOCALES else "nl"


def format_locale() -> Locale:
    """The locale whose conventions the current language's dates and numbers follow."""
    return _LOCALES[_language()]


def datetime_text(value: datetime) -> str:
    """A moment in the platform's time zone: "4 december 2026 om 19:25"."""
    return dates.format_datetime(value, _DATETIME_PATTERNS[_language()], tzinfo=time_zone(),
                                 locale=format_locale())


def date_text(value: date | datetime) -> str:
    """A day: "4 december 2026"; a moment gives its day in the platform's time zone."""
    day = local_time(value).date() if isinstance(value, datetime) else value
    return dates.format_date(day, _DATE_PATTERN, locale=format_locale())


def window_text(starts: datetime, ends: datetime) -> str:
    """A pick-up window: "di 8 dec, 09:00-12:00" ("Tue 8 Dec, …"), local time, with an en
    dash between the times."""
    starts, ends = local_time(starts), local_time(ends)
    day = dates.format_date(starts.date(), "EEE d MMM", locale=format_locale()).replace(".", "")
    return f"{day}, {starts:%H:%M}\u2013{ends:%H:%M}"


def number_text(value: float | int | Decimal) -> str:
    """A number: "3,3" in Dutch, "3.3" in English (thousands grouped)."""
    return numbers.format_decimal(value, locale=format_locale())


def factor_text(value: Decimal) -> str:
    """A factor with every decimal it has: "0,25023" in Dutch, "0.25023" in English (where
    number_text stops at three)."""
    return numbers.format_decimal(value, format="#,##0.##########", locale=format_locale())


def money_text(value: float | int | Decimal, *, cents: bool = True) -> str:
    """An amount in euros: "€ 1.234,50" in Dutch, "€1,234.50" in English; without `cents`,
    rounded to whole euros ("€ 1.235")."""
    locale = format_locale()
    if cents:
        return numbers.format_currency(value, "EUR", locale=locale)
    pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
    return numbers.format_currency(value, "EUR", format=pattern, currency_digits=False,
                                   locale=locale)
