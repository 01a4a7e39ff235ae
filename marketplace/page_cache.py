"""Rendered parts of the browse and search pages, kept between requests and brought up to date
by every change to what they show.

Why: finding a page of results (the SQL for the ids and the count up to 500, the category filter,
rendering 24 cards and the filter form) cost 13-28 ms of CPU a request, ten times a page without
SQL; the load test (bench/README.md) asks the search page to reach 30 % of the framework's own
ceiling. Popular searches are asked again and again between two changes to the listings.

What is kept: the parts of a page that hold nothing about the viewer (the filter form, the result
count, the cards and the pager), as HTML, with the ids found, keyed by everything they depend on:
the page, the language, the script root, which listings the viewer sees (everyone's; also their
organisation's in its internal phase; all, for platform admins: services/search.
results_visibility), the query and today's date. The layout, flashed messages, CSRF tokens and
the "alert me" form are rendered for each request.

How it is kept up to date: the session events at the bottom notice every committed change to
the models that declare they show here (`@shown_on_cards` in models/base.py), from flushed objects
and ORM UPDATE/DELETE statements alike.
- A change to listings or their photos is announced with the listings' ids in a log of changes
  (the last CHANGE_LOG_COMMITS commits). A kept entry read later is brought up to date by asking
  only about the listings changed since it was made (listings/pages.py, services/search.refind):
  a new listing joins the results it matches, a claimed quantity shows on its card, and a
  search no change touches is not made again.
- A change to anything else (an organisation, a site, a category, a photo's file, an UPDATE
  whose listings are not known) moves a generation counter, and every entry of an older
  generation is never read again.
What changes with time alone is kept no longer than it holds: until the next listing's internal
phase ends (services/search.next_visibility_change), results by posting date a minute, and the
date is in the key. Beyond that every entry lives SEARCH_CACHE_SECONDS at most.

Where it is kept (SEARCH_CACHE_URL): `memory://`, each process its own (with several worker
processes a change shows at once in the process that made it, and within SEARCH_CACHE_SECONDS,
30 by default, in the others); `redis://…`, shared by every process and server, so every change
shows at once everywhere (the default when the rate limits use Redis; entries live 600 s by
default); `none`, nothing kept. A Redis that fails is left alone for a while and pages are
rendered as without a cache: never an error page.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol

import orjson
import redis
from flask import Flask, current_app, has_app_context
from redis import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, class_mapper
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from .extensions import db
from .models.base import CardSource, card_sources

logger = logging.getLogger(__name__)

_EXTENSION_KEY = "marketplace.page_cache"
MEMORY_ENTRIES = 2_000  # per process: a few MB of HTML
MEMORY_SECONDS = 30  # default lifetime in memory: how late other processes show a change
REDIS_SECONDS = 600  # default lifetime in Redis: changes made outside the ORM show by then
REDIS_TIMEOUT = 0.25  # seconds; a Redis that answers slower is as good as down
REDIS_PAUSE = 30.0  # seconds to leave a failing Redis alone
_FAILURES = (RedisError, OSError, ValueError)  # ValueError: a damaged entry


# Listing changes remembered, per commit, for bringing kept results up to date; an entry older
# than that many commits is made afresh.
CHANGE_LOG_COMMITS = 2_000


class _Backend(Protocol):
    def read(self, key: str) -> tuple[int, int, bytes | None]:
        """The generation, the sequence of the last listing change, and the entry `key`."""
    def bump(self) -> None: ...
    def announce(self, listing_ids: Collection[int]) -> None: ...
    def changes(self, since: int) -> set[int] | None:
        """The ids of the listings changed after `since`; None when that is forgotten."""
    def set(self, key: str, value: bytes, seconds: int) -> None: ...


class _MemoryBackend:
    def __init__(self, max_entries: int = MEMORY_ENTRIES) -> None:
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._generation = 0
        self._sequence = 0
        self._log: deque[tuple[int, frozenset[int]]] = deque(maxlen=CHANGE_LOG_COMMITS)
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def read(self, key: str) -> tuple[int, int, bytes | None]:
        with self._lock:
            entry = self._entries.get(key)
            stored = None if entry is None or entry[0] < time.monotonic() else entry[1]
            return self._generation, self._sequence, stored

    def bump(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()  # never read again

    def announce(self, listing_ids: Collection[int]) -> None:
        with self._lock:
            self._sequence += 1
            self._log.append((self._sequence, frozenset(listing_ids)))

    def changes(self, since: int) -> set[int] | None:
        with self._lock:
            if since < self._sequence - len(self._log):
                return None  # forgotten
            return {listing_id for sequence, listing_ids in self._log if sequence > since
                    for listing_id in listing_ids}

    def set(self, key: str, value: bytes, seconds: int) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()  # simpler than LRU; the popular pages come back first
            self._entries[key] = (time.monotonic() + seconds, value)


# The listing changes: a sorted set of "sequence:listing id" scored by the commit's sequence,
# and "latest" scored by the last one. Commits older than CHANGE_LOG_COMMITS are dropped.
_ANNOUNCE = """
local latest = redis.call('ZSCORE', KEYS[1], 'latest')
local sequence
if latest then
  sequence = tonumber(latest) + 1
