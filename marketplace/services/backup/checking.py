"""Before a restore touches anything: the manifest is one this version understands, every file
has its recorded checksum, and whether the configured database already holds data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from ...extensions import db
from .contents import (
    COUNT_QUERIES,
    DATABASE_FILES,
    FILES,
    FORMAT,
    MANIFEST,
    BackupError,
    inside,
    sha256_of,
)


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
    elif sha256_of(database_file) != database.get("sha256"):
        problems.append(f"{database_file.name} has changed")
    files = manifest["files"]
    if manifest.get("file_count") != len(files):
        problems.append(f"the manifest lists {len(files)} files, not {manifest.get('file_count')}")
    for name, entry in sorted(files.items()):
        path = inside(folder / FILES, name)
        if path is None:
            problems.append(f"unsafe file name {name!r}")
        elif not path.is_file():
            problems.append(f"{FILES}/{name} is missing")
        elif not isinstance(entry, dict) or sha256_of(path) != entry.get("sha256"):
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
