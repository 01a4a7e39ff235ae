"""What /healthz checks: the database answers and photos can be stored.

Each check returns a short word for the JSON answer ("ok", or what is wrong); the details of a
failure go to the log only, never to the (unauthenticated) answer.
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from .extensions import db
from .storage import get_storage

OK = "ok"
SKIPPED = "skipped"  # a storage backend that has no way to be checked
PASSING = frozenset({OK, SKIPPED})
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
    a bucket answers), or SKIPPED for a backend that has none."""
    try:
        check = getattr(get_storage(), "check", None)
        if check is None:
            return SKIPPED
        check()
    except Exception as error:
        log.warning("Health check: photos cannot be stored (%s: %s)", type(error).__name__, error)
        return "unavailable"
    return OK