else
  local now = redis.call('TIME')
  sequence = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
end
local name = string.format('%.0f', sequence)
for _, listing_id in ipairs(ARGV) do
  redis.call('ZADD', KEYS[1], sequence, name .. ':' .. listing_id)
end
redis.call('ZADD', KEYS[1], sequence, 'latest')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', sequence - """ \
    + str(CHANGE_LOG_COMMITS) + """))
return name
"""


class _RedisBackend:
    def __init__(self, url: str, prefix: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT,
                                            socket_connect_timeout=REDIS_TIMEOUT)
        self._prefix = prefix
        self._generation_key = f"{prefix}page-cache:generation"
        self._changes_key = f"{prefix}page-cache:changes"
        self._announce = self._client.register_script(_ANNOUNCE)

    def read(self, key: str) -> tuple[int, int, bytes | None]:
        # One round trip: what a page asked again needs when nothing changed.
        # Commands one per statement: redis-py types a pipeline's commands by their reply, so
        # a chain of them does not type-check.
        pipe = self._client.pipeline(transaction=False)
        pipe.get(self._generation_key)
        pipe.zscore(self._changes_key, "latest")
        pipe.get(self._entry_key(key))
        generation, latest, stored = pipe.execute()
        if generation is None or latest is None:
            generation, latest = self._start()
        return int(generation), int(latest), stored

    def _start(self) -> tuple[bytes, float]:
        """The counters, started from the clock, not from 0: should Redis lose them (a
        restart, eviction), entries kept under old numbers are never taken for new ones."""
        clock = time.time_ns() // 1_000_000
        pipe = self._client.pipeline()
        pipe.set(self._generation_key, clock, nx=True)
        pipe.zadd(self._changes_key, {"latest": clock}, nx=True)
        pipe.get(self._generation_key)
        pipe.zscore(self._changes_key, "latest")
        _, _, generation, latest = pipe.execute()
        return generation, latest

    def bump(self) -> None:
        self._start()  # so the counter exists and starts from the clock
        self._client.incr(self._generation_key)

    def announce(self, listing_ids: Collection[int]) -> None:
        self._announce(keys=[self._changes_key], args=sorted(listing_ids))

    def changes(self, since: int) -> set[int] | None:
        pipe = self._client.pipeline()
        pipe.zscore(self._changes_key, "latest")
        pipe.zrangebyscore(self._changes_key, f"({since}", "+inf")
        latest, members = pipe.execute()
        if latest is None or since < latest - CHANGE_LOG_COMMITS:
            return None  # lost or dropped
        return {int(member.split(b":")[1]) for member in members if member != b"latest"}

    def set(self, key: str, value: bytes, seconds: int) -> None:
        self._client.set(self._entry_key(key), value, ex=seconds)

    def _entry_key(self, key: str) -> str:
        return f"{self._prefix}page-cache:entry:{key}"


Refresh = Callable[[dict[str, Any], set[int]], dict[str, Any] | None]


class PageCache:
    """Values (rendered page parts) per key, kept until something they show changes."""

    def __init__(self, backend: _Backend | None, seconds: int) -> None:
        self._backend = backend
        self._seconds = seconds
        self._paused_until = 0.0
        self._failing = False  # warned about an outage that has not ended yet
        self._owed_change = False  # a change this process could not tell the shared cache

    def kept(self, key: tuple, build: Callable[[], dict[str, Any]],
             refresh: Refresh | None = None,
             lifetime: Callable[[], float | None] = lambda: None) -> dict[str, Any]:
        """The value (JSON-able) kept for `key`, up to date: as kept when nothing changed since;
        `refresh(value, listing_ids)` when only those listings changed (None: it cannot tell);
        else `build()`. What is made is kept for next time, for `lifetime()` seconds when that
        is sooner than the cache's own lifetime."""
        backend = self._available()
        if backend is None:
            return build()
        name = hashlib.sha256(repr(key).encode()).hexdigest()
        entry: dict[str, Any] | None = None
        changed: set[int] | None = None
        try:
            if self._owed_change:
                backend.bump()
                self._owed_change = False
            # Read before the database is: a change committed from here on is in the log after
            # `sequence`, so it is asked about the next time.
            generation, sequence, stored = backend.read(name)
            self._answered()
            if stored is not None:
                entry = orjson.loads(stored)
                if entry["generation"] != generation:
                    entry = None  # something else changed since: never read again
                elif entry["sequence"] == sequence:
                    return entry["value"]
                else:
                    changed = backend.changes(entry["sequence"])
        except _FAILURES:  # a failing cache must not fail the page
            self._pause()
            return build()
        value = None
        if entry is not None and changed is not None and refresh is not None:
            value = refresh(entry["value"], changed)
        if value is None:
            value = build()
        seconds = lifetime()
        seconds = self._seconds if seconds is None else min(self._seconds, int(seconds))
        if seconds < 1:
            return value  # about to change: not worth keeping
        try:
            backend.set(name, orjson.dumps({"generation": generation, "sequence": sequence,
                                            "value": value}), seconds)
        except _FAILURES:
            self._pause()
        return value

    def changed(self, listing_ids: Collection[int] | None = None) -> None:
        """Something kept values show has changed: only the listings `listing_ids`, which
        refresh brings up to date, or (None) anything, and nothing kept is read again."""
        backend = self._available()
        if backend is None:
            # Paused: told as soon as the cache answers again.
            self._owed_change = self._backend is not None
            return
        try:
            if listing_ids is None:
                backend.bump()
            else:
                backend.announce(listing_ids)
            self._answered()
        except _FAILURES:
            # Told as soon as it answers again (as a change to anything); meanwhile other
            # processes may show the old.
            self._owed_change = True
            self._pause()

    def _available(self) -> _Backend | None:
        if self._backend is None or time.monotonic() < self._paused_until:
            return None
        return self._backend

    def _pause(self) -> None:
        # One warning an outage (tried again every REDIS_PAUSE seconds), not one a request.
        if not self._failing:
            logger.warning("page cache unavailable, pages are rendered without it until it "
                           "answers again (tried every %.0f s)", REDIS_PAUSE, exc_info=True)
            self._failing = True
        self._paused_until = time.monotonic() + REDIS_PAUSE

    def _answered(self) -> None:
        if self._failing:
            logger.info("page cache answers again")
            self._failing = False


