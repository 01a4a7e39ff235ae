"""Logs never carry secrets: the tokens of emailed links are cut out of logged paths.

Werkzeug's request log (`flask run`, the test servers) and our error log name the path of a
request; for a confirmation, reset, preferences or unsubscribe link that path is a working
credential.
"""

from __future__ import annotations

import logging
import re

TOKEN_IN_PATH = re.compile(
    r"(/(?:auth/confirm|auth/reset|account/email-preferences|account/unsubscribe)/)"
    r"[^\s/?#\"']+")
REDACTED = "[token]"
# The loggers that write request paths.
PATH_LOGGERS = ("werkzeug", "marketplace.errors")


def redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(rf"\1{REDACTED}", text)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install() -> None:
    """Add the filter to the loggers that write paths (once, however many apps are made)."""
    for name in PATH_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())
