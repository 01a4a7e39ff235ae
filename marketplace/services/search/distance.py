"""Distance from the query's origin: which origin a viewer may measure from (`with_origin`),
the SQL of "within N km" and "nearest first", and the distance a card shows.

Plain arithmetic, the same on both databases: at Dutch latitudes the equirectangular
approximation (dx = dlon·cos(lat0)·111.32 km, dy = dlat·110.57 km) is within a fraction of a
percent. Sites are few (thousands) against listings (100,000+), so a listing is filtered by
the ids of the sites within the radius (a bounding box on latitude and longitude first), and
"nearest first" reads the listings of the sites within a radius first, a wider one when they
are too few (`first_ring`, `next_ring`, used by finding.py): sorting every listing by distance
took a lookup of its site's distance per listing."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, false, func, select

from ...extensions import db, prepared
from ...models import Listing, ListingStatus, Site
from ...models.base import utcnow
from ...security import in_good_standing
from .query import Origin, SearchQuery, Sort, read_limit
from .visibility import (
    ONE_INTERNAL_LISTING,
    Visibility,
    results_visibility,
    visibility_of,
    with_internal_listings,
)

KM_PER_DEGREE_LATITUDE = 110.57
KM_PER_DEGREE_LONGITUDE_AT_EQUATOR = 111.32
DISTANCE_CHOICES = (5, 10, 25, 50, 100)  # km offered in the filter; the URL takes any 1..MAX_KM
# "Nearest first" reads the listings within FIRST_RING_KM first; when they are too few, once
# more within the radius that should hold enough (RING_MARGIN wider), or, past LAST_RING_KM,
# every listing (those of sites with an unknown place last).
FIRST_RING_KM = 10
RING_MARGIN = 1.3
LAST_RING_KM = 100
# Words found this many times fewer than needed in the first ring are read everywhere at once:
# their matches, read once through the full-text index and sorted by distance, cost less than
# the listings of a ring wide enough, each tested for them (a rare word at 1,000,000
# listings: 0.5 s in a 61 km ring, 4 ms everywhere). Not a word in 3 % of the listings, found
# 121 times of 501 within 10 km at 100,000 listings: everywhere at once took twice its ring.
RARE_WORDS_SHARE = 10


# Built once: on every member's search page, building the statement cost more than running it.
_ACTIVE_SITES = prepared(select(Site.id, Site.name, Site.latitude, Site.longitude)
                          .where(Site.organisation_id == bindparam("organisation_id"),
                                 Site.active.is_(True))
                          .order_by(Site.id))


# The same with whether the organisation has listings in their internal phase: a member's
# search page asks both, and on PostgreSQL each statement is a round trip.
_ACTIVE_SITES_AND_INTERNAL = _ACTIVE_SITES.add_columns(
    ONE_INTERNAL_LISTING.exists().label("internal"))


def with_origin(viewer: Any, query: SearchQuery) -> SearchQuery:
    """`query` with its origin: the site `query.near` if it is an active site of the viewer's
    organisation, else that organisation's first active site (the oldest); none for visitors
    and accounts not in good standing. A site id of another organisation is ignored, never an
    error, and nothing of that site is read into the query."""
    organisation_id = _origin_organisation(viewer)
    if organisation_id is None:
        return _without_origin(query)
    return _from_sites(query, db.session.execute(
        _ACTIVE_SITES, {"organisation_id": organisation_id}).all())


def searching_as(viewer: Any, query: SearchQuery, now: datetime | None = None, *,
                 read: tuple[Origin | None, bool] | None = None,
                 ) -> tuple[SearchQuery, Visibility]:
    """`query` with its origin (`with_origin`) and the Visibility of its results
    (`results_visibility`), in one statement when the member's organisation has an active
    site. `read`: the organisation's first active site and whether it has listings in their
    internal phase, as read with the viewer (services/session_user.py), which then cost no
    statement unless the query asks for another of its sites."""
    now = now or utcnow()
    organisation_id = _origin_organisation(viewer)
    if organisation_id is None:
        return _without_origin(query), results_visibility(viewer, now)
    if read is not None:
        first_site, internal = read
        if query.near is None or (first_site is not None and query.near == first_site.site_id):
            found = replace(query, near=first_site.site_id, origin=first_site) \
                if first_site is not None else _without_origin(query)
            return found, with_internal_listings(visibility_of(viewer), internal)
    sites = db.session.execute(_ACTIVE_SITES_AND_INTERNAL, {
        "organisation_id": organisation_id, "now": now}).all()
    if not sites:
        return _without_origin(query), results_visibility(viewer, now)
    return _from_sites(query, sites), with_internal_listings(visibility_of(viewer),
                                                             sites[0].internal)


def _origin_organisation(viewer: Any) -> int | None:
    return getattr(viewer, "organisation_id", None) if in_good_standing(viewer) else None


def _without_origin(query: SearchQuery) -> SearchQuery:
    return replace(query, near=None, origin=None)


def _from_sites(query: SearchQuery, sites: Any) -> SearchQuery:
    """`query` from the first of `sites` (rows of _ACTIVE_SITES), or `query.near` among them."""
    if not sites:
        return _without_origin(query)
    chosen = next((site for site in sites if site.id == query.near), sites[0])
    return replace(query, near=chosen.id,
                   origin=Origin(chosen.id, chosen.name, chosen.latitude, chosen.longitude))


def origin_choices(query: SearchQuery) -> list[tuple[int, str]]:
    """The sites the origin may be changed to: the active sites of the organisation of the
    query's origin, which `with_origin` allows only to that organisation's members (so the
    kept filter form, keyed by the query, shows them to no one else)."""
    if query.origin is None:
        return []
    organisation = select(Site.organisation_id).where(
        Site.id == query.origin.site_id).scalar_subquery()
    return [(row.id, row.name) for row in db.session.execute(
        select(Site.id, Site.name).where(Site.organisation_id == organisation,
                                         Site.active.is_(True)).order_by(Site.name, Site.id))]


def _squared_km(origin: Origin) -> ColumnElement[Any]:
    """The squared distance in km² of a site (Site's columns) from `origin`."""
    latitude, longitude = origin.coordinates
    km_per_degree_longitude = KM_PER_DEGREE_LONGITUDE_AT_EQUATOR * math.cos(
        math.radians(latitude))
    dx = (Site.longitude - longitude) * km_per_degree_longitude
    dy = (Site.latitude - latitude) * KM_PER_DEGREE_LATITUDE
    return dx * dx + dy * dy


def sites_within(origin: Origin, km: float) -> Select:
    """The ids of the sites within `km` of `origin`."""
    latitude, longitude = origin.coordinates
    latitude_span = km / KM_PER_DEGREE_LATITUDE
    longitude_span = km / (KM_PER_DEGREE_LONGITUDE_AT_EQUATOR
                           * math.cos(math.radians(latitude)))
    return select(Site.id).where(
        Site.latitude.between(latitude - latitude_span, latitude + latitude_span),
        Site.longitude.between(longitude - longitude_span, longitude + longitude_span),
        _squared_km(origin) <= km * km)


def nearest_order(origin: Origin, site_id: Any) -> ColumnElement:
    """The squared distance of the site `site_id` (a listing's) from `origin`, NULL where its
    place is unknown."""
    return select(_squared_km(origin)).where(Site.id == site_id).scalar_subquery()


def sites_should_drive(query: SearchQuery, listings: int) -> bool:
    """SQLite: whether the listings within the radius are better read through the sites'
    covering index, all of them then sorted, than the sort's index in order until enough are
    within it. Reading in order takes about read_limit * listings / nearby entries; so the
    sites drive while nearby^2 < read_limit * listings, counted only that far (7,000 entries at
    100,000 listings, a millisecond). "Within 5 km" read in date order took 60 ms."""
    origin, km = query.located_origin, query.distance_km
    if origin is None or km is None or query.posted_within_days is not None:
        return False  # (a date filter: the newest-first scan stops at the date)
    enough = math.isqrt(read_limit(query) * listings) + 1
    nearby = db.session.scalar(select(func.count()).select_from(
        select(Listing.id).where(Listing.site_id.in_(sites_within(origin, km)),
                                 Listing.status == ListingStatus.PUBLISHED)
        .limit(enough).subquery())) or 0
    return nearby < enough


def first_ring(query: SearchQuery) -> int | None:
    """The radius "nearest first" reads first; None: read as asked at once (another sort, or
    a radius asked for that is no wider)."""
    if query.effective_sort is not Sort.NEAREST:
        return None
    within = query.distance_km
    return FIRST_RING_KM if within is None or within > FIRST_RING_KM else None


def next_ring(query: SearchQuery, radius: int, found: int, limit: int) -> int | None:
    """The radius to read after `radius` held only `found` of the `limit` matches needed:
    matches grow about with the area, so the radius that should hold them, with a margin; None
    (read as asked, without a ring) when that is about the whole country or the radius asked
    for, or words were found too seldom for rings to pay (RARE_WORDS_SHARE; nothing found:
    each ring would read their matches again)."""
    if found == 0 or (query.words and found * RARE_WORDS_SHARE < limit):
        return None
    wanted = math.ceil(radius * math.sqrt(limit / found) * RING_MARGIN)
    within = query.distance_km
    if wanted > LAST_RING_KM or (within is not None and wanted >= within):
        return None
    return wanted


def km_between(origin: Origin, latitude: float | None, longitude: float | None) -> float | None:
    """The distance in km between `origin` and a point, None where either is unknown."""
    if origin.latitude is None or origin.longitude is None or latitude is None \
            or longitude is None:
        return None
    dx = (longitude - origin.longitude) * KM_PER_DEGREE_LONGITUDE_AT_EQUATOR * math.cos(
        math.radians(origin.latitude))
    dy = (latitude - origin.latitude) * KM_PER_DEGREE_LATITUDE
    return math.hypot(dx, dy)


def sites_around(latitude: float | None, longitude: float | None,
                 km: Any) -> Select:
    """The ids of the sites within `km` (a column: each row its own radius, an alert's) of a
    point; none when the point is unknown."""
    if latitude is None or longitude is None:
        return select(Site.id).where(false())
    return select(Site.id).where(
        _squared_km(Origin(0, "", latitude, longitude)) <= km * km)