def cache_url(config: Mapping[str, Any]) -> str:
    """Where kept pages live: SEARCH_CACHE_URL, by default the rate limits' Redis if they use
    one, else memory://."""
    url = (config.get("SEARCH_CACHE_URL") or "").strip()
    if not url:  # by default, shared wherever the rate limits are shared
        limits = config.get("RATELIMIT_STORAGE_URI") or ""
        url = limits if limits.startswith(("redis://", "rediss://")) else "memory://"
    return url


def init_app(app: Flask) -> None:
    url = cache_url(app.config)
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


def page_changed(listing_ids: Collection[int] | None = None) -> None:
    """Tell the app's cache what changed (PageCache.changed): the committed session events do,
    and changes made outside the ORM (a restored database) call it with nothing, so nothing
    kept is read again."""
    cache = current_app.extensions.get(_EXTENSION_KEY)
    if cache is not None:
        cache.changed(listing_ids)


# --- noticing changes -------------------------------------------------------------------------

_CHANGED_LISTINGS = "marketplace.page_cache.listings"  # in Session.info: ids of changed listings
_CHANGED_ANYTHING = "marketplace.page_cache.anything"  # in Session.info: more than listings
_listening = False
_listening_lock = threading.Lock()


def _sources() -> Mapping[type, CardSource]:
    """The models whose rows the kept parts show, as they declare it (models.base.
    shown_on_cards); tests/test_card_sources.py fails for a table they read and none declares."""
    from . import models  # noqa: F401  (every model declared)

    return card_sources()


