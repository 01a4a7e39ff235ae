"""Several mail senders and overlapping housekeeping runs, in separate processes on one
database and one SMTP server: every message arrives exactly once.

The processes wait for each other at a barrier, then all start at the same moment; the SMTP
server on loopback (aiosmtpd) counts what arrives by Message-ID.
"""

from __future__ import annotations

import email
import email.policy
import multiprocessing
import threading
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from helpers import reload
from servers import free_port
from sqlalchemy import select, update

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AlertFrequency,
    AlertMatch,
    ClaimStatus,
    Listing,
    ListingStatus,
    OutboxMessage,
    OutboxStatus,
    Role,
)
from marketplace.models.base import utcnow
from marketplace.services import housekeeping
from marketplace.services.mail import build_message, deliver_pending

SPAWN = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited connections


@dataclass
class CountingSmtpHandler:
    message_ids: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        headers = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        with self.lock:
            self.message_ids[headers["Message-ID"]] += 1
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(request: pytest.FixtureRequest) -> tuple[int, CountingSmtpHandler]:
    handler = CountingSmtpHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    request.addfinalizer(controller.stop)
    return port, handler


def process_settings(app, smtp_port: int) -> dict[str, object]:
    """What a separate process needs to work on the test's database and SMTP server."""
    return {name: app.config[name] for name in (
        "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "UPLOAD_FOLDER", "MAIL_FOLDER", "BASE_URL",
        "MAIL_DEFAULT_SENDER")} | {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_port,
                                   "MAIL_SUPPRESS_SEND": False, "RATELIMIT_ENABLED": False}


def send_until_empty(batch: int) -> int:
    """A `send-mail` worker: rounds of `batch` until a round finds nothing to send."""
    sent = 0
    while True:
        report = deliver_pending(limit=batch)
        if report.sent + report.retried + report.failed == 0:
            return sent
        sent += report.sent
        db.session.remove()


def run_housekeeping() -> list[str]:
    return list(housekeeping.run())


def _process(settings, start, results, work, args) -> None:
    """In a process of its own: build the app, wait for the others, work, report."""
    try:
        app = create_app(settings)
        with app.app_context():
            start.wait()
            results.put(("done", work(*args)))
    except BaseException:
        results.put(("failed", traceback.format_exc()))


def run_at_once(work, settings, count: int, *args: object) -> list:
    """Run `work(*args)` in `count` processes that begin together; what each returned."""
    start = SPAWN.Barrier(count, timeout=120)
    results = SPAWN.Queue()
    db.session.commit()  # the test's session holds nothing while they run
    processes = [SPAWN.Process(target=_process, args=(settings, start, results, work, args))
                 for _ in range(count)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    failures = [detail for state, detail in outcomes if state == "failed"]
    assert not failures, "\n".join(failures)
    db.session.expire_all()
    return [detail for _state, detail in outcomes]


def expected_message_ids() -> Counter:
    return Counter(build_message(row).msgId for row in db.session.scalars(select(OutboxMessage)))


def test_four_senders_on_one_outbox_deliver_each_of_300_messages_exactly_once(app, smtp):
    port, server = smtp
    db.session.add_all(OutboxMessage(
        template="reset_password", recipient=f"lid{n}@example.org", subject=f"Bericht {n}",
        body_text=f"Bericht {n}", body_html=f"<p>Bericht {n}</p>") for n in range(300))
    db.session.commit()

    sent_per_sender = run_at_once(send_until_empty, process_settings(app, port), 4, 20)

    assert sum(sent_per_sender) == 300
    assert sum(1 for sent in sent_per_sender if sent) >= 2, sent_per_sender  # they did race
    assert server.message_ids == expected_message_ids()  # each one, once
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {(row.status, row.attempts) for row in rows} == {(OutboxStatus.SENT, 1)}


def test_two_housekeeping_runs_at_once_email_everyone_once(app, smtp, make_org, make_user,
                                                           make_listing, make_claim):
    port, server = smtp
    givers = make_org()
    giver = make_user(organisation=givers, role=Role.ORG_ADMIN)
    claimant = make_user()
    admin = make_user(role=Role.PLATFORM_ADMIN)
    make_listing(status=ListingStatus.PENDING_REVIEW)  # the admins' daily summary
    alert = Alert(user=claimant, words="stoel", frequency=AlertFrequency.DAILY)
    db.session.add_all([alert, *(AlertMatch(alert=alert, listing=make_listing(organisation=givers))
                                 for _ in range(3))])  # the claimant's daily digest
    today = date.today()
    each = 15

    def listing(**fields):
        return make_listing(organisation=givers, **fields)

    expiring = [listing(available_until=today + timedelta(days=2)) for _ in range(each)]
    expired = [listing(available_until=today - timedelta(days=1)) for _ in range(each)]
    for gone in expired:
        make_claim(gone, claimant)
    unanswered = [make_claim(listing(), claimant, age=timedelta(days=4)) for _ in range(each)]
    too_late = [make_claim(listing(), claimant, age=timedelta(days=8)) for _ in range(each)]
    tomorrow = [make_claim(listing(quantity_available=3), claimant, ClaimStatus.ACCEPTED,
                           agreed_pickup_date=today + timedelta(days=1), decided_at=utcnow())
                for _ in range(each)]
    no_shows = [make_claim(listing(quantity_available=3), claimant, ClaimStatus.ACCEPTED,
                           agreed_pickup_date=today - timedelta(days=15),
                           decided_at=utcnow() - timedelta(days=20))
                for _ in range(each)]
    # Every listing was matched against the alerts when it was published.
    db.session.execute(update(Listing).values(alerts_matched_at=utcnow()))
    db.session.commit()

    settings = process_settings(app, port) | {"DIGEST_HOUR": 0}  # the digests go out now
    reports = run_at_once(run_housekeeping, settings, 2)
    # Mail queued by one run after the other had sent its round waits for the next sender.
    deliver_pending(limit=1000)

    outbox = db.session.scalars(select(OutboxMessage)).all()
    per_kind = Counter(row.template for row in outbox)
    assert per_kind == {
        "listing_expiring": each, "listing_expired": each, "claim_listing_gone": each,
        "claim_reminder": each, "claim_expired": each, "claim_pickup_tomorrow": each,
        "claim_not_collected": 2 * each,  # the claimant and the giver
        "alert_digest": 1, "moderation_summary": 1,
    }, reports
    assert max(Counter((row.template, row.recipient, row.subject) for row in outbox)
               .values()) == 1  # nobody told the same thing twice
    assert {row.recipient for row in outbox} == {giver.email, claimant.email, admin.email}
    assert server.message_ids == expected_message_ids()  # and each one delivered once
    assert all(reload(claim).status is ClaimStatus.EXPIRED for claim in too_late + no_shows)
    assert all(reload(claim).reminded_at is not None for claim in unanswered)
    assert all(reload(claim).pickup_reminded_at is not None for claim in tomorrow)
    assert {reload(claim.listing).quantity_available for claim in no_shows} == {4}
    assert all(reload(item).expiry_warned_at is not None for item in expiring)
