"""Which published listings a viewer sees (`security.listing_visible_to`, as the results of a
search see it): `Visibility`, and when what is visible changes with time alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from ...extensions import db, prepared
from ...models import Listing, ListingStatus
from ...models.base import utcnow
from ...security import in_good_standing


@dataclass(frozen=True)
class Visibility:
    """Which published listings a viewer sees: those of every organisation past their internal
    phase, plus those of `organisation_id` in theirs, or with `everything` all (platform
    admins). Viewers with the same Visibility see the same results (page_cache keys on it)."""

    everything: bool = False
    organisation_id: int | None = None


def visibility_of(viewer: Any) -> Visibility:
    if not in_good_standing(viewer):  # awaiting approval, or suspended: what visitors see
        return Visibility()
    if viewer.is_platform_admin:
        return Visibility(everything=True)
    return Visibility(organisation_id=viewer.organisation_id)


def internal_listings_of(organisation_id: Any) -> Select:
    """The ids of the organisation's published listings in their internal phase at the
    parameter `now` (`organisation_id`: a value, a parameter or a subquery)."""
    return select(Listing.id).where(
        Listing.organisation_id == organisation_id,
        Listing.status == ListingStatus.PUBLISHED,
        Listing.internal_until > bindparam("now", type_=Listing.internal_until.type))


# Built once: asked on every member's search page, where building it cost more than running it.
ONE_INTERNAL_LISTING = prepared(internal_listings_of(bindparam("organisation_id")).limit(1))


def results_visibility(viewer: Any, now: datetime | None = None) -> Visibility:
    """The Visibility whose results `viewer` gets. Only its own organisation's listings in their
    internal phase set a member apart, so while it has none, a member gets what everyone gets
    (and is served the pages kept for everyone: page_cache)."""
    visibility = visibility_of(viewer)
    if visibility.organisation_id is None:
        return visibility
    internal = db.session.scalar(ONE_INTERNAL_LISTING, {
        "organisation_id": visibility.organisation_id, "now": now or utcnow()})
    return with_internal_listings(visibility, internal is not None)


def with_internal_listings(visibility: Visibility, internal: bool) -> Visibility:
    """`visibility` as results see it, knowing whether its organisation has listings in their
    internal phase (`internal`): without, a member is served what everyone is."""
    return visibility if visibility.organisation_id is None or internal else Visibility()


def next_visibility_change(now: datetime) -> datetime | None:
    """When the results found `now` may next change with time alone: the end of the next
    listing's internal phase (it then shows to everyone). The other change with time, listings
    past their "available until" date, comes with the date. None when nothing is ahead."""
    return db.session.scalar(select(func.min(Listing.internal_until)).where(
        Listing.status == ListingStatus.PUBLISHED, Listing.internal_until > now))
