"""Mail programs show a claim's emails as one conversation, and optional email can be switched
off in one click from the mail program (List-Unsubscribe, RFC 8058)."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from helpers import outbox, reload
from servers import free_port

from marketplace.extensions import db
from marketplace.log_filters import redact
from marketplace.models import Language, OutboxStatus
from marketplace.services import claims
from marketplace.services.mail import build_message, deliver_pending, queue_email, wants_email
from marketplace.services.tokens import TokenPurpose, make_token

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


@dataclass
class Recorder:
    messages: list[email.message.EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        self.messages.append(parse(envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(make_app, request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """A real SMTP server on loopback, and the test's application sending to it."""
    recorder, port = Recorder(), free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    request.addfinalizer(controller.stop)
    with make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port).app_context():
        yield recorder


def outbox_id(message: email.message.EmailMessage) -> int:
    return int(re.match(r"<outbox-(\d+)-", message["Message-ID"])[1])


def test_a_claims_emails_thread_to_the_first_one_each_side_received(smtp, make_user,
                                                                      make_listing):
    giver = make_user(name="Gea Gever")
    claimant = make_user(name="Karel Krijger", language=Language.NL)
    listing = make_listing("Tilliften", organisation=giver.organisation, created_by_id=giver.id)
    claim = claims.claim_listing(claimant, listing, 1, "Graag twee")
    claims.accept_claim(giver, claim)
    claims.post_message(claimant, claim, "Ik kom dinsdag")
    claims.post_message(giver, claim, "Prima, tot dinsdag")
    listing.title = "Tilliften, bijna nieuw"  # changed halfway: the subject stays the same
    db.session.commit()
    claims.mark_collected(giver, claim)

    assert deliver_pending().sent == 6
    assert len({message["Message-ID"] for message in smtp.messages}) == 6
    for person, subject, first_line in (
            (giver, "Claim for Tilliften", "New claim for Tilliften"),
            (claimant, "Aanvraag voor Tilliften", "Je aanvraag is geaccepteerd: Tilliften")):
        first, *later = sorted((message for message in smtp.messages
                                if message["To"] == person.email), key=outbox_id)
        assert len(later) == 2  # a message from the other side, the hand-over
        assert first["In-Reply-To"] is None and first["References"] is None
        assert first.get_body(("plain",)).get_content().startswith(first_line)
        for message in (first, *later):
            assert message["Subject"] == subject
        for message in later:
            assert message["In-Reply-To"] == message["References"] == first["Message-ID"]
    # The hand-over email says what happened first, with the listing's new title.
    assert "Handed over: Tilliften, bijna nieuw" in outbox("claim_collected", giver.email)[0] \
        .body_html


def test_each_claim_is_its_own_thread_and_mail_about_no_claim_is_in_none(app, make_user,
                                                                          make_listing):
    giver = make_user()
    listing = make_listing("Rollators", organisation=giver.organisation, created_by_id=giver.id)
    for claimant in (make_user(), make_user()):
        claims.claim_listing(claimant, listing, 1)
    queue_email("reset_password", giver, reset_url="http://localhost/auth/reset/x", hours=2)
    db.session.commit()

    received = [parse(build_message(message).as_bytes()) for message in outbox(to=giver.email)]
    assert [message["In-Reply-To"] for message in received] == [None, None, None]
    assert [message["Subject"] for message in received] == [
        "Claim for Rollators", "Claim for Rollators", "Reset your password"]
    assert len({message.thread_key for message in outbox(to=giver.email)}) == 3


def unsubscribe_link(user) -> str:
    """The List-Unsubscribe link of an optional email (a listing published) to `user`."""
    queue_email("listing_published", user, title="Bedden", listing_url="http://localhost/l/1")
    db.session.commit()
    header = parse(build_message(outbox("listing_published", user.email)[-1]).as_bytes())
    assert header["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<http://localhost(/account/unsubscribe/[^>\s]+)>",
                        header["List-Unsubscribe"])
    assert link is not None, header["List-Unsubscribe"]
    return link[1]


@pytest.fixture
def csrf_app(make_app):
    application = make_app(WTF_CSRF_ENABLED=True)
    with application.app_context():
        yield application


def test_the_one_click_post_switches_that_kind_off_without_login_or_token(csrf_app, make_user):
    user = make_user()
    path = unsubscribe_link(user)
    provider = csrf_app.test_client()  # a mail provider: no session, no CSRF token

    for _ in range(2):  # the same answer again, and nothing more changes
        with provider.post(path, data=ONE_CLICK) as response:
            assert response.status_code == 200
        assert reload(user).muted_kinds == {"listings"}
    assert not wants_email(user, "listing_expiring")
    assert wants_email(user, "claim_message")


def test_a_tampered_or_foreign_link_is_refused_and_changes_nothing(csrf_app, make_user):
    user = make_user()
    path = unsubscribe_link(user)
    preferences = make_token(TokenPurpose.PREFERENCES, {"u": user.id})
    client = csrf_app.test_client()

    for wrong in (path + "x", path[:-3], f"/account/unsubscribe/{preferences}"):
        for method in ("GET", "POST"):
            with client.open(wrong, method=method, data=ONE_CLICK) as response:
                assert response.status_code == 400, (wrong, method)
                assert "This link is not valid" in response.get_data(as_text=True)
    with client.post(path, data={"List-Unsubscribe": "Yes"}) as response:  # not the one click
        assert response.status_code == 400
    assert reload(user).muted_kinds == set()


def test_the_page_of_the_link_speaks_the_recipients_language(app, make_user):
    dutch = make_user(language=Language.NL)
    path = unsubscribe_link(dutch)
    browser = app.test_client()  # it asks for English

    with browser.get(path) as response:
        page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Deze e-mails aan {dutch.email} uitzetten?" in page
    assert "Mijn advertenties: gepubliceerd, bijna verlopen, verlopen" in page  # the kind
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert reload(dutch).muted_kinds == set()  # looking changes nothing
    preferences = re.search(r'href="(/account/email-preferences/[^"]+)"', page)[1]
    with browser.get(preferences) as response:
        assert response.status_code == 200

    with browser.post(path, data=ONE_CLICK) as response:
        page = response.get_data(as_text=True)
    assert f"Deze e-mails aan {dutch.email} staan uit:" in page
    assert "Switch" not in page and "These emails" not in page

    english = make_user(language=Language.EN)
    with browser.get(unsubscribe_link(english)) as response:
        assert f"Switch off these emails to {english.email}?" in response.get_data(as_text=True)


def test_an_email_that_never_arrived_anchors_nothing(app, make_user, make_listing):
    giver = make_user()
    claimant = make_user()
    listing = make_listing("Bedden", organisation=giver.organisation, created_by_id=giver.id)
    claim = claims.claim_listing(claimant, listing, 1)
    [received] = outbox("claim_received", giver.email)
    received.status = OutboxStatus.FAILED  # given up: the giver's mailbox never had it
    db.session.commit()
    claims.post_message(claimant, claim, "Nog beschikbaar?")
    claims.post_message(claimant, claim, "Ik hoor het graag")

    first, second = outbox("claim_message", giver.email)
    assert first.in_reply_to is None
    assert second.in_reply_to == parse(build_message(first).as_bytes())["Message-ID"]


def test_logged_paths_never_hold_the_unsubscribe_token(app, make_user):
    path = unsubscribe_link(make_user())
    assert redact(f'"POST {path} HTTP/1.1" 200') == \
        '"POST /account/unsubscribe/[token] HTTP/1.1" 200'
