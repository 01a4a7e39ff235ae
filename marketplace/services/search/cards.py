"""What a result card shows (`ListingCard`), read with two plain queries: loading 24 full
Listing objects with their organisation, site, category and photos through the ORM cost more
than the query that found them; and a page of them (`SearchResults`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...models import Category, Condition, Listing, ListingPhoto, Organisation, Photo, Site, Unit
from .distance import km_between
from .query import Origin, Sort


@dataclass(frozen=True)
class CardPhoto:
    content_hash: str
    width: int
    height: int


@dataclass(frozen=True)
class CardCover:
    photo: CardPhoto
    alt_text: str


@dataclass(frozen=True)
class CardOrganisation:
    id: int
    name: str


@dataclass(frozen=True)
class CardSite:
    city: str


@dataclass(frozen=True)
class CardCategory:
    id: int
    slug: str


@dataclass(frozen=True)
class ListingCard:
    """What a result card (templates/listings/_card.html) shows of a listing, with the same
    attribute names as Listing: `listing.organisation.name`, `listing.cover.photo`, …"""

    id: int
    title: str
    organisation: CardOrganisation
    site: CardSite
    category: CardCategory
    quantity_available: int
    unit: Unit
    condition: Condition
    delivery_possible: bool
    available_until: date
    cover: CardCover | None
    # From the query's origin (search.with_origin), in whole km (0: under one); None without
    # an origin or where a place is unknown. Part of the card's key, as everything here.
    distance_km: int | None = None
    distance_from: str | None = None  # the origin site's name


@dataclass
class SearchResults:
    """One page of listings. With `total_is_exact` False there are more than `total` matches
    (counting stopped). `sorted_by` is the order applied: NEWEST where RELEVANCE was asked
    without words, or for words found in more than RANK_LIMIT listings."""

    listings: list[ListingCard]
    total: int
    page: int
    per_page: int
    total_is_exact: bool = True
    sorted_by: Sort = Sort.NEWEST

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def load_cards(ids: list[int], origin: Origin | None = None) -> list[ListingCard]:
    """The cards of the listings `ids`, in that order, with their distance from `origin`."""
    if not ids:
        return []
    covers = _covers(ids)
    rows = db.session.execute(
        select(Listing.id, Listing.title, Listing.organisation_id, Organisation.name,
               Site.city, Listing.category_id, Category.slug, Listing.quantity_available,
               Listing.unit, Listing.condition, Listing.delivery_possible,
               Listing.available_until, Site.latitude, Site.longitude)
        .join(Organisation, Organisation.id == Listing.organisation_id)
        .join(Site, Site.id == Listing.site_id)
        .join(Category, Category.id == Listing.category_id)
        .where(Listing.id.in_(ids)))
    by_id = {row.id: ListingCard(
        id=row.id, title=row.title,
        organisation=CardOrganisation(row.organisation_id, row.name), site=CardSite(row.city),
        category=CardCategory(row.category_id, row.slug),
        quantity_available=row.quantity_available, unit=row.unit, condition=row.condition,
        delivery_possible=row.delivery_possible, available_until=row.available_until,
        cover=covers.get(row.id), **_distance(origin, row.latitude, row.longitude))
        for row in rows}
    return [by_id[listing_id] for listing_id in ids if listing_id in by_id]


def _distance(origin: Origin | None, latitude: float | None,
              longitude: float | None) -> dict[str, Any]:
    km = None if origin is None else km_between(origin, latitude, longitude)
    if origin is None or km is None:
        return {}
    return {"distance_km": round(km) if km >= 1 else 0, "distance_from": origin.name}


def _covers(ids: list[int]) -> dict[int, CardCover]:
    """The cover (first photo in the gallery's order) of each of the listings `ids` with one."""
    covers: dict[int, CardCover] = {}
    for row in db.session.execute(
            select(ListingPhoto.listing_id, ListingPhoto.alt_text, Photo.content_hash,
                   Photo.width, Photo.height)
            .join(Photo, Photo.id == ListingPhoto.photo_id)
            .where(ListingPhoto.listing_id.in_(ids))
            .order_by(ListingPhoto.listing_id, ListingPhoto.position, ListingPhoto.id)):
        if row.listing_id not in covers:  # the first in the gallery's order
            covers[row.listing_id] = CardCover(
                CardPhoto(row.content_hash, row.width, row.height), row.alt_text)
    return covers
