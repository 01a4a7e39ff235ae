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

The package, by concern:
  contents.py       what a folder holds: names, manifest format, counts, BackupError, Snapshot
  limits.py         how long a backup or restore waits for a lock (tests change them here)
  sqlite_copy.py    SQLite's snapshot and restore (the online backup API)
  postgres_dump.py  PostgreSQL's (pg_dump, pg_restore, their password and lock timeout)
  making.py         make_backup: the snapshot, then the files, then the manifest
  checking.py       read_manifest, verify_backup, database_is_empty
  restoring.py      restore_backup: checks, the database, then the files
  revisions.py      the restored schema's revision against this version's migrations

Other modules import from here (`from ..services.backup import ...`). What tests replace is
not re-exported (set on this package it would change nothing): the timeouts in `backup.limits`,
the storage and the clock a backup reads in `backup.making`.
"""

from .checking import database_is_empty, read_manifest, verify_backup
from .contents import (
    COUNT_QUERIES,
    DATABASE_FILES,
    FILES,
    FORMAT,
    KIND_NAMES,
    MANIFEST,
    PREFIX,
    BackupError,
    BackupReport,
    Snapshot,
    database_kind,
)
from .making import make_backup
from .postgres_dump import client_tool
from .restoring import restore_backup
from .revisions import head_revision, revision_advice

__all__ = [
    "COUNT_QUERIES", "DATABASE_FILES", "FILES", "FORMAT", "KIND_NAMES", "MANIFEST", "PREFIX",
    "BackupError", "BackupReport", "Snapshot",
    "client_tool", "database_is_empty", "database_kind", "head_revision", "make_backup",
    "read_manifest", "restore_backup", "revision_advice", "verify_backup",
]
