"""Benchmark of wanted alerts at publication and of sending the outbox over SMTP.

    .venv/bin/python bench/alerts_and_mail.py [--publishes N] [--messages N]
                                              [--sqlite-only | --postgres-only]

Alert matching: 200 organisations, 1,000 members elsewhere than the poster's organisation with
an alert that matches the listing, and 4,000 alerts that do not (other words, provinces,
categories, conditions; paused, of the poster's colleagues, of deactivated members). Times
`approve_listing` for fresh listings that each match the same 1,000 alerts (queueing 1,000
emails and committing), `announce` (alerts and wanted posts) alone, and rendering the 1,000
emails alone.

Mail: an aiosmtpd server on 127.0.0.1 (in a child process, as a real mail server would be)
counts what it receives; 1,000 "reset_password" messages are queued and `deliver_pending`
sends them; then the same messages over SMTP without the database, and another 1,000 through
`flask send-mail` as cron would run it.

Both run in a temporary SQLite file and in a fresh PostgreSQL database (`bench_alerts` on
BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432, dropped afterwards).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, delete, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import selectinload

from marketplace import create_app
from marketplace.config import normalise_database_url
from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AlertFrequency,
    AlertMatch,
    Category,
    Condition,
    Language,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    OutboxMessage,
    OutboxStatus,
    Province,
    Role,
    Site,
    Unit,
    User,
    UserStatus,
)
from marketplace.services import mail as mail_service
from marketplace.services.announcements import announce
from marketplace.services.categories import ensure_default_categories
from marketplace.services.mail import deliver_pending, queue_email
from marketplace.services.moderation import approve_listing
from marketplace.services.tokens import TokenPurpose, make_token
from marketplace.services.urls import external_url

POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
POSTGRES_DATABASE = "bench_alerts"
ORGANISATIONS = 200
WATCHERS = 1_000  # members with one alert that matches every benchmark listing
PROVINCE = Province.UTRECHT  # of the poster's site
CONDITION = Condition.GOOD
TITLE = "Elektrische rolstoel Invacare Action {number}"
DESCRIPTION = ("Rolstoel met accu en lader, in goede staat. Opvouwbaar, met zitkussen. "
               "Ophalen bij de receptie tussen 9 en 17 uur.")

# Alerts that match the listing above (category "mobility", under "medical-aids").
MATCHING_WORDS = ["rolstoel", "elektrische rolstoel", "invac", "Rolstoel lader", "ROLSTOEL accu",
                  "opvouw"]
# Words that fail although every filter fits: each word must start a word of the listing.
FAILING_WORDS = ["bureaustoel", "rollator", "rolstoelkussen", "tillift", "rolstoel bureau",
                 "kussen", "laptop", "wheelchair"]


# --- the data --------------------------------------------------------------------------------

@dataclass
class World:
    admin_id: int
    poster_id: int
    organisation_id: int
    site_id: int
    category_id: int
    watcher_ids: list[int]
    alerts: int


def build() -> World:
    """Organisations with a site each, members, and 1,000 matching + 4,000 other alerts."""
    db.create_all()
    ensure_default_categories()
    rng = random.Random(20261127)  # noqa: S311 - the same data on every run
    now = datetime.now(UTC)
    category = {slug: id_ for id_, slug in db.session.execute(select(Category.id,
                                                                      Category.slug))}
    provinces = list(Province)
    organisations = []
    for number in range(ORGANISATIONS):
        organisation = Organisation(name=f"Zorggroep {number}", status=OrganisationStatus.ACTIVE,
                                    kind=rng.choice(list(OrganisationKind)))
        province = PROVINCE if number == 0 else rng.choice(provinces)
        organisation.sites.append(Site(name="Hoofdlocatie", street=f"Zorgweg {number}",
                                       postcode="3511 AB", city="Utrecht", province=province))
        organisations.append(organisation)
    db.session.add_all(organisations)
    db.session.flush()

    def member(email: str, organisation: Organisation | None, **fields: Any) -> User:
        values: dict[str, Any] = {"role": Role.MEMBER, "status": UserStatus.ACTIVE,
                                  "language": Language.NL}
        values.update(fields)
        return User(email=email, name=email.split("@")[0].title(), password_hash="-",  # noqa: S106 - nobody logs in
                    organisation=organisation, email_confirmed_at=now, **values)

    poster_org, others = organisations[0], organisations[1:]
    admin = member("admin@example.org", None, role=Role.PLATFORM_ADMIN)
    poster = member("poster@example.org", poster_org)
    watchers = [member(f"watcher{i}@example.org", others[i % len(others)],
                       language=Language.EN if i % 10 < 3 else Language.NL)
                for i in range(WATCHERS)]
    colleagues = [member(f"colleague{i}@example.org", poster_org) for i in range(25)]
    deactivated = [member(f"gone{i}@example.org", others[i], status=UserStatus.DEACTIVATED)
                   for i in range(50)]
    bystanders = [member(f"bystander{i}@example.org", others[-1 - i]) for i in range(50)]
    db.session.add_all([admin, poster, *watchers, *colleagues, *deactivated, *bystanders])
    db.session.flush()

    rows: list[dict[str, Any]] = []

    def alert(user: User, words: str = "", category_id: int | None = None,
              province: Province | None = None, condition: Condition | None = None,
              paused: bool = False) -> None:
        rows.append({"user_id": user.id, "words": words, "category_id": category_id,
                     "province": province, "condition": condition, "paused": paused,
                     "frequency": AlertFrequency.INSTANT, "created_at": now})

    other_provinces = [province for province in provinces if province is not PROVINCE]
    other_categories = [category[slug] for slug in ("lifting", "furniture", "care-beds",
                                                    "consumables", "kitchen", "office-it")]
    other_conditions = [condition for condition in Condition if condition is not CONDITION]
    for i, user in enumerate(watchers):
        words = MATCHING_WORDS[i % len(MATCHING_WORDS)]
        match i % 4:  # the matching alert: a quarter of each kind
            case 0:
                alert(user, words)
            case 1:
                parent = category["medical-aids"] if i % 8 == 1 else category["mobility"]
                alert(user, words, category_id=parent)
            case 2:
                alert(user, ["", "rolstoel", "elektr"][i % 3], province=PROVINCE)
            case _:
                alert(user, ["", "rolstoel", "lader"][i % 3], condition=CONDITION)
        for j in range(3):  # three that do not match, cycling through the ways to miss
            kind = (3 * i + j) % 4
            if kind == 0:  # every filter fits (so it is a candidate) but the words do not
                alert(user, rng.choice(FAILING_WORDS),
                      province=rng.choice([None, PROVINCE]),
                      condition=rng.choice([None, CONDITION]))
            elif kind == 1:
                alert(user, rng.choice(["rolstoel", ""]), province=rng.choice(other_provinces))
            elif kind == 2:
                alert(user, rng.choice(["rolstoel", ""]),
                      category_id=rng.choice(other_categories))
            else:
                alert(user, rng.choice(["rolstoel", ""]),
                      condition=rng.choice(other_conditions))
        if i < 250:
            alert(user, "rolstoel", paused=True)
    for user in colleagues:  # would match, but the poster's own organisation is not told
        for words in MATCHING_WORDS[:5] * 2:
            alert(user, words)
    for user in deactivated:
        for words in MATCHING_WORDS[:5]:
            alert(user, words)
    for user in bystanders:
        for words in FAILING_WORDS[:5]:
            alert(user, words)
    db.session.execute(insert(Alert), rows)
    db.session.commit()
    return World(admin.id, poster.id, poster_org.id, poster_org.sites[0].id,
                 category["mobility"], [user.id for user in watchers], len(rows))


def new_listing(world: World, number: int,
                status: ListingStatus = ListingStatus.PENDING_REVIEW) -> int:
    now = datetime.now(UTC)
    listing = Listing(
        organisation_id=world.organisation_id, created_by_id=world.poster_id,
        site_id=world.site_id, category_id=world.category_id,
        title=TITLE.format(number=number), description=DESCRIPTION, condition=CONDITION,
        quantity=2, quantity_available=2, unit=Unit.PIECE,
        available_until=date.today() + timedelta(days=30), status=status, submitted_at=now,
        published_at=now if status is ListingStatus.PUBLISHED else None,
    )
    db.session.add(listing)
    db.session.commit()
    return listing.id


# --- measuring -------------------------------------------------------------------------------

class StatementCounter:
    """Counts the SQL statements sent, to see how many a publish or a drain takes."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1

    @contextmanager
    def on(self, engine: Any) -> Iterator[StatementCounter]:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self)
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    begin = time.perf_counter()
    result = call()
    return time.perf_counter() - begin, result


