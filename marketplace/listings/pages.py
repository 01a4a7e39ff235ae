"""The parts of the search and home pages that hold nothing about the viewer: rendered once per
key, kept by page_cache and brought up to date when listings change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import current_app, request
from flask_babel import gettext as _
from markupsafe import Markup

from ..i18n import current_language
from ..localtime import local_today
from ..models import Condition, OrganisationKind, Province
from ..models.base import utcnow
from ..page_cache import page_cache
from ..services.categories import RetiredCategories, browsing_category_tree, retired_categories
from ..services.search import (
    DISTANCE_CHOICES,
    SUGGEST_UP_TO,
    Found,
    SearchQuery,
    Sort,
    Visibility,
    did_you_mean,
    find_listings,
    next_visibility_change,
    origin_choices,
    page_ids,
    page_of,
    refind,
    results_visibility,
)
from .filter_chips import active_filters, posted_choices, without_filters_url

# A part rendered from the results found, for the query.
Part = Callable[[Found], str]
# The filter form, rendered with the retired categories it may offer.
FormPart = Callable[[RetiredCategories], str]


def search_parts(query: SearchQuery, visibility: Visibility) -> dict[str, Markup]:
    """The filter form ("form"), the count, cards and pager ("results") and the "alert me"
    form's fields ("alert", empty for a search that cannot be an alert) of a search page for
    `query` (with its origin) as `visibility` sees its results (search.searching_as)."""

    def form(retired: RetiredCategories) -> str:
        return _fragment(
            "listings/_search_form.html", query=query,
            categories=browsing_category_tree(current_language(), retired),
            conditions=list(Condition),
            provinces=list(Province), organisation_kinds=list(OrganisationKind),
            posted_choices=posted_choices(), filters_on=len(active_filters(query)),
            origins=origin_choices(query), distance_choices=DISTANCE_CHOICES)

    def results(found: Found) -> str:
        # The chips and the sort sit above the cards: on a phone the filters fold away.
        return _fragment("listings/_search_results.html", query=query,
                         results=page_of(found, query), chips=active_filters(query),
                         without_filters=without_filters_url(query),
                         sort_choices=_sort_choices(query),
                         suggestion=_suggestion(visibility, query, found))

    def alert_fields() -> str:
        # Only a search with words or a filter can be an alert (services/alerts.py).
        if not (query.text or query.category_id or query.province or query.condition):
            return ""
        return _fragment("listings/_alert_me.html", query=query)

    return _kept("search", visibility, query, results={"results": results}, form=form,
                 fixed={"alert": alert_fields},
                 posted_within=query.posted_within_days is not None)


def _suggestion(visibility: Visibility, query: SearchQuery, found: Found) -> str | None:
    """"Did you mean …?" under few results: kept with them, as the same visibility sees it."""
    if found.total > SUGGEST_UP_TO or not query.words:
        return None
    return did_you_mean(visibility, query, found.total)


def _sort_choices(query: SearchQuery) -> list[tuple[Sort, str]]:
    # Words: the best match first (the default); without words every listing matches alike.
    choices = [(Sort.RELEVANCE, _("Best match"))] if query.words else []
    choices += [(Sort.NEWEST, _("Newest first")), (Sort.EXPIRING, _("Expiring soonest"))]
    if query.located_origin is not None:  # from one of the viewer's sites (search.with_origin)
        choices.append((Sort.NEAREST, _("Nearest first")))
    return choices


def newest_part(viewer: Any, count: int) -> Markup:
    """The home page's newest listings."""
    query = SearchQuery(per_page=count)

    def newest(found: Found) -> str:
        return _fragment("main/_newest.html", newest=page_of(found, query).listings)

    return _kept("newest", results_visibility(viewer), query,
                 results={"newest": newest})["newest"]


# "Posted today" and the like change as listings age: such results are kept this long at most.
POSTED_WITHIN_SECONDS = 60
# How an entry is laid out, in its key: one kept by an earlier layout is never read.
ENTRY_LAYOUT = 3


def _found_text(found: Found) -> str:
    """The ids found and their sort keys, as JSON text inside the kept entry: they are read
    only to bring the results up to date, and a page read as kept then does not decode them
    (with 500 ids, half the decoding of an entry)."""
    return orjson.dumps(found.to_json()).decode()


def _found_in(text: str) -> Found:
    return Found.from_json(orjson.loads(text))


def _kept(what: str, visibility: Visibility, query: SearchQuery, results: dict[str, Part],
          form: FormPart | None = None, fixed: dict[str, Callable[[], str]] | None = None,
          posted_within: bool = False) -> dict[str, Markup]:
    """The parts `results` (each rendered from the results found), "form" and `fixed` (each
    rendered from the query alone, once) of `query` as `visibility` sees its results, kept.
    When listings changed since they were kept, the search is brought up to date by asking
    about those listings only, and a part is rendered again only when its page shows
    something else."""
    # Everything the parts depend on besides the listings themselves: the search hides listings
    # past their "available until" date by the platform's date (services/search/conditions.py).
    now = utcnow()
    key = (what, ENTRY_LAYOUT, query, current_language(), request.script_root, visibility,
           local_today(now))

    def build() -> dict[str, Any]:
        found = find_listings(visibility, query, now)
        value: dict[str, Any] = {"found": _found_text(found), "parts": {
            name: render(found) for name, render in results.items()}}
        value["parts"].update({name: render() for name, render in (fixed or {}).items()})
        if form is not None:
            retired = retired_categories()
            value["retired_categories"] = sorted(retired[1])
            value["parts"]["form"] = form(retired)
        return value

    def refresh(value: dict[str, Any], changed: set[int]) -> dict[str, Any] | None:
        before = _found_in(value["found"])
        found = refind(before, visibility, query, changed, now)
        if found is None:
            return None
        parts = dict(value["parts"])
        shown = page_ids(found, query)
        if (shown != page_ids(before, query) or changed.intersection(shown)
                or (found.total, found.exact) != (before.total, before.exact)):
            parts.update({name: render(found) for name, render in results.items()})
        refreshed: dict[str, Any] = {"found": _found_text(found), "parts": parts}
        if form is not None:
            # The filter offers retired categories only while they hold listings.
            retired = retired_categories()
            refreshed["retired_categories"] = sorted(retired[1])
            if refreshed["retired_categories"] != value["retired_categories"]:
                parts["form"] = form(retired)
        return refreshed

    def lifetime() -> float | None:
        """Seconds until the results may change with time alone (None: not before the date)."""
        change = next_visibility_change(now)
        seconds = None if change is None else (change - now).total_seconds()
        if posted_within:
            seconds = POSTED_WITHIN_SECONDS if seconds is None \
                else min(seconds, POSTED_WITHIN_SECONDS)
        return seconds

    kept = page_cache().kept(key, build, refresh, lifetime)
    # Markup: the HTML is our own rendering, escaped by Jinja when it was made.
    return {name: Markup(html)  # noqa: S704  # nosec B704
            for name, html in kept["parts"].items()}


def _fragment(template: str, **context: Any) -> str:
    """A template rendered without the request's context (no current_user, no CSRF token), so
    that it cannot come to depend on the viewer."""
    return current_app.jinja_env.get_template(template).render(**context)
