"""The period the figures cover: presets, typed dates, and the checks on them (UTC days)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ...extensions import db
from ...localtime import local_today
from ...models import Listing

MAX_PERIOD_YEARS = 10
EARLIEST_DATE = date(2000, 1, 1)  # bounds for typed dates: no overflow, no year 1
LATEST_DATE = date(2099, 12, 31)


class Preset(enum.StrEnum):
    THIS_MONTH = "this_month"
    THIS_QUARTER = "this_quarter"
    LAST_QUARTER = "last_quarter"
    LAST_12_MONTHS = "last_12_months"
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"
    ALL_TIME = "all_time"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return str(PRESET_LABELS[self])


PRESET_LABELS = {
    Preset.THIS_MONTH: _l("This month"),
    Preset.THIS_QUARTER: _l("This quarter"),
    Preset.LAST_QUARTER: _l("Last quarter"),
    Preset.LAST_12_MONTHS: _l("Last 12 months"),
    Preset.THIS_YEAR: _l("This year"),
    Preset.LAST_YEAR: _l("Last year"),
    Preset.ALL_TIME: _l("All time"),
    Preset.CUSTOM: _l("Chosen dates"),
}
DEFAULT_PRESET = Preset.LAST_12_MONTHS


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included (UTC)."""

    start: date
    end: date
    preset: Preset = Preset.CUSTOM

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        months = []
        month = self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = _next_month(month)
        return months

    def slug(self) -> str:
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @classmethod
    def from_preset(cls, preset: Preset, today: date | None = None) -> Period:
        today = today or local_today()
        match preset:
            case Preset.THIS_MONTH:
                return cls(today.replace(day=1), today, preset)
            case Preset.THIS_QUARTER:
                return cls(_quarter_start(today), today, preset)
            case Preset.LAST_QUARTER:
                end = _quarter_start(today) - timedelta(days=1)
                return cls(_quarter_start(end), end, preset)
            case Preset.THIS_YEAR:
                return cls(today.replace(month=1, day=1), today, preset)
            case Preset.LAST_YEAR:
                return cls(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), preset)
            case Preset.ALL_TIME:
                first = _first_activity() or today
                return cls(max(first, _years_before(today)), today, preset)
        # The current month and the eleven before it: whole months in the chart.
        start = today.replace(day=1)
        for _month in range(11):
            start = (start - timedelta(days=1)).replace(day=1)
        return cls(start, today, Preset.LAST_12_MONTHS)


def parse_period(args: Mapping[str, str], today: date | None = None
                 ) -> tuple[Period, list[str]]:
    """The period a request asks for (`period` preset, or `from`/`to` dates), and messages for
    what could not be used. Bad input falls back to the default period; it never raises."""
    today = today or local_today()
    raw_preset = (args.get("period") or "").strip()
    raw_start = (args.get("from") or "").strip()[:20]
    raw_end = (args.get("to") or "").strip()[:20]
    try:
        preset = Preset(raw_preset) if raw_preset else None
    except ValueError:
        preset = None
    if preset is None and (raw_start or raw_end):
        preset = Preset.CUSTOM
    if preset is None:
        return Period.from_preset(DEFAULT_PRESET, today), []
    if preset is not Preset.CUSTOM:
        return Period.from_preset(preset, today), []
    return _custom_period(raw_start, raw_end, today)


def _custom_period(raw_start: str, raw_end: str, today: date) -> tuple[Period, list[str]]:
    """The typed dates as a period, or the default period with a message saying why not."""
    fallback = Period.from_preset(DEFAULT_PRESET, today)
    start, end = _parse_date(raw_start), _parse_date(raw_end)
    if (raw_start and start is None) or (raw_end and end is None):
        return fallback, [_("That is not a date we can use (dates between 2000 and 2099, as "
                            "YYYY-MM-DD); showing the last 12 months instead.")]
    start = start or fallback.start
    end = end or today
    if end < start:
        return fallback, [_("The end date is before the start date; showing the last 12 "
                            "months instead.")]
    messages = []
    earliest = _years_before(end)
    if start < earliest:
        start = earliest
        messages.append(_("A period can cover at most %(years)d years; it now starts on "
                          "%(start)s.", years=MAX_PERIOD_YEARS, start=start.isoformat()))
    return Period(start, end, Preset.CUSTOM), messages


def _parse_date(raw: str) -> date | None:
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if EARLIEST_DATE <= value <= LATEST_DATE else None


def _years_before(day: date, years: int = MAX_PERIOD_YEARS) -> date:
    try:
        return day.replace(year=day.year - years) + timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28) + timedelta(days=1)


def _quarter_start(day: date) -> date:
    """The first day of the quarter `day` is in (January, April, July, October)."""
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else month.replace(month=month.month + 1)


def _first_activity() -> date | None:
    first = db.session.scalar(select(func.min(Listing.published_at)))
    return first.date() if first else None
