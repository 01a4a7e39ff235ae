"""The `flask receive-mail` process: an SMTP server (aiosmtpd) for replies to claim mail.

The organisation's mail server forwards REPLY_DOMAIN here (docs/operations.md). Every RCPT TO
is checked at once (`replies.recipient_of`): an address that is not a valid reply address is
refused with 550 and its message never arrives; each accepted message is handed to
`replies.receive_reply`, one unit of work per recipient. The database work runs in a thread of
the event loop's executor, each call in an application context of its own, so a slow database
holds one conversation, not the server. One log line per message; reply addresses are never
logged (they are what lets anyone write as the member).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import signal
import threading
from collections.abc import Callable
from email.message import EmailMessage
from functools import partial
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from .services import replies

log = logging.getLogger(__name__)

T = TypeVar("T")
# More recipients than this in one message are refused (452: the sender tries the rest later).
MAX_RECIPIENTS = 10
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ReplyHandler:
    """aiosmtpd's handler: the hooks it calls by name."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _in_app(self, work: Callable[[], T]) -> T:
        with self.app.app_context():
            return work()

    async def _run(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, self._in_app, work)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            await self._run(partial(replies.recipient_of, address))
        except replies.AddressRefused as refusal:
            log.info("Refused a reply address from %s: %s", session.peer, refusal)
            return refusal.smtp_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)  # what policy.default makes  # nosec B101
        mail_from = str(envelope.mail_from or "")
        for address in envelope.rcpt_tos:
            try:
                received = await self._run(partial(replies.receive_reply, address, parsed,
                                                   mail_from))
            except replies.AddressRefused as refusal:  # changed since RCPT TO: drop it
                log.info("Reply dropped, its address no longer takes replies: %s", refusal)
                continue
            except Exception:
                log.exception("A reply could not be stored (the sender will try again)")
                return "451 4.3.0 Could not store the reply now, please try again later"
            log.info("Reply to claim %s by member %s: %s%s", received.claim_id,
                     received.user_id, received.outcome.value,
                     f" ({received.detail})" if received.detail else "")
        return "250 2.0.0 OK"


def make_controller(app: Flask, host: str, port: int) -> Controller:
    """The SMTP server for `app` on host:port, not started yet."""
    return Controller(ReplyHandler(app), hostname=host, port=port,
                      data_size_limit=app.config["RECEIVE_MAIL_MAX_BYTES"],
                      server_hostname=app.config.get("REPLY_DOMAIN") or None)


def run(app: Flask, host: str, port: int, say: Callable[[str], Any]) -> None:
    """Serve until SIGTERM or SIGINT."""
    if not app.config.get("REPLY_DOMAIN"):
        say("REPLY_DOMAIN is not set: no mail has a reply address, every reply is refused.")
    controller = make_controller(app, host, port)
    stop = threading.Event()
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in STOP_SIGNALS}
    controller.start()
    say(f"Receiving replies on {host}:{port} for @{app.config.get('REPLY_DOMAIN') or '-'}")
    try:
        while not stop.wait(0.5):  # a short wait: the signal handler runs between them
            pass
    finally:
        controller.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    say("Stopped receiving replies.")
