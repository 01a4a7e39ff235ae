"""Benchmark: the mail sender through an SMTP outage.

    .venv/bin/python bench/mail_outage.py [--messages N] [--interval S]
                                          [--sqlite-only | --postgres-only]

200 messages (`--messages`) are queued while the SMTP server is down; `flask send-mail --loop`
runs as a process of its own (as under systemd, with its default `--interval` of 5 s) and tries
each once. Then an aiosmtpd server starts on the port (in a child process, as a real mail server
would be), and the script times how long until the database has every message marked sent,
counts what the server received (lost: expected Message-IDs it never got; duplicated: copies
beyond the first) and checks that the server received them oldest first. Finally the sender
is stopped with SIGTERM (its exit status is shown).

Runs in a temporary SQLite file and in a fresh PostgreSQL database (`bench_mail_outage` on
BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432, dropped afterwards).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.config import normalise_database_url
from marketplace.extensions import db
from marketplace.models import OutboxMessage, OutboxStatus

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
POSTGRES_DATABASE = "bench_mail_outage"
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*<outbox-(\d+)-", re.IGNORECASE | re.MULTILINE)


class _Counting:
    def __init__(self) -> None:
        self.outbox_ids: list[int] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        found = _MESSAGE_ID.search(envelope.original_content.split(b"\r\n\r\n", 1)[0])
        self.outbox_ids.append(int(found.group(1)) if found else -1)
        return "250 Message accepted for delivery"


def _smtp_server(port: int, pipe: Connection) -> None:
    """The child process: an aiosmtpd server on `port` until told to stop; then what it got."""
    from aiosmtpd.controller import Controller

    handler = _Counting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    pipe.send("ready")
    pipe.recv()
    controller.stop()
    pipe.send(handler.outbox_ids)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Any, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def run(label: str, url: str, work: Path, messages: int, interval: float) -> dict[str, str]:
    print(f"{label}: {messages} messages, SMTP server down …", flush=True)
    os.environ["INSTANCE_PATH"] = str(work / "instance")
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "MAIL_FOLDER": str(work / "mail"), "RATELIMIT_ENABLED": False})
    port = free_port()
    with app.app_context():
        db.create_all()
        db.session.add_all(OutboxMessage(
            template="reset_password", recipient=f"lid{n}@example.org", subject=f"Bericht {n}",
            body_text=f"Bericht {n}", body_html=f"<p>Bericht {n}</p>") for n in range(messages))
        db.session.commit()
        expected = list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))

        def count(*conditions: Any) -> int:
            db.session.rollback()  # a fresh snapshot
            return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(*conditions))

        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith(("MAIL_", "DATABASE_URL", "SECRET_KEY"))}
        environment.update({"DATABASE_URL": url, "SECRET_KEY": "bench", "MAIL_SERVER": "127.0.0.1",
                            "MAIL_PORT": str(port), "LOG_LEVEL": "WARNING"})
        log = open(work / f"sender-{label}.log", "wb")  # noqa: SIM115 - open while it runs
        sender = subprocess.Popen(  # noqa: S603 - our own command line
            [sys.executable, "-m", "flask", "--app", "wsgi", "send-mail", "--loop",
             "--interval", str(interval)],
            cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: count(OutboxMessage.attempts == 1,
                                   OutboxMessage.status == OutboxStatus.PENDING) == messages,
                     "every message to be tried once")
            pending = count(OutboxMessage.server_unreachable)
            context = multiprocessing.get_context("spawn")
            pipe, child_end = context.Pipe()
            server = context.Process(target=_smtp_server, args=(port, child_end), daemon=True)
            server.start()
            if not pipe.poll(60) or pipe.recv() != "ready":
                raise RuntimeError("the SMTP server did not start")
            started = time.perf_counter()
            print(f"{label}: server up, waiting for the sender …", flush=True)
            wait_for(lambda: count(OutboxMessage.status == OutboxStatus.SENT) == messages,
                     "every message to be sent")
            seconds = time.perf_counter() - started
            pipe.send("stop")
            received = pipe.recv()
            server.join(10)
        finally:
            sender.send_signal(signal.SIGTERM)
            status = sender.wait(60)
            log.close()
            db.session.remove()
            db.engine.dispose()
    copies = Counter(received)
    return {
        "messages queued while the server was down": f"{messages:,}",
        "waiting for the server (tried once, failed)": f"{pending:,}",
        "server up → all marked sent": f"{seconds:.2f} s",
        "received by the server": f"{len(received):,}",
        "lost": f"{len(set(expected) - set(copies)):,}",
        "duplicated": f"{sum(copies.values()) - len(copies):,}",
        "received oldest first": "yes" if received == sorted(received) else "no",
        "sender's exit status on SIGTERM": str(status),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--interval", type=float, default=5.0,
                        help="send-mail --interval (its default: 5)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    options = parser.parse_args()
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-mail-outage-") as workdir:
        work = Path(workdir)
        if not options.postgres_only:
            results["SQLite"] = run("SQLite", f"sqlite:///{work / 'bench.sqlite'}", work,
                                    options.messages, options.interval)
        if not options.sqlite_only:
            server = make_url(normalise_database_url(POSTGRES_SERVER))
            admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
            drop = text(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')
            with admin.connect() as connection:
                connection.execute(drop)
                connection.execute(text(f'CREATE DATABASE "{POSTGRES_DATABASE}"'))
            try:
                url = server.set(database=POSTGRES_DATABASE).render_as_string(hide_password=False)
                results["PostgreSQL"] = run("PostgreSQL", url, work, options.messages,
                                            options.interval)
            finally:
                with admin.connect() as connection:
                    connection.execute(drop)
                admin.dispose()
    labels = list(next(iter(results.values())))
    width = max(map(len, labels))
    print()
    print(f"{'':<{width}}  " + "  ".join(f"{name:>12}" for name in results))
    for label in labels:
        print(f"{label:<{width}}  " + "  ".join(f"{figures[label]:>12}"
                                                  for figures in results.values()))


if __name__ == "__main__":
    main()
