"""Where uploaded files live: a small storage interface, a local-folder backend and an
S3-compatible one (AWS S3, MinIO, …; see docs/storage.md).

Names are relative paths such as "ab/abcdef…-card.webp", made by the services from content
hashes; no name ever comes from a user's file name. A name that would leave the storage root is
refused with UnsafeName. Failures of the backend itself are OSErrors (FileNotFoundError for a
missing file), whichever backend it is.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from flask import current_app
from werkzeug.utils import safe_join

FILE_MODE = 0o644  # readable by a front web server that may serve the folder directly
# The types of what the services store, known also where the system has no mime.types.
CONTENT_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
                 ".png": "image/png"}
_EXTENSION_KEY = "marketplace.photo_storage"
_creating = threading.Lock()
_session_lock = threading.Lock()
_boto3_session: Any = None


class UnsafeName(ValueError):
    """The name is empty, absolute or would escape the storage root."""


class StorageError(OSError):
    """The storage service failed or could not be reached (not: the file is missing)."""


def content_type(name: str) -> str:
    """The media type of a stored file, from its extension."""
    suffix = PurePosixPath(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] \
        or "application/octet-stream"


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

    def check(self) -> None:
        """Raise OSError unless files can be stored now (for /healthz)."""


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

    def check(self) -> None:
        """Raise OSError unless the folder exists (or can be made) and takes a new file.

        The probe's name starts with "." and ends in ".part", the marks of a file still being
        written, so backups and housekeeping running at the same moment pass it by."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.root, prefix=".healthz-", suffix=".part")
        try:
            os.write(handle, b"ok")
        finally:
            os.close(handle)
            os.unlink(name)

    def free_bytes(self) -> int:
        """Bytes free for new files on the folder's file system (or, before the folder exists,
        on that of its nearest existing parent)."""
        folder = self.root
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return shutil.disk_usage(folder).free

    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            # Half-written files (".….part") are not stored files yet.
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix()


class S3Storage:
    """Objects in an S3-compatible bucket, under an optional key prefix ("photos/").

    One client serves every thread (boto3 clients are thread-safe once made); get_storage makes
    it once per application. The bucket stays private: the app serves photos itself, after its
    permission check, so `path` is None.
    """

    page_size = 1000  # keys per list request (S3's maximum)

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        prefix = prefix.strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        from botocore.exceptions import BotoCoreError, ClientError  # boto3 is optional
        self._client_error = ClientError
        self._boto_errors = (BotoCoreError, ClientError)

    def _key(self, name: str) -> str:
        # Stricter than the local folder, where the OS resolves "a/../b": here every part of
        # the name must be a plain one, since a key is taken literally.
        parts = name.split("/") if isinstance(name, str) else [""]
        if not name or any(part in ("", ".", "..") for part in parts) or "\\" in name \
                or not name.isprintable():
            raise UnsafeName(f"not a storage name: {name!r}")
        return self.prefix + name

    def _error(self, error: Exception, name: str) -> OSError:
        """The OSError that stands for a boto3 error about `name`."""
        if isinstance(error, self._client_error):
            details = error.response.get("Error", {})
            code = str(details.get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket":  # a setting is wrong, not a file missing
                return StorageError(f"bucket {self.bucket!r} does not exist")
            if code in ("NoSuchKey", "NotFound", "404") or status == 404:
                return FileNotFoundError(f"no stored file {name!r} in bucket {self.bucket!r}")
            if code in ("AccessDenied", "403") or status == 403:
                # Also what S3 says of a missing key without s3:ListBucket (docs/storage.md).
                return StorageError(f"access to {name!r} in bucket {self.bucket!r} denied")
        return StorageError(f"storage error for {name!r} in bucket {self.bucket!r}: {error}")

    def write(self, name: str, data: bytes) -> None:
        key = self._key(name)
        try:  # a PUT is atomic: readers see the old object or the whole new one
            self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(data),
                                   ContentType=content_type(name))
        except self._boto_errors as error:
            raise self._error(error, name) from error

    def read(self, name: str) -> bytes:
        key = self._key(name)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            with contextlib.closing(response["Body"]) as body:
                return body.read()
        except self._boto_errors as error:
            raise self._error(error, name) from error

    def path(self, name: str) -> Path | None:
        self._key(name)  # an unsafe name is refused here too
        return None

    def exists(self, name: str) -> bool:
        key = self._key(name)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except self._boto_errors as error:
            translated = self._error(error, name)
            if isinstance(translated, FileNotFoundError):
                return False
            raise translated from error
        return True

    def delete(self, name: str) -> None:
        key = self._key(name)
        try:  # S3 answers 204 for a missing key too
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except self._boto_errors as error:
            translated = self._error(error, name)
            if not isinstance(translated, FileNotFoundError):
                raise translated from error

    def check(self) -> None:
        """Raise StorageError unless the bucket answers (for /healthz)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except self._boto_errors as error:
            raise self._error(error, "/") from error

    def names(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix,
                                           PaginationConfig={"PageSize": self.page_size}):
                for item in page.get("Contents", ()):
                    name = item["Key"][len(self.prefix):]
                    if name and not name.endswith("/"):  # not a console's "folder" marker
                        yield name
        except self._boto_errors as error:
            raise self._error(error, self.prefix or "/") from error


def make_s3_client(config: dict[str, Any]) -> Any:
    """A boto3 S3 client for the S3_* settings; credentials from S3_ACCESS_KEY_ID and
    S3_SECRET_ACCESS_KEY when set, else boto3's own chain (AWS_ACCESS_KEY_ID…, ~/.aws, roles)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as error:
        raise RuntimeError("PHOTO_STORAGE=s3 needs boto3: "
                           "pip install 'surplus-marketplace[s3]'") from error
    global _boto3_session
    endpoint = config.get("S3_ENDPOINT_URL") or None
    # MinIO and most other S3 services are reached by path ("host/bucket/key"); AWS by name.
    addressing = config.get("S3_ADDRESSING_STYLE") or ("path" if endpoint else "auto")
    # Sessions are not thread-safe, and each loads the service models anew (most of a second):
    # one, used under a lock, makes every client; the clients themselves are thread-safe.
    with _session_lock:
        if _boto3_session is None:
            _boto3_session = boto3.session.Session()
        return _boto3_session.client(
            "s3", endpoint_url=endpoint, region_name=config.get("S3_REGION") or None,
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(s3={"addressing_style": addressing},
                          retries={"mode": "standard", "max_attempts": 3},
                          connect_timeout=5, read_timeout=30))


def get_storage() -> Storage:
    """The backend chosen by PHOTO_STORAGE: "local" (the default) or "s3".

    The S3 backend and its client are made once per application, on first use (so after
    gunicorn forks its workers), and shared by its threads.
    """
    backend = current_app.config.get("PHOTO_STORAGE", "local")
    if backend == "local":
        return LocalStorage(current_app.config["UPLOAD_FOLDER"])
    if backend == "s3":
        storage = current_app.extensions.get(_EXTENSION_KEY)
        if storage is None:
            with _creating:
                storage = current_app.extensions.get(_EXTENSION_KEY)
                if storage is None:
                    config = current_app.config
                    if not config.get("S3_BUCKET"):
                        raise RuntimeError("PHOTO_STORAGE=s3 needs S3_BUCKET.")
                    storage = S3Storage(make_s3_client(config), config["S3_BUCKET"],
                                        config.get("S3_PREFIX") or "")
                    current_app.extensions[_EXTENSION_KEY] = storage
        return storage
    raise RuntimeError(f"Unknown PHOTO_STORAGE {backend!r}; choose 'local' or 's3'.")
