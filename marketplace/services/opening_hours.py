"""A site's opening hours: read from what an organisation admin types (one line per weekday,
"08:00-16:30", a lunch break as "08:00-12:00, 13:00-16:30", a closed day empty), stored as one
short text on the site, and asked whether a pick-up window fits.

No hours at all means "not known": any window may be agreed (we never assume office hours).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import pairwise

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..localtime import time_zone
from ..models import Site
from .errors import DomainError

WEEKDAYS = 7  # Monday first, as date.weekday() counts
MAX_WINDOWS_PER_DAY = 3
# The form's fields, one per weekday: hours_0 (Monday) … hours_6 (Sunday).
HOURS_FIELDS = tuple(f"hours_{day}" for day in range(WEEKDAYS))
WEEKDAY_NAMES = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
                 _l("Saturday"), _l("Sunday"))

# "9:00", "09.00", "0900" and "9" are all nine o'clock: people type times in many ways.
_TIME = re.compile(r"^\s*([01]?\d|2[0-3])(?:\s*[:.]?\s*([0-5]\d))?\s*$")
# Between two times: a hyphen, an en or em dash, or "tot"/"to".
_RANGE = re.compile(r"\s*(?:-|\u2013|\u2014|\btot\b|\bto\b)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """From `opens` until `closes` on one day (`opens` < `closes`)."""

    opens: time
    closes: time

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}\u2013{self.closes:%H:%M}"  # an en dash

    def holds(self, starts: time, ends: time) -> bool:
        return self.opens <= starts and ends <= self.closes


Week = tuple[tuple[Window, ...], ...]  # seven days, Monday first; () is closed


def parse_time(text: str | None) -> time | None:
    """A time of day as people type it ("9:00", "09.30", "1630"), or None when it is none."""
    match = _TIME.match(text or "")
    if not match:
        return None
    return time(int(match.group(1)), int(match.group(2) or 0))


def _parse_day(text: str) -> tuple[Window, ...] | None:
    """The windows of one day's text (empty: closed), or None when it cannot be read."""
    windows: list[Window] = []
    for part in (piece for piece in re.split(r"[,;&]|\ben\b|\band\b", text) if piece.strip()):
        ends = _RANGE.split(part.strip())
        if len(ends) != 2:
            return None
        opens, closes = parse_time(ends[0]), parse_time(ends[1])
        if opens is None or closes is None or not opens < closes:
            return None
        windows.append(Window(opens, closes))
    windows.sort(key=lambda window: window.opens)
    if len(windows) > MAX_WINDOWS_PER_DAY or any(
            earlier.closes > later.opens for earlier, later in pairwise(windows)):
        return None
    return tuple(windows)


def parse_week(texts: Sequence[str | None]) -> str | None:
    """The stored form of seven typed days (Monday first); None when every day is empty (the
    hours are not known). Raises DomainError on the field of the first day it cannot read."""
    days: list[tuple[Window, ...]] = []
    for number, text in enumerate(list(texts)[:WEEKDAYS]):
        windows = _parse_day(text or "")
        if windows is None:
            raise DomainError(_("Write the hours as 08:00-16:30, a break as 08:00-12:00, "
                                "13:00-16:30; leave a closed day empty."),
                              field=HOURS_FIELDS[number])
        days.append(windows)
    days += [()] * (WEEKDAYS - len(days))
    if not any(days):
        return None
    return "|".join(",".join(f"{w.opens:%H:%M}-{w.closes:%H:%M}" for w in day) for day in days)


def week_of(site: Site) -> Week | None:
    """The site's opening hours, Monday first; None when they are not known."""
    if not site.opening_hours:
        return None
    parts = (site.opening_hours.split("|") + [""] * WEEKDAYS)[:WEEKDAYS]
    # Stored by parse_week, so it reads; a hand-edited row that does not counts as closed.
    return tuple(_parse_day(part) or () for part in parts)


def day_texts(site: Site | None) -> list[str]:
    """What the form shows for each weekday: "08:00-16:30", "08:00-12:00, 13:00-16:30", ""."""
    week = week_of(site) if site is not None else None
    if week is None:
        return [""] * WEEKDAYS
    return [", ".join(f"{w.opens:%H:%M}-{w.closes:%H:%M}" for w in day) for day in week]


def windows_on(site: Site, day: date) -> tuple[Window, ...] | None:
    """The site's opening windows on `day`; () when closed, None when not known."""
    week = week_of(site)
    return None if week is None else week[day.weekday()]


def weekday_name(day: date) -> str:
    return str(WEEKDAY_NAMES[day.weekday()])


def local_moment(day: date, at: time) -> datetime:
    """`at` on `day` in the platform's time zone, as an aware datetime."""
    return datetime.combine(day, at, tzinfo=time_zone())



# The window a form suggests when the site's hours are not known (or it is closed that day).
DEFAULT_WINDOW = Window(time(9), time(12))
# The fields of the forms that set a pick-up time (accept, propose): errors land on them.
DATE_FIELD, STARTS_FIELD, ENDS_FIELD = "agreed_pickup_date", "pickup_from", "pickup_until"


def suggested_window(site: Site, day: date | None) -> Window:
    """What the form offers for `day`: the site's first opening window that day, else
    09:00-12:00."""
    windows = windows_on(site, day) if day is not None else None
    return windows[0] if windows else DEFAULT_WINDOW


def pickup_window(site: Site, day: date, starts_text: str | None,
                  ends_text: str | None) -> tuple[datetime, datetime]:
    """The pick-up window typed for `day` at `site`, as aware local datetimes. Empty times
    take the suggested window. Raises DomainError on the field at fault: a time that does not
    read, an end not after the start, a closed day, a window outside the opening hours."""
    suggested = suggested_window(site, day)
    starts = parse_time(starts_text) if (starts_text or "").strip() else suggested.opens
    if starts is None:
        raise DomainError(_("Enter a time such as 09:00."), field=STARTS_FIELD)
    ends = parse_time(ends_text) if (ends_text or "").strip() else suggested.closes
    if ends is None:
        raise DomainError(_("Enter a time such as 12:00."), field=ENDS_FIELD)
    if not starts < ends:
        raise DomainError(_("The end of the window must be later than its start."),
                          field=ENDS_FIELD)
    windows = windows_on(site, day)
    if windows is not None and not windows:
        raise DomainError(_("%(site)s is closed on %(weekday)s. Choose another day.",
                            site=site.name, weekday=weekday_name(day)),
                          field=DATE_FIELD)
    if windows and not any(window.holds(starts, ends) for window in windows):
        raise DomainError(_("Choose a time within the opening hours on %(weekday)s: "
                            "%(hours)s.", weekday=weekday_name(day),
                            hours=", ".join(str(window) for window in windows)),
                          field=STARTS_FIELD)
    return local_moment(day, starts), local_moment(day, ends)
