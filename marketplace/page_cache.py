"""Rendered parts of the browse and search pages, kept between requests and thrown away by any
change to what they show.

Why: finding a page of results (the SQL for the ids and the count up to 500, the category filter,
rendering 24 cards and the filter form) cost 13-28 ms of CPU a request, ten times a page without
SQL; the load test (bench/README.md) asks the search page to reach 30 % of the framework's own
ceiling. Popular searches are asked again and again between two changes to the listings.

What is kept: the parts of a page that hold nothing about the viewer (the filter form, the result
count, the cards and the pager), as HTML, keyed by everything they depend on: the page, the
language, the script root, which listings the viewer sees (everyone's; also their organisation's
in its internal phase; all, for platform admins: services/search.results_visibility), the query
and today's date. The layout, flashed messages, CSRF tokens and the "alert me" form are
rendered for each request.

When it is thrown away: every committed change to listings, their photos, organisations, sites or
categories moves a generation counter (the session events at the bottom: flushed objects and ORM
UPDATE/DELETE statements alike), and parts of an older generation are never read again. So a new
listing, a claimed quantity or a suspended organisation shows on the next request. What changes
with time alone is kept no longer than it holds: until the next listing's internal phase ends
(services/search.next_visibility_change), results by posting date a minute, and the date is in
the key. Beyond that every entry lives SEARCH_CACHE_SECONDS at most.

Where it is kept (SEARCH_CACHE_URL): `memory://`, each process its own (with several worker
processes a change shows at once in the process that made it, and within SEARCH_CACHE_SECONDS,
30 by default, in the others); `redis://…`, shared by every process and server, so every change
shows at once everywhere (the default when the rate limits use Redis; entries live 600 s by
default); `none`, nothing kept. A Redis that fails is left alone for a while and pages are
rendered as without a cache: never an error page.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis
from flask import Flask, current_app, has_app_context
from redis import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

logger = logging.getLogger(__name__)

_EXTENSION_KEY = "marketplace.page_cache"
_CHANGED = "marketplace.page_cache.changed"  # in Session.info: a watched row changed
MEMORY_ENTRIES = 2_000  # per process: a few MB of HTML
MEMORY_SECONDS = 30  # default lifetime in memory: how late other processes show a change
REDIS_SECONDS = 600  # default lifetime in Redis: every change throws entries away anyway
REDIS_TIMEOUT = 0.25  # seconds; a Redis that answers slower is as good as down
REDIS_PAUSE = 30.0  # seconds to leave a failing Redis alone
_FAILURES = (RedisError, OSError, ValueError)  # ValueError: a damaged entry


class _Backend(Protocol):
    def generation(self) -> int: ...
    def bump(self) -> None: ...
    def get(self, key: str) -> str | None: ...
    def set(self, key: str, value: str, seconds: int) -> None: ...


class _MemoryBackend:
    def __init__(self, max_entries: int = MEMORY_ENTRIES) -> None:
        self._entries: dict[str, tuple[float, str]] = {}
        self._generation = 0
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def generation(self) -> int:
        return self._generation

    def bump(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()  # never read again

    def get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def set(self, key: str, value: str, seconds: int) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()  # simpler than LRU; the popular pages come back first
            self._entries[key] = (time.monotonic() + seconds, value)


class _RedisBackend:
    def __init__(self, url: str, prefix: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                            socket_connect_timeout=REDIS_TIMEOUT)
        self._prefix = prefix
        self._generation_key = f"{prefix}page-cache:generation"

    def generation(self) -> int:
        value = self._client.get(self._generation_key)
        if value is None:
            # Started from the clock, not from 0: should Redis lose the counter (a restart,
            # eviction), entries kept under an old number are never taken for new ones.
            self._client.set(self._generation_key, time.time_ns() // 1_000_000, nx=True)
            value = self._client.get(self._generation_key)
        return int(value or 0)

    def bump(self) -> None:
        self.generation()  # so the counter exists and starts from the clock
        self._client.incr(self._generation_key)

    def get(self, key: str) -> str | None:
        value = self._client.get(f"{self._prefix}page-cache:{key}")
        return None if value is None else value.decode()

    def set(self, key: str, value: str, seconds: int) -> None:
        self._client.set(f"{self._prefix}page-cache:{key}", value.encode(), ex=seconds)


class PageCache:
    """Rendered page parts per key, of the current generation only."""

    def __init__(self, backend: _Backend | None, seconds: int) -> None:
        self._backend = backend
        self._seconds = seconds
        self._paused_until = 0.0
        self._owed_change = False  # a change this process could not tell the shared cache

    def parts(self, key: tuple, render: Callable[[], dict[str, str]],
              lifetime: Callable[[], float | None] = lambda: None) -> dict[str, str]:
        """The parts (name → HTML) kept for `key`, or `render()`'s, kept for the next time:
        for `lifetime()` seconds when that is sooner than the cache's own lifetime."""
        backend = self._available()
        if backend is None:
            return render()
        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        try:
            if self._owed_change:
                backend.bump()
                self._owed_change = False
            name = f"{backend.generation()}:{digest}"
            stored = backend.get(name)
            if stored is not None:
                return json.loads(stored)
        except _FAILURES:  # a failing cache must not fail the page
            self._pause()
            return render()
        value = render()
        seconds = lifetime()
        seconds = self._seconds if seconds is None else min(self._seconds, int(seconds))
        if seconds < 1:
            return value  # about to change: not worth keeping
        try:
            backend.set(name, json.dumps(value), seconds)
        except _FAILURES:
            self._pause()
        return value

    def changed(self) -> None:
        """Something the cached parts show has changed: none of them is read again."""
        backend = self._available()
        if backend is None:
            # Paused: told as soon as the cache answers again.
            self._owed_change = self._backend is not None
            return
        try:
            backend.bump()
        except _FAILURES:
            # Told as soon as it answers again; meanwhile other processes may show the old.
            self._owed_change = True
            self._pause()

    def _available(self) -> _Backend | None:
        if self._backend is None or time.monotonic() < self._paused_until:
            return None
        return self._backend

    def _pause(self) -> None:
        logger.warning("page cache unavailable, pages are rendered without it for %.0f s",
                       REDIS_PAUSE, exc_info=True)
        self._paused_until = time.monotonic() + REDIS_PAUSE


