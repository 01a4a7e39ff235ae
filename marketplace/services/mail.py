"""Outgoing email: render into the outbox now, deliver later, at most once.

`queue_email` renders a message (text and HTML, in the recipient's language) and adds it to the
outbox in the caller's transaction, so mail exists exactly when the change that caused it was
committed. `deliver_pending` sends what is due with Flask-Mail, or writes it to `MAIL_FOLDER` as
.eml files when no SMTP server is configured. A row is claimed with a conditional UPDATE before it
is sent, so two senders never send the same message (on PostgreSQL with FOR UPDATE SKIP
LOCKED, so several senders share the work without waiting for each other); a failure is
retried with backoff, except that messages which failed only because the server could not be
reached go out, oldest first, as soon as it takes mail again.
A claim names its sender, which confirms it as it works (CLAIM_HEARTBEAT). A sender that
stops on request gives its claims back at once; one that loses the database gives them back
when it is reachable again, marking sent what it had handed over meanwhile; one that was killed
leaves claims that another sender takes back after STALE_CLAIM without confirmation. A message
taken back that way may have gone out already: it is never lost, at most duplicated once,
which is logged (its stable Message-ID lets the receiving side drop the copy).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import secrets
import smtplib
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_mail import Connection, Message
from sqlalchemy import select, update

from ..extensions import db
from ..models import Language, NotificationPreference, OutboxMessage, OutboxStatus, User
from ..models.base import utcnow
from . import audit
from .tokens import TokenPurpose, make_token
from .urls import external_url

log = logging.getLogger(__name__)

# Subjects per template; the rendered templates live in templates/email/<name>.{txt,html}.
SUBJECTS = {
    "confirm_email": _l("Confirm your email address"),
    "account_exists": _l("Someone tried to sign up with your email address"),
    "reset_password": _l("Reset your password"),
    "password_changed": _l("Your password was changed"),
    "account_deleted": _l("Your account has been deleted"),
    "account_approved": _l("Your account has been approved"),
    "organisation_approved": _l("%(organisation)s has been approved"),
    "organisation_suspended": _l("%(organisation)s has been suspended"),
    "organisation_reactivated": _l("%(organisation)s is active again"),
    "member_to_approve": _l("%(name)s wants to join %(organisation)s"),
    "organisation_to_approve": _l("New organisation to approve: %(organisation)s"),
    "listing_published": _l("Your listing is published: %(title)s"),
    "claim_received": _l("New claim for %(title)s"),
    "claim_accepted": _l("Your claim is accepted: %(title)s"),
    "claim_declined": _l("Your claim was declined: %(title)s"),
    "claim_cancelled": _l("A claim was cancelled: %(title)s"),
    "claim_quantity_freed": _l("Your claim can now be accepted: %(title)s"),
    "claim_quantity_freed_giver": _l("A waiting claim can now be accepted: %(title)s"),
    "claim_collected": _l("Handed over: %(title)s"),
    "claim_message": _l("New message about %(title)s"),
    "claim_listing_gone": _l("No longer on offer: %(title)s"),
    "claim_reminder": _l("A claim is waiting for your answer: %(title)s"),
    "claim_pickup_tomorrow": _l("Tomorrow you pick up: %(title)s"),
    "claim_expired": _l("Your claim was not answered in time: %(title)s"),
    "claim_not_collected": _l("Not collected: %(title)s"),
    "listing_expiring": _l("Your listing expires soon: %(title)s"),
    "listing_expired": _l("Your listing has expired: %(title)s"),
    "alert_match": _l("Found for your alert: %(title)s"),
    "alert_digest": _l("New listings for your alerts (%(count)s)"),
    "wanted_answered": _l("Someone offers what you asked for: %(title)s"),
    "wanted_likely_match": _l("A new listing may be what you asked for: %(title)s"),
    "listing_rejected": _l("Your listing was not approved: %(title)s"),
    "listing_changes_requested": _l("Please change your listing: %(title)s"),
    "listing_removed": _l("Your listing was removed: %(title)s"),
    "claim_listing_removed": _l("Cancelled, the listing was removed: %(title)s"),
    "moderation_summary": _l("Waiting for moderation: %(count)s"),
    "report_received": _l("A listing was reported: %(title)s"),
    "report_resolved": _l("Your report has been handled: %(title)s"),
}

# Optional email, by kind: each can be switched off on the preferences page. Everything else
# (account, security, approvals of one's own account or organisation) always arrives.
EMAIL_KINDS = {
    "claims": ("claim_received", "claim_accepted", "claim_declined", "claim_cancelled",
               "claim_quantity_freed", "claim_quantity_freed_giver", "claim_collected",
               "claim_reminder", "claim_expired", "claim_not_collected", "claim_listing_gone",
               "claim_pickup_tomorrow"),
    "messages": ("claim_message",),
    "matches": ("alert_match", "alert_digest", "wanted_answered", "wanted_likely_match"),
    "listings": ("listing_published", "listing_expiring", "listing_expired"),
    "approvals": ("member_to_approve", "organisation_to_approve"),
    "moderation": ("moderation_summary", "report_received"),
}
# Work for admins: "off" (the notification setting) does not silence these, muting the kind does.
ALWAYS_UNLESS_MUTED = frozenset({"approvals", "moderation"})
KIND_OF_TEMPLATE = {template: kind for kind, templates in EMAIL_KINDS.items()
                    for template in templates}
KIND_LABELS = {
    "claims": _l("Claims: new claims, answers, hand-overs and reminders"),
    "messages": _l("Messages on claims"),
    "matches": _l("Listings that match my alerts and requests"),
    "listings": _l("My listings: published, about to expire, expired"),
    "approvals": _l("Colleagues and organisations waiting for my approval"),
    "moderation": _l("Moderation (platform admins): new reports and the daily summary"),
}


def email_kinds_for(user: User) -> list[str]:
    """The kinds of optional email `user` can get (moderation mail is for platform admins)."""
    from ..models import Role

    return [kind for kind in EMAIL_KINDS
            if kind != "moderation" or user.role is Role.PLATFORM_ADMIN]


def wants_email(user: User, template: str) -> bool:
    """Whether `user` receives this kind of email (account and security email always)."""
    kind = KIND_OF_TEMPLATE.get(template)
    if kind is None:
        return True
    if user.notifications is NotificationPreference.OFF and kind not in ALWAYS_UNLESS_MUTED:
        return False
    return kind not in user.muted_kinds


SMTP_TIMEOUT_SECONDS = 30
# Seconds to wait after the n-th failed attempt (the last value repeats).
RETRY_BACKOFF = (60, 5 * 60, 30 * 60, 2 * 60 * 60, 6 * 60 * 60)
# A claim its sender has not confirmed for this long belongs to a process that died (a live one
# confirms its claims after a message when CLAIM_HEARTBEAT has passed, and one message takes at
# most about one SMTP time-out). Such a message may or may not have gone out: it is sent again
# (never lost), with a warning about a possible duplicate.
STALE_CLAIM = timedelta(seconds=45)
CLAIM_HEARTBEAT = timedelta(seconds=5)
# Messages claimed at once.
CLAIM_CHUNK = 20

_LINE_BREAKS = re.compile(r"[\r\n\t\f\v\u2028\u2029\x85]+")


def _single_line(text: str) -> str:
    """Header values never contain line breaks (header injection)."""
    return _LINE_BREAKS.sub(" ", text).strip()


def queue_email(
    template: str,
    recipient: User | str,
    *,
    language: Language | str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    **context: Any,
) -> OutboxMessage | None:
    """Render `template` for `recipient` and add it to the outbox in the current transaction.

    `recipient` is a user (their language and a preferences link are used) or a bare address.
    Returns None when the user has switched this kind of email off. The caller commits;
    nothing is sent before that commit.
    """
    user = recipient if isinstance(recipient, User) else None
    if user is not None and not wants_email(user, template):
        return None
    address = user.email if user else str(recipient)
    if _LINE_BREAKS.search(address):
        raise ValueError("an email address cannot contain line breaks")
    language = Language(language or (user.language if user else Language.NL))
    context = {**context, "recipient": user, "base_url": current_app.config["BASE_URL"]}
    if user is not None:
        context["preferences_url"] = external_url(
            "account.email_preferences",
            token=make_token(TokenPurpose.PREFERENCES, {"u": user.id}),
        )
    with force_locale(language.value):
        subject = str(SUBJECTS[template]) % {
            key: value for key, value in context.items() if isinstance(value, str)
        }
        context["subject"] = subject
        body_text = render_template(f"email/{template}.txt", **context)
        body_html = render_template(f"email/{template}.html", **context)
    message = OutboxMessage(
        template=template,
        recipient=address.strip(),
        recipient_user_id=user.id if user else None,
        subject=_single_line(subject)[:255],
        body_text=body_text,
        body_html=body_html,
        attachments=json.dumps(attachments) if attachments else None,
    )
    db.session.add(message)
    g.mail_queued = True  # lets the app deliver right after the request when so configured
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    given_back: int = 0  # claimed, then returned to the queue untried (the sender stopped)


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


def deliver_pending(limit: int = 100, sender: Sender | None = None) -> DeliveryReport:
    """Send up to `limit` due messages; safe to run in several processes at once.

    When `sender.stopping` becomes true, the message in hand is finished and the other claimed
    messages are given back. A database error propagates: the caller rolls back and, once the
    database answers, calls `settle_claims` (messages handed over meanwhile are remembered in
    `sender.handed_over`).
    """
    sender = sender or Sender()
    report = DeliveryReport()
    _retry_stale_claims()
    handled = 0
    probed = False
    with contextlib.ExitStack() as stack:
        transport: _SmtpTransport | _FolderTransport | None = None
        while handled < limit and not sender.stopping:
            message_ids = _claim_due(min(CLAIM_CHUNK, limit - handled), sender)
            if not message_ids:
                if handled or probed or not _waiting_for_server():
                    break
                # Nothing is due, but messages wait only for the server: is it back?
                probed = True
                transport = transport or stack.enter_context(_open_transport())
                if transport.reachable():
                    _due_now_server_is_back()
                    db.session.commit()
                continue
            handled += len(message_ids)
            transport = transport or stack.enter_context(_open_transport())
            _send_claimed(message_ids, transport, sender, report)
    if sender.stopping:
        report.given_back = settle_claims(sender)
    return report


def _send_claimed(message_ids: list[int], transport: _SmtpTransport | _FolderTransport,
                  sender: Sender, report: DeliveryReport) -> None:
    """Send the claimed messages in turn, each recorded in a commit of its own (with the
    remaining claims confirmed, every CLAIM_HEARTBEAT)."""
    remaining = list(message_ids)
    server_is_back = False
    confirmed = time.monotonic()  # claimed just now
    while remaining and not sender.stopping:
        message_id = remaining.pop(0)
        message = db.session.get(OutboxMessage, message_id)
        try:
            transport.send(message)
        except Exception as error:
            _record_failure(message, error, report, transport.could_not_reach(error))
        else:
            sender.handed_over.add(message_id)
            message.status = OutboxStatus.SENT
            message.sent_at = utcnow()
            message.last_error = None
            message.server_unreachable = False
            report.sent += 1
            if not server_is_back:
                server_is_back = True
                _due_now_server_is_back()
        if remaining and time.monotonic() - confirmed >= CLAIM_HEARTBEAT.total_seconds():
            remaining = _confirm_claims(remaining, sender)
            confirmed = time.monotonic()
        db.session.commit()
        sender.handed_over.discard(message_id)


def _confirm_claims(message_ids: list[int], sender: Sender) -> list[int]:
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
    its other claims back to the queue as they were (the attempt not counted). Commits; returns
    how many were given back. Used when the sender stops and after a lost connection."""
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
    db.session.commit()
    sender.handed_over.clear()
    if given_back:
        log.info("Gave back %d claimed messages to the queue", len(given_back))
    return len(given_back)


