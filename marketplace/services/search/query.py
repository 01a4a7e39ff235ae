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
    sort: Sort = Sort.NEWEST  # RELEVANCE only makes sense with words; without, NEWEST
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SearchQuery:
        """Read URL parameters (q, category, condition, province, kind, delivery, days, sort,
        page); a missing, unknown or invalid value is left at its default, never an error."""
        text = args.get("q")
        return cls(
            text=" ".join(text[:MAX_TEXT_LENGTH].split()) if isinstance(text, str) else "",
            category_id=_number(args.get("category"), 1, DATABASE_INT_MAX),
            condition=_member(Condition, args.get("condition")),
            province=_member(Province, args.get("province")),
            organisation_kind=_member(OrganisationKind, args.get("kind")),
            delivery_only=str(args.get("delivery", "")).strip().lower() in _TRUE,
            posted_within_days=_number(args.get("days"), 1, MAX_DAYS),
            sort=_member(Sort, args.get("sort")) or Sort.NEWEST,
            page=_number(args.get("page"), 1, MAX_PAGE_ARG) or 1,
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
        if query.sort is not Sort.NEWEST:
            args["sort"] = str(query.sort)
        if query.page != 1:
            args["page"] = str(query.page)
        return args

    @property
    def words(self) -> list[str]:
        return search_words(self.text)

    @property
    def effective_sort(self) -> Sort:
        if self.sort is Sort.RELEVANCE and not self.words:
            return Sort.NEWEST
        return self.sort


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
    """Whether `query` has any filter besides its words, sort and page."""
    return query != SearchQuery(text=query.text, sort=query.sort, page=query.page,
                                per_page=query.per_page)


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
