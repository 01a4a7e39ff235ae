"""What a backup folder holds and what is said about it: its names, the manifest's format, the
counts, BackupError, Snapshot and BackupReport, and the small helpers both directions share."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from werkzeug.utils import safe_join

from ...extensions import db

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


def read_snapshot(query: Callable[[str], Sequence[Any]], tables: set[str]) -> Snapshot:
    """The counts, schema revision and photo hashes of a database, through `query` (its
    connection's own way of running SQL) over the `tables` it has."""
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


def database_kind() -> str:
    kind = db.engine.dialect.name
    if kind not in DATABASE_FILES:
        raise BackupError(f"Backups work with SQLite and PostgreSQL, not {kind}.")
    return kind


def reason(error: SQLAlchemyError) -> str:
    """The driver's own words, without SQLAlchemy's statement and link."""
    return str(getattr(error, "orig", None) or error).strip()


def inside(root: Path, name: str) -> Path | None:
    """`root/name`, or None when the name would lead out of `root`."""
    joined = safe_join(str(root), name) if isinstance(name, str) and name else None
    return Path(joined) if joined is not None else None


def sha256_of(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def app_version() -> str:
    try:
        return metadata.version("surplus-marketplace")
    except metadata.PackageNotFoundError:
        return "unknown"


def size_text(size: int) -> str:
    """A size in bytes as a person reads it: "812 bytes", "3.4 MB"."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
