"""The posting form's photos kept through every answer: each photo that reaches us is staged
(processed and stored for its member) before the rest of the form is looked at, so a form shown
again carries it as a `staged_photo` field and nobody chooses it twice."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from ..services.listings import MAX_PHOTOS
from ..services.photos import StagedUploads, remove_staged, stage_uploads, staged_photos
from .forms import ListingForm

STAGED_FIELD = "staged_photo"  # repeated, in the order the photos go on the listing
REMOVE_FIELD = "remove_staged"  # a staged photo the member took off the form

KeptPhotos = StagedUploads  # the member's staged photos for this form, and the refusals


def keep_photos(form: ListingForm) -> KeptPhotos:
    """The staged photos the submitted form names (less those ticked for removal), then the
    files uploaded with it, each staged by itself: a refused one is named, the others kept."""
    if request.method != "POST":
        return KeptPhotos()
    # A removed one may be named only there (the uploader's "Photo removed. Undo" place).
    for row in staged_photos(current_user, request.form.getlist(REMOVE_FIELD)):
        remove_staged(current_user, row.id)
    earlier = staged_photos(current_user, request.form.getlist(STAGED_FIELD))
    uploads = [(item.filename or "", item.read()) for item in form.photos.data or []
               if isinstance(item, FileStorage) and item.filename]
    # What a listing has already is counted by the listing service (some may be removed now).
    room = MAX_PHOTOS - len(earlier)
    kept = stage_uploads(current_user, uploads, room, _(
        "A listing can have at most %(max)d photos.", max=MAX_PHOTOS))
    kept.staged[:0] = earlier
    return kept


def show_refusals(form: ListingForm, kept: KeptPhotos) -> None:
    """The refused uploads as errors of the photo field (the form is not saved then)."""
    form.photos.errors = [*list(form.photos.errors or []), *kept.refusals]