def _listing_of(instance: Any, new: bool, sources: Mapping[type, CardSource]) -> int | None:
    """The id of the listing whose results a change to `instance` touches; 0 for none; None
    when it may touch any (an organisation, a site, a category)."""
    source = sources[type(instance)]
    if source.listing is not None:
        return getattr(instance, source.listing)
    if new and source.new_shows_nothing:
        return 0  # in no results before a listing (or its photo) is: announced with that
    return None


def _pinned_ids(statement: Any, columns: Collection[Any]) -> set[int] | None:
    """The listing ids an UPDATE or DELETE is limited to by its WHERE on one of `columns` (the
    ones holding a listing's id: `Listing.id == …`, `ListingPhoto.listing_id IN …`); None when
    it is not (then every kept page is dropped: safe, only slower)."""
    where = getattr(statement, "whereclause", None)
    if where is None or not columns:
        return None
    clauses = where.clauses if isinstance(where, BooleanClauseList) \
        and where.operator is operators.and_ else [where]
    for clause in clauses:
        if not (isinstance(clause, BinaryExpression) and isinstance(clause.right, BindParameter)
                and clause.operator in (operators.eq, operators.in_op)):
            continue
        if not any(clause.left.compare(column) for column in columns):
            continue
        value = clause.right.effective_value
        values = value if clause.operator is operators.in_op else [value]
        if isinstance(values, list | tuple) and all(isinstance(item, int) for item in values):
            return set(values)
    return None


def _note(session: Session, listing_ids: set[int] | None) -> None:
    if listing_ids is None:
        session.info[_CHANGED_ANYTHING] = True
    else:
        session.info.setdefault(_CHANGED_LISTINGS, set()).update(listing_ids)


def _listen_to_sessions() -> None:
    global _listening
    with _listening_lock:
        if _listening:
            return
        sources = _sources()
        # The columns that hold a listing's id, per watched model: what an UPDATE's WHERE names.
        listing_columns = {model: class_mapper(model).columns[source.listing]
                           for model, source in sources.items() if source.listing is not None}

        # On the extension's sessions (db.session), not on every SQLAlchemy Session.
        @event.listens_for(db.session, "after_flush")
        def _flushed(session: Session, _context: Any) -> None:
            changes = [(instance, True) for instance in session.new] + [
                (instance, False) for instance in session.deleted] + [
                # Collections left out: a new claim joins listing.claims, but a card shows no
                # claims; photos and their order are rows watched themselves.
                (instance, False) for instance in session.dirty
                if session.is_modified(instance, include_collections=False)]
            for instance, new in changes:
                if type(instance) in sources:
                    listing_id = _listing_of(instance, new, sources)
                    _note(session, None if listing_id is None else {listing_id} - {0})

        @event.listens_for(db.session, "do_orm_execute")
        def _executed(state: ORMExecuteState) -> None:
            # lock_only: a no-op UPDATE taken for its row lock (claims.lock_listing).
            if not (state.is_update or state.is_delete or state.is_insert) or \
                    state.execution_options.get("lock_only"):
                return
            models = [mapper.class_ for mapper in state.all_mappers
                      if mapper.class_ in sources]
            if models:
                columns = [listing_columns[model] for model in models
                           if model in listing_columns]
                _note(state.session, None if state.is_insert
                      else _pinned_ids(state.statement, columns))

        @event.listens_for(db.session, "after_commit")
        def _committed(session: Session) -> None:
            anything = session.info.pop(_CHANGED_ANYTHING, False)
            listing_ids = session.info.pop(_CHANGED_LISTINGS, set())
            if has_app_context() and (anything or listing_ids):
                page_changed(None if anything else listing_ids)

        @event.listens_for(db.session, "after_transaction_end")
        def _ended(session: Session, transaction: Any) -> None:
            # After a commit (handled above) or a rollback of the whole transaction; a savepoint
            # rolled back keeps the marks (at worst one needless renewal).
            if transaction.parent is None:
                session.info.pop(_CHANGED_ANYTHING, None)
                session.info.pop(_CHANGED_LISTINGS, None)

        _listening = True
