"""Claims on outbox rows: who is sending which message.

A row is claimed with a conditional UPDATE before it is sent, so two senders never send the
same message (on PostgreSQL with FOR UPDATE SKIP LOCKED, so several senders share the work
without waiting for each other). A claim names its sender, which confirms it as it works
(`limits.CLAIM_HEARTBEAT`); claims nobody confirmed for `limits.STALE_CLAIM` are taken back.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select, update

from ...extensions import db
from ...models import OutboxMessage, OutboxStatus
from ...models.base import utcnow
from ...unit_of_work import atomic, unit_of_work
from . import limits

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

# The package's logger, as before the split (operators filter on it).
log = logging.getLogger(__package__)


def _sender_name() -> str:
    # The random part tells a process apart from an earlier one that had the same pid.
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Sender:
    """One sending process, as named on the messages it has claimed."""

    name: str = field(default_factory=_sender_name)
    # Set from a signal handler: finish the message in hand, give the other claims back.
    stopping: bool = False
    # Handed to the server, but the database has not recorded it yet (its connection failed).
    handed_over: set[int] = field(default_factory=set)


def confirm_claims(message_ids: list[int], sender: Sender) -> list[int]:
    """The heartbeat: renew this sender's claims on `message_ids`; the ids it still holds
    (another sender takes over claims that went unconfirmed for STALE_CLAIM)."""
    held = db.session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == OutboxStatus.SENDING,
               OutboxMessage.claimed_by == sender.name)
        .values(claimed_at=utcnow())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if len(held) < len(message_ids):
        log.warning("Mail %s was taken over by another sender (this one was too slow)",
                    sorted(set(message_ids) - set(held)))
    return sorted(held)


def settle_claims(sender: Sender) -> int:
    """Record what `sender` handed over without the database hearing of it (as sent), and give
    its other claims back to the queue as they were (the attempt not counted), in a unit of work
    of its own; returns how many were given back. Used when the sender stops and after a lost
    connection."""
    with unit_of_work():
        if sender.handed_over:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(sender.handed_over),
                       OutboxMessage.status == OutboxStatus.SENDING,
                       OutboxMessage.claimed_by == sender.name)
                .values(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None,
                        server_unreachable=False)
                .execution_options(synchronize_session=False))
        given_back = db.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING,
                   OutboxMessage.claimed_by == sender.name)
            .values(status=OutboxStatus.PENDING, attempts=OutboxMessage.attempts - 1,
                    claimed_at=None, claimed_by=None)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        ).all()
    sender.handed_over.clear()  # once committed
    if given_back:
        log.info("Gave back %d claimed messages to the queue", len(given_back))
    return len(given_back)


def waiting_for_server() -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.server_unreachable,
        OutboxMessage.next_attempt_at > utcnow()).limit(1)) is not None


def due_now_server_is_back() -> None:
    """Messages that waited only for the server are due now (claimed oldest first)."""
    now = utcnow()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.server_unreachable,
               OutboxMessage.next_attempt_at > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False))


def claim_due(count: int, sender: Sender) -> list[int]:
    """Mark up to `count` due messages SENDING for `sender`, in a unit of work of its own (each
    round, when another sender was first); return their ids ([] when nothing is due).

    On PostgreSQL the due rows are picked and locked FOR UPDATE SKIP LOCKED, so concurrent
    senders take different rows instead of queueing behind each other, and marked in the same
    transaction. The status condition of the UPDATE keeps it correct anywhere: SQLite ignores
    the lock, so there another sender may claim the rows between the two statements.
    (Not UPDATE … WHERE id IN (SELECT … LIMIT … SKIP LOCKED): PostgreSQL may run that subquery
    again for every row, and its LIMIT then limits nothing.)
    """
    while True:
        with unit_of_work():
            now = utcnow()
            due = db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == OutboxStatus.PENDING,
                       OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.id)
                .limit(count)
                .with_for_update(skip_locked=True)
            ).all()
            claimed = db.session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due), OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=sender.name,
                        attempts=OutboxMessage.attempts + 1)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            ).all() if due else []
        if claimed or not due:
            return sorted(claimed)
        # Another sender took all of these a moment ago (SQLite): there may be more.


@atomic
def retry_stale_claims() -> None:
    stale = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.claimed_at < utcnow() - limits.STALE_CLAIM)).all()
    for message_id in stale:
        # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
        result = cast("CursorResult[Any]", db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING,
                   OutboxMessage.claimed_at < utcnow() - limits.STALE_CLAIM)
            .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow(), claimed_by=None,
                    last_error="The sender stopped while sending; sent again (may duplicate).")
            .execution_options(synchronize_session=False)))
        if result.rowcount == 1:
            log.warning("Mail %s was being sent by a sender that stopped; sending it again, "
                        "which may deliver it twice", message_id)
