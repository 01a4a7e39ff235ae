"""Outgoing email: the outbox, rendering, and delivery to a folder or a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from helpers import link_in, outbox, reload

import marketplace
from marketplace.extensions import db
from marketplace.models import (
    Language,
    NotificationPreference,
    OutboxStatus,
    ReportOutcome,
    ReportReason,
)
from marketplace.models.base import utcnow
from marketplace.services.mail import (
    KIND_OF_TEMPLATE,
    RETRY_BACKOFF,
    STALE_CLAIM,
    SUBJECTS,
    build_message,
    deliver_pending,
    queue_email,
)

DUTCH_CATALOGUE = (Path(marketplace.__file__).parent / "translations" / "nl" / "LC_MESSAGES"
                   / "messages.mo")


# --- helpers -------------------------------------------------------------------------------

def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


@dataclass
class RecordingHandler:
    envelopes: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    port: int
    handler: RecordingHandler

    @property
    def envelopes(self) -> list:
        return self.handler.envelopes

    def messages(self) -> list[email.message.EmailMessage]:
        return [parse(envelope.original_content) for envelope in self.envelopes]


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> SmtpServer:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    request.addfinalizer(controller.stop)
    return SmtpServer(port=port, handler=handler)


def queue_reset(user):
    """A typical message to `user`, committed."""
    message = queue_email("reset_password", user, reset_url="http://localhost/auth/reset/x",
                          hours=2)
    db.session.commit()
    return message


def mail_files(app) -> list[Path]:
    folder = Path(app.config["MAIL_FOLDER"])
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def context_for(template: str, make_user, make_listing=None) -> dict[str, object]:
    """What each email template needs to render."""
    other = make_user(name="Sam Sample")
    url = "http://localhost/somewhere"
    if template.startswith("claim_"):
        return claim_context(other, make_listing)
    if template in ("listing_expiring", "listing_expired", "alert_match"):
        listing = make_listing("Rollators")
        return {"title": listing.title, "listing": listing, "listing_url": url}
    if template in ("wanted_answered", "wanted_likely_match"):
        listing = make_listing("Bed met matras")
        return {"title": "Bed", "listing_title": listing.title, "listing": listing,
                "listing_url": url}
    if template == "alert_digest":
        return {"listings": [make_listing("Rollators"), make_listing("Bedden")], "count": "2"}
    if template in ("safety_notice", "listing_held_safety_notice"):
        from marketplace.models import SafetyNotice

        notice = SafetyNotice(manufacturer="Arjo", model="Maxi Move", text="Controleer de beugel.",
                              link="https://example.org/fsn")
        return {"device": notice.device, "notice": notice, "references": "OVD-2026-000001",
                "notice_url": url, "title": "Tillift", "listing_url": url}
    return {
        "confirm_email": {"confirm_url": url, "hours": 72},
        "account_exists": {"login_url": url, "reset_url": url},
        "reset_password": {"reset_url": url, "hours": 2},
        "password_changed": {"reset_url": url},
        "account_deleted": {"name": "Sam Sample", "by_admin": False, "cancelled": 2,
                            "privacy_url": url},
        "account_approved": {"organisation": "Zorg Oost", "login_url": url},
        "organisation_approved": {"organisation": "Zorg Oost"},
        "organisation_suspended": {"organisation": "Zorg Oost", "reason": "Testing"},
        "organisation_reactivated": {"organisation": "Zorg Oost"},
        "listing_published": {"title": "Rollators", "listing_url": url},
        "listing_rejected": {"title": "Rollators", "reason": "Geen foto", "edit_url": url},
        "listing_changes_requested": {"title": "Rollators", "reason": "Foto", "edit_url": url},
        "listing_removed": {"title": "Rollators", "reason": "Medicijnen", "listing_url": url},
        "moderation_summary": {"count": "3", "oldest_days": 2, "queue_url": url, "admin_url": url,
                               "waiting": {"listings": 2, "reports": 1, "organisations": 0,
                                           "failed_mail": 0}},
        "report_received": {"title": "Rollators", "reason": ReportReason.OTHER, "text": "Vreemd",
                            "organisation": "Zorg Oost", "reports_url": url, "listing_url": url},
        "report_resolved": {"title": "Rollators", "outcome": ReportOutcome.DISMISSED},
        "member_to_approve": {"name": other.name, "organisation": "Zorg Oost", "member": other,
                              "review_url": url},
        "organisation_to_approve": {"organisation": "Zorg Oost", "requester": other,
                                    "review_url": url},
    }[template]


def claim_context(claimant, make_listing) -> dict[str, object]:
    from decimal import Decimal

    from marketplace.models import Claim
    from marketplace.services.claims import impact_of

    listing = make_listing("Rollators", weight_per_unit_kg=Decimal("7.5"),
                           value_per_unit=Decimal("80"))
    claim = Claim(listing=listing, claimant=claimant, quantity=2, message="Graag",
                  claimant_organisation_id=claimant.organisation_id,
                  claimant_organisation=claimant.organisation)
    return {"claim": claim, "listing": listing, "title": listing.title,
            "organisation": claimant.organisation.name, "claim_url": "http://localhost/c/1",
            "giver": claimant, "site": listing.site, "saved": impact_of(claim),
            "author": "Gerda", "body": "Tot morgen",
            "proposer": claimant, "answered_by": claimant, "agreed": True}


ALL_TEMPLATES = sorted(SUBJECTS)


# --- the outbox ------------------------------------------------------------------------------

def test_queued_mail_exists_only_when_the_callers_transaction_commits(app, make_user):
    user = make_user()

    uncommitted = queue_email("reset_password", user, reset_url="http://x/r", hours=2)
    assert uncommitted in db.session.new
    db.session.rollback()
    assert outbox() == []

    queue_email("reset_password", user, reset_url="http://localhost/auth/reset/abc", hours=2)
    db.session.commit()
    [message] = outbox(template="reset_password", to=user.email)
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 0
    assert message.sent_at is None
    assert message.recipient_user_id == user.id
    assert message.subject == "Reset your password"
    assert "http://localhost/auth/reset/abc" in message.body_text
    assert "http://localhost/auth/reset/abc" in message.body_html
    assert message.body_html.lstrip().startswith("<!doctype html>")
    assert "<p>" not in message.body_text


def test_mail_is_rendered_in_the_recipients_language(app, make_user):
    if not DUTCH_CATALOGUE.exists():
        pytest.skip("Dutch catalogue not compiled (pybabel compile -d marketplace/translations)")
    dutch = make_user(language=Language.NL)
    english = make_user(language=Language.EN)
    queue_reset(dutch)
    queue_reset(english)

    [to_dutch] = outbox(to=dutch.email)
    [to_english] = outbox(to=english.email)
    assert to_english.subject == "Reset your password"
    assert to_dutch.subject != to_english.subject
    assert to_dutch.body_text != to_english.body_text


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_every_email_to_a_user_carries_a_preferences_link(app, make_user, make_listing,
                                                         template):
    user = make_user()
    queue_email(template, user, **context_for(template, make_user, make_listing))
    db.session.commit()

    [message] = outbox(template=template, to=user.email)
    path = link_in(message, "/account/email-preferences/")
    assert path in message.body_html
    assert "%(" not in message.subject  # every placeholder was filled


def test_the_preferences_link_works_without_logging_in(app, make_user):
    user = make_user()
    assert user.notifications is not NotificationPreference.OFF
    queue_reset(user)
    path = link_in(outbox(to=user.email)[0], "/account/email-preferences/")

    anonymous = app.test_client()
    with anonymous.get(path) as response:
        assert response.status_code == 200
    with anonymous.post(path, data={"notifications": "off"}) as response:
        assert response.status_code == 302
    assert reload(user).notifications is NotificationPreference.OFF


def test_a_tampered_preferences_link_is_refused(app, make_user):
    user = make_user()
    queue_reset(user)
    path = link_in(outbox(to=user.email)[0], "/account/email-preferences/")

    with app.test_client().post(path + "x", data={"notifications": "off"}) as response:
        assert response.status_code == 400
    assert reload(user).notifications is not NotificationPreference.OFF


def test_organisation_names_are_escaped_in_the_html_body(app, make_user):
    user = make_user()
    queue_email("organisation_approved", user, organisation="<b>Zorg & Co</b>")
    db.session.commit()

    [message] = outbox(to=user.email)
    assert "<b>Zorg" not in message.body_html
    assert "&lt;b&gt;Zorg &amp; Co&lt;/b&gt;" in message.body_html
    assert "<b>Zorg & Co</b>" in message.body_text
    assert message.subject == "<b>Zorg & Co</b> has been approved"


# --- header injection ---------------------------------------------------------------------------

def test_line_breaks_in_a_subject_cannot_inject_headers(make_app, make_user, smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    with app.app_context():
        user = make_user()
        queue_email("organisation_approved", user,
                    organisation="Zorg Oost\r\nBcc: x@evil.example")
        db.session.commit()
        [row] = outbox(to=user.email)
        assert "\r" not in row.subject and "\n" not in row.subject
        assert row.subject == "Zorg Oost Bcc: x@evil.example has been approved"

        report = deliver_pending()

        assert report.sent == 1
        [envelope] = smtp_server.envelopes
        assert envelope.rcpt_tos == [user.email]
        [received] = smtp_server.messages()
        assert received["Bcc"] is None
        assert received["Subject"] == row.subject
        assert "x@evil.example" not in envelope.rcpt_tos


def test_an_address_with_line_breaks_is_refused_before_anything_is_queued(app):
    with pytest.raises(ValueError, match="line breaks"):
        queue_email("reset_password", "victim@example.org\r\nBcc: x@evil.example",
                    language=Language.EN, reset_url="http://localhost/r", hours=2)
    db.session.commit()
    assert outbox() == []


# --- delivery to a folder (no SMTP server) ----------------------------------------------------

def test_without_a_server_each_message_is_written_once_to_the_mail_folder(app, make_user):
    first, second = make_user(), make_user()
    queue_reset(first)
    queue_reset(second)

    report = deliver_pending()

    assert report.sent == 2
    files = mail_files(app)
    assert len(files) == 2
    assert all("reset_password" in path.name for path in files)
    written = [parse(path.read_bytes()) for path in files]
    assert sorted(message["To"] for message in written) == sorted([first.email, second.email])
    for row in outbox():
        assert row.status is OutboxStatus.SENT
        assert row.sent_at is not None
        assert row.attempts == 1

    again = deliver_pending()

    assert again.sent == 0
    assert len(mail_files(app)) == 2


# --- delivery over SMTP ---------------------------------------------------------------------

def test_mail_is_delivered_over_smtp_with_text_html_and_a_message_id(make_app, make_user,
                                                                     smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    with app.app_context():
        user = make_user()
        row = queue_reset(user)

        report = deliver_pending()

        assert report.sent == 1
        [envelope] = smtp_server.envelopes
        assert envelope.rcpt_tos == [user.email]
        assert envelope.mail_from == "no-reply@localhost"
        [received] = smtp_server.messages()
        assert received["To"] == user.email
        assert received["Subject"] == "Reset your password"
        assert received["Message-ID"]
        assert received["Auto-Submitted"] == "auto-generated"
        parts = {part.get_content_type(): part for part in received.walk()}
        assert "http://localhost/auth/reset/x" in parts["text/plain"].get_content()
        assert "http://localhost/auth/reset/x" in parts["text/html"].get_content()
        assert mail_files(app) == []  # the server, not the folder

        row = reload(row)
        assert row.status is OutboxStatus.SENT
        assert row.sent_at is not None
        assert row.last_error is None

        assert deliver_pending().sent == 0
        assert len(smtp_server.envelopes) == 1


def test_each_message_carries_one_message_id_that_is_stable_per_outbox_row(app, make_user):
    row = queue_reset(make_user())

    deliver_pending()
    deliver_pending()

    [path] = mail_files(app)
    written = parse(path.read_bytes())
    [message_id] = written.get_all("Message-ID")
    assert message_id.startswith(f"<outbox-{row.id}-")
    assert message_id == parse(build_message(reload(row)).as_bytes())["Message-ID"]  # stable


def test_several_messages_in_one_run_each_reach_their_own_recipient(make_app, make_user,
                                                                    smtp_server):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    with app.app_context():
        users = [make_user() for _ in range(3)]
        for user in users:
            queue_reset(user)

        assert deliver_pending().sent == 3

        assert sorted(envelope.rcpt_tos[0] for envelope in smtp_server.envelopes) == \
            sorted(user.email for user in users)
        assert all(len(envelope.rcpt_tos) == 1 for envelope in smtp_server.envelopes)
        message_ids = {message["Message-ID"] for message in smtp_server.messages()}
        assert len(message_ids) == 3


def test_a_failed_delivery_is_retried_later_with_backoff(make_app, make_user):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        row = queue_reset(make_user())
        before = utcnow()

        report = deliver_pending()

        assert (report.sent, report.retried, report.failed) == (0, 1, 0)
        row = reload(row)
        assert row.status is OutboxStatus.PENDING
        assert row.attempts == 1
        assert row.last_error
        assert row.sent_at is None
        assert row.next_attempt_at >= before + timedelta(seconds=RETRY_BACKOFF[0])

        # Not due yet: an immediate second run leaves it alone.
        report = deliver_pending()
        assert (report.sent, report.retried, report.failed) == (0, 0, 0)
        assert reload(row).attempts == 1


def test_mail_is_given_up_after_the_maximum_number_of_attempts(make_app, make_user):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        row = queue_reset(make_user())
        assert deliver_pending().retried == 1
        row = reload(row)
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

        report = deliver_pending()

        assert (report.sent, report.retried, report.failed) == (0, 0, 1)
        row = reload(row)
        assert row.status is OutboxStatus.FAILED
        assert row.attempts == 2
        assert row.last_error

        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert deliver_pending().failed == 0  # a failed message is never tried again
        assert reload(row).attempts == 2


def test_with_the_server_down_every_due_message_is_retried_later(make_app, make_user):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with app.app_context():
        rows = [queue_reset(make_user()) for _ in range(3)]

        report = deliver_pending()

        assert (report.sent, report.retried, report.failed) == (0, 3, 0)
        for row in rows:
            row = reload(row)
            assert row.status is OutboxStatus.PENDING
            assert row.attempts == 1
            assert row.next_attempt_at > utcnow()


def test_a_message_delivered_after_a_failure_is_sent_once_with_the_error_cleared(
        make_app, make_user, smtp_server):
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with down.app_context():
        row = queue_reset(make_user())
        assert deliver_pending().retried == 1
        row_id = row.id
        row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    up = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    with up.app_context():
        assert deliver_pending().sent == 1
        row = db.session.get(type(row), row_id)
        assert row.status is OutboxStatus.SENT
        assert row.attempts == 2
        assert row.last_error is None
        assert len(smtp_server.envelopes) == 1


# --- claims -----------------------------------------------------------------------------------

def test_a_message_claimed_by_another_sender_is_not_sent(app, make_user):
    row = queue_reset(make_user())
    row.status = OutboxStatus.SENDING
    row.claimed_at = utcnow()
    row.attempts = 1
    db.session.commit()

    report = deliver_pending()

    assert report.sent == 0
    assert mail_files(app) == []
    row = reload(row)
    assert row.status is OutboxStatus.SENDING
    assert row.attempts == 1


def test_a_stale_claim_is_sent_again_never_lost_and_the_possible_duplicate_logged(
    app, make_user, caplog
):
    row = queue_reset(make_user())
    row.status = OutboxStatus.SENDING
    row.claimed_at = utcnow() - STALE_CLAIM - timedelta(minutes=1)
    row.attempts = 1
    db.session.commit()

    report = deliver_pending()

    assert report.sent == 1
    assert len(mail_files(app)) == 1
    row = reload(row)
    assert row.status is OutboxStatus.SENT
    assert row.attempts == 2
    assert "may deliver it twice" in caplog.text


def test_a_recent_claim_of_another_sender_is_left_alone(app, make_user):
    row = queue_reset(make_user())
    row.status = OutboxStatus.SENDING
    row.claimed_at = utcnow() - timedelta(seconds=20)  # confirmed by a live sender 20 s ago
    db.session.commit()
    assert deliver_pending().sent == 0
    assert reload(row).status is OutboxStatus.SENDING


def test_an_admin_can_send_a_failed_message_again(app, make_user):
    from marketplace.services.mail import retry_failed

    row = queue_reset(make_user())
    row.status = OutboxStatus.FAILED
    row.attempts = 8
    db.session.commit()
    assert retry_failed(None, row.id)
    assert not retry_failed(None, row.id)  # pending now: nothing to retry
    assert deliver_pending().sent == 1


# --- commands and request hook -----------------------------------------------------------

def test_the_send_mail_command_drains_the_outbox_and_prints_counts(app, runner, make_user):
    queue_reset(make_user())
    queue_reset(make_user())

    result = runner.invoke(args=["send-mail"])

    assert result.exit_code == 0, result.output
    assert "sent 2, to retry 0, failed 0" in result.output
    assert len(mail_files(app)) == 2
    assert all(row.status is OutboxStatus.SENT for row in outbox())

    result = runner.invoke(args=["send-mail"])
    assert "sent 0, to retry 0, failed 0" in result.output
    assert len(mail_files(app)) == 2


def test_the_send_mail_command_reports_messages_to_retry(make_app, make_user):
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with app.app_context():
        queue_reset(make_user())

        result = app.test_cli_runner().invoke(args=["send-mail"])

        assert result.exit_code == 0, result.output
        assert "sent 0, to retry 1, failed 0" in result.output


def test_housekeeping_delivers_pending_mail(app, runner, make_user):
    row = queue_reset(make_user())

    result = runner.invoke(args=["housekeeping"])

    assert result.exit_code == 0, result.output
    assert "mail: sent 1, to retry 0, failed 0" in result.output
    assert reload(row).status is OutboxStatus.SENT
    assert len(mail_files(app)) == 1


def test_mail_is_delivered_right_after_the_request_when_so_configured(make_app, make_user):
    app = make_app(MAIL_DELIVER_AFTER_REQUEST=True)
    with app.app_context():
        address = make_user().email

    with app.test_client().post("/auth/forgot-password", data={"email": address}) as response:
        assert response.status_code == 302

    files = mail_files(app)
    assert len(files) == 1
    assert "reset_password" in files[0].name
    with app.app_context():
        [row] = outbox(template="reset_password", to=address)
        assert row.status is OutboxStatus.SENT


def test_mail_waits_for_the_sender_when_not_delivered_after_requests(app, client, make_user):
    user = make_user()

    with client.post("/auth/forgot-password", data={"email": user.email}) as response:
        assert response.status_code == 302

    [row] = outbox(template="reset_password", to=user.email)
    assert row.status is OutboxStatus.PENDING
    assert mail_files(app) == []


@pytest.mark.parametrize("template", ALL_TEMPLATES)
def test_optional_email_and_only_optional_email_has_a_one_click_unsubscribe(
        app, make_user, make_listing, template):
    """RFC 8058: the kinds a member can switch off carry the link; account mail does not."""
    user = make_user()
    queue_email(template, user, **context_for(template, make_user, make_listing))
    db.session.commit()

    [row] = outbox(template=template, to=user.email)
    headers = parse(build_message(row).as_bytes())
    if template in KIND_OF_TEMPLATE:
        assert headers["List-Unsubscribe"].startswith("<http://localhost/account/unsubscribe/")
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:
        assert headers["List-Unsubscribe"] is None
        assert headers["List-Unsubscribe-Post"] is None