def _waiting_for_server() -> bool:
    return db.session.scalar(select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.server_unreachable,
        OutboxMessage.next_attempt_at > utcnow()).limit(1)) is not None


def _due_now_server_is_back() -> None:
    """Messages that waited only for the server are due now (claimed oldest first)."""
    now = utcnow()
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.server_unreachable,
               OutboxMessage.next_attempt_at > now)
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False))


def _claim_due(count: int, sender: Sender) -> list[int]:
    """Mark up to `count` due messages SENDING for `sender`; return their ids ([] when nothing
    is due).

    On PostgreSQL the due rows are picked and locked FOR UPDATE SKIP LOCKED, so concurrent
    senders take different rows instead of queueing behind each other, and marked in the same
    transaction. The status condition of the UPDATE keeps it correct anywhere: SQLite ignores
    the lock, so there another sender may claim the rows between the two statements.
    (Not UPDATE … WHERE id IN (SELECT … LIMIT … SKIP LOCKED): PostgreSQL may run that subquery
    again for every row, and its LIMIT then limits nothing.)
    """
    while True:
        now = utcnow()
        due = db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.PENDING,
                   OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
            .limit(count)
            .with_for_update(skip_locked=True)
        ).all()
        if not due:
            db.session.commit()
            return []
        claimed = db.session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=sender.name,
                    attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        ).all()
        db.session.commit()
        if claimed:
            return sorted(claimed)
        # Another sender took all of these a moment ago (SQLite): there may be more.