def init_app(app: Flask) -> None:
    url = (app.config.get("SEARCH_CACHE_URL") or "").strip()
    if not url:  # by default, shared wherever the rate limits are shared
        limits = app.config.get("RATELIMIT_STORAGE_URI") or ""
        url = limits if limits.startswith(("redis://", "rediss://")) else "memory://"
    backend: _Backend | None
    seconds = app.config.get("SEARCH_CACHE_SECONDS")
    if url == "none":
        backend = None
    elif url.startswith("memory://"):
        backend = _MemoryBackend()
        # Also how late other worker processes show a change: keep it short.
        seconds = seconds or MEMORY_SECONDS
    elif url.startswith(("redis://", "rediss://", "unix://")):
        backend = _RedisBackend(url, app.config.get("SEARCH_CACHE_KEY_PREFIX") or "")
        seconds = seconds or REDIS_SECONDS
    else:
        raise ValueError(f"SEARCH_CACHE_URL must be memory://, redis://… or none, not {url!r}")
    app.extensions[_EXTENSION_KEY] = PageCache(backend, int(seconds or 0))
    _listen_to_sessions()


def page_cache() -> PageCache:
    return current_app.extensions[_EXTENSION_KEY]


def page_changed() -> None:
    """For changes made outside the ORM (a restored database): nothing kept is read again."""
    cache = current_app.extensions.get(_EXTENSION_KEY)
    if cache is not None:
        cache.changed()


# --- noticing changes -------------------------------------------------------------------------

_listening = False
_listening_lock = threading.Lock()


def _watched_classes() -> tuple[type, ...]:
    from .models import Category, Listing, ListingPhoto, Organisation, Photo, Site

    return (Listing, ListingPhoto, Photo, Organisation, Site, Category)


def _listen_to_sessions() -> None:
    global _listening
    with _listening_lock:
        if _listening:
            return
        watched = _watched_classes()

        @event.listens_for(Session, "after_flush")
        def _flushed(session: Session, _context: Any) -> None:
            if any(isinstance(instance, watched) for instance in session.new) or any(
                    isinstance(instance, watched) for instance in session.deleted) or any(
                    # Collections left out: a new claim joins listing.claims, but a card
                    # shows no claims; photos and their order are rows watched themselves.
                    isinstance(instance, watched)
                    and session.is_modified(instance, include_collections=False)
                    for instance in session.dirty):
                session.info[_CHANGED] = True

        @event.listens_for(Session, "do_orm_execute")
        def _executed(state: ORMExecuteState) -> None:
            # lock_only: a no-op UPDATE taken for its row lock (claims.lock_listing).
            if (state.is_update or state.is_delete or state.is_insert) and not \
                    state.execution_options.get("lock_only") and any(
                    mapper.class_ in watched for mapper in state.all_mappers):
                state.session.info[_CHANGED] = True

        @event.listens_for(Session, "after_commit")
        def _committed(session: Session) -> None:
            if session.info.pop(_CHANGED, False) and has_app_context():
                page_changed()

        @event.listens_for(Session, "after_transaction_end")
        def _ended(session: Session, transaction: Any) -> None:
            # After a commit (handled above) or a rollback of the whole transaction; a savepoint
            # rolled back keeps the mark (at worst one needless renewal).
            if transaction.parent is None:
                session.info.pop(_CHANGED, None)

        _listening = True
