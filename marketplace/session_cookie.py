"""The session cookie, read once per worker process for each value it takes, not at every request.

Why: Flask checks the signed session cookie at every request (a new serializer, a derived key,
an HMAC, base64 and JSON), 3 % of the CPU of a member's kept search page and 4 % of a
visitor's (issue 18; bench/README.md). A browser sends the same cookie until the session
changes, and the same value always verifies to the same content. So what a value held is kept,
keyed by the value itself and the secret, and its age is checked at every request as Flask
checks it: a session older than PERMANENT_SESSION_LIFETIME is refused as before. Only sessions
of plain values are kept: a list in a session (flashed messages) is changed in place by Flask,
and must not change what another request reads."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature

KEPT_COOKIES = 5_000  # per process: the sessions of a busy day, a few MB
_PLAIN = (str, int, float, bool, type(None))


class KeptSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, each cookie value verified once per process."""

    def __init__(self) -> None:
        # (secret, cookie value) -> (what it holds, when it was signed: seconds since the epoch)
        self._kept: dict[tuple[Any, str], tuple[dict[str, Any], int]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or not app.secret_key:
            return super().open_session(app, request)
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (app.secret_key, value)
        kept = self._kept.get(key)
        if kept is not None:
            data, signed_at = kept
            if 0 <= int(time.time()) - signed_at <= max_age:  # itsdangerous' own test
                return self.session_class(data)
            self._kept.pop(key, None)  # expired: refused below, as Flask refuses it
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if isinstance(data, dict) and all(isinstance(item, _PLAIN) for item in data.values()):
            if len(self._kept) >= KEPT_COOKIES:
                self._kept.clear()  # simpler than LRU: the next request verifies again
            self._kept[key] = (data, int(signed.timestamp()))
        return self.session_class(data)


def init_app(app: Flask) -> None:
    app.session_interface = KeptSessionInterface()
