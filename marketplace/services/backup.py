"""Backups: a consistent snapshot of the database and the photo files, and bringing one back.

A backup is a folder `DIR/marketplace-backup-<UTC time>/` holding
    database.sqlite   SQLite, copied with the online backup API (one read transaction)
    database.pgdump   or PostgreSQL, `pg_dump --format=custom`
    files/<name>      every file of the photo storage, read through the storage interface
    manifest.json     what is in it, with a SHA-256 per file; written last
It is built under a hidden temporary name and renamed when complete, so a folder with that name
is always whole. The database is copied before the files: a row that shows a photo is committed
only after its files are written, so the files listed after the snapshot include every file the
snapshot refers to (photos are content-addressed and never change).

A restore checks every checksum before it touches anything, refuses a database that holds data
unless forced, and refuses a backup of the other kind of database.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3

# pg_dump and pg_restore, run with argument lists, never through a shell.
import subprocess  # nosec B404
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import URL, inspect, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.utils import safe_join

from ..extensions import db
from ..storage import get_storage
from .photos import VARIANTS, photo_file_name

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "files"
PREFIX = "marketplace-backup-"
DATABASE_FILES = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# What backups and restores count and report; a row in any of these makes a database "not
# empty". Written out, so that no SQL is built from strings.
COUNT_QUERIES = {
    "organisation": "SELECT count(*) FROM organisation",
    "user_account": "SELECT count(*) FROM user_account",
    "listing": "SELECT count(*) FROM listing",
    "photo": "SELECT count(*) FROM photo",
    "claim": "SELECT count(*) FROM claim",
    "claim_message": "SELECT count(*) FROM claim_message",
}
SQLITE_TIMEOUT = 30  # seconds to wait for a writer's lock
# How long pg_dump and pg_restore wait for a table lock before giving up, instead of hanging
# behind a migration (dump) or a still-running app (restore).
POSTGRES_LOCK_TIMEOUT = "30s"

Say = Callable[[str], None]


class BackupError(Exception):
    """The backup or restore could not be done; the message says why and what to do."""


@dataclass
class Snapshot:
    """What a database snapshot holds, read from the snapshot itself."""

    counts: dict[str, int] = field(default_factory=dict)
    revision: str | None = None
    photo_hashes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        labels = (("listing", "listings"), ("photo", "photos"), ("claim", "claims"),
                  ("claim_message", "messages"), ("user_account", "users"),
                  ("organisation", "organisations"))
        return ", ".join(f"{self.counts.get(table, 0)} {label}" for table, label in labels)


@dataclass
class BackupReport:
    path: Path
    created_at: datetime
    kind: str
    database_bytes: int
    snapshot: Snapshot
    file_count: int
    file_bytes: int
    missing: list[str]


# --- making a backup ------------------------------------------------------------------------

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
        raise BackupError(f"The database cannot be read: {_reason(error)}") from error
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report.path = final
    say(f"Backup saved in {final} ({_size(report.database_bytes + report.file_bytes)}).")
    return report


def _fill(work: Path, kind: str, say: Say) -> BackupReport:
    created_at = datetime.now(UTC)
    database_file = work / DATABASE_FILES[kind]
    snapshot = _snapshot_sqlite(database_file) if kind == "sqlite" \
        else _snapshot_postgres(database_file)
    database_bytes = database_file.stat().st_size
    say(f"Database ({KIND_NAMES[kind]}): {_size(database_bytes)}; {snapshot.summary()}; "
        f"schema revision {snapshot.revision or 'none'}.")

    # Only now the files: every file the snapshot refers to was written before it was taken.
    files, file_bytes = _copy_files(work / FILES)
    say(f"Files: {len(files)}, {_size(file_bytes)}.")
    expected = {photo_file_name(content_hash, variant)
                for content_hash in snapshot.photo_hashes for variant in VARIANTS}
    missing = sorted(expected - files.keys())
    if missing:
        # A photo deleted after the snapshot (housekeeping removing a rejected listing's photos),
        # or a file that was already lost: the restored row will show no picture.
        say(f"Warning: {len(missing)} photo files the database refers to are not in the storage "
            f"(deleted while the backup ran, or lost before): {', '.join(missing[:5])}"
            + (" …" if len(missing) > 5 else ""))

    manifest = {
        "format": FORMAT,
        "created_at": created_at.isoformat(),
        "app_version": _app_version(),
        "database": {"kind": kind, "file": database_file.name, "size": database_bytes,
                     "sha256": _sha256_of(database_file)},
        "alembic_revision": snapshot.revision,
        "counts": snapshot.counts,
        "file_count": len(files),
        "files": files,
        "missing_files": missing,
    }
    with open(work / MANIFEST, "w", encoding="utf-8") as file:
        json.dump(manifest, file, indent=1, sort_keys=True)
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
        destination = _inside(target, name)
        if destination is None:
            raise BackupError(f"The storage holds a file with an unsafe name: {name!r}.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
        entries[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        total += len(data)
    return entries, total


def _snapshot_sqlite(target: Path) -> Snapshot:
    source = sqlite3.connect(_sqlite_uri(_sqlite_path(), "rw"), uri=True, timeout=SQLITE_TIMEOUT)
    try:
        copy = sqlite3.connect(target)
        try:
            # In one step (pages=-1): one read transaction, so one consistent state, while
            # writers go on in WAL mode. WAL content not yet checkpointed is included.
            source.backup(copy, progress=_give_up_when_locked())
            # A self-contained file: no -wal file belongs with it.
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if verdict != "ok":
                raise BackupError(f"The copied SQLite database fails its integrity check: "
                                  f"{verdict}")
            return _read_snapshot(lambda sql: copy.execute(sql).fetchall(),
                                  {row[0] for row in copy.execute(
                                      "SELECT name FROM sqlite_master WHERE type = 'table'")})
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BackupError(f"Could not copy the SQLite database: {error}.") from error
    finally:
        source.close()


def _snapshot_postgres(target: Path) -> Snapshot:
    pg_dump = client_tool("pg_dump")
    dsn, environment = _libpq_target()
    with db.engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # pg_dump works in this transaction's snapshot, so the figures below describe
            # exactly what it dumps.
            snapshot_id = connection.scalar(text("SELECT pg_export_snapshot()"))
            tables = set(connection.scalars(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")))
            snapshot = _read_snapshot(lambda sql: connection.execute(text(sql)).all(), tables)
            _run([pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot_id}",
                  f"--lock-wait-timeout={POSTGRES_LOCK_TIMEOUT}", f"--file={target}",
                  f"--dbname={dsn}"], environment)
    return snapshot


def _read_snapshot(query: Callable[[str], list[Any]], tables: set[str]) -> Snapshot:
    snapshot = Snapshot()
    for table, count_query in COUNT_QUERIES.items():
        if table in tables:
            snapshot.counts[table] = query(count_query)[0][0]
    if "alembic_version" in tables:
        rows = query("SELECT version_num FROM alembic_version")
        snapshot.revision = rows[0][0] if rows else None
    if "photo" in tables:
        snapshot.photo_hashes = [row[0] for row in query("SELECT content_hash FROM photo")]
    return snapshot


# --- checking and restoring -----------------------------------------------------------------

def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a complete backup folder; raises BackupError."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder.")
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: it is not a backup, or an incomplete "
                          "one. Nothing was restored.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        kind = manifest["database"]["kind"]
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{path} cannot be read ({error}). Nothing was restored.") from error
    if manifest.get("format") != FORMAT or kind not in DATABASE_FILES \
            or not isinstance(files, dict):
        raise BackupError(f"{path} is not a manifest this version understands. "
                          "Nothing was restored.")
    return manifest


def verify_backup(folder: str | os.PathLike[str], manifest: dict[str, Any]) -> None:
    """Every file of the backup is there with its recorded checksum; raises BackupError."""
    folder = Path(folder)
    problems: list[str] = []
    database = manifest["database"]
    database_file = folder / DATABASE_FILES[database["kind"]]
    if not database_file.is_file():
        problems.append(f"{database_file.name} is missing")
    elif _sha256_of(database_file) != database.get("sha256"):
        problems.append(f"{database_file.name} has changed")
    files = manifest["files"]
    if manifest.get("file_count") != len(files):
        problems.append(f"the manifest lists {len(files)} files, not {manifest.get('file_count')}")
    for name, entry in sorted(files.items()):
        path = _inside(folder / FILES, name)
        if path is None:
            problems.append(f"unsafe file name {name!r}")
        elif not path.is_file():
            problems.append(f"{FILES}/{name} is missing")
        elif not isinstance(entry, dict) or _sha256_of(path) != entry.get("sha256"):
            problems.append(f"{FILES}/{name} has changed")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more"
                                            if len(problems) > 10 else "")
        raise BackupError(f"The backup in {folder} is damaged or incomplete ({shown}). "
                          "Nothing was restored.")


def database_is_empty() -> bool:
    """Whether the configured database holds no organisations, users, listings or claims
    (reference rows such as categories do not count; a database without tables is empty)."""
    try:
        existing = set(inspect(db.engine).get_table_names())
        return not any(db.session.scalar(text(count_query))
                       for table, count_query in COUNT_QUERIES.items() if table in existing)
    finally:
        db.session.rollback()


def restore_backup(folder: str | os.PathLike[str], *, force: bool = False,
                   confirm: Callable[[str], bool] = lambda question: True,
                   say: Say = lambda line: None) -> Snapshot:
    """Bring a backup back into the configured database and photo storage; raises BackupError
    (before changing anything) for a damaged backup, the other kind of database, or a database
    holding data without `force` (and `confirm` answering yes)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    kind, backup_kind = database_kind(), manifest["database"]["kind"]
    if kind != backup_kind:
        raise BackupError(
            f"This is a backup of a {KIND_NAMES[backup_kind]} database and the configured "
            f"database (DATABASE_URL) is {KIND_NAMES[kind]}: restore it into "
            f"{KIND_NAMES[backup_kind]}. Nothing was restored.")
    verify_backup(folder, manifest)
    say(f"Checked the backup of {manifest.get('created_at')}: the database and "
        f"{len(manifest['files'])} files match their checksums.")
    url = db.engine.url
    target = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    try:
        empty = database_is_empty()
    except SQLAlchemyError as error:
        raise BackupError(f"The database {target} cannot be reached: {_reason(error)} "
                          "Nothing was restored.") from error
    if not empty:
        if not force:
            raise BackupError(f"The database {target} is not empty. Restoring replaces "
                              "everything in it: give --force to do that. Nothing was restored.")
        if not confirm(f"Replace everything in {target} with the backup of "
                       f"{manifest.get('created_at')}?"):
            raise BackupError("Nothing was restored.")

    # No pooled connection may hold the old database open while it is replaced.
    db.session.remove()
    db.engine.dispose()
    database_file = folder / DATABASE_FILES[kind]
    if kind == "sqlite":
        snapshot = _restore_sqlite(database_file)
    else:
        snapshot = _restore_postgres(database_file)
    say(f"Restored the database into {target}: {snapshot.summary()}.")

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
    say(f"Restored {len(manifest['files'])} files ({_size(total)}).")
    say(revision_advice(snapshot.revision))
    return snapshot


