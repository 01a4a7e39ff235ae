"""Friendly error pages (and JSON errors for API clients)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from . import rate_limits
from .services.errors import DomainError
from .storage import StorageError

log = logging.getLogger(__name__)
DATABASE_RETRY_AFTER_SECONDS = 30


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Something in the request was not right"),
              _("Go back, check what you entered and try again.")),
        403: (_("You cannot open this page"),
              _("Your account does not have access to this page.")),
        404: (_("Page not found"),
              _("This page does not exist (any more). Perhaps the item has been given away.")),
        405: (_("That did not work"), _("This page cannot be used like that.")),
        413: (_("Too large"),
              _("What you sent is larger than we accept. Use smaller or fewer photos.")),
        429: (_("Too many attempts"),
              _("You tried this too often in a short time. Wait a few minutes and try again.")),
        500: (_("Something went wrong on our side"),
              _("The problem has been logged. Try again in a moment.")),
        503: (_("Not available right now"),
              _("Part of the site cannot be reached at the moment. Try again in a few "
                "minutes.")),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"])
        == "application/json"
    )


def render_error(status: int, detail: str | None = None) -> tuple[object, int]:
    messages = _messages()
    title, explanation = messages.get(status, messages[500] if status >= 500 else messages[400])
    if wants_json():
        return jsonify(error=title, detail=detail or explanation, status=status), status
    return render_template("errors/error.html", status=status, title=title,
                           explanation=detail or explanation), status


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(RateLimitExceeded, _too_many_attempts)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StorageError, _storage_unavailable)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def _csrf_error(error: CSRFError) -> Any:
    return render_error(400, _("This form had expired or came from elsewhere. "
                               "It has been refreshed: please send it again."))


def _domain_error(error: DomainError) -> Any:
    return render_error(error.status_code, error.message)


def _too_many_attempts(error: RateLimitExceeded) -> Any:
    # When to try again, from the window of the limit used up, in words and in Retry-After;
    # a form shown again by the limit's on_breach is answered as it is.
    seconds = rate_limits.seconds_until_allowed()
    response = error.response if error.response is not None else make_response(
        render_error(429, rate_limits.try_again_message(seconds)))
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def _http_error(error: HTTPException) -> Any:
    if error.code is None or error.code < 400:
        return error
    return render_error(error.code)


def _storage_unavailable(error: StorageError) -> Any:
    # The photo storage (an S3 service) failed: nothing was kept, and trying again may work.
    from .extensions import db

    log.exception("Photo storage failed on %s %s", request.method, request.path)
    db.session.rollback()
    return render_error(503)


def _database_unavailable(error: Exception) -> Any:
    # The database does not answer (restarted, failed over, unreachable) or stays locked:
    # nothing was saved, and the same request will work once it is back.
    from .extensions import db, login_manager

    log.error("The database is unavailable on %s %s (%s)", request.method, request.path,
              type(getattr(error, "orig", None) or error).__name__)
    with contextlib.suppress(Exception):
        db.session.rollback()
    # The page is shown as to a visitor: finding the member would ask the database again.
    g._login_user = login_manager.anonymous_user()
    response = make_response(render_error(503, _(
        "The site cannot reach its database just now, so nothing has been saved. Go back "
        "and send it again in a minute: your browser usually keeps what you typed.")))
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def _unexpected_error(error: Exception) -> Any:
    from .extensions import db

    log.exception("Unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return render_error(500)
