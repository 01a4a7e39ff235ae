"""Replies by email: a member answers claim mail in their mail program and the answer is a
message on the claim, as if written on the website.

Real SMTP both ways: the app's mail goes to an aiosmtpd server on loopback (its Reply-To is read
back), and replies are sent with smtplib to `flask receive-mail` running as a process on the
test's database.
"""

from __future__ import annotations

import email
import email.policy
import signal
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from helpers import outbox
from servers import PROJECT_ROOT, app_settings, free_port, server_environment, wait_until
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    Claim,
    ClaimMessage,
    ClaimStatus,
    Language,
    OrganisationStatus,
    OutboxMessage,
    User,
    UserStatus,
)
from marketplace.models.base import utcnow
from marketplace.services import claims
from marketplace.services.mail import deliver_pending, queue_email
from marketplace.services.mail.reply_addresses import (
    NotAReplyAddress,
    make_reply_address,
    read_reply_address,
)

DOMAIN = "reply.example.org"
DEADLINE = 60  # a loaded test machine starts a Flask process slowly
MAX_BYTES = 200_000


# --- the world: a giver, a claimant, a claim ------------------------------------------------

@dataclass
class World:
    giver: User
    claimant: User
    claim: Claim

    def address(self, user: User | None = None) -> str:
        address = make_reply_address(self.claim.id, (user or self.claimant).id)
        assert address is not None
        return address


@pytest.fixture
def world(make_user, make_listing, make_claim) -> World:
    return make_world(make_user, make_listing, make_claim)


def make_world(make_user, make_listing, make_claim) -> World:
    giver = make_user(name="Gea Gever")
    claimant = make_user(name="Karel Krijger", language=Language.NL)
    listing = make_listing("Tilliften", organisation=giver.organisation, created_by_id=giver.id)
    claim = make_claim(listing, claimant, ClaimStatus.ACCEPTED)
    return World(giver, claimant, claim)


def stored_messages() -> list[ClaimMessage]:
    db.session.rollback()  # the receiving process wrote them
    return list(db.session.scalars(select(ClaimMessage).order_by(ClaimMessage.id)))


def outbox_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(OutboxMessage.id))) or 0


