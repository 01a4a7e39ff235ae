"""What a member asks for (`SearchQuery`, read from URL parameters), its words, and how many
ids a search reads for its page and count."""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from ...models import Condition, OrganisationKind, Province
from ...models.base import DATABASE_INT_MAX
from . import limits
from .limits import (
    DEFAULT_PER_PAGE,
    MAX_DAYS,
    MAX_KM,
    MAX_PAGE_ARG,
    MAX_PER_PAGE,
    MAX_TEXT_LENGTH,
    MAX_WORD_LENGTH,
    MAX_WORDS,
)

_HAS_WORD_CHARACTER = re.compile(r"[^\W_]")
_NUMBER = re.compile(r"[0-9]{1,9}")
_TRUE = {"1", "true", "on", "yes", "y"}
_E = TypeVar("_E", bound=enum.Enum)


class Sort(enum.StrEnum):
    NEWEST = "newest"
    EXPIRING = "expiring"
    RELEVANCE = "relevance"
    NEAREST = "nearest"  # from the query's origin; without a located origin, NEWEST


@dataclass(frozen=True)
class Origin:
    """The site distances are measured from: one of the viewer's organisation's sites
    (`search.with_origin`), without coordinates where its place is unknown."""

    site_id: int
    name: str
    latitude: float | None
    longitude: float | None

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def coordinates(self) -> tuple[float, float]:
        """Latitude and longitude; only for a located origin (`located`)."""
        if self.latitude is None or self.longitude is None:
            raise ValueError(f"site {self.site_id} has no coordinates")
        return self.latitude, self.longitude


@dataclass(frozen=True)
class SearchQuery:
    """What a member asks for; build it from URL parameters with `from_args`."""

    text: str = ""
    category_id: int | None = None  # with its children
    condition: Condition | None = None
    province: Province | None = None
    organisation_kind: OrganisationKind | None = None
    delivery_only: bool = False
    posted_within_days: int | None = None
    # In code NEWEST; from a URL without `sort`, RELEVANCE for words (`default_sort`).
    # RELEVANCE only makes sense with words; without, NEWEST.
    sort: Sort = Sort.NEWEST
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    near: int | None = None  # the site id asked for as origin (URL "near")
    within_km: int | None = None  # only listings this close to the origin (URL "km")
    # Set only by `search.with_origin`, from `near` checked against the viewer: a site id from
    # a URL alone never measures anything.
    origin: Origin | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SearchQuery:
        """Read URL parameters (q, category, condition, province, kind, delivery, days, sort,
        page, near, km); a missing, unknown or invalid value is left at its default, never an
        error. `near` is only asked for: `search.with_origin` decides the origin."""
        text = args.get("q")
        return cls(
            text=" ".join(text[:MAX_TEXT_LENGTH].split()) if isinstance(text, str) else "",
            category_id=_number(args.get("category"), 1, DATABASE_INT_MAX),
            condition=_member(Condition, args.get("condition")),
            province=_member(Province, args.get("province")),
            organisation_kind=_member(OrganisationKind, args.get("kind")),
            delivery_only=str(args.get("delivery", "")).strip().lower() in _TRUE,
            posted_within_days=_number(args.get("days"), 1, MAX_DAYS),
            sort=_member(Sort, args.get("sort")) or default_sort(text),
            page=_number(args.get("page"), 1, MAX_PAGE_ARG) or 1,
            near=_number(args.get("near"), 1, DATABASE_INT_MAX),
            within_km=_number(args.get("km"), 1, MAX_KM),
        )

    def to_args(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of this query with `changes` applied, leaving out defaults: for
        links that keep the filters (`query.to_args(page=2)`, `query.to_args(sort="newest")`)."""
        query = replace(self, **changes) if changes else self
        args: dict[str, str] = {}
        if query.text.strip():
            args["q"] = query.text
        if query.category_id is not None:
            args["category"] = str(query.category_id)
        for key, value in (("condition", query.condition), ("province", query.province),
                           ("kind", query.organisation_kind)):
            if value is not None:
                args[key] = str(value)
        if query.delivery_only:
            args["delivery"] = "1"
        if query.posted_within_days is not None:
            args["days"] = str(query.posted_within_days)
        if query.sort != query.default_sort:
            args["sort"] = str(query.sort)
        if query.page != 1:
            args["page"] = str(query.page)
        near = query.origin.site_id if query.origin is not None else query.near
        if near is not None:
            args["near"] = str(near)
        if query.within_km is not None:
            args["km"] = str(query.within_km)
        return args

    @property
    def words(self) -> list[str]:
        return search_words(self.text)

    @property
    def default_sort(self) -> Sort:
        """What a URL without `sort` asks for: the best match for words, else the newest."""
        return default_sort(self.text)

    @property
    def effective_sort(self) -> Sort:
        if self.sort is Sort.RELEVANCE and not self.words:
            return Sort.NEWEST
        if self.sort is Sort.NEAREST and self.located_origin is None:
            return Sort.NEWEST
        return self.sort

    @property
    def located_origin(self) -> Origin | None:
        return self.origin if self.origin is not None and self.origin.located else None

    @property
    def distance_km(self) -> int | None:
        """The radius that filters the results: none without a located origin."""
        return self.within_km if self.located_origin is not None else None


def default_sort(text: object) -> Sort:
    return Sort.RELEVANCE if isinstance(text, str) and search_words(text) else Sort.NEWEST


def search_words(text: str) -> list[str]:
    """The words of a search text: split on white space, without control characters, at most
    MAX_WORDS of at most MAX_WORD_LENGTH characters; pieces without a letter or digit dropped."""
    cleaned = "".join(" " if unicodedata.category(character)[0] == "C" else character
                      for character in text[:MAX_TEXT_LENGTH])
    words = [word[:MAX_WORD_LENGTH] for word in cleaned.split()
             if _HAS_WORD_CHARACTER.search(word[:MAX_WORD_LENGTH])]
    return words[:MAX_WORDS]


def per_page(query: SearchQuery) -> int:
    return min(max(query.per_page, 1), MAX_PER_PAGE)


def read_limit(query: SearchQuery) -> int:
    """How many ids to read: up to a few pages past this one, or COUNT_LIMIT, plus one to tell
    whether there are more."""
    size, page = per_page(query), max(query.page, 1)
    served = page <= math.ceil(limits.MAX_RESULTS / size)
    return (min(max(limits.COUNT_LIMIT, (page + limits.PAGES_AHEAD) * size), limits.MAX_RESULTS)
            if served else limits.COUNT_LIMIT) + 1


def is_filtered(query: SearchQuery) -> bool:
    """Whether `query` has any filter besides its words, sort, page and origin (nearest
    first counts: it reads the listings around the origin first)."""
    return query.effective_sort is Sort.NEAREST or query != SearchQuery(
        text=query.text, sort=query.sort, page=query.page, per_page=query.per_page,
        near=query.near, origin=query.origin,
        within_km=query.within_km if query.distance_km is None else None)


# --- reading URL parameters ------------------------------------------------------------------

def _number(value: object, low: int, high: int) -> int | None:
    if not isinstance(value, str) or not _NUMBER.fullmatch(value.strip()):
        return None
    number = int(value.strip())
    return number if low <= number <= high else None


def _member(enum_class: type[_E], value: object) -> _E | None:
    try:
        return enum_class(value) if isinstance(value, str) else None
    except ValueError:
        return None