def _record_failure(message: OutboxMessage, error: Exception, report: DeliveryReport,
                    unreachable: bool) -> None:
    message.last_error = f"{type(error).__name__}: {error}"[:500]
    message.server_unreachable = unreachable
    if message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        report.failed += 1
        log.error("Giving up on mail %s to %s: %s", message.id, message.recipient, error)
    else:
        delay = RETRY_BACKOFF[min(message.attempts, len(RETRY_BACKOFF)) - 1]
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = utcnow() + timedelta(seconds=delay)
        report.retried += 1
        log.warning("Mail %s to %s failed, retry in %ss: %s", message.id, message.recipient,
                    delay, error)


def _retry_stale_claims() -> None:
    stale = db.session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.SENDING,
        OutboxMessage.claimed_at < utcnow() - STALE_CLAIM)).all()
    for message_id in stale:
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.SENDING,
                   OutboxMessage.claimed_at < utcnow() - STALE_CLAIM)
            .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow(), claimed_by=None,
                    last_error="The sender stopped while sending; sent again (may duplicate).")
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            log.warning("Mail %s was being sent by a sender that stopped; sending it again, "
                        "which may deliver it twice", message_id)
    db.session.commit()


def retry_failed(actor: User | None, message_id: int) -> bool:
    """Give a failed message a new round of attempts (an admin's "send again", written to the
    audit log); False when it is not waiting for one."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    message = db.session.get(OutboxMessage, message_id)
    audit.record(actor, "mail.retry", message, label=f"{message.template} #{message.id}")
    db.session.commit()
    return True


def build_message(message: OutboxMessage) -> Message:
    """The Flask-Mail message for an outbox row (also what the .eml files contain)."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    domain = sender.rsplit("@", 1)[-1].strip(">").strip() or "localhost"
    mail_message = Message(
        subject=message.subject,
        recipients=[message.recipient],
        body=message.body_text,
        html=message.body_html,
        sender=sender,
        extra_headers={"Auto-Submitted": "auto-generated"},
    )
    # A stable id per outbox row lets receiving servers drop a duplicate delivery.
    mail_message.msgId = f"<outbox-{message.id}-{message.created_at:%Y%m%d%H%M%S}@{domain}>"
    for attachment in json.loads(message.attachments or "[]"):
        mail_message.attach(
            attachment["filename"],
            attachment["content_type"],
            base64.b64decode(attachment["data"]),
        )
    return mail_message


