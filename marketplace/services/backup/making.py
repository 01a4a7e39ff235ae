"""Making a backup: the database snapshot first, then every file of the photo storage, then the
manifest, in a hidden folder renamed when complete. The storage and the clock are read here
(`making.get_storage`, `making.datetime`), where tests replace them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ...storage import get_storage
from ..photos import VARIANTS, photo_file_name
from .contents import (
    DATABASE_FILES,
    FILES,
    FORMAT,
    KIND_NAMES,
    MANIFEST,
    PREFIX,
    BackupError,
    BackupReport,
    Say,
    Snapshot,
    app_version,
    database_kind,
    inside,
    reason,
    sha256_of,
    size_text,
)
from .postgres_dump import snapshot_postgres
from .sqlite_copy import snapshot_sqlite


def make_backup(directory: str | os.PathLike[str], say: Say = lambda line: None) -> BackupReport:
    """Write a new, complete backup folder under `directory`; raises BackupError."""
    directory = Path(directory)
    kind = database_kind()
    if not directory.is_dir():
        # Never created here: a missing folder is often a backup disk that is not mounted.
        raise BackupError(f"{directory} does not exist or is not a folder; create it first "
                          "(or mount the backup disk).")
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{PREFIX}", suffix=".incomplete", dir=directory))
    except OSError as error:
        raise BackupError(f"Cannot write in {directory}: {error.strerror or error}.") from error
    try:
        report = _fill(work, kind, say)
        final = _final_name(directory, report.created_at)
        os.sync()  # every copied file on disk before the name says the backup is complete
        work.rename(final)
    except OSError as error:  # the backup disk, or the photo storage
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(f"The backup failed and was removed: {error}") from error
    except SQLAlchemyError as error:
        shutil.rmtree(work, ignore_errors=True)
        raise BackupError(f"The database cannot be read: {reason(error)}") from error
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report.path = final
    say(f"Backup saved in {final} ({size_text(report.database_bytes + report.file_bytes)}).")
    return report


def _fill(work: Path, kind: str, say: Say) -> BackupReport:
    created_at = datetime.now(UTC)
    database_file = work / DATABASE_FILES[kind]
    snapshot = snapshot_sqlite(database_file) if kind == "sqlite" \
        else snapshot_postgres(database_file)
    database_bytes = database_file.stat().st_size
    say(f"Database ({KIND_NAMES[kind]}): {size_text(database_bytes)}; {snapshot.summary()}; "
        f"schema revision {snapshot.revision or 'none'}.")

    # Only now the files: every file the snapshot refers to was written before it was taken.
    files, file_bytes = _copy_files(work / FILES)
    say(f"Files: {len(files)}, {size_text(file_bytes)}.")
    missing = _missing_files(snapshot, files, say)
    _write_manifest(work, {
        "format": FORMAT,
        "created_at": created_at.isoformat(),
        "app_version": app_version(),
        "database": {"kind": kind, "file": database_file.name, "size": database_bytes,
                     "sha256": sha256_of(database_file)},
        "alembic_revision": snapshot.revision,
        "counts": snapshot.counts,
        "file_count": len(files),
        "files": files,
        "missing_files": missing,
    })
    return BackupReport(path=work, created_at=created_at, kind=kind,
                        database_bytes=database_bytes, snapshot=snapshot,
                        file_count=len(files), file_bytes=file_bytes, missing=missing)


def _final_name(directory: Path, created_at: datetime) -> Path:
    base = f"{PREFIX}{created_at:%Y%m%dT%H%M%SZ}"
    final, number = directory / base, 1
    while final.exists():  # two backups in one second
        number += 1
        final = directory / f"{base}-{number}"
    return final


def _copy_files(target: Path) -> tuple[dict[str, dict[str, Any]], int]:
    storage = get_storage()
    entries: dict[str, dict[str, Any]] = {}
    total = 0
    for name in sorted(storage.names()):
        try:
            data = storage.read(name)
        except FileNotFoundError:
            continue  # deleted since it was listed
        destination = inside(target, name)
        if destination is None:
            raise BackupError(f"The storage holds a file with an unsafe name: {name!r}.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        entries[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        total += len(data)
    return entries, total


def _missing_files(snapshot: Snapshot, files: dict[str, dict[str, Any]], say: Say) -> list[str]:
    """The photo files the snapshot refers to that were not copied, with a warning."""
    expected = {photo_file_name(content_hash, variant)
                for content_hash in snapshot.photo_hashes for variant in VARIANTS}
    missing = sorted(expected - files.keys())
    if missing:
        # A photo deleted after the snapshot (housekeeping removing a rejected listing's photos),
        # or a file that was already lost: the restored row will show no picture.
        say(f"Warning: {len(missing)} photo files the database refers to are not in the storage "
            f"(deleted while the backup ran, or lost before): {', '.join(missing[:5])}"
            + (" …" if len(missing) > 5 else ""))
    return missing


def _write_manifest(work: Path, manifest: dict[str, Any]) -> None:
    # Written last: a folder with a manifest holds everything it lists.
    with open(work / MANIFEST, "w", encoding="utf-8") as file:
        json.dump(manifest, file, indent=1, sort_keys=True)
