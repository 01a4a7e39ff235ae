"""Logs an operator can follow: a request id on every record, an access line per request, and
text or JSON lines (LOG_FORMAT).

Every request gets an id: the proxy's `X-Request-ID` when it is a sane token, else a new one. It
is sent back in the `X-Request-ID` response header and attached (with the method and path) to
every log record made while the request is handled, whichever logger makes it (ours,
SQLAlchemy's, Werkzeug's, an error with its traceback): a record factory adds it, so handlers and
formatters configured elsewhere see it too. Paths are logged without their query string, and the
tokens of emailed links are cut out (see log_filters).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, g, has_app_context, has_request_context, request
from sqlalchemy import inspect as sqlalchemy_inspect

from .log_filters import install as install_redaction
from .log_filters import redact

REQUEST_ID_HEADER = "X-Request-ID"
ENVIRON_KEY = "marketplace.request_id"
# A proxy's id is kept only when it cannot break a log line or flood it.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=-]{1,128}")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
HANDLER_NAME = "marketplace"  # our handler on the root logger, found again by this name
# Probes hit these every few seconds: their access lines are DEBUG, not INFO.
PROBE_PATHS = frozenset({"/healthz", "/livez"})

access_log = logging.getLogger("marketplace.access")


def init_app(app: Flask) -> None:
    """Configure logging for the process and add the request id and access line to `app`.

    Raises RuntimeError for an unknown LOG_FORMAT, so a typo is noticed at start-up.
    """
    log_format = str(app.config.get("LOG_FORMAT") or "text").lower()
    if log_format not in FORMATS:
        raise RuntimeError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}.")
    logging.getLogger("marketplace").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    install_redaction()  # no tokens of emailed links in logged paths
    _install_record_factory()
    _install_handler(log_format)
    # First in line, so that the id and the clock exist before any other hook can log or fail.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)


def make_handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing lines in `log_format` ("text" or "json") to `stream` (stderr)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def _install_handler(log_format: str) -> None:
    root = logging.getLogger()
    ours = next((handler for handler in root.handlers if handler.get_name() == HANDLER_NAME),
                None)
    if ours is not None:
        ours.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
        return
    if root.handlers:
        return  # logging was configured by the host (a dictConfig, pytest): leave it be
    root.addHandler(make_handler(log_format))
    # Our own messages at LOG_LEVEL (on the "marketplace" logger); libraries from WARNING up.
    root.setLevel(logging.WARNING)


def request_id() -> str:
    """The current request's id (made on first use)."""
    environ = request.environ
    if ENVIRON_KEY not in environ:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        environ[ENVIRON_KEY] = given if SANE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        # Also in `g`, which outlives the request context by a moment: the database session is
        # closed when the application context ends, and what it logs then is the request's too.
        g.request_id = environ[ENVIRON_KEY]
    return environ[ENVIRON_KEY]


def _install_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if getattr(current, "adds_request_context", False):
        return  # once per process, however many apps are made

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        if has_request_context():
            record.request_id = request_id()
            record.http_method = request.method
            record.http_path = redact(request.path)
        elif has_app_context():
            record.request_id = g.get("request_id")  # None in a command
        else:
            record.request_id = None
        return record

    factory.adds_request_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    request_id()


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    path = redact(request.path)
    user_id = _logged_in_user_id()
    level = logging.DEBUG if request.path in PROBE_PATHS else logging.INFO
    access_log.log(
        level, "%s %s %s %sms user=%s addr=%s", request.method, path, response.status_code,
        duration_ms, user_id if user_id is not None else "-", request.remote_addr,
        extra={"status": response.status_code, "duration_ms": duration_ms, "user_id": user_id,
               "remote_addr": request.remote_addr},
    )
    return response


def _logged_in_user_id() -> int | None:
    """The id of the user this request loaded, if any; never loads one (no extra query)."""
    user = g.get("_login_user")  # where Flask-Login keeps the user it loaded
    state = sqlalchemy_inspect(user, raiseerr=False) if user is not None else None
    if state is None or not state.identity:
        return None  # anonymous, or not looked at by this request
    return state.identity[0]


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [request id] message`, with "-" outside a request."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        had_id = "request_id" in record.__dict__
        saved = record.__dict__.get("request_id")
        record.request_id = saved or "-"
        try:
            return redact(super().format(record))
        finally:
            if had_id:
                record.request_id = saved
            else:
                del record.__dict__["request_id"]


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald, Loki, Elasticsearch and friends."""

    OPTIONAL = (("method", "http_method"), ("path", "http_path"), ("status", "status"),
                ("duration_ms", "duration_ms"), ("user_id", "user_id"),
                ("remote_addr", "remote_addr"))

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
        }
        for key, attribute in self.OPTIONAL:
            if hasattr(record, attribute):
                entry[key] = getattr(record, attribute)
        if record.exc_info:
            entry["exc_info"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exc_info"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
