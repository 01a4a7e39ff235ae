"""What /healthz checks: the database answers, photos can be stored, and Redis (when one is
configured) answers.

Each check returns a short word for the JSON answer ("ok", or what is wrong); the details of a
failure go to the log only, never to the (unauthenticated) answer.
"""

from __future__ import annotations

import logging

import redis
from flask import current_app
from sqlalchemy import text

from .config import REDIS_TIMEOUT_SECONDS
from .extensions import db
from .page_cache import cache_url
from .storage import get_storage

OK = "ok"
SKIPPED = "skipped"  # a storage backend that has no way to be checked
# Photos are stored, but the disk is nearly full: "degraded", not failing, since the site works
# until it is full (and then refuses photos with a message, keeping the form).
LOW_SPACE = "low_space"
PASSING = frozenset({OK, SKIPPED, LOW_SPACE})
log = logging.getLogger(__name__)


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        db.session.rollback()
        log.warning("Health check: the database is unreachable (%s)", type(error).__name__)
        return "unreachable"
    return OK


def check_storage() -> str:
    """Photos can be stored: the backend's own `check()` (the local folder takes a probe file,
    a bucket answers), or SKIPPED for a backend that has none; LOW_SPACE when they can, but
    the upload folder's disk has less than HEALTH_MIN_FREE_MB free."""
    try:
        check = getattr(get_storage(), "check", None)
        if check is None:
            return SKIPPED
        check()
        return _free_space()
    except Exception as error:
        log.warning("Health check: photos cannot be stored (%s: %s)", type(error).__name__, error)
        return "unavailable"


def _free_space() -> str:
    """OK, or LOW_SPACE when the upload folder's file system has less than HEALTH_MIN_FREE_MB
    free (a storage without a local folder: OK)."""
    free_bytes = getattr(get_storage(), "free_bytes", None)
    if free_bytes is None:
        return OK
    free = free_bytes()
    if free < current_app.config.get("HEALTH_MIN_FREE_MB", 1024) * 1024 * 1024:
        log.warning("Health check: %d MB free for photos, less than HEALTH_MIN_FREE_MB",
                    free // (1024 * 1024))
        return LOW_SPACE
    return OK


_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
_redis_down: set[str] = set()  # the URLs found unreachable: warned about once an outage


def redis_urls() -> list[str]:
    """The Redis servers this app uses: the rate limits' and the kept pages' (often one)."""
    urls = [current_app.config.get("RATELIMIT_STORAGE_URI") or "", cache_url(current_app.config)]
    return list(dict.fromkeys(url for url in urls if url.startswith(_REDIS_SCHEMES)))


def check_redis() -> str | None:
    """OK when every Redis configured answers, "unreachable" when one does not, None when no
    Redis is configured. Without Redis the site keeps working, counting rate limits per
    process and keeping no pages, so this makes /healthz "degraded", not failing."""
    urls = redis_urls()
    if not urls:
        return None
    result = OK
    for url in urls:
        try:
            with redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_connect_timeout=REDIS_TIMEOUT_SECONDS) as client:
                client.ping()
        except (redis.RedisError, OSError) as error:
            if url not in _redis_down:
                # Without the URL: it may hold a password.
                log.warning("Health check: Redis is unreachable (%s)", type(error).__name__)
                _redis_down.add(url)
            result = "unreachable"
        else:
            if url in _redis_down:
                log.info("Health check: Redis answers again")
                _redis_down.discard(url)
    return result
