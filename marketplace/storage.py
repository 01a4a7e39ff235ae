"""Where uploaded files live: a small storage interface and its local-folder backend.

Names are relative paths such as "ab/abcdef…-card.webp", made by the services from content
hashes; no name ever comes from a user's file name. A name that would leave the storage root is
refused with UnsafeName.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import current_app
from werkzeug.utils import safe_join

FILE_MODE = 0o644  # readable by a front web server that may serve the folder directly


class UnsafeName(ValueError):
    """The name is empty, absolute or would escape the storage root."""


class Storage(Protocol):
    """What the photo services need from a place to keep files."""

    def write(self, name: str, data: bytes) -> None:
        """Store `data` under `name`, replacing what was there; readers never see half a file."""

    def read(self, name: str) -> bytes:
        """The stored bytes; raises FileNotFoundError when there are none."""

    def path(self, name: str) -> Path | None:
        """A local path for send_file, or None when the backend keeps files elsewhere."""

    def exists(self, name: str) -> bool: ...

    def delete(self, name: str) -> None:
        """Remove the file; a missing file is fine."""

    def names(self) -> Iterator[str]:
        """Every stored name (for backups and housekeeping), in no particular order."""


class LocalStorage:
    """Files in a folder on this machine (created when the first file is written)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _full_path(self, name: str) -> Path:
        joined = safe_join(str(self.root), name) if name else None
        if joined is None or Path(joined) == self.root:
            raise UnsafeName(f"not a storage name: {name!r}")
        return Path(joined)

    def write(self, name: str, data: bytes) -> None:
        target = self._full_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed over it: atomic on one file system.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, FILE_MODE)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def read(self, name: str) -> bytes:
        return self._full_path(name).read_bytes()

    def path(self, name: str) -> Path | None:
        return self._full_path(name)

    def exists(self, name: str) -> bool:
        return self._full_path(name).is_file()

    def delete(self, name: str) -> None:
        self._full_path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            # Half-written files (".….part") are not stored files yet.
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()


def get_storage() -> Storage:
    """The backend chosen by PHOTO_STORAGE ("local", the default, is the only one so far)."""
    backend = current_app.config.get("PHOTO_STORAGE", "local")
    if backend == "local":
        return LocalStorage(current_app.config["UPLOAD_FOLDER"])
    raise RuntimeError(f"Unknown PHOTO_STORAGE {backend!r}; the only backend is 'local'.")