def _restore_sqlite(snapshot_file: Path) -> Snapshot:
    target_path = Path(_sqlite_path(must_exist=False))
    target_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = sqlite3.connect(_sqlite_uri(snapshot_file, "ro"), uri=True)
        try:
            target = sqlite3.connect(target_path, timeout=SQLITE_TIMEOUT)
            try:
                # Replaces every page of the target, in one transaction.
                source.backup(target, progress=_give_up_when_locked())
                verdict = target.execute("PRAGMA integrity_check").fetchone()[0]
                if verdict != "ok":
                    raise BackupError(f"The restored database fails its integrity check: "
                                      f"{verdict}")
                tables = {row[0] for row in target.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                return _read_snapshot(lambda sql: target.execute(sql).fetchall(), tables)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        hint = (" Another process is writing to it: stop the app and its workers (gunicorn, "
                "send-mail, housekeeping) first." if "locked" in str(error) else "")
        raise BackupError(f"Could not restore the SQLite database: {error}.{hint} "
                          "Nothing was restored.") from error


def _restore_postgres(dump: Path) -> Snapshot:
    pg_restore = client_tool("pg_restore")
    dsn, environment = _libpq_target()
    _check_tables_can_be_replaced()
    # One transaction: a failing restore leaves the database as it was.
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--no-password", f"--dbname={dsn}", str(dump)], environment)
    with db.engine.connect() as connection:
        tables = set(connection.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")))
        return _read_snapshot(lambda sql: connection.execute(text(sql)).all(), tables)


def _check_tables_can_be_replaced() -> None:
    """Raise BackupError when another connection holds a table for longer than
    POSTGRES_LOCK_TIMEOUT (pg_restore would wait for ever: its script sets lock_timeout to 0)."""
    with db.engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT set_config('lock_timeout', :timeout, true)"),
                           {"timeout": POSTGRES_LOCK_TIMEOUT})
        tables = connection.scalars(text(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()"
        )).all()
        if not tables:
            return
        try:
            # Names quoted by PostgreSQL itself, from its catalogue; released at the commit.
            connection.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        except OperationalError as error:
            raise BackupError(
                "Other connections hold the tables: stop the app and its workers (gunicorn, "
                "send-mail, housekeeping) first. Nothing was restored.") from error


def revision_advice(revision: str | None) -> str:
    """What the operator should do about the restored schema's migration revision."""
    script = _migrations()
    head = script.get_current_head()
    known = {migration.revision for migration in script.walk_revisions()}
    if revision is None:
        return ("The backup records no schema revision (no alembic_version table): if its "
                "schema is current, run `flask db stamp head`.")
    if revision == head:
        return f"The schema is at revision {revision}, this version's latest."
    if revision in known:
        return (f"The backup's schema is at revision {revision}, older than this version's "
                f"{head}: run `flask db upgrade` before starting the app.")
    return (f"The backup's schema revision {revision} is unknown to this version of the app "
            "(made by a newer one?): install that version before starting the app.")


def head_revision() -> str | None:
    """The latest schema revision of this version's migrations."""
    return _migrations().get_current_head()


def _migrations():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


# --- helpers --------------------------------------------------------------------------------

def database_kind() -> str:
    kind = db.engine.dialect.name
    if kind not in DATABASE_FILES:
        raise BackupError(f"Backups work with SQLite and PostgreSQL, not {kind}.")
    return kind


def client_tool(name: str) -> str:
    """The path of a PostgreSQL client program; raises BackupError when it is not installed."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH: install the PostgreSQL client "
                          "programs of the server's major version (Debian: postgresql-client).")
    return path


def _libpq_target() -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (program arguments are visible to every user in ps)
    and an environment with the password in PGPASSWORD."""
    url = db.engine.url
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password: None means "unchanged" there.
    without_password = URL.create("postgresql", username=url.username, host=url.host,
                                  port=url.port, database=url.database, query=url.query)
    dsn = without_password.render_as_string(hide_password=False)
    return dsn, environment


def _run(arguments: list[str], environment: dict[str, str]) -> None:
    result = subprocess.run(arguments, env=environment, capture_output=True, text=True,  # noqa: S603  # nosec B603
                            check=False)
    if result.returncode != 0:
        program = Path(arguments[0]).name
        detail = result.stderr.strip()[-2000:] or f"exit status {result.returncode}"
        message = f"{program} failed: {detail}"
        if "lock timeout" in detail:
            message += ("\nOther connections hold the tables: stop the app and its workers "
                        "(gunicorn, send-mail, housekeeping) first.")
        if program == "pg_restore":
            message += "\nNothing was restored (pg_restore runs in one transaction)."
        raise BackupError(message)


def _sqlite_path(must_exist: bool = True) -> str:
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("Backups need the SQLite database in a file (DATABASE_URL).")
    if must_exist and not Path(path).is_file():
        raise BackupError(f"The SQLite database {path} does not exist.")
    return path


def _give_up_when_locked() -> Callable[[int, int, int], None]:
    """A progress callback for Connection.backup, which on its own retries a locked database
    for ever: after SQLITE_TIMEOUT seconds of SQLITE_BUSY/LOCKED it gives up."""
    deadline = time.monotonic() + SQLITE_TIMEOUT

    def progress(status: int, _remaining: int, _total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) \
                and time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked")

    return progress


def _reason(error: SQLAlchemyError) -> str:
    """The driver's own words, without SQLAlchemy's statement and link."""
    return str(getattr(error, "orig", None) or error).strip()


def _sqlite_uri(path: str | os.PathLike[str], mode: str) -> str:
    # A URI, so that mode=rw/ro never creates an empty database where none was.
    return f"{Path(path).resolve().as_uri()}?mode={mode}"


def _inside(root: Path, name: str) -> Path | None:
    joined = safe_join(str(root), name) if isinstance(name, str) and name else None
    return Path(joined) if joined is not None else None


def _sha256_of(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _app_version() -> str:
    try:
        return metadata.version("surplus-marketplace")
    except metadata.PackageNotFoundError:
        return "unknown"


def _size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
