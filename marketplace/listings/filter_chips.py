"""The filters a search has on, as removable chips ("Staat: Zo goed als nieuw"), and how many.

Rendered in the kept parts of the search page, which are the same for everyone who asks the
same query in the same language: a chip depends on the query and the language only. The words
are the search box's, and the sort is not a filter: neither makes a chip."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..i18n import current_language
from ..models import Category
from ..services.search import SearchQuery

# What a filter's chip says and the changes to the query that take the filter off, or None
# while the filter is off.
Removal = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Chip:
    label: str  # as the member reads it, in the page's language
    remove_url: str  # the same search without this filter, from its first page


def posted_choices() -> list[tuple[int, str]]:
    """The "Posted" filter's choices: days, and how the filter and its chip say them."""
    return [(1, _("Today")), (7, _("In the last week")), (30, _("In the last month"))]


def _named(name: str, value: str) -> str:
    return _("%(filter)s: %(value)s", filter=name, value=value)


def _category(query: SearchQuery) -> Removal | None:
    if query.category_id is None:
        return None
    category = db.session.get(Category, query.category_id)
    name = category.name(current_language()) if category else _("unknown category")
    return _named(_("Category"), name), {"category_id": None}


def _condition(query: SearchQuery) -> Removal | None:
    if query.condition is None:
        return None
    return _named(_("Condition"), query.condition.label), {"condition": None}


def _province(query: SearchQuery) -> Removal | None:
    if query.province is None:
        return None
    return _named(_("Province"), query.province.label), {"province": None}


def _organisation_kind(query: SearchQuery) -> Removal | None:
    if query.organisation_kind is None:
        return None
    return _named(_("Offered by"), query.organisation_kind.label), {"organisation_kind": None}


def _posted(query: SearchQuery) -> Removal | None:
    days = query.posted_within_days
    if days is None:
        return None
    named = dict(posted_choices())
    when = named.get(days) or ngettext("In the last %(num)d day", "In the last %(num)d days",
                                       days)
    return _named(_("Posted"), when), {"posted_within_days": None}


def _distance(query: SearchQuery) -> Removal | None:
    """Only a radius the search applies: from a located origin (search.with_origin)."""
    origin, km = query.located_origin, query.distance_km
    if origin is None or km is None:
        return None
    return _("Within %(km)s km of %(site)s", km=km, site=origin.name), {"within_km": None}


def _delivery(query: SearchQuery) -> Removal | None:
    return (_("Delivery possible"), {"delivery_only": False}) if query.delivery_only else None


# In the order the filter form shows them; a new filter adds its function here.
FILTERS: list[Callable[[SearchQuery], Removal | None]] = [
    _category, _condition, _province, _organisation_kind, _posted, _distance, _delivery,
]


def _removals(query: SearchQuery) -> list[Removal]:
    return [removal for removal in (chip_of(query) for chip_of in FILTERS)
            if removal is not None]


def _url(query: SearchQuery, changes: dict[str, Any]) -> str:
    args: dict[str, Any] = query.to_args(**changes, page=1)
    return url_for("listings.search", **args)


def active_filters(query: SearchQuery) -> list[Chip]:
    """A chip per filter `query` has on, in the form's order; its length is "Filters (N)"."""
    return [Chip(label, _url(query, changes)) for label, changes in _removals(query)]


def without_filters_url(query: SearchQuery) -> str:
    """The same search (its words and sort) with every filter taken off."""
    changes: dict[str, Any] = {}
    for _label, change in _removals(query):
        changes.update(change)
    return _url(query, changes)
