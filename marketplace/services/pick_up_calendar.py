"""The pick-up appointment as a calendar file (iCalendar, made with the icalendar library).

One event per claim: its UID never changes, so a calendar program replaces the event it has
when a newer file arrives (a higher SEQUENCE: the time moved) and removes it on METHOD:CANCEL.
Times are written in the platform's time zone with its VTIMEZONE, so the event shows at the
hour agreed whatever zone the reader's calendar is set to.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from functools import lru_cache

from flask_babel import gettext as _
from icalendar import Calendar, Event, Timezone

from ..localtime import local_time
from ..models import Claim
from .urls import external_url

CONTENT_TYPE = "text/calendar; charset=utf-8"
FILENAME = "pick-up.ics"


def uid_of(claim: Claim) -> str:
    return f"claim-{claim.id}@surplus-marketplace"


def has_appointment(claim: Claim) -> bool:
    """A time window is agreed (older claims may have a day only, or nothing)."""
    return claim.pickup_starts_at is not None and claim.pickup_ends_at is not None


def calendar_file(claim: Claim, *, cancelled: bool = False) -> bytes:
    """The appointment of `claim` (METHOD:PUBLISH), or its withdrawal (METHOD:CANCEL, STATUS:
    CANCELLED) when `cancelled`. The claim must have a window (has_appointment)."""
    if not has_appointment(claim):
        raise ValueError("the claim has no agreed pick-up window")
    listing, site = claim.listing, claim.listing.site
    starts = local_time(claim.pickup_starts_at)  # type: ignore[arg-type]
    calendar = Calendar()
    calendar.add("prodid", "-//Surplus Marketplace//Claims//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    calendar.add_component(_timezone(str(starts.tzinfo), starts.year))
    event = Event()
    event.add("uid", uid_of(claim))
    event.add("dtstamp", datetime.now(UTC))
    event.add("sequence", claim.pickup_sequence)
    event.add("dtstart", starts)
    event.add("dtend", local_time(claim.pickup_ends_at))  # type: ignore[arg-type]
    event.add("summary", _("Pick up: %(title)s", title=listing.title))
    event.add("location", f"{site.name}, {site.address}")
    claim_url = external_url("claims.show", claim_id=claim.id)
    instructions = (site.pickup_instructions or "").strip()
    event.add("description", f"{instructions}\n\n{claim_url}" if instructions else claim_url)
    event.add("url", claim_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()  # none, unless the zone had no name of its own
    return calendar.to_ical()


@lru_cache(maxsize=8)
def _timezone(tzid: str, year: int) -> Timezone:
    """The VTIMEZONE of the times (TZID `tzid`), from the year before the appointment to three
    years after it: all a calendar program needs, made once per year and a fifth of the size
    and time of icalendar's default span (1970-2038). Only serialised, never changed, so one
    component serves every file."""
    return Timezone.from_tzid(tzid, first_date=date(year - 1, 1, 1),
                              last_date=date(year + 3, 1, 1))


def calendar_attachment(claim: Claim, *, cancelled: bool = False) -> dict[str, str]:
    """The calendar file as an email attachment (queue_email's `attachments`)."""
    return {"filename": FILENAME, "content_type": CONTENT_TYPE,
            "data": base64.b64encode(calendar_file(claim, cancelled=cancelled)).decode()}


def cancellation_attachments(claim: Claim) -> list[dict[str, str]] | None:
    """For the email that ends a claim: the file that takes the appointment out of the
    claimant's calendar, when there was one."""
    return [calendar_attachment(claim, cancelled=True)] if has_appointment(claim) else None
