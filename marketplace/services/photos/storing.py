"""Photo rows and their files: `save_prepared` writes them, `delete_unreferenced_photos` deletes
them, and the files follow the transaction (written ones go with a rollback, those of deleted rows
only after the commit)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from sqlalchemy import select

from ... import stored_files
from ...extensions import db
from ...models import ListingPhoto, Photo, StagedPhoto
from ...storage import get_storage
from ...stored_files import delete_file
from .names import photo_file_name
from .preparing import PreparedPhoto
from .refusals import PhotoStorageFailed
from .variants import FULL, VARIANTS

# Logged under the package's name, as before it was split.
log = logging.getLogger(__package__)



def save_prepared(prepared: PreparedPhoto) -> Photo:
    """The Photo for the prepared upload: the existing one with that content, or a new one whose
    files are written now (added and flushed, in the caller's unit of work). If writing fails, the
    files written are deleted, the row is withdrawn and the error re-raised: PhotoStorageFailed
    for a failure of the storage (an OSError: disk full, read-only folder, bucket error)."""
    existing = db.session.scalar(
        select(Photo).where(Photo.content_hash == prepared.content_hash))
    if existing is not None:
        return existing
    if set(prepared.files) != set(VARIANTS):
        raise ValueError("a prepared photo without all its files cannot be saved")
    storage = get_storage()
    photo = Photo(content_hash=prepared.content_hash, width=prepared.width,
                  height=prepared.height, byte_size=len(prepared.files[FULL]))
    db.session.add(photo)
    # The row first: the unique hash then makes a concurrent upload of the same file wait for
    # this transaction instead of writing the same names at the same time.
    db.session.flush()
    written: list[str] = []
    try:
        for variant, data in prepared.files.items():
            written.append(photo_file_name(prepared.content_hash, variant))
            storage.write(written[-1], data)
    except BaseException as error:
        for name in written:
            delete_file(storage, name)
        with contextlib.suppress(Exception):
            db.session.delete(photo)
            db.session.flush()
        if isinstance(error, OSError):
            log.error("Could not store photo file %s", written[-1], exc_info=True)
            raise PhotoStorageFailed() from error
        raise
    stored_files.written(storage, written)
    return photo


def delete_unreferenced_photos(photo_ids: Iterable[int] | None = None) -> int:
    """Delete the Photo rows (of `photo_ids`, or all) that no listing shows and no member has
    staged; returns how many.

    In the caller's unit of work; the files of the deleted rows are removed once it commits
    (a rollback keeps them, with their rows).
    """
    referenced = select(ListingPhoto.id).where(ListingPhoto.photo_id == Photo.id).exists()
    staged = select(StagedPhoto.id).where(StagedPhoto.photo_id == Photo.id).exists()
    statement = select(Photo).where(~referenced, ~staged)
    if photo_ids is not None:
        ids = set(photo_ids)
        if not ids:
            return 0
        statement = statement.where(Photo.id.in_(ids))
    photos = list(db.session.scalars(statement))
    if not photos:
        return 0
    for photo in photos:
        db.session.delete(photo)
    db.session.flush()
    storage = get_storage()
    stored_files.delete_after_commit(
        storage, (photo_file_name(photo, variant) for photo in photos for variant in VARIANTS))
    return len(photos)
