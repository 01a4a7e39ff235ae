"""Benchmark: how many replies a second `flask receive-mail` takes in.

    .venv/bin/python bench/replies.py [--replies N] [--clients C]

On a temporary SQLite database: a giver, 20 claimants with a claim each, and `flask
receive-mail` running as a process of its own (as under systemd). N replies (default 300), each
a Dutch reply with the quoted earlier mail and a signature, to the claimants' reply addresses in
turn, sent with smtplib by C clients at once (default 1; a mail server usually delivers over one
or a few connections), each over one connection. Prints replies per second and checks that every
reply became one message on its claim and queued one email to the giver.
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import func, select

from marketplace import create_app
from marketplace.extensions import db
from marketplace.models import (
    Category,
    Claim,
    ClaimMessage,
    ClaimStatus,
    Condition,
    Language,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    OutboxMessage,
    Province,
    Site,
    Unit,
    User,
    UserStatus,
)
from marketplace.services.defaults import ensure_defaults
from marketplace.services.mail.reply_addresses import make_reply_address

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "reply.example.org"
SECRET = "bench-secret"  # noqa: S105 - a throwaway benchmark database
CLAIMANTS = 20
REPLY = """Prima, ik kom donderdag om {number} uur de tilliften ophalen. Is de laadplaats vrij?

Met vriendelijke groet,
Karel Krijger
Zorggroep Oost | 030 123 45 67

Op do 4 dec. 2026 om 14:02 schreef Surplus Marketplace <{address}>:
> Gea Gever schreef over "Tilliften":
> Wanneer kom je ze ophalen? De laadplaats is aan de achterkant.
>
> Je kunt op deze e-mail antwoorden.
"""


def build() -> list[str]:
    """The world; the claimants' reply addresses."""
    db.create_all()
    ensure_defaults()
    now = datetime.now(UTC)

    def organisation(name: str) -> Organisation:
        made = Organisation(name=name, kind=OrganisationKind.HOSPITAL,
                            status=OrganisationStatus.ACTIVE)
        made.sites.append(Site(name="Hoofdlocatie", street="Zorgweg 1", postcode="3511 AB",
                               city="Utrecht", province=Province.UTRECHT))
        return made

    def member(email: str, of: Organisation) -> User:
        return User(email=email, name=email.split("@")[0].title(), password_hash="-",  # noqa: S106 - nobody logs in
                    organisation=of, status=UserStatus.ACTIVE, language=Language.NL,
                    email_confirmed_at=now)

    giving = organisation("Zorggroep West")
    giver = member("gever@example.org", giving)
    listing = Listing(organisation=giving, site=giving.sites[0], created_by=giver,
                      category=db.session.scalar(select(Category).limit(1)), title="Tilliften",
                      description="Twee tilliften.", condition=Condition.GOOD, quantity=40,
                      quantity_available=40, unit=Unit.PIECE, status=ListingStatus.PUBLISHED,
                      available_until=date.today() + timedelta(days=30), published_at=now)
    claims = []
    for number in range(CLAIMANTS):
        claimant = member(f"krijger{number}@example.org", organisation(f"Zorggroep {number}"))
        claims.append(Claim(listing=listing, claimant=claimant, quantity=1,
                            claimant_organisation=claimant.organisation,
                            status=ClaimStatus.ACCEPTED))
    db.session.add_all([giver, listing, *claims])
    db.session.commit()
    return [str(make_reply_address(claim.id, claim.claimant_id)) for claim in claims]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_receiver(database: Path, instance: Path, port: int) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": SECRET,
                   "INSTANCE_PATH": str(instance), "REPLY_DOMAIN": DOMAIN,
                   "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "flask", "--app", "wsgi", "receive-mail", "--port", str(port)],
        cwd=PROJECT_ROOT, env=environment)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                client.noop()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("receive-mail did not start")


def send(port: int, replies: list[tuple[str, int]]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        for address, number in replies:
            message = EmailMessage()
            message["From"], message["To"] = "krijger@example.org", address
            message["Subject"] = "Re: Aanvraag voor Tilliften"
            message["Message-ID"] = f"<bench-{number}@mail.example.org>"
            message.set_content(REPLY.format(number=number, address=address))
            refused = client.send_message(message)
            assert not refused, refused


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument("--clients", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                          "SECRET_KEY": SECRET, "REPLY_DOMAIN": DOMAIN})
        with app.app_context():
            addresses = build()
        port = free_port()
        receiver = start_receiver(database, Path(folder) / "instance", port)
        work = [(addresses[number % len(addresses)], number) for number in range(options.replies)]
        shares = [work[start::options.clients] for start in range(options.clients)]
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(options.clients) as pool:
                list(pool.map(lambda share: send(port, share), shares))
            elapsed = time.perf_counter() - started
        finally:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(timeout=30)
        with app.app_context():
            stored = db.session.scalar(select(func.count(ClaimMessage.id)))
            mailed = db.session.scalar(select(func.count(OutboxMessage.id))
                                       .where(OutboxMessage.template == "claim_message"))
            sample = db.session.scalar(select(ClaimMessage.body).limit(1))
    print(f"{options.replies} replies by {options.clients} client(s) in {elapsed:.2f} s: "
          f"{options.replies / elapsed:.1f} replies/s; stored {stored}, mailed {mailed}")
    print(f"first stored text: {sample!r}")
    assert stored == mailed == options.replies


if __name__ == "__main__":
    main()
