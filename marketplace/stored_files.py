"""Files in storage follow the database transaction that names them: a file written for a row
is removed when that transaction does not commit (`written`), and the files of a deleted row go
only once the deletion is committed (`delete_after_commit`), so a rollback keeps them with their
row. Photos and transfer documents use it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .extensions import db
from .storage import Storage

log = logging.getLogger(__name__)

_WRITTEN = "stored_files.written"  # removed unless the transaction commits
_DELETED = "stored_files.of_deleted_rows"  # removed once the transaction commits


def written(storage: Storage, names: Iterable[str]) -> None:
    """`names` were written for rows of the current transaction."""
    db.session.info.setdefault(_WRITTEN, []).extend((storage, name) for name in names)


def delete_after_commit(storage: Storage, names: Iterable[str]) -> None:
    """`names` belong to rows the current transaction deletes."""
    db.session.info.setdefault(_DELETED, []).extend((storage, name) for name in names)


def delete_file(storage: Storage, name: str) -> None:
    """Remove `name`; a failure is logged, never raised (the file is only left behind)."""
    try:
        storage.delete(name)
    except OSError:
        log.warning("Could not delete stored file %s", name, exc_info=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for storage, name in session.info.pop(_DELETED, ()):
        delete_file(storage, name)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the real transaction decides
    # Still here, so not committed (rolled back, or the session closed): the rows are gone.
    for storage, name in session.info.pop(_WRITTEN, ()):
        delete_file(storage, name)
    session.info.pop(_DELETED, None)
