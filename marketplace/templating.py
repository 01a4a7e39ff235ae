"""Globals and filters for the templates."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user
from markupsafe import Markup

from .auth_session import signed_in
from .error_summary import error_summary, page_has_errors
from .formats import (
    date_text,
    datetime_text,
    factor_text,
    money_text,
    number_text,
    window_text,
)
from .i18n import current_language
from .models import LANGUAGE_NAMES, Language
from .models.audit import audit_action_label
from .security import Action, can, in_good_standing, participation_block_reason
from .services.photos import photo_url, srcset
from .services.search import ListingCard
from .services.todo import Counts, counts_for


def register(app: Flask) -> None:
    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        block_reason = None
        in_request = has_request_context()  # emails are rendered outside requests too
        # Platform admins without an organisation moderate; they are not meant to post.
        if in_request and current_user.is_authenticated and not (
            current_user.is_platform_admin and current_user.organisation is None
        ):
            block_reason = participation_block_reason(current_user)
        return {
            "can": can,
            "Action": Action,
            "in_good_standing": in_good_standing,
            "participation_block": block_reason,
            "languages": [(language.value, LANGUAGE_NAMES[language]) for language in Language],
            "current_language": current_language(),
            "current_path": request.full_path.rstrip("?") if in_request else "/",
            "nav_counts": nav_counts,
        }

    # Globals, not context: imported macros (the listing card) see globals only.
    app.jinja_env.globals.update(photo_url=photo_url, srcset=srcset, listing_card=listing_card)
    app.jinja_env.globals.update(error_summary=error_summary, page_has_errors=page_has_errors)
    # In the page's (or email's) language and the platform's time zone (formats.py).
    app.jinja_env.filters["datetime"] = lambda value: datetime_text(value) if value else ""
    app.jinja_env.filters["date"] = lambda value: date_text(value) if value else ""
    app.jinja_env.filters["window"] = lambda starts, ends: window_text(starts, ends) \
        if starts and ends else ""
    app.jinja_env.filters["number"] = lambda value: number_text(value) \
        if value is not None else ""
    app.jinja_env.filters["factor"] = lambda value: factor_text(value) \
        if value is not None else ""
    app.jinja_env.filters["money"] = lambda value: money_text(value) \
        if value is not None else ""
    app.jinja_env.filters["audit_action"] = audit_action_label


def nav_counts() -> Counts:
    """The navigation's counts ("Claims (2)"), asked once per request and only when a member's
    navigation shows them: a visitor's page asks nothing."""
    if not (has_request_context() and current_user.is_authenticated):
        return Counts()
    counts = g.get("nav_counts")
    if counts is None:
        read = signed_in(current_user)
        counts = g.nav_counts = counts_for(current_user, read.counts if read else None)
    return counts


CARD_CACHE_SIZE = 5_000  # cards per process and application: a few MB


def listing_card(listing: ListingCard) -> Markup:
    """The listing's card (the macro in templates/listings/_card.html), rendered once per
    process for the values it shows: at 24 cards a page, rendering them was half the search
    page's time. The key is the ListingCard itself, every value a card may show (public data,
    nothing about the viewer), so a change to any of them, or a value added to it, renders the
    card afresh."""
    if not isinstance(listing, ListingCard):
        # A Listing would be keyed by its identity and could show an old card.
        raise TypeError(f"listing_card takes a search.ListingCard, not {type(listing).__name__}")
    key = (current_language(), request.script_root if has_request_context() else "", listing)
    cache: dict[tuple, Markup] = current_app.extensions.setdefault("listing_cards", {})
    html = cache.get(key)
    if html is None:
        macro = current_app.jinja_env.get_template("listings/_card.html").module.card  # type: ignore[attr-defined]
        html = macro(listing)  # Markup: the macro's output is escaped already
        if len(cache) >= CARD_CACHE_SIZE:
            cache.clear()  # simpler than LRU, and rare: the newest listings are asked most
        cache[key] = html
    return html
