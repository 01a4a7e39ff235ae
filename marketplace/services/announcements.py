"""Telling whoever waits for a listing, once other organisations can see it: the members whose
alerts it matches (`services.alerts`) and the authors of wanted posts it likely answers
(`services.wanted`).

A listing is announced once: at publication (`services.listings.publish`), or, when it was
published for its own organisation first, by housekeeping when that internal phase ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import or_, select, update

from ..extensions import db
from ..models import Listing, ListingStatus, OrganisationStatus
from ..models.base import utcnow
from ..unit_of_work import each_in_own_unit
from .alerts import match_alerts
from .wanted import suggest_for_listing

if TYPE_CHECKING:
    from sqlalchemy import CursorResult


def announce(listing: Listing, now: datetime | None = None) -> int:
    """Match the listing's alerts and suggest it to wanted posts, once; returns how many alerts
    matched.

    Only when the listing is visible to other organisations: published, its organisation
    active and its internal phase over. It joins the caller's unit of work.
    """
    now = now or utcnow()
    if (listing.status is not ListingStatus.PUBLISHED
            or listing.organisation.status is not OrganisationStatus.ACTIVE
            or listing.is_internal_at(now)):
        return 0
    # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
    claimed = cast("CursorResult[Any]", db.session.execute(
        update(Listing).where(Listing.id == listing.id, Listing.alerts_matched_at.is_(None))
        .values(alerts_matched_at=now).execution_options(synchronize_session=False))).rowcount
    if claimed != 1:
        return 0  # announced before (or by a run at the same time)
    matched = match_alerts(listing, now)
    suggest_for_listing(listing)
    return matched


def announce_listings_whose_internal_phase_ended(now: datetime | None = None) -> int:
    """Announce the published listings not announced yet whose internal phase is over (each
    in a unit of work of its own); returns how many alerts matched."""
    now = now or utcnow()
    listings = db.session.scalars(select(Listing).where(
        Listing.status == ListingStatus.PUBLISHED, Listing.alerts_matched_at.is_(None),
        or_(Listing.internal_until.is_(None), Listing.internal_until <= now))).all()
    total = 0

    def announce_one(listing: Listing) -> bool:
        nonlocal total
        total += announce(listing, now)
        return True

    each_in_own_unit(listings, announce_one)
    return total
