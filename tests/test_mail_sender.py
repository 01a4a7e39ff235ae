"""The mail sender as operators run it: `flask send-mail --loop` in a process of its own, against
a real SMTP server on loopback (aiosmtpd) that is stopped, started and made to hold a message,
and a database whose connection is cut. It never stalls: it waits out a lost database, stops
cleanly on SIGTERM, takes back a killed sender's claims within a minute, and sends the mail an
SMTP outage held up as soon as the server is back.

No test waits for time to pass: each polls for an observable state with a generous deadline,
and "a minute later" is written into the database.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from helpers import on_postgres
from servers import PROJECT_ROOT, app_settings, free_port, server_environment, wait_until
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url

from marketplace.extensions import db
from marketplace.models import OutboxMessage, OutboxStatus
from marketplace.models.base import utcnow
from marketplace.services import mail
from marketplace.services.mail import STALE_CLAIM, build_message, deliver_pending

DEADLINE = 90  # seconds; generous for a loaded machine, never waited out when things work


@dataclass
class SmtpHandler:
    """Remembers the Message-ID of each message in the order received; can hold the next one
    (the sender waits for its answer) until released, and refuses recipients named refused@…."""

    received: list[str] = field(default_factory=list)
    hold_next: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    on_message: Callable[[int], None] | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd
        if address.startswith("refused@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        headers = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        self.received.append(headers["Message-ID"])
        if self.on_message is not None:
            self.on_message(len(self.received))
        if self.hold_next:
            self.hold_next = False
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, DEADLINE)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    handler: SmtpHandler = field(default_factory=SmtpHandler)
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.handler.release.set()
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server on a free loopback port, not started yet (the server is down)."""
    server = SmtpServer(port=free_port())
    yield server
    server.stop()


@dataclass
class SenderProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        assert self.process.poll() is None, f"the sender exited:\n{self.logs()}"
        return True

    def stop(self) -> int:
        """SIGTERM, as `systemctl stop` sends; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=DEADLINE)


@pytest.fixture
def start_sender(tmp_path: Path) -> Iterator[Callable[..., SenderProcess]]:
    started: list[SenderProcess] = []

    def start(app, smtp: SmtpServer, database_url: str | None = None) -> SenderProcess:
        settings = app_settings(app, tmp_path / f"sender{len(started)}",
                                MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, LOG_LEVEL="INFO")
        if database_url:
            settings["DATABASE_URL"] = database_url
        log = tmp_path / f"sender{len(started)}.log"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "send-mail", "--loop",
                 "--interval", "0.2"],
                cwd=PROJECT_ROOT, env=server_environment(settings), stdout=output,
                stderr=subprocess.STDOUT)
        started.append(SenderProcess(process, log))
        return started[-1]

    yield start
    for sender in started:
        if sender.process.poll() is None:
            sender.process.kill()
            sender.process.wait()


@pytest.fixture
def smtp_app(make_app, smtp):
    """The test's application, sending to `smtp`."""
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        yield app


def queue(count: int, first: int = 0) -> list[int]:
    """`count` committed messages; their ids, oldest first."""
    rows = [OutboxMessage(template="reset_password", recipient=f"lid{n}@example.org",
                          subject=f"Bericht {n}", body_text=f"Bericht {n}",
                          body_html=f"<p>Bericht {n}</p>") for n in range(first, first + count)]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def rows() -> list[OutboxMessage]:
    """The outbox as the database has it now."""
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def message_ids(ids: list[int]) -> list[str]:
    return [build_message(db.session.get(OutboxMessage, row_id)).msgId for row_id in ids]


def all_sent() -> bool:
    return all(row.status is OutboxStatus.SENT for row in rows())


# --- stopping -----------------------------------------------------------------------------------

def test_on_sigterm_the_sender_finishes_the_message_in_hand_and_gives_the_rest_back(
        smtp_app, smtp, start_sender):
    ids = queue(4)
    smtp.handler.hold_next = True
    smtp.start()
    sender = start_sender(smtp_app, smtp)
    wait_until(lambda: sender.running() and smtp.handler.holding.is_set(), DEADLINE,
               "the sender to hand over its first message")

    sender.process.send_signal(signal.SIGTERM)
    smtp.handler.release.set()

    assert sender.process.wait(timeout=DEADLINE) == 0, sender.logs()
    first, *rest = rows()
    assert smtp.handler.received == message_ids(ids[:1])
    assert (first.status, first.attempts) == (OutboxStatus.SENT, 1)
    # Back in the queue as they were: untried, no attempt counted, nobody's claim.
    assert [(row.status, row.attempts, row.claimed_by) for row in rest] == \
        [(OutboxStatus.PENDING, 0, None)] * 3
    assert "Gave back 3 claimed messages" in sender.logs()


