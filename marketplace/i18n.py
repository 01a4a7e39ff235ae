"""Which language a page speaks: the user's setting, else the footer switch, else the browser."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_COOKIE = "language"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # The command line speaks English, like its documentation; mail sets its own language.
        return "en"
    if current_user and current_user.is_authenticated:
        return current_user.language.value
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen is not None and chosen in languages:
        return chosen
    # English when the browser asks for it (before Dutch), Dutch otherwise.
    return request.accept_languages.best_match(languages, default="nl") or "nl"


def current_language() -> str:
    """The code of the language this page (or email) is rendered in: "nl" or "en"."""
    return str(get_locale() or "nl")