class _SmtpTransport:
    """Flask-Mail's connection, opened on first use and again after a failure.

    When the server cannot be reached, every further message of this run fails at once with the
    same error (and is retried later with backoff) instead of waiting for its own time-out.
    """

    def __enter__(self) -> _SmtpTransport:
        self.connection: _TimeoutConnection | None = None
        self.connect_error: Exception | None = None
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._close()

    def reachable(self) -> bool:
        """Whether a connection can be opened (it is kept for the messages that follow)."""
        try:
            self._connect()
        except Exception as error:
            log.debug("The mail server is still unreachable: %s", error)  # every round
            return False
        return True

    def could_not_reach(self, error: Exception) -> bool:
        """Whether `error` means the server could not be reached (not: it refused a message,
        or the login or TLS settings are wrong)."""
        if error is not self.connect_error:
            return False
        if isinstance(error, (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected)):
            return True
        # SMTPException is an OSError too: its other kinds are the server's answers.
        return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)

    def send(self, message: OutboxMessage) -> None:
        connection = self._connect()
        try:
            connection.send(build_message(message))
        except Exception:
            self._close()
            raise

    def _connect(self) -> _TimeoutConnection:
        if self.connect_error is not None:
            raise self.connect_error
        if self.connection is None:
            connection = _TimeoutConnection(current_app.extensions["mail"])
            try:
                connection.__enter__()
            except Exception as error:
                self.connect_error = error
                raise
            self.connection = connection
        return self.connection

    def _close(self) -> None:
        if self.connection is not None:
            # The messages were handed over already; a failing QUIT changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.__exit__(None, None, None)
            self.connection = None


class _TimeoutConnection(Connection):
    def configure_host(self) -> smtplib.SMTP:
        state = self.mail
        smtp_class = smtplib.SMTP_SSL if state.use_ssl else smtplib.SMTP
        host = smtp_class(state.server, state.port, timeout=SMTP_TIMEOUT_SECONDS)
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


class _FolderTransport:
    """No SMTP server configured: write each message to MAIL_FOLDER and say so in the log."""

    def __enter__(self) -> _FolderTransport:
        self.folder = Path(current_app.config["MAIL_FOLDER"])
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def reachable(self) -> bool:
        return True

    def could_not_reach(self, error: Exception) -> bool:
        return False  # a full disk or a folder without permission: backoff, as any failure

    def send(self, message: OutboxMessage) -> None:
        stamp: datetime = message.created_at
        path = self.folder / f"{stamp:%Y%m%d-%H%M%S}-{message.id:06d}-{message.template}.eml"
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(build_message(message).as_bytes())
        temporary.replace(path)  # a reader never sees half a file
        # Subject and recipient only: bodies carry tokens and personal data.
        log.info("Mail to %s: %r written to %s", message.recipient, message.subject, path)


def _open_transport() -> _SmtpTransport | _FolderTransport:
    if current_app.config.get("MAIL_SERVER"):
        return _SmtpTransport()
    return _FolderTransport()


__all__ = ["DeliveryReport", "Sender", "build_message", "deliver_pending", "queue_email",
           "settle_claims"]