def reply(to: str, text: str | None = "Prima, tot donderdag.", *, html: str | None = None,
          sender: str = "krijger@example.org", message_id: str | None = "<r1@mail.example.org>",
          headers: dict[str, str] | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"] = sender, to
    message["Subject"] = "Re: Aanvraag voor Tilliften"
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message


# --- the processes ----------------------------------------------------------------------------

@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def send(self, message: EmailMessage, mail_from: str = "krijger@example.org") -> dict:
        """Send with smtplib; the refused recipients (smtplib's answer), {} when accepted."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=DEADLINE) as client:
            return client.send_message(message, from_addr=mail_from)

    def listening(self) -> bool:
        assert self.process.poll() is None, f"receive-mail exited:\n{self.logs()}"
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=2) as client:
                return client.noop()[0] == 250
        except OSError:
            return False


@pytest.fixture
def receiver(app, tmp_path: Path) -> Iterator[Receiver]:
    """`flask receive-mail` as a process on the test's database, listening on a free port."""
    port = free_port()
    settings = app_settings(app, tmp_path / "receiver", REPLY_DOMAIN=DOMAIN, LOG_LEVEL="INFO",
                            RECEIVE_MAIL_MAX_BYTES=MAX_BYTES)
    log = tmp_path / "receiver.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            [sys.executable, "-m", "flask", "--app", "wsgi", "receive-mail", "--port", str(port)],
            cwd=PROJECT_ROOT, env=server_environment(settings), stdout=output,
            stderr=subprocess.STDOUT)
    running = Receiver(process, port, log)
    try:
        wait_until(running.listening, DEADLINE, "receive-mail to listen")
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Recorder:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        self.messages.append(email.message_from_bytes(envelope.original_content,
                                                      policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def app(make_app, request: pytest.FixtureRequest) -> Iterator[object]:
    """The test's application with replies by email on, sending its mail to a real SMTP
    server on loopback (`app.recorder`)."""
    recorder, port = Recorder(), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    request.addfinalizer(controller.stop)
    application = make_app(REPLY_DOMAIN=DOMAIN, MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    application.recorder = recorder
    with application.app_context():
        yield application


def delivered(app, to: User) -> list[EmailMessage]:
    deliver_pending()
    return [message for message in app.recorder.messages if message["To"] == to.email]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


# --- replies that become messages -------------------------------------------------------------

QUOTED_REPLY = """Prima, ik kom donderdag om 10 uur met de bus.

Met vriendelijke groet,
Karel Krijger
Zorggroep Oost | 030 123 45 67

Op 4 dec. 2026 om 14:02 schreef Surplus Marketplace <{address}>:
> Gea Gever schreef over "Tilliften":
> Wanneer kom je ze ophalen?
"""


def test_a_reply_to_claim_mail_becomes_the_members_message_and_reaches_the_other_side(
        app, world, receiver):
    claims.post_message(world.giver, world.claim, "Wanneer kom je ze ophalen?")
    [to_claimant] = delivered(app, world.claimant)
    address = world.address()
    assert to_claimant["Reply-To"] == address
    assert "Je kunt op deze e-mail antwoorden" in text_of(to_claimant)  # Dutch, the claimant's

    refused = receiver.send(reply(to_claimant["Reply-To"],
                                  QUOTED_REPLY.format(address=address)))

    assert refused == {}
    [_, message] = stored_messages()
    assert message.body == "Prima, ik kom donderdag om 10 uur met de bus."
    assert message.author_id == world.claimant.id
    assert message.source_message_id == "<r1@mail.example.org>"
    [to_giver] = delivered(app, world.giver)  # exactly as a message written on the website
    assert "Prima, ik kom donderdag om 10 uur met de bus." in text_of(to_giver)
    assert "Zorggroep Oost" not in text_of(to_giver)
    assert to_giver["Reply-To"] == world.address(world.giver)
    assert f"Reply to claim {world.claim.id} by member {world.claimant.id}: stored" \
        in receiver.logs()
    assert address.split("@")[0] not in receiver.logs()  # the address lets anyone write


def test_an_html_only_reply_is_stored_as_its_new_text(app, world, receiver):
    html = ("<div dir='ltr'>Graag, <b>donderdag</b> om tien uur.<br>Groet, Karel</div>"
            "<div class='gmail_quote'><div>On Fri, Dec 4, 2026 at 2:02 PM Surplus Marketplace"
            f" &lt;{world.address()}&gt; wrote:</div><blockquote>Wanneer kom je ze ophalen?"
            "</blockquote></div>")

    assert receiver.send(reply(world.address(), None, html=html)) == {}

    [message] = stored_messages()
    assert message.body == "Graag, donderdag om tien uur.\nGroet, Karel"


def test_a_reply_with_attachments_keeps_its_text_and_tells_the_sender(app, world, receiver):
    message = reply(world.address(), "De foto van de laadplaats zit erbij.")
    message.add_attachment(b"\x89PNG\r\n\x1a\n" + b"0" * 64, maintype="image", subtype="png",
                           filename="laadplaats.png")

    assert receiver.send(message) == {}

    [stored] = stored_messages()
    assert stored.body == "De foto van de laadplaats zit erbij."
    [notice] = outbox(template="claim_reply_attachments", to=world.claimant.email)
    assert "laadplaats.png" in notice.body_text
    assert "bijlagen niet" in notice.body_text  # in Dutch, the claimant's language
    assert notice.in_reply_to == "<r1@mail.example.org>"
    assert outbox(template="claim_message", to=world.giver.email)  # the text went out


def test_a_reply_larger_than_the_limit_is_refused_during_the_smtp_conversation(
        app, world, receiver):
    message = reply(world.address(), "Een grote foto.")
    message.add_attachment(b"0" * MAX_BYTES, maintype="image", subtype="jpeg",
                           filename="groot.jpg")

    with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # SIZE announced in MAIL FROM
        receiver.send(message)

    assert refused.value.smtp_code == 552
    assert stored_messages() == []


def test_a_reply_delivered_twice_is_stored_once(app, world, receiver):
    assert receiver.send(reply(world.address(), "Ik kom om tien uur.")) == {}
    mail_before = outbox_count()

    assert receiver.send(reply(world.address(), "Ik kom om tien uur.")) == {}  # accepted: 250

    assert [message.body for message in stored_messages()] == ["Ik kom om tien uur."]
    assert outbox_count() == mail_before  # and the giver is not told twice
    assert "duplicate" in receiver.logs()


# --- replies that are refused or dropped ------------------------------------------------------

def test_addresses_that_are_not_valid_reply_addresses_are_refused_during_the_smtp_conversation(
        app, world, make_claim, make_listing, receiver):
    good = world.address()
    local, _, _ = good.partition("@")
    signature = local.rsplit("-", 1)[1]
    forged = local[:-1] + ("a" if local[-1] != "a" else "b")
    other_claim = make_claim(make_listing(organisation=world.giver.organisation), world.claimant)
    closed_long_ago = make_claim(make_listing(organisation=world.giver.organisation),
                                 world.claimant, ClaimStatus.DECLINED,
                                 closed_at=utcnow() - timedelta(days=31))
    gone = make_reply_address(999_999, world.claimant.id)
    mail_before = outbox_count()

    for address in (f"{forged}@{DOMAIN}",  # a signature changed
                    f"reply+{other_claim.id}-{world.claimant.id}-{signature}@{DOMAIN}",
                    f"reply+{world.claim.id}-{world.giver.id}-{signature}@{DOMAIN}",
                    f"{local}@elsewhere.example.org",  # not our domain: no relaying
                    f"info@{DOMAIN}", gone,
                    make_reply_address(closed_long_ago.id, world.claimant.id)):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            receiver.send(reply(address, "Hallo"))
        [(code, _)] = refused.value.recipients.values()
        assert code == 550, address

    assert stored_messages() == []
    assert outbox_count() == mail_before
    # Closed recently: still taken.
    recent = make_claim(make_listing(organisation=world.giver.organisation), world.claimant,
                        ClaimStatus.COLLECTED, collected_at=utcnow() - timedelta(days=29))
    assert receiver.send(reply(make_reply_address(recent.id, world.claimant.id), "Dank!")) == {}


def test_a_deactivated_members_address_is_refused_during_the_smtp_conversation(
        app, world, receiver):
    world.claimant.status = UserStatus.DEACTIVATED
    db.session.commit()

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        receiver.send(reply(world.address(), "Hallo"))

    assert [code for code, _ in refused.value.recipients.values()] == [550]
    assert stored_messages() == []


AUTOMATIC = {
    "out of office": {"Auto-Submitted": "auto-replied", "Subject": "Afwezig"},
    "an autoresponder": {"X-Autoreply": "yes"},
    "a list": {"Precedence": "bulk"},
}


@pytest.mark.parametrize("headers", list(AUTOMATIC.values()), ids=list(AUTOMATIC))
def test_automatic_replies_are_dropped_without_an_answer(app, world, receiver, headers):
    message = reply(world.address(), "Ik ben afwezig tot maandag.")
    for name, value in headers.items():
        del message[name]
        message[name] = value
    mail_before = outbox_count()

    assert receiver.send(message) == {}  # accepted, so nobody's mail server retries it

    assert stored_messages() == []
    assert outbox_count() == mail_before  # nothing back: no loop with an autoresponder
    assert "automatic" in receiver.logs()


def test_a_bounce_is_dropped_without_an_answer(app, world, receiver):
    report = EmailMessage()
    report["From"], report["To"] = "MAILER-DAEMON@example.org", world.address()
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.set_content("This is the mail system at host example.org.")
    report.add_attachment("Status: 5.1.1", subtype="delivery-status")
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    mail_before = outbox_count()

    assert receiver.send(report, mail_from="<>") == {}  # the empty envelope sender of a bounce
    assert receiver.send(report) == {}  # a report from a sender that gave its address

    assert stored_messages() == []
    assert outbox_count() == mail_before


def test_a_reply_with_only_the_quoted_mail_is_refused_and_the_sender_told_once(
        app, world, receiver):
    quoted_only = "\n\nOp 4 dec. 2026 om 14:02 schreef Surplus Marketplace:\n> Wanneer?\n"

    assert receiver.send(reply(world.address(), quoted_only)) == {}
    assert receiver.send(reply(world.address(), quoted_only)) == {}  # delivered again

    assert stored_messages() == []
    [notice] = outbox(template="claim_reply_refused", to=world.claimant.email)
    assert "geen tekst van jezelf" in notice.body_text


def test_a_reply_from_a_member_who_may_no_longer_write_is_refused_politely(
        app, world, receiver):
    world.claimant.organisation.status = OrganisationStatus.SUSPENDED
    db.session.commit()

    assert receiver.send(reply(world.address(), "Kan ik ze toch nog halen?")) == {}

    assert stored_messages() == []
    assert outbox(template="claim_message") == []  # the giver hears nothing
    [notice] = outbox(template="claim_reply_refused", to=world.claimant.email)
    assert "niet bij de aanvraag gezet" in notice.body_text
    assert "/claims/" in notice.body_text  # where to go instead


# --- the addresses ----------------------------------------------------------------------------

def test_a_reply_address_names_its_claim_and_member_and_survives_lower_and_upper_case(
        app, world):
    address = world.address()

    assert read_reply_address(address).claim_id == world.claim.id
    assert read_reply_address(address.upper()).user_id == world.claimant.id
    assert read_reply_address(f"<{address}>").claim_id == world.claim.id
    assert len(make_reply_address(10**18 - 1, 10**18 - 1).partition("@")[0]) <= 64


@pytest.mark.parametrize("change", ["signature", "claim", "user", "domain", "secret"])
def test_a_changed_reply_address_is_not_read(app, world, change):
    local = world.address().partition("@")[0]
    _, claim_id, user_id, signature = local.replace("+", "-").split("-")
    signed_elsewhere = "x" * 16
    if change == "secret":
        app.config["SECRET_KEY"] = "another-secret"
        signed_elsewhere = make_reply_address(world.claim.id, world.claimant.id) \
            .partition("@")[0].rsplit("-", 1)[1]
        app.config["SECRET_KEY"] = "test-secret-key"
    address = {
        "signature": f"reply+{claim_id}-{user_id}-{signature[::-1]}@{DOMAIN}",
        "claim": f"reply+{int(claim_id) + 1}-{user_id}-{signature}@{DOMAIN}",
        "user": f"reply+{claim_id}-{world.giver.id}-{signature}@{DOMAIN}",
        "domain": f"{local}@other.example.org",
        "secret": f"reply+{claim_id}-{user_id}-{signed_elsewhere}@{DOMAIN}",
    }[change]

    with pytest.raises(NotAReplyAddress):
        read_reply_address(address)


def test_without_a_reply_domain_claim_mail_has_no_reply_to_and_says_so(make_app, world_off):
    claims.post_message(world_off.giver, world_off.claim, "Wanneer kom je?")

    [message] = outbox(template="claim_message")
    assert message.reply_to is None
    assert "Reageer op de pagina van de aanvraag" in message.body_text
    assert "Je kunt op deze e-mail antwoorden" not in message.body_text


@pytest.fixture
def world_off(make_app, make_user, make_listing, make_claim) -> Iterator[World]:
    with make_app().app_context():
        yield make_world(make_user, make_listing, make_claim)


def test_claim_mail_to_a_bare_address_gets_no_reply_address(app, world):
    queue_email("claim_message", "buiten@example.org",
                **claims.claim_email_context(world.claim), author="Gea", body="Hallo",
                sent_at=utcnow())
    db.session.commit()

    [message] = outbox(to="buiten@example.org")
    assert message.reply_to is None



# --- the new text, as mail programs quote -----------------------------------------------------

CLIENTS = {
    "Gmail in Dutch": "Ja hoor\n\nOp do 4 dec. 2026 om 14:02 schreef Surplus Marketplace "
                      "<r@x.org>:\n> Wanneer?\n>\n> Gea\n",
    "Apple Mail in Dutch": "Ja hoor\n\nOp 4 dec. 2026, om 14:02 heeft Surplus Marketplace "
                           "<r@x.org> het volgende geschreven:\n\n> Wanneer?\n",
    "Outlook in Dutch, from a phone": "Ja hoor\n\nVerzonden vanaf mijn iPhone\n\nVan: Surplus "
                                      "Marketplace <r@x.org>\nVerzonden: donderdag 4 december "
                                      "2026 14:02\nAan: Karel <k@x.org>\nOnderwerp: Aanvraag\n"
                                      "\nWanneer?\n",
    "Thunderbird with a signature": "Ja hoor\n\n-- \nKarel Krijger\nZorggroep Oost\n\nOn "
                                    "12/4/26 14:02, Surplus Marketplace wrote:\n> When?\n",
    "Outlook in English": "Ja hoor\n\nFrom: Surplus <r@x.org>\nSent: Thursday, December 4, "
                          "2026 2:02 PM\nTo: Karel\nSubject: Claim\n\nWhen?\n",
}


@pytest.mark.parametrize("text", list(CLIENTS.values()), ids=list(CLIENTS))
def test_the_new_text_is_found_below_the_quote_and_signature_of_each_mail_program(text):
    from marketplace.services.reply_text import new_text

    message = EmailMessage()
    message.set_content(text)

    assert new_text(message) == "Ja hoor"
