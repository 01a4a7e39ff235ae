"""The CSRF token a page's forms carry: signed once per session and worker process, not once per
page.

Why: Flask-WTF signs the session's token afresh for every page that shows a form (a new
serializer, a derived key, an HMAC), 3-4 % of the CPU of a kept search page (issue 18;
bench/README.md). With WTF_CSRF_TIME_LIMIT None (config.py) a signed token carries no
expiry that is checked, so every signature of a session's token is valid as long as the session
and the secret, and the first is as good as a new one. Checking a posted token stays Flask-WTF's
(CSRFProtect), unchanged; so does a token with a time limit, which is signed for each page."""

from __future__ import annotations

from flask import Flask, current_app, g, session
from flask_wtf.csrf import generate_csrf

KEPT_TOKENS = 10_000  # per process: the sessions of a busy day, about 3 MB
_EXTENSION_KEY = "marketplace.csrf_tokens"


def csrf_token() -> str:
    """This session's signed CSRF token, as Flask-WTF's `generate_csrf` makes it."""
    config = current_app.config
    if config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf()  # the token says when it was signed: sign it now
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    signed: str | None = g.get(field)
    if signed is not None:  # signed earlier in this request
        return signed
    secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    kept: dict[tuple[object, str], str] = current_app.extensions[_EXTENSION_KEY]
    raw = session.get(field)
    signed = kept.get((secret, raw)) if isinstance(raw, str) else None
    if signed is None:
        signed = generate_csrf()  # makes the session's token when it has none
        if len(kept) >= KEPT_TOKENS:
            kept.clear()  # simpler than LRU: a cleared session's next page signs again
        kept[(secret, session[field])] = signed
    else:
        setattr(g, field, signed)  # the request's forms (generate_csrf) take the same
    return signed


def init_app(app: Flask) -> None:
    """Templates' `csrf_token()` is this one: called after CSRFProtect.init_app, which sets its
    own as a global and in every page's context."""
    app.extensions[_EXTENSION_KEY] = {}
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
