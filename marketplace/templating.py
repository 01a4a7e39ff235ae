"""Globals and filters for the templates."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_request_context, request
from markupsafe import Markup

from .auth_session import request_user, signed_in
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
        user = request_user() if in_request else None
        # Platform admins without an organisation moderate; they are not meant to post.
        if user is not None and not (user.is_platform_admin and user.organisation is None):
            block_reason = participation_block_reason(user)
        return {
            "can": can,
            "Action": Action,
            "in_good_standing": in_good_standing,
            "participation_block": block_reason,
            "languages": [(language.value, LANGUAGE_NAMES[language]) for language in Language],
            "current_language": current_language(),
            "current_path": request.full_path.rstrip("?") if in_request else "/",
        }

    # Globals, not context: imported macros (the listing card) see globals only.
    app.jinja_env.globals.update(photo_url=photo_url, srcset=srcset, listing_card=listing_card,
                                 member_nav=member_nav, layout_parts=layout_parts)
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


# Fragments kept per process and application (cards, navigations): a few MB.
KEPT_FRAGMENTS = 5_000


def listing_card(listing: ListingCard) -> Markup:
    """The listing's card (the macro in templates/listings/_card.html), rendered once per
    process for the values it shows: at 24 cards a page, rendering them was half the search
    page's time. The key is the ListingCard itself, every value a card may show (public data,
    nothing about the viewer), so a change to any of them, or a value added to it, renders the
    card afresh."""
    if not isinstance(listing, ListingCard):
        # A Listing would be keyed by its identity and could show an old card.
        raise TypeError(f"listing_card takes a search.ListingCard, not {type(listing).__name__}")
    return _kept("listings/_card.html", "card", listing)


@dataclass(frozen=True)
class MemberNav:
    """Every value the navigation shows a signed-in account between "Find surplus" and
    "Profile" (templates/_member_nav.html): its key among the kept navigations."""

    in_good_standing: bool
    organisation_id: int | None
    may_participate: bool
    manages_organisation: bool
    administers: bool
    counts: Counts


def member_nav() -> Markup:
    """The signed-in account's navigation links, rendered once per process for the values they
    show (MemberNav): rendered on every member's page, they cost a tenth of a kept search
    page. What the account may do, and the counts, are read on every request as before."""
    user = request_user()
    if user is None:
        return Markup("")
    read = signed_in(user)
    organisation = user.organisation
    nav = MemberNav(
        in_good_standing=in_good_standing(user),
        organisation_id=organisation.id if organisation is not None else None,
        may_participate=can(user, Action.PARTICIPATE),
        manages_organisation=organisation is not None
        and can(user, Action.MANAGE_ORGANISATION, organisation),
        administers=can(user, Action.ADMINISTER_PLATFORM),
        counts=counts_for(user, read.counts if read else None))
    return _kept("_member_nav.html", "member_nav", nav)


LAYOUT_PARTS = ("head_links", "skip_link", "brand", "find_link", "profile_link",
                "visitor_links", "footer_about")


def layout_parts() -> dict[str, Markup]:
    """The parts of the layout that are the same on every page of a language and script root
    (the macros of templates/_layout.html), rendered once per process: built at every request,
    their dozen `url_for` and `_()` calls cost a tenth of a member's kept search page."""
    return _kept_made("_layout.html", (), lambda module: {
        name: getattr(module, name)() for name in LAYOUT_PARTS})


def _kept(template: str, macro_name: str, values: Hashable) -> Markup:
    """The macro `macro_name` of `template` called with `values`, kept per language and
    script root for `values` (hashable: every value the fragment shows)."""
    # Markup: the macro escapes its output.
    return _kept_made(template, values, lambda module: getattr(module, macro_name)(values))


def _kept_made(template: str, values: Hashable, make: Callable[[Any], Any]) -> Any:
    """What `make` renders from `template`'s module, kept per language and script root for
    `values`."""
    key = (template, current_language(), request.script_root if has_request_context() else "",
           values)
    kept: dict[tuple, Any] = current_app.extensions.setdefault("kept_fragments", {})
    made = kept.get(key)
    if made is None:
        made = make(current_app.jinja_env.get_template(template).module)
        if len(kept) >= KEPT_FRAGMENTS:
            kept.clear()  # simpler than LRU, and rare: the newest listings are asked most
        kept[key] = made
    return made
