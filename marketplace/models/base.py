"""Column helpers shared by the models."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Enum

from ..extensions import db
from ..sqltypes import UTCDateTime as UTCDateTime  # the models import it from here

if TYPE_CHECKING:
    # db.Model is built at run time from Base (adding Flask-SQLAlchemy's query and bind mixins);
    # mypy cannot take an instance attribute as a base class, so it checks models against Base.
    from ..extensions import Base as Model
else:
    Model = db.Model

# The largest value of an integer column (ids among them): PostgreSQL answers a larger number
# in a query with an error, not with "not found", so numbers from requests are kept below it.
DATABASE_INT_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def escape_like(text: str) -> str:
    """`text` matched literally in a LIKE pattern with `escape="\\"`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
