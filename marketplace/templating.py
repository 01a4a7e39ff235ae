"""Globals and filters for the templates."""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request
from flask_babel import (
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
)
from flask_login import current_user

from .i18n import current_language
from .models import LANGUAGE_NAMES, Language
from .security import Action, can, participation_block_reason
from .services.photos import photo_url, srcset


def register(app: Flask) -> None:
    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        block_reason = None
        in_request = has_request_context()  # emails are rendered outside requests too
        # Platform admins without an organisation moderate; they are not meant to post.
        if in_request and current_user.is_authenticated and not (
            current_user.is_platform_admin and current_user.organisation is None
        ):
            block_reason = participation_block_reason(current_user)
        return {
            "can": can,
            "Action": Action,
            "participation_block": block_reason,
            "languages": [(language.value, LANGUAGE_NAMES[language]) for language in Language],
            "current_language": current_language(),
            "current_path": request.full_path.rstrip("?") if in_request else "/",
        }

    # Globals, not context: imported macros (the listing card) see globals only.
    app.jinja_env.globals.update(photo_url=photo_url, srcset=srcset)
    app.jinja_env.filters["datetime"] = lambda value: format_datetime(value, "medium") \
        if value else ""
    app.jinja_env.filters["date"] = lambda value: format_date(value, "medium") if value else ""
    app.jinja_env.filters["number"] = lambda value: format_decimal(value) \
        if value is not None else ""
    app.jinja_env.filters["money"] = lambda value: format_currency(value, "EUR") \
        if value is not None else ""
