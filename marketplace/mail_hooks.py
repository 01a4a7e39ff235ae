"""Deliver queued mail right after the request when no separate sender runs (the demo)."""

from __future__ import annotations

import logging

from flask import Response, current_app, g

from .services.mail import deliver_pending

log = logging.getLogger(__name__)


def deliver_after_request(response: Response) -> Response:
    if g.pop("mail_queued", False) and current_app.config["MAIL_DELIVER_AFTER_REQUEST"]:
        try:
            deliver_pending()
        except Exception:  # the change is committed; `flask send-mail` delivers it later
            log.exception("Delivering mail after the request failed")
    return response
