"""The parts of the search and home pages that hold nothing about the viewer: rendered once per
key, kept by page_cache and brought up to date when listings change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    Found,
    SearchQuery,
    Sort,
    find_listings,
    next_visibility_change,
    page_ids,
    page_of,
    refind,
    results_visibility,
)

# A part rendered from the results found, for the query.
Part = Callable[[Found], str]
# The filter form, rendered with the retired categories it may offer.
FormPart = Callable[[RetiredCategories], str]


def search_parts(viewer: Any, query: SearchQuery) -> dict[str, Markup]:
    """The filter form ("form") and the count, cards and pager ("results") of a search page."""

    def form(retired: RetiredCategories) -> str:
        return _fragment(
            "listings/_search_form.html", query=query,
            categories=browsing_category_tree(current_language(), retired),
            conditions=list(Condition),
            provinces=list(Province), organisation_kinds=list(OrganisationKind),
            posted_choices=[(1, _("Today")), (7, _("In the last week")),
                            (30, _("In the last month"))],
            sort_choices=[(Sort.NEWEST, _("Newest first")),
                          (Sort.EXPIRING, _("Expiring soonest")),
                          (Sort.RELEVANCE, _("Best match"))])

    def results(found: Found) -> str:
        return _fragment("listings/_search_results.html", query=query,
                         results=page_of(found, query))

    return _kept("search", viewer, query, results={"results": results}, form=form,
                 posted_within=query.posted_within_days is not None)


def newest_part(viewer: Any, count: int) -> Markup:
    """The home page's newest listings."""
    query = SearchQuery(per_page=count)

    def newest(found: Found) -> str:
        return _fragment("main/_newest.html", newest=page_of(found, query).listings)

    return _kept("newest", viewer, query, results={"newest": newest})["newest"]


# "Posted today" and the like change as listings age: such results are kept this long at most.
POSTED_WITHIN_SECONDS = 60


def _kept(what: str, viewer: Any, query: SearchQuery, results: dict[str, Part],
          form: FormPart | None = None, posted_within: bool = False) -> dict[str, Markup]:
    """The parts `results` (each rendered from the results found) and "form" of `query`, kept.
    When listings changed since they were kept, the search is brought up to date by asking
    about those listings only, and a part is rendered again only when its page shows
    something else."""
    # Everything the parts depend on besides the listings themselves: the search hides listings
    # past their "available until" date by the platform's date (services/search/conditions.py).
    now = utcnow()
    visibility = results_visibility(viewer, now)
    key = (what, query, current_language(), request.script_root, visibility,
           local_today(now))

    def build() -> dict[str, Any]:
        found = find_listings(visibility, query, now)
        value: dict[str, Any] = {"found": found.to_json(), "parts": {
            name: render(found) for name, render in results.items()}}
        if form is not None:
            retired = retired_categories()
            value["retired_categories"] = sorted(retired[1])
            value["parts"]["form"] = form(retired)
        return value

    def refresh(value: dict[str, Any], changed: set[int]) -> dict[str, Any] | None:
        before = Found.from_json(value["found"])
        found = refind(before, visibility, query, changed, now)
        if found is None:
            return None
        parts = dict(value["parts"])
        shown = page_ids(found, query)
        if (shown != page_ids(before, query) or changed.intersection(shown)
                or (found.total, found.exact) != (before.total, before.exact)):
            parts.update({name: render(found) for name, render in results.items()})
        refreshed: dict[str, Any] = {"found": found.to_json(), "parts": parts}
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
