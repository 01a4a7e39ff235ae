"""Delivery: `deliver_pending` sends the due messages it claims, one unit of work each; a failure
is retried with backoff, except that messages which failed only because the server could not be
reached go out, oldest first, as soon as it takes mail again."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy import update

from ...extensions import db
from ...models import OutboxMessage, OutboxStatus, User
from ...models.base import utcnow
from ...unit_of_work import atomic, unit_of_work
from .. import audit
from . import limits
from .claiming import (
    Sender,
    claim_due,
    confirm_claims,
    due_now_server_is_back,
    retry_stale_claims,
    settle_claims,
    waiting_for_server,
)
from .transports import Transport, open_transport

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

# The package's logger, as before the split (operators filter on it).
log = logging.getLogger(__package__)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    given_back: int = 0  # claimed, then returned to the queue untried (the sender stopped)


def deliver_pending(limit: int = 100, sender: Sender | None = None) -> DeliveryReport:
    """Send up to `limit` due messages; safe to run in several processes at once.

    When `sender.stopping` becomes true, the message in hand is finished and the other claimed
    messages are given back. A database error propagates (the unit of work in hand rolled back):
    once the database answers, the caller calls `settle_claims` (messages handed over meanwhile
    are remembered in `sender.handed_over`).
    """
    sender = sender or Sender()
    report = DeliveryReport()
    retry_stale_claims()
    handled = 0
    probed = False
    with contextlib.ExitStack() as stack:
        transport: Transport | None = None
        while handled < limit and not sender.stopping:
            message_ids = claim_due(min(limits.CLAIM_CHUNK, limit - handled), sender)
            if not message_ids:
                if handled or probed or not waiting_for_server():
                    break
                # Nothing is due, but messages wait only for the server: is it back?
                probed = True
                transport = transport or stack.enter_context(open_transport())
                if transport.reachable():
                    with unit_of_work():
                        due_now_server_is_back()
                continue
            handled += len(message_ids)
            transport = transport or stack.enter_context(open_transport())
            _send_claimed(message_ids, transport, sender, report)
    if sender.stopping:
        report.given_back = settle_claims(sender)
    return report


def _send_claimed(message_ids: list[int], transport: Transport,
                  sender: Sender, report: DeliveryReport) -> None:
    """Send the claimed messages in turn, each recorded in a unit of work of its own (with the
    remaining claims confirmed, every limits.CLAIM_HEARTBEAT)."""
    remaining = list(message_ids)
    server_is_back = False
    confirmed = time.monotonic()  # claimed just now
    while remaining and not sender.stopping:
        message_id = remaining.pop(0)
        with unit_of_work():
            # get_one: our claim on the row stands, and outbox rows are never deleted.
            message = db.session.get_one(OutboxMessage, message_id)
            try:
                transport.send(message)
            except Exception as error:
                _record_failure(message, error, report, transport.could_not_reach(error))
            else:
                sender.handed_over.add(message_id)
                message.status = OutboxStatus.SENT
                message.sent_at = utcnow()
                message.last_error = None
                message.server_unreachable = False
                report.sent += 1
                if not server_is_back:
                    server_is_back = True
                    due_now_server_is_back()
            heartbeat = limits.CLAIM_HEARTBEAT.total_seconds()
            if remaining and time.monotonic() - confirmed >= heartbeat:
                remaining = confirm_claims(remaining, sender)
                confirmed = time.monotonic()
        sender.handed_over.discard(message_id)


def _record_failure(message: OutboxMessage, error: Exception, report: DeliveryReport,
                    unreachable: bool) -> None:
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    message.server_unreachable = unreachable
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        report.failed += 1
        log.error("Giving up on mail %s to %s: %s", message.id, message.recipient, error)
    else:
        delay = limits.RETRY_BACKOFF[min(message.attempts, len(limits.RETRY_BACKOFF)) - 1]
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
        report.retried += 1
        log.warning("Mail %s to %s failed, retry in %ss: %s", message.id, message.recipient,
                    delay, error)


@atomic
def retry_failed(actor: User | None, message_id: int) -> bool:
    """Give a failed message a new round of attempts (an admin's "send again", written to the
    audit log); False when it is not waiting for one."""
    # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
    result = cast("CursorResult[Any]", db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)))
    if result.rowcount != 1:
        return False
    message = db.session.get_one(OutboxMessage, message_id)  # it was just updated
    audit.record(actor, "mail.retry", message, label=f"{message.template} #{message.id}")
    return True
