"""The parts of the search and home pages that hold nothing about the viewer: rendered once per
key and kept by page_cache until anything they show changes."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from markupsafe import Markup

from ..i18n import current_language
from ..models import Condition, OrganisationKind, Province
from ..models.base import utcnow
from ..page_cache import page_cache
from ..services.categories import browsing_category_tree
from ..services.search import (
    SearchQuery,
    Sort,
    next_visibility_change,
    results_visibility,
    search_listings,
)


def search_parts(viewer: Any, query: SearchQuery) -> dict[str, Markup]:
    """The filter form ("form") and the count, cards and pager ("results") of a search page."""

    def render() -> dict[str, str]:
        results = search_listings(viewer, query)
        form = _fragment(
            "listings/_search_form.html", query=query,
            categories=browsing_category_tree(current_language()), conditions=list(Condition),
            provinces=list(Province), organisation_kinds=list(OrganisationKind),
            posted_choices=[(1, _("Today")), (7, _("In the last week")),
                            (30, _("In the last month"))],
            sort_choices=[(Sort.NEWEST, _("Newest first")),
                          (Sort.EXPIRING, _("Expiring soonest")),
                          (Sort.RELEVANCE, _("Best match"))])
        return {"form": form,
                "results": _fragment("listings/_search_results.html", query=query,
                                     results=results)}

    return _kept(("search", query), viewer, render,
                 posted_within=query.posted_within_days is not None)


def newest_part(viewer: Any, count: int) -> Markup:
    """The home page's newest listings."""

    def render() -> dict[str, str]:
        newest = search_listings(viewer, SearchQuery(per_page=count)).listings
        return {"newest": _fragment("main/_newest.html", newest=newest)}

    return _kept(("newest", count), viewer, render)["newest"]


# "Posted today" and the like change as listings age: such results are kept this long at most.
POSTED_WITHIN_SECONDS = 60


def _kept(what: tuple, viewer: Any, render: Any, posted_within: bool = False) -> dict[str, Markup]:
    # Everything the parts depend on besides the listings themselves: the search hides listings
    # past their "available until" date by the server's date (services/search.py).
    now = utcnow()
    key = (*what, current_language(), request.script_root, results_visibility(viewer, now),
           now.astimezone().date())

    def lifetime() -> float | None:
        """Seconds until the results may change with time alone (None: not before the date)."""
        change = next_visibility_change(now)
        seconds = None if change is None else (change - now).total_seconds()
        if posted_within:
            seconds = POSTED_WITHIN_SECONDS if seconds is None \
                else min(seconds, POSTED_WITHIN_SECONDS)
        return seconds

    # Markup: the HTML is our own rendering, escaped by Jinja when it was made.
    return {name: Markup(html)  # noqa: S704  # nosec B704
            for name, html in page_cache().parts(key, render, lifetime).items()}


def _fragment(template: str, **context: Any) -> str:
    """A template rendered without the request's context (no current_user, no CSRF token), so
    that it cannot come to depend on the viewer."""
    return current_app.jinja_env.get_template(template).render(**context)
