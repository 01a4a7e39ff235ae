"""Wanted alerts: saved searches, matched against each listing once it is visible to others.

An alert's words find a listing exactly when the search for them finds it (`search.has_words`:
the search's own terms and SQL), and its category (with children), province, condition and
radius must fit. `services.announcements` decides when a listing is matched (once, when
others can see it).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..localtime import local_time
from ..models import (
    Alert,
    AlertFrequency,
    AlertMatch,
    Category,
    Condition,
    Listing,
    ListingStatus,
    NotificationPreference,
    OutboxMessage,
    Province,
    Site,
    User,
    UserStatus,
)
from ..models.base import utcnow
from ..security import Action, participation_block_reason, require
from ..unit_of_work import Skip, atomic, each_in_own_unit
from .errors import DomainError, PermissionDenied
from .mail import queue_email
from .matching import category_and_ancestors
from .search import SearchQuery, has_words, search_words, sites_around, with_origin
from .urls import external_url

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

MAX_ALERTS_PER_USER = 50


# --- managing alerts -------------------------------------------------------------------------

@atomic
def create_alert(actor: User, query: SearchQuery,
                 frequency: AlertFrequency | str = AlertFrequency.INSTANT) -> Alert:
    """Save the words and filters of a search as an alert (one click on the search page), with
    its radius around one of the actor's organisation's sites (another's site is ignored)."""
    block = participation_block_reason(actor)
    if block:
        raise PermissionDenied(block)
    words = " ".join(search_words(query.text))
    origin = with_origin(actor, query).origin if query.within_km is not None else None
    radius = query.within_km if origin is not None else None
    if not (words or query.category_id or query.province or query.condition or radius):
        raise DomainError(_("Add a word or a filter first: an alert on everything would "
                            "email you about every listing."))
    count = len(db.session.scalars(select(Alert.id).where(Alert.user_id == actor.id)).all())
    if count >= MAX_ALERTS_PER_USER:
        raise DomainError(_("You have %(count)d alerts, the most there can be. Delete one first.",
                            count=count))
    if query.category_id is not None and db.session.get(Category, query.category_id) is None:
        raise DomainError(_("Choose a category."))
    alert = Alert(user=actor, words=words, category_id=query.category_id,
                  province=query.province, condition=query.condition,
                  near_site_id=origin.site_id if origin is not None else None,
                  within_km=radius, frequency=AlertFrequency(frequency))
    db.session.add(alert)
    return alert


def _own_alert(actor: User, alert: Alert) -> Alert:
    require(actor, Action.MANAGE_ALERT, alert)
    return alert


@atomic
def set_alert_paused(actor: User, alert: Alert, paused: bool) -> None:
    _own_alert(actor, alert).paused = paused


@atomic
def set_alert_frequency(actor: User, alert: Alert, frequency: AlertFrequency | str) -> None:
    _own_alert(actor, alert).frequency = AlertFrequency(frequency)


@atomic
def delete_alert(actor: User, alert: Alert) -> None:
    db.session.delete(_own_alert(actor, alert))


def alert_query(alert: Alert) -> SearchQuery:
    """The search an alert stands for (to show its listings on the search page)."""
    return SearchQuery(text=alert.words, category_id=alert.category_id,
                       province=alert.province, condition=alert.condition,
                       near=alert.near_site_id,
                       within_km=alert.within_km if alert.near_site_id is not None else None)


# --- matching --------------------------------------------------------------------------------

def match_alerts(listing: Listing, now: datetime) -> int:
    """Record and announce the alerts `listing` matches; returns how many matched. Called once
    per listing, by `services.announcements.announce`, in its unit of work."""
    ancestors = category_and_ancestors(listing.category_id)
    candidates = db.session.scalars(
        select(Alert).join(User, Alert.user_id == User.id)
        .options(contains_eager(Alert.user))  # one query, not one per matching alert
        .where(Alert.paused.is_(False),
               User.status == UserStatus.ACTIVE,
               User.organisation_id != listing.organisation_id,
               or_(Alert.category_id.is_(None), Alert.category_id.in_(ancestors)),
               or_(Alert.province.is_(None), Alert.province == listing.site.province),
               or_(Alert.condition.is_(None), Alert.condition == listing.condition),
               _within_radius(listing))
    ).all()
    found: dict[str, bool] = {}  # by words: many alerts share them
    matched = 0
    for alert in candidates:
        if alert.words not in found:
            found[alert.words] = has_words(listing.id, alert.words)
        if not found[alert.words]:
            continue
        match = AlertMatch(alert=alert, listing=listing, matched_at=now)
        db.session.add(match)
        matched += 1
        user = alert.user
        if alert.frequency is AlertFrequency.INSTANT and \
                user.notifications is NotificationPreference.INSTANT:
            match.notified_at = now
            queue_email("alert_match", user, title=listing.title, listing=listing,
                        alert=alert, listing_url=external_url("listings.show",
                                                              listing_id=listing.id))
        elif user.notifications is NotificationPreference.OFF:
            match.notified_at = now  # recorded, never sent
    db.session.flush()
    return matched


def _within_radius(listing: Listing) -> ColumnElement[bool]:
    """An alert's radius lets the listing through when its site is that close to the alert's
    site; an alert without a radius, or whose site is gone or its place unknown (as the search
    does: no distance filter), lets every listing through."""
    unlocated = select(Site.id).where(or_(Site.latitude.is_(None), Site.longitude.is_(None)))
    return or_(Alert.within_km.is_(None), Alert.near_site_id.is_(None),
               Alert.near_site_id.in_(unlocated),
               Alert.near_site_id.in_(sites_around(listing.site.latitude,
                                                   listing.site.longitude, Alert.within_km)))


DIGEST_INTERVAL = timedelta(hours=20)  # once a day, at the first run after DIGEST_HOUR


def send_daily_digests(now: datetime | None = None) -> int:
    """One email a day per member with the matches not yet sent (daily alerts, or members who
    asked for a digest), at the first run after DIGEST_HOUR local time. Returns how many."""
    now = now or utcnow()
    if local_time(now).hour < current_app.config["DIGEST_HOUR"]:
        return 0
    pending = db.session.scalars(
        select(AlertMatch).join(Alert).where(AlertMatch.notified_at.is_(None))
        .order_by(Alert.user_id, AlertMatch.matched_at)).all()
    by_user: dict[int, list[AlertMatch]] = defaultdict(list)
    for match in pending:
        by_user[match.alert.user_id].append(match)

    def send(matches: list[AlertMatch]) -> bool:  # one member's, in a unit of work of its own
        user_id = matches[0].alert.user_id
        last_digest = db.session.scalar(
            select(func.max(OutboxMessage.created_at)).where(
                OutboxMessage.template == "alert_digest",
                OutboxMessage.recipient_user_id == user_id))
        if last_digest is not None and last_digest > now - DIGEST_INTERVAL:
            return False
        ids = [match.id for match in matches]
        # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
        claimed = cast("CursorResult[Any]", db.session.execute(
            update(AlertMatch).where(AlertMatch.id.in_(ids), AlertMatch.notified_at.is_(None))
            .values(notified_at=now).execution_options(synchronize_session=False))).rowcount
        if claimed != len(ids):
            raise Skip  # another run is sending this digest
        user = matches[0].alert.user
        visible = [match.listing for match in matches
                   if match.listing.status is ListingStatus.PUBLISHED]
        if not (visible and user.status is UserStatus.ACTIVE):
            return False
        digest = queue_email("alert_digest", user, listings=visible, count=str(len(visible)))
        if digest is not None:
            digest.created_at = now  # the day's digest is dated by the run that made it
        return True

    return each_in_own_unit(by_user.values(), send)


def describe(alert: Alert, language: str) -> str:
    """A short description of what an alert watches, for lists and emails."""
    parts = [alert.words] if alert.words else []
    if alert.category is not None:
        parts.append(alert.category.name(language))
    if alert.province is not None:
        parts.append(Province(alert.province).label)
    if alert.condition is not None:
        parts.append(Condition(alert.condition).label)
    site = db.session.get(Site, alert.near_site_id) if alert.near_site_id is not None else None
    if site is not None and alert.within_km is not None:
        parts.append(_("within %(km)s km of %(site)s", km=alert.within_km, site=site.name))
    return " · ".join(parts)
