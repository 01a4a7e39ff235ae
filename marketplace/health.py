"""What /healthz checks: the database answers and photos can be stored.

Each check returns a short word for the JSON answer ("ok", or what is wrong); the details of a
failure go to the log only, never to the (unauthenticated) answer.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from sqlalchemy import text

from .extensions import db
from .storage import LocalStorage, get_storage

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
    """The local folder is probed by writing a file; another backend by its own `check()`,
    when it has one (else SKIPPED)."""
    try:
        storage = get_storage()
        if isinstance(storage, LocalStorage):
            probe_folder(storage.root)
            return OK
        check = getattr(storage, "check", None)
        if check is None:
            return SKIPPED
        check()
    except Exception as error:
        log.warning("Health check: photos cannot be stored (%s: %s)", type(error).__name__, error)
        return "unavailable"
    return OK


def probe_folder(root: Path) -> None:
    """Raise OSError unless `root` exists (or can be made) and takes a new file.

    The probe's name starts with "." and ends in ".part", the marks of a file still being
    written, so backups and housekeeping running at the same moment pass it by.
    """
    root.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=root, prefix=".healthz-", suffix=".part")
    try:
        os.write(handle, b"ok")
    finally:
        os.close(handle)
        os.unlink(name)
