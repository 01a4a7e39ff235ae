"""Restoring a backup: checked whole before anything changes, refused for the other kind of
database or (unless forced and confirmed) a database holding data; then the database, then the
photo files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ...extensions import db
from ...storage import get_storage
from .checking import database_is_empty, read_manifest, verify_backup
from .contents import (
    DATABASE_FILES,
    FILES,
    KIND_NAMES,
    BackupError,
    Say,
    Snapshot,
    database_kind,
    reason,
    size_text,
)
from .postgres_dump import restore_postgres
from .revisions import revision_advice
from .sqlite_copy import restore_sqlite


def restore_backup(folder: str | os.PathLike[str], *, force: bool = False,
                   confirm: Callable[[str], bool] = lambda question: True,
                   say: Say = lambda line: None) -> Snapshot:
    """Bring a backup back into the configured database and photo storage; raises BackupError
    (before changing anything) for a damaged backup, the other kind of database, or a database
    holding data without `force` (and `confirm` answering yes)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    kind = _check_same_kind(manifest)
    verify_backup(folder, manifest)
    say(f"Checked the backup of {manifest.get('created_at')}: the database and "
        f"{len(manifest['files'])} files match their checksums.")
    url = db.engine.url
    target = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    _check_may_replace(target, manifest, force, confirm)

    # No pooled connection may hold the old database open while it is replaced.
    db.session.remove()
    db.engine.dispose()
    database_file = folder / DATABASE_FILES[kind]
    if kind == "sqlite":
        snapshot = restore_sqlite(database_file)
    else:
        snapshot = restore_postgres(database_file)
    say(f"Restored the database into {target}: {snapshot.summary()}.")
    _restore_files(folder, manifest, say)
    say(revision_advice(snapshot.revision))
    return snapshot


def _check_same_kind(manifest: dict[str, Any]) -> str:
    """The configured database's kind, when it is the backup's; raises BackupError."""
    kind, backup_kind = database_kind(), manifest["database"]["kind"]
    if kind != backup_kind:
        raise BackupError(
            f"This is a backup of a {KIND_NAMES[backup_kind]} database and the configured "
            f"database (DATABASE_URL) is {KIND_NAMES[kind]}: restore it into "
            f"{KIND_NAMES[backup_kind]}. Nothing was restored.")
    return kind


def _check_may_replace(target: str, manifest: dict[str, Any], force: bool,
                       confirm: Callable[[str], bool]) -> None:
    """Raise BackupError unless the database is empty, or forced and confirmed."""
    try:
        empty = database_is_empty()
    except SQLAlchemyError as error:
        raise BackupError(f"The database {target} cannot be reached: {reason(error)} "
                          "Nothing was restored.") from error
    if not empty:
        if not force:
            raise BackupError(f"The database {target} is not empty. Restoring replaces "
                              "everything in it: give --force to do that. Nothing was restored.")
        if not confirm(f"Replace everything in {target} with the backup of "
                       f"{manifest.get('created_at')}?"):
            raise BackupError("Nothing was restored.")


def _restore_files(folder: Path, manifest: dict[str, Any], say: Say) -> None:
    storage = get_storage()
    total = 0
    try:
        for name in sorted(manifest["files"]):
            data = (folder / FILES / name).read_bytes()  # names checked by verify_backup
            storage.write(name, data)
            total += len(data)
    except OSError as error:
        raise BackupError(f"The database is restored, but the files could not all be written "
                          f"({error}). Put that right, then restore again with --force.") \
            from error
    say(f"Restored {len(manifest['files'])} files ({size_text(total)}).")
