"""Photos uploaded one by one before the listing is saved (the browser's uploader), as JSON:
each is processed and kept for its member (services/photos/staging.py) and the listing form
names the kept ones in `staged_photo` fields."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response

from .. import rate_limits
from ..extensions import limiter
from ..security import Action, permitted
from ..services.errors import DomainError
from ..services.photos import photo_url, remove_staged, stage_photo
from ..services.photos.decoding import DEFAULT_MAX_BYTES
from ..web import member_required

bp = Blueprint("staged_photos", __name__, url_prefix="/listings/photos/staged")

Answer = tuple[Response, int]


def _error(message: str, status: int) -> Answer:
    return jsonify(error=message), status


def _per_member() -> str:
    return f"stage:user:{current_user.id}" if current_user.is_authenticated \
        else f"stage:ip:{request.remote_addr}"


def _status_of(error: DomainError, size: int) -> int:
    if error.status_code >= 500 or error.status_code in (403, 404):
        return error.status_code
    if size > current_app.config.get("PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES):
        return 413
    return 422


@bp.route("", methods=["POST"])
@member_required
@limiter.limit(lambda: current_app.config["PHOTO_STAGE_RATE_LIMIT"], key_func=_per_member)
def stage() -> Answer:
    """201 with the staged photo's id, thumbnail and name; a refusal names the photo."""
    if not permitted(current_user, Action.PARTICIPATE):
        return _error(_("You cannot post listings yet."), 403)
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return _error(_("Choose a photo to upload."), 400)
    data = upload.read()
    try:
        staged = stage_photo(current_user, data, upload.filename)
    except DomainError as error:
        return _error(error.message, _status_of(error, len(data)))
    return jsonify(id=staged.id, thumbnail_url=photo_url(staged.photo, "card"),
                   name=staged.original_name), 201


@bp.route("/<int:staged_id>/remove", methods=["POST"])
@member_required
def remove(staged_id: int) -> Answer | tuple[str, int]:
    """204; another member's staged photo, or one that is gone, is not found (404)."""
    try:
        remove_staged(current_user, staged_id)
    except DomainError as error:
        return _error(_("This photo is not among your uploads (any more)."), error.status_code)
    return "", 204


@bp.errorhandler(CSRFError)
def _csrf_refused(_error_: CSRFError) -> Answer:
    return _error(_("This form had expired or came from elsewhere. Reload the page and add "
                    "the photo again."), 400)


@bp.errorhandler(RateLimitExceeded)
def _too_many(_error_: RateLimitExceeded) -> Any:
    seconds = rate_limits.seconds_until_allowed()
    response, status = _error(rate_limits.try_again_message(seconds), 429)
    response.headers["Retry-After"] = str(seconds)
    return response, status


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error_: RequestEntityTooLarge) -> Answer:
    return _error(_("This photo is larger than we accept. Send a smaller photo."), 413)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400 or error.code == 401:
        return error
    if error.code == 404:
        return _error(_("This photo is not among your uploads (any more)."), 404)
    return _error(_("That did not work. Reload the page and try again."), error.code)