def test_a_killed_senders_claims_are_taken_back_a_minute_later_never_lost(
        smtp_app, smtp, start_sender):
    ids = queue(3)
    smtp.handler.hold_next = True
    smtp.start()
    killed = start_sender(smtp_app, smtp)
    wait_until(lambda: killed.running() and smtp.handler.holding.is_set(), DEADLINE,
               "the sender to hand over its first message")

    killed.process.kill()  # SIGKILL: no chance to give anything back
    killed.process.wait(timeout=DEADLINE)
    smtp.handler.release.set()
    assert {row.status for row in rows()} == {OutboxStatus.SENDING}
    assert deliver_pending().sent == 0  # its claims are young: it might be alive and busy

    # A minute later, without a word from the killed sender:
    db.session.execute(update(OutboxMessage).values(
        claimed_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    report = deliver_pending()  # the next sender to start

    assert report.sent == 3
    assert all_sent()
    received = Counter(smtp.handler.received)
    in_hand, *untouched = message_ids(ids)
    assert received[in_hand] in (1, 2)  # it may have arrived before the kill: at most twice
    assert all(received[message_id] == 1 for message_id in untouched)


def test_a_busy_sender_keeps_its_claims_by_confirming_them_as_it_goes(
        smtp_app, smtp, monkeypatch):
    """A live sender's claims are never taken as a dead one's, however long its batch takes."""
    monkeypatch.setattr(mail.limits, "CLAIM_HEARTBEAT", timedelta(0))  # after every message
    queue(3)
    other_connection = create_engine(db.engine.url)
    claims_seen: dict[int, set[bool]] = {}

    def on_message(number: int) -> None:
        with other_connection.begin() as connection:
            if number == 1:  # as if this first message had taken ten minutes to send
                connection.execute(update(OutboxMessage).values(
                    claimed_at=utcnow() - timedelta(minutes=10)))
            else:
                claims_seen[number] = {
                    claimed_at >= utcnow() - STALE_CLAIM for claimed_at in connection.scalars(
                        select(OutboxMessage.claimed_at)
                        .where(OutboxMessage.status == OutboxStatus.SENDING))}

    smtp.handler.on_message = on_message
    smtp.start()
    try:
        assert deliver_pending().sent == 3
    finally:
        other_connection.dispose()

    assert claims_seen == {2: {True}, 3: {True}}  # confirmed, so fresh to any other sender


# --- a lost database -------------------------------------------------------------------------

@pytest.mark.skipif(not on_postgres(), reason="cuts a PostgreSQL connection (pg_terminate_backend)")
def test_the_sender_survives_a_cut_database_connection_mid_batch_sending_each_message_once(
        smtp_app, smtp, start_sender):
    ids = queue(4)
    name = f"mail-sender-{uuid.uuid4().hex[:8]}"
    url = smtp_app.config["SQLALCHEMY_DATABASE_URI"]
    url += ("&" if "?" in url else "?") + f"application_name={name}"
    smtp.handler.hold_next = True
    smtp.start()
    sender = start_sender(smtp_app, smtp, database_url=url)
    wait_until(lambda: sender.running() and smtp.handler.holding.is_set(), DEADLINE,
               "the sender to hand over its first message")

    # Its connection is cut while the server holds the first message (mid-transaction).
    terminated = db.session.scalar(text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = :name"), {"name": name})
    db.session.commit()
    assert terminated >= 1
    smtp.handler.release.set()

    wait_until(lambda: sender.running() and all_sent(), DEADLINE, "every message to be sent")
    assert "The database is unavailable" in sender.logs()
    # The message handed over before the cut was recorded as sent, not sent again.
    assert Counter(smtp.handler.received) == Counter(message_ids(ids))
    assert {row.attempts for row in rows()} == {1}
    assert sender.stop() == 0


@pytest.mark.skipif(on_postgres(), reason="locks the SQLite file")
def test_the_sender_waits_out_a_locked_sqlite_database_sending_each_message_once(
        smtp_app, smtp, start_sender):
    ids = queue(3)
    smtp.handler.hold_next = True
    smtp.start()
    sender = start_sender(smtp_app, smtp)
    wait_until(lambda: sender.running() and smtp.handler.holding.is_set(), DEADLINE,
               "the sender to hand over its first message")

    # Another process holds the write lock for longer than the busy time-out (10 s).
    database = sqlite3.connect(make_url(smtp_app.config["SQLALCHEMY_DATABASE_URI"]).database,
                               isolation_level=None)
    database.execute("BEGIN IMMEDIATE")
    smtp.handler.release.set()
    wait_until(lambda: sender.running() and "The database is unavailable" in sender.logs(),
               DEADLINE, "the sender to find the database locked")
    database.execute("ROLLBACK")
    database.close()

    wait_until(lambda: sender.running() and all_sent(), DEADLINE, "every message to be sent")
    assert Counter(smtp.handler.received) == Counter(message_ids(ids))  # none twice
    assert {row.attempts for row in rows()} == {1}
    assert sender.stop() == 0


# --- an SMTP outage ----------------------------------------------------------------------------

def test_after_an_smtp_outage_the_waiting_mail_goes_out_oldest_first_once_the_server_is_back(
        smtp_app, smtp, start_sender):
    ids = queue(5)
    sender = start_sender(smtp_app, smtp)  # the SMTP server is down
    wait_until(lambda: sender.running() and all(
        row.status is OutboxStatus.PENDING and row.attempts == 1 for row in rows()),
        DEADLINE, "the sender to try every message once")
    retry_at = {row.id: row.next_attempt_at for row in rows()}

    smtp.start()

    wait_until(lambda: sender.running() and all_sent(), DEADLINE, "every message to be sent")
    assert smtp.handler.received == message_ids(ids)  # each once, oldest first
    assert all(row.sent_at < retry_at[row.id] for row in rows())  # not after the backoff
    assert sender.stop() == 0


def test_a_message_the_server_refused_still_waits_for_its_backoff_after_an_outage(
        smtp_app, smtp):
    db.session.add(OutboxMessage(template="reset_password", recipient="refused@example.org",
                                 subject="Bericht", body_text="Bericht",
                                 body_html="<p>Bericht</p>"))
    db.session.commit()
    smtp.start()
    assert deliver_pending().retried == 1  # refused with 550: the message, not the server
    smtp.stop()
    [waiting] = queue(1)
    assert deliver_pending().retried == 1  # the server is down

    smtp.start()
    report = deliver_pending()

    assert report.sent == 1
    refused_row, waiting_row = rows()
    assert waiting_row.status is OutboxStatus.SENT and waiting_row.id == waiting
    assert refused_row.status is OutboxStatus.PENDING and refused_row.attempts == 1
    assert refused_row.next_attempt_at > utcnow()