@dataclass
class Figures:
    """One database's results: rows of (label, value as text)."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, label: str, value: str) -> None:
        self.rows.append((label, value))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def run_alerts(app: Flask, world: World, publishes: int, figures: Figures) -> None:
    with app.app_context():
        counter = StatementCounter()
        durations, statements, queued_matches, queued_total = [], [], [], []
        for number in range(publishes + 1):  # the first is a warm-up (templates, translations)
            listing_id = new_listing(world, number)
            db.session.remove()
            admin = db.session.get(User, world.admin_id)
            listing = db.session.get(Listing, listing_id)
            before = db.session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
            with counter.on(db.engine):
                seconds, _ = timed(lambda admin=admin, listing=listing:
                                   approve_listing(admin, listing))
            db.session.remove()
            queued = select(func.count(OutboxMessage.id)).where(OutboxMessage.id > before)
            everything = db.session.scalar(queued)
            alert_mails = db.session.scalar(queued.where(OutboxMessage.template == "alert_match"))
            matches = db.session.scalar(select(func.count(AlertMatch.id)).where(
                AlertMatch.listing_id == listing_id))
            db.session.remove()
            if matches != WATCHERS or alert_mails != WATCHERS:
                figures.problems.append(f"listing {number}: {matches} matches, {alert_mails} "
                                        f"alert emails (expected {WATCHERS})")
            if number == 0:
                figures.add("publish: first (cold)", ms(seconds))
                continue
            durations.append(seconds)
            statements.append(counter.count)
            queued_matches.append(alert_mails)
            queued_total.append(everything)
        figures.add(f"publish: approve_listing, median of {publishes}",
                    ms(statistics.median(durations)))
        figures.add("publish: p95", ms(percentile(durations, 0.95)))
        figures.add("publish: per matching alert",
                    f"{statistics.median(durations) * 1000 / WATCHERS:.2f} ms")
        figures.add("publish: emails queued (alert_match + other)",
                    f"{statistics.median(queued_matches):.0f} + "
                    f"{statistics.median(queued_total) - statistics.median(queued_matches):.0f}")
        figures.add("publish: SQL statements", f"{statistics.median(statements):.0f}")

        # announce alone, rolled back (no commit), on one published listing.
        listing_id = new_listing(world, 10_000, ListingStatus.PUBLISHED)
        alone, alone_statements = [], []
        for _ in range(3):
            db.session.remove()
            listing = db.session.get(Listing, listing_id)
            _ = listing.organisation, listing.site  # as approve_listing has them loaded
            with counter.on(db.engine):
                seconds, matched = timed(lambda listing=listing: announce(listing))
            db.session.rollback()
            alone.append(seconds)
            alone_statements.append(counter.count)
            if matched != WATCHERS:
                figures.problems.append(f"announce matched {matched}")
        figures.add("announce alone (no commit), median of 3",
                    f"{ms(statistics.median(alone))}, {statistics.median(alone_statements):.0f} "
                    "statements")

        # Rendering the 1,000 emails alone: users, alerts and the listing loaded beforehand.
        db.session.remove()
        listing = db.session.get(Listing, listing_id)
        _ = listing.organisation, listing.site
        alerts = db.session.scalars(
            select(Alert).options(selectinload(Alert.user))
            .where(Alert.user_id.in_(world.watcher_ids)).order_by(Alert.id.desc())).all()
        # Each watcher's first alert is the matching one (the dict keeps the last seen).
        firsts = list({alert.user_id: alert for alert in alerts}.values())
        url = external_url("listings.show", listing_id=listing.id)

        def render() -> None:
            for alert in firsts:
                queue_email("alert_match", alert.user, title=listing.title, listing=listing,
                            alert=alert, listing_url=url)

        seconds, _ = timed(render)
        db.session.rollback()
        db.session.remove()
        figures.add(f"render {len(firsts):,} alert_match emails (queue_email, no flush)",
                    ms(seconds))


# --- the SMTP server -------------------------------------------------------------------------

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class CountingHandler:
    """aiosmtpd handler: remembers the Message-ID of every message it accepts."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        headers = content.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(headers)
        self.message_ids.append(found.group(1).decode() if found else "(none)")
        return "250 Message accepted for delivery"


