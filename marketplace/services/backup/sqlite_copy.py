"""SQLite: a snapshot copied with the online backup API (one read transaction), and that copy
brought back over the configured database file."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from ...extensions import db
from . import limits
from .contents import BackupError, Snapshot, read_snapshot

TABLES = "SELECT name FROM sqlite_master WHERE type = 'table'"


def snapshot_sqlite(target: Path) -> Snapshot:
    """Copy the configured SQLite database to `target`; raises BackupError."""
    source = sqlite3.connect(sqlite_uri(sqlite_path(), "rw"), uri=True,
                             timeout=limits.SQLITE_TIMEOUT)
    try:
        copy = sqlite3.connect(target)
        try:
            # In one step (pages=-1): one read transaction, so one consistent state, while
            # writers go on in WAL mode. WAL content not yet checkpointed is included.
            source.backup(copy, progress=give_up_when_locked())
            # A self-contained file: no -wal file belongs with it.
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"The copied SQLite database fails its integrity check: "
                                  f"{verdict}")
            return read_snapshot(lambda sql: copy.execute(sql).fetchall(),
                                 {row[0] for row in copy.execute(TABLES)})
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BackupError(f"Could not copy the SQLite database: {error}.") from error
    finally:
        source.close()


def restore_sqlite(snapshot_file: Path) -> Snapshot:
    """Replace every page of the configured SQLite database with the snapshot's, in one
    transaction; raises BackupError (nothing restored)."""
    target_path = Path(sqlite_path(must_exist=False))
    target_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = sqlite3.connect(sqlite_uri(snapshot_file, "ro"), uri=True)
        try:
            target = sqlite3.connect(target_path, timeout=limits.SQLITE_TIMEOUT)
            try:
                source.backup(target, progress=give_up_when_locked())
                verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
                if verdict != "ok":
                    raise BackupError(f"The restored database fails its integrity check: "
                                      f"{verdict}")
                tables = {row[0] for row in target.execute(TABLES)}
                return read_snapshot(lambda sql: target.execute(sql).fetchall(), tables)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        hint = (" Another process is writing to it: stop the app and its workers (gunicorn, "
                "send-mail, housekeeping) first." if "locked" in str(error) else "")
        raise BackupError(f"Could not restore the SQLite database: {error}.{hint} "
                          "Nothing was restored.") from error


def sqlite_path(must_exist: bool = True) -> str:
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("Backups need the SQLite database in a file (DATABASE_URL).")
    if must_exist and not Path(path).is_file():
        raise BackupError(f"The SQLite database {path} does not exist.")
    return path


def give_up_when_locked() -> Callable[[int, int, int], None]:
    """A progress callback for Connection.backup, which on its own retries a locked database
    for ever: after SQLITE_TIMEOUT seconds of SQLITE_BUSY/LOCKED it gives up."""
    deadline = time.monotonic() + limits.SQLITE_TIMEOUT

    def progress(status: int, _remaining: int, _total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) \
                and time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked")

    return progress


def sqlite_uri(path: str | os.PathLike[str], mode: str) -> str:
    # A URI, so that mode=rw/ro never creates an empty database where none was.
    return f"{Path(path).resolve().as_uri()}?mode={mode}"
