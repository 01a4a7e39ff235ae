"""Serving stored photos: only to those who may see a listing that shows them."""

from __future__ import annotations

import io
import logging
import re
from pathlib import PurePosixPath

from flask import Blueprint, abort, send_file
from flask_login import current_user
from sqlalchemy import select
from werkzeug.http import generate_etag
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import Listing, ListingPhoto, Photo, StagedPhoto
from ..security import Action, listing_visible_to, permitted
from ..services.photos import VARIANTS, photo_file_name
from ..storage import Storage, content_type, get_storage

log = logging.getLogger(__name__)
bp = Blueprint("photos", __name__, url_prefix="/photos")

_HASH = re.compile(r"([0-9a-f]{64})")
ONE_YEAR = 365 * 24 * 60 * 60


@bp.route("/<path:name>")
def serve(name: str) -> Response:
    match = _HASH.search(name)
    if match is None or name not in {photo_file_name(match.group(1), v) for v in VARIANTS}:
        abort(404)
    photo = db.session.scalar(select(Photo).where(Photo.content_hash == match.group(1)))
    if photo is None:
        abort(404)
    listings = db.session.scalars(
        select(Listing).join(ListingPhoto).where(ListingPhoto.photo_id == photo.id))
    anonymous_may_see = False
    viewer_may_see = False
    for listing in listings:
        anonymous_may_see = anonymous_may_see or listing_visible_to(None, listing)
        viewer_may_see = viewer_may_see or listing_visible_to(current_user, listing)
    if not viewer_may_see and not _staged_by_viewer(photo):
        abort(404)
    storage = get_storage()
    path = storage.path(name)
    response: Response
    if path is not None:
        if not path.exists():
            abort(404)
        response = send_file(path, mimetype=content_type(name), max_age=ONE_YEAR,
                             conditional=True)
    else:
        response = _send_stored_bytes(storage, name, photo)
    # Names change with the content, so a copy never goes stale; only public photos may be
    # kept by shared caches.
    visibility = "public" if anonymous_may_see else "private"
    response.headers["Cache-Control"] = f"{visibility}, max-age={ONE_YEAR}, immutable"
    return response


def _staged_by_viewer(photo: Photo) -> bool:
    """The viewer uploaded this photo for a form not yet saved (their preview)."""
    staged = db.session.scalars(select(StagedPhoto).where(StagedPhoto.photo_id == photo.id))
    return any(permitted(current_user, Action.USE_STAGED_PHOTO, row) for row in staged)


def _send_stored_bytes(storage: Storage, name: str, photo: Photo) -> Response:
    """A file kept elsewhere (S3), with what send_file gives a local one: ETag, Last-Modified,
    conditional GET and ranges. Photo files are small (at most 2048 px), so they are read whole."""
    try:
        data = storage.read(name)
    except FileNotFoundError:
        abort(404)
    except OSError:
        log.exception("Could not read photo %s from the storage", name)
        abort(503)
    # The ETag comes from the bytes, so every app server gives the same one; Last-Modified is
    # the row's, as the files are written in the transaction that adds it.
    return send_file(io.BytesIO(data), mimetype=content_type(name),
                     download_name=PurePosixPath(name).name, etag=generate_etag(data),
                     last_modified=photo.created_at, max_age=ONE_YEAR, conditional=True)
