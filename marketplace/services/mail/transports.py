"""Where a message goes: an SMTP server (Flask-Mail) or, when none is configured, .eml files in
MAIL_FOLDER; and the message itself (`build_message`)."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import smtplib
from datetime import datetime
from pathlib import Path
from typing import TypeAlias

from flask import current_app
from flask_mail import Connection, Message

from ...models import OutboxMessage
from . import limits

# The package's logger, as before the split (operators filter on it).
log = logging.getLogger(__package__)


def message_id_of(message: OutboxMessage) -> str:
    """The Message-ID of a (flushed) outbox row: the same on every attempt, so receiving
    servers drop a duplicate delivery, and later mail of its thread can answer it."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = sender.rsplit("@", 1)[-1].strip(">").strip() or "localhost"
    return f"<outbox-{message.id}-{message.created_at:%Y%m%d%H%M%S}@{domain}>"


def _headers_of(message: OutboxMessage) -> dict[str, str]:
    headers = {"Auto-Submitted": "auto-generated"}
    if message.in_reply_to:
        # One conversation per thread in mail programs: every later message answers the first.
        headers["In-Reply-To"] = headers["References"] = message.in_reply_to
    if message.unsubscribe_url:
        # RFC 8058: mail providers post "List-Unsubscribe=One-Click" to the link themselves.
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def build_message(message: OutboxMessage) -> Message:
    """The Flask-Mail message for an outbox row (also what the .eml files contain)."""
    mail_message = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.body_text,
        html=message.body_html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        reply_to=message.reply_to,
        extra_headers=_headers_of(message),
    )
    mail_message.msgId = message_id_of(message)
    for attachment in json.loads(message.attachments or "[]"):
        mail_message.attach(
            attachment["filename"],
            attachment["content_type"],
            base64.b64decode(attachment["data"]),
        )
    return mail_message


class SmtpTransport:
    """Flask-Mail's connection, opened on first use and again after a failure.

    When the server cannot be reached, every further message of this run fails at once with the
    same error (and is retried later with backoff) instead of waiting for its own time-out.
    """

    def __enter__(self) -> SmtpTransport:
        self.connection: _TimeoutConnection | None = None
        self.connect_error: Exception | None = None
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def reachable(self) -> bool:
        """Whether a connection can be opened (it is kept for the messages that follow)."""
        try:
            self._connect()
        except Exception as error:
            log.debug("The mail server is still unreachable: %s", error)  # every round
            return False
        return True

    def could_not_reach(self, error: Exception) -> bool:
        """Whether `error` means the server could not be reached (not: it refused a message,
        or the login or TLS settings are wrong)."""
        if error is not self.connect_error:
            return False
        if isinstance(error, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)):
            return True
        # SMTPException is an OSError too: its other kinds are the server's answers.
        return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)

    def send(self, message: OutboxMessage) -> None:
        connection = self._connect()
        try:
            connection.send(build_message(message))
        except Exception:
            self._close()
            raise

    def _connect(self) -> _TimeoutConnection:
        if self.connect_error is not None:
            raise self.connect_error
        if self.connection is None:
            connection = _TimeoutConnection(current_app.extensions["mail"])
            try:
                connection.__enter__()
            except Exception as error:
                self.connect_error = error
                raise
            self.connection = connection
        return self.connection

    def _close(self) -> None:
        if self.connection is not None:
            # The messages were handed over already; a failing QUIT changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.__exit__(None, None, None)  # type: ignore[arg-type]  # Flask-Mail's hints forbid None
            self.connection = None


class _TimeoutConnection(Connection):
    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=limits.SMTP_TIMEOUT_SECONDS)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class FolderTransport:
    """No SMTP server configured: write each message to MAIL_FOLDER and say so in the log."""

    def __enter__(self) -> FolderTransport:
        self.folder = Path(current_app.config["MAIL_FOLDER"])
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def reachable(self) -> bool:
        return True

    def could_not_reach(self, error: Exception) -> bool:
        return False  # a full disk or a folder without permission: backoff, as any failure

    def send(self, message: OutboxMessage) -> None:
        stamp: datetime = message.created_at
        path = self.folder / f"{stamp:%Y%m%d-%H%M%S}-{message.id:06d}-{message.template}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(build_message(message).as_bytes())
        temporary.replace(path)  # a reader never sees half a file
        # Subject and recipient only: bodies carry tokens and personal data.
        log.info("Mail to %s: %r written to %s", message.recipient, message.subject, path)


Transport: TypeAlias = SmtpTransport | FolderTransport


def open_transport() -> contextlib.AbstractContextManager[Transport]:
    """The transport for the configuration, to be entered (it opens nothing before)."""
    if current_app.config.get("MAIL_SERVER"):
        return SmtpTransport()
    return FolderTransport()
