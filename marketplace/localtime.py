"""The platform's clock as people read it: times are stored in UTC, and shown and counted in
days in one time zone, `TIMEZONE` (Europe/Amsterdam unless set), whatever the server's own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from flask import current_app


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def time_zone() -> ZoneInfo:
    """The platform's time zone (create_app has checked the name)."""
    return _zone(current_app.config["TIMEZONE"])


def local_time(moment: datetime) -> datetime:
    """`moment` in the platform's time zone; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(time_zone())


def local_today(now: datetime | None = None) -> date:
    """The platform's date at `now` (default: this moment): the day a listing's last day,
    a pick-up date or "today" on a page refers to."""
    return local_time(now or datetime.now(UTC)).date()
