"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TypeVar

from sqlalchemy import DateTime, Enum, TypeDecorator

# The largest value of an integer column (ids among them): PostgreSQL answers a larger number
# in a query with an error, not with "not found", so numbers from requests are kept below it.
DATABASE_INT_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum_class: type[enum.Enum], length: int = 20) -> Enum:
    """Store an enum by its value as a checked string, not a native type (simpler migrations)."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
        name=enum_class.__name__.lower(),
    )


@dataclass(frozen=True)
class CardSource:
    """How a model's rows show in the kept parts of the search and home pages (page_cache)."""

    listing: str | None  # the attribute holding the id of the one listing a row shows in
    new_shows_nothing: bool  # a new row shows only once a listing (or its photo) refers to it


_CARD_SOURCES: dict[type, CardSource] = {}
_Model = TypeVar("_Model", bound=type)


def shown_on_cards(*, listing: str | None = None,
                   new_shows_nothing: bool = False) -> Callable[[_Model], _Model]:
    """Class decorator: the kept parts of the search and home pages (cards, counts, filter form:
    page_cache.py) show this model's rows, so every committed change to them renews those parts.

    `listing` names the attribute holding the id of the one listing a row shows in (a change is
    then told with that id and only that listing is asked about again); without it a change may
    show on any page and drops every kept page. `new_shows_nothing`: a new row shows nowhere
    until a listing (or its photo) refers to it, which is a change of its own.
    tests/test_card_sources.py fails for a table the kept parts read that is not declared.
    """

    def declare(model: _Model) -> _Model:
        _CARD_SOURCES[model] = CardSource(listing, new_shows_nothing)
        return model

    return declare


def card_sources() -> Mapping[type, CardSource]:
    """Every model declared with `shown_on_cards` (import `marketplace.models` first)."""
    return MappingProxyType(_CARD_SOURCES)