def _smtp_server(port: int, pipe: Connection) -> None:
    """The child process: an aiosmtpd Controller answering `count`, `reset` and `stop`."""
    from aiosmtpd.controller import Controller

    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    pipe.send("ready")
    try:
        while True:
            command = pipe.recv()
            if command == "count":
                pipe.send(list(handler.message_ids))
            elif command == "reset":
                handler.message_ids.clear()
                pipe.send("ok")
            else:
                break
    finally:
        controller.stop()
        pipe.send("stopped")


class SmtpServer:
    """A real SMTP server on 127.0.0.1 and a free port, in a child process (its own GIL)."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        context = multiprocessing.get_context("spawn")
        self.pipe, child_end = context.Pipe()
        self.process = context.Process(target=_smtp_server, args=(self.port, child_end),
                                       daemon=True)
        self.process.start()
        if not self.pipe.poll(30) or self.pipe.recv() != "ready":
            raise RuntimeError("the SMTP server did not start")

    def received(self) -> list[str]:
        self.pipe.send("count")
        return self.pipe.recv()

    def reset(self) -> None:
        self.pipe.send("reset")
        self.pipe.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.pipe.send("stop")
            self.pipe.poll(10)
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def check_received(smtp: SmtpServer, expected_ids: set[int], figures: Figures,
                   what: str) -> str:
    received = smtp.received()
    ids = {int(found.group(1)) for message_id in received
           if (found := re.match(r"<outbox-(\d+)-", message_id))}
    distinct = len(set(received))
    if len(received) != len(expected_ids) or distinct != len(received) or ids != expected_ids:
        figures.problems.append(f"{what}: server received {len(received)} ({distinct} distinct, "
                                f"{len(ids & expected_ids)} of the {len(expected_ids)} expected)")
    return f"{len(received):,} received, {distinct:,} distinct"


def run_mail(app: Flask, world: World, smtp: SmtpServer, messages: int,
             figures: Figures) -> None:
    with app.app_context():
        db.session.execute(delete(OutboxMessage))  # the alert emails of the part above
        db.session.commit()
        counter = StatementCounter()

        def queue() -> set[int]:
            users = db.session.scalars(select(User).where(User.id.in_(world.watcher_ids))).all()
            queued = []
            for number in range(messages):
                user = users[number % len(users)]
                token = make_token(TokenPurpose.RESET_PASSWORD, {"u": user.id, "p": "bench"})
                queued.append(queue_email(
                    "reset_password", user, hours=2,
                    reset_url=external_url("auth.reset_password", token=token)))
            db.session.commit()
            ids = {message.id for message in queued}
            db.session.remove()
            return ids

        seconds, expected = timed(queue)
        figures.add(f"mail: queue {messages:,} reset_password + commit", ms(seconds))

        smtp.reset()
        with counter.on(db.engine):
            seconds, report = timed(lambda: deliver_pending(limit=messages))
        db.session.remove()
        figures.add(f"mail: deliver_pending(limit={messages:,})",
                    f"{seconds:.2f} s, {report.sent / seconds:,.0f} msg/s")
        figures.add("mail: deliver_pending per message",
                    f"{seconds * 1000 / messages:.2f} ms, {counter.count / messages:.1f} "
                    "statements")
        if report.sent != messages or report.retried or report.failed:
            figures.problems.append(f"deliver_pending: {report}")
        pending = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status != OutboxStatus.SENT))
        if pending:
            figures.problems.append(f"{pending} outbox messages not sent")
        figures.add("mail: SMTP server", check_received(smtp, expected, figures,
                                                        "deliver_pending"))

        # The same messages over one SMTP connection, without claims and commits.
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(expected))
                                  .order_by(OutboxMessage.id)).all()
        smtp.reset()

        def send_only() -> None:
            with mail_service.transports.SmtpTransport() as transport:
                for row in rows:
                    transport.send(row)

        seconds, _ = timed(send_only)
        db.session.remove()
        figures.add("mail: build + SMTP only (no database)",
                    f"{seconds:.2f} s, {messages / seconds:,.0f} msg/s")
        check_received(smtp, expected, figures, "SMTP only")

        # `flask send-mail` as cron runs it: how many runs to send them all.
        expected = queue()
        smtp.reset()
    runner = app.test_cli_runner()
    runs, outputs = 0, []
    begin = time.perf_counter()
    while runs < 100:
        result = runner.invoke(args=["send-mail"])
        runs += 1
        outputs.append(result.output.strip())
        if result.exit_code != 0 or result.output.startswith("sent 0,"):
            break
    seconds = time.perf_counter() - begin
    with app.app_context():
        pending = db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.status == OutboxStatus.PENDING))
        db.session.remove()
    useful = sum(1 for output in outputs if not output.startswith("sent 0,"))
    rounds = sum(output.count("sent ") for output in outputs)
    figures.add("mail: flask send-mail runs to send all",
                f"{useful} run{'s' if useful != 1 else ''}, {rounds} rounds of up to 200")
    figures.add("mail: flask send-mail, all runs", f"{seconds:.2f} s, "
                f"{messages / seconds:,.0f} msg/s")
    if pending:
        figures.problems.append(f"flask send-mail left {pending} pending")
    check_received(smtp, expected, figures, "flask send-mail")


# --- the two databases -----------------------------------------------------------------------

def bench_app(url: str, instance: Path, **overrides: Any) -> Flask:
    os.environ["INSTANCE_PATH"] = str(instance)
    config: dict[str, Any] = {
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "BASE_URL": "http://localhost",
        "MAIL_SERVER": None, "MAIL_DELIVER_AFTER_REQUEST": False,
        # TESTING would make Flask-Mail pretend to send; the server must really receive.
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_FOLDER": str(instance / "mail"), "UPLOAD_FOLDER": str(instance / "uploads"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    return create_app(config)


def run_database(label: str, url: str, instance: Path, smtp: SmtpServer, publishes: int,
                 messages: int, analyze: bool) -> Figures:
    figures = Figures()
    app = bench_app(url, instance)
    mail_app = bench_app(url, instance, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    try:
        print(f"{label}: building …", flush=True)
        with app.app_context():
            seconds, world = timed(build)
            if analyze:
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            db.session.remove()
        print(f"  built in {seconds:.1f} s: {ORGANISATIONS} organisations, {world.alerts:,} "
              f"alerts", flush=True)
        print(f"{label}: publishing {publishes + 1} listings …", flush=True)
        run_alerts(app, world, publishes, figures)
        print(f"{label}: sending mail …", flush=True)
        run_mail(mail_app, world, smtp, messages, figures)
    finally:
        for application in (app, mail_app):
            with application.app_context():
                db.session.remove()
                db.engine.dispose()
    return figures


def run_postgres(workdir: Path, smtp: SmtpServer, publishes: int,
                 messages: int) -> Figures | None:
    server = make_url(normalise_database_url(POSTGRES_SERVER))
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')
    try:
        with admin.connect() as connection:
            connection.execute(drop)
            connection.execute(text(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
    except Exception as error:  # no server: say so and go on
        print(f"PostgreSQL at {POSTGRES_SERVER} not usable ({error}); skipped")
        admin.dispose()
        return None
    url = server.set(database=POSTGRES_DATABASE).render_as_string(hide_password=False)
    try:
        return run_database("PostgreSQL", url, workdir / "instance-postgres", smtp, publishes,
                            messages, analyze=True)
    finally:
        with admin.connect() as connection:
            connection.execute(drop)
        admin.dispose()


def print_table(results: dict[str, Figures]) -> None:
    labels = [label for label, _ in next(iter(results.values())).rows]
    width = max(len(label) for label in labels)
    columns = {name: dict(figures.rows) for name, figures in results.items()}
    widths = {name: max(len(name), *(len(value) for value in column.values()))
              for name, column in columns.items()}
    print()
    print(f"{'':<{width}}  " + "  ".join(f"{name:>{widths[name]}}" for name in columns))
    for label in labels:
        print(f"{label:<{width}}  " + "  ".join(
            f"{columns[name].get(label, ''):>{widths[name]}}" for name in columns))
    for name, figures in results.items():
        for problem in figures.problems:
            print(f"PROBLEM ({name}): {problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishes", type=int, default=10,
                        help="listings published and timed (after one warm-up)")
    parser.add_argument("--messages", type=int, default=1_000)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    options = parser.parse_args()
    started = time.perf_counter()
    results: dict[str, Figures] = {}
    smtp = SmtpServer()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-alerts-") as workdir:
            work = Path(workdir)
            if not options.postgres_only:
                results["SQLite"] = run_database(
                    "SQLite", f"sqlite:///{work / 'bench.sqlite'}", work / "instance-sqlite",
                    smtp, options.publishes, options.messages, analyze=False)
            if not options.sqlite_only:
                figures = run_postgres(work, smtp, options.publishes, options.messages)
                if figures is not None:
                    results["PostgreSQL"] = figures
    finally:
        smtp.stop()
    if results:
        print_table(results)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
