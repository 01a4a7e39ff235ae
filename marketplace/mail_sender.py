"""The `flask send-mail` process: rounds of `deliver_pending` that survive a lost database and
stop cleanly.

- A lost database connection (PostgreSQL restarted, a connection cut, SQLite locked for too
  long) is rolled back; the sender waits (DATABASE_RETRY) and goes on, first settling its claims:
  what it had handed to the SMTP server is marked sent, the rest goes back to the queue.
- SIGTERM (what `systemctl stop` sends) or SIGINT: the message in hand is finished, the other
  claimed messages are given back at once, and the process exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from sqlalchemy.exc import InterfaceError, OperationalError

from .extensions import db
from .services import mail

log = logging.getLogger(__name__)

# What a lost or unreachable database raises (psycopg's AdminShutdown, a refused connection,
# SQLite's "database is locked" after its busy time-out all arrive as OperationalError).
DATABASE_DOWN = (OperationalError, InterfaceError)
# Seconds to wait after the n-th database failure in a row (the last value repeats).
DATABASE_RETRY = (1, 2, 5, 10, 30)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Wakeup:
    """A sleep that a stop signal cuts short (a pipe the handler writes to: safe in a signal
    handler, unlike a lock, which the interrupted code may be holding)."""

    def __init__(self) -> None:
        self.read_end, self.write_end = os.pipe()
        os.set_blocking(self.write_end, False)

    def wait(self, seconds: float) -> None:
        readable, _, _ = select.select([self.read_end], [], [], seconds)
        if readable:
            os.read(self.read_end, 64)

    def wake(self) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self.write_end, b"!")

    def close(self) -> None:
        os.close(self.read_end)
        os.close(self.write_end)


@contextlib.contextmanager
def _stop_on_signals(sender: mail.Sender) -> Iterator[_Wakeup]:
    wakeup = _Wakeup()

    def stop(signum: int, _frame: FrameType | None) -> None:
        sender.stopping = True
        wakeup.wake()

    # Signal handlers can only be set from the main thread (not, say, in a test's thread).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS} \
        if in_main_thread else {}
    try:
        yield wakeup
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        wakeup.close()


def _forget_session() -> None:
    """Drop the session and its (possibly dead) connection; the pool opens a new one."""
    with contextlib.suppress(*DATABASE_DOWN):
        db.session.rollback()
    db.session.remove()


def run(*, loop: bool, interval: float, batch: int, say: Callable[[str], None]) -> None:
    """Send what is due in rounds of `batch`; with `loop`, keep going (waiting `interval`
    seconds when nothing is due) until stopped by a signal. Without `loop` a database error
    propagates (its claims are taken back by the next sender after mail.STALE_CLAIM)."""
    sender = mail.Sender()
    failures = 0
    unsettled = False  # a database error left claims and handed-over messages to settle
    with _stop_on_signals(sender) as wakeup:
        while not sender.stopping:
            try:
                if unsettled:
                    mail.settle_claims(sender)
                    unsettled = False
                report = mail.deliver_pending(limit=batch, sender=sender)
            except DATABASE_DOWN as error:
                _forget_session()
                if not loop:
                    raise
                unsettled = True
                delay = DATABASE_RETRY[min(failures, len(DATABASE_RETRY) - 1)]
                failures += 1
                log.warning("The database is unavailable, trying again in %ss: %s", delay,
                            (str(error.orig or error).splitlines() or [""])[0])
                if not sender.stopping:
                    wakeup.wait(delay)
                continue
            failures = 0
            handled = report.sent + report.retried + report.failed
            if handled or not loop:
                say(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")
            db.session.remove()
            if handled >= batch or sender.stopping:
                continue  # a full round: more may be waiting, go on at once
            if not loop:
                return
            wakeup.wait(interval)
        if unsettled:
            _settle_before_exit(sender)
    log.info("Mail sender stopped")


def _settle_before_exit(sender: mail.Sender) -> None:
    try:
        mail.settle_claims(sender)
    except DATABASE_DOWN:
        _forget_session()
        log.warning("Stopped without reaching the database: another sender takes this one's "
                    "claims back within a minute")
