"""Replies by email: a member's reply to claim mail becomes a message on the claim.

`flask receive-mail` (inbound_mail.py) asks `recipient_of` for each RCPT TO, refusing what it
raises during the SMTP conversation, and hands each accepted message to `receive_reply`, which
stores the new text through `claims.post_message`, the website's path (the same permission
check, the same email to the other side). Mail from machines is dropped without an answer (no
loop); a reply with no text, or one the member may no longer write, is answered once, in the
member's language, to their account's address (never to the envelope sender, which anyone can
forge); a reply delivered twice is stored once (its Message-ID).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Claim, ClaimMessage, OutboxMessage, User, UserStatus
from ..models.base import utcnow
from ..unit_of_work import atomic, savepoint
from . import reply_text
from .claims import claim_email_context, post_message
from .errors import DomainError
from .mail import queue_email
from .mail.reply_addresses import NotAReplyAddress, read_reply_address

log = logging.getLogger(__name__)

_NOTICES = ("claim_reply_refused", "claim_reply_attachments")


class AddressRefused(Exception):
    """Not an address that takes replies (now); `smtp_reply` is the answer to RCPT TO."""

    def __init__(self, why: str, smtp_reply: str) -> None:
        super().__init__(why)
        self.smtp_reply = smtp_reply


# SMTP answers (RFC 3463 codes); a person reads them in their mail server's bounce.
UNKNOWN_ADDRESS = "550 5.1.1 No such reply address"
EXPIRED_ADDRESS = ("550 5.1.1 This reply address no longer takes replies; please write on "
                   "the claim's page instead")


class Outcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # stored before: the same Message-ID delivered again
    AUTOMATIC = "automatic"  # a bounce, an out-of-office, a list: dropped, nobody told
    EMPTY = "empty"  # no new text: the member is told
    REFUSED = "refused"  # the member may not write on the claim (now): they are told


@dataclass(frozen=True)
class Received:
    outcome: Outcome
    claim_id: int
    user_id: int
    detail: str = ""


def recipient_of(address: str) -> tuple[Claim, User]:
    """The claim and member a reply address belongs to; AddressRefused when it is not one of
    ours, forged, of a claim or member that is gone, of a member no longer active, or of a
    claim closed more than REPLY_ADDRESS_DAYS ago."""
    try:
        found = read_reply_address(address)
    except NotAReplyAddress as error:
        raise AddressRefused(str(error), UNKNOWN_ADDRESS) from error
    claim = db.session.get(Claim, found.claim_id)
    user = db.session.get(User, found.user_id)
    if claim is None or user is None or user.is_deleted:
        raise AddressRefused("claim or member gone", UNKNOWN_ADDRESS)
    if user.status is not UserStatus.ACTIVE:
        raise AddressRefused(f"member {user.status.value}", EXPIRED_ADDRESS)
    ended = claim.closed_at or claim.collected_at
    days = current_app.config["REPLY_ADDRESS_DAYS"]
    if ended is not None and ended < utcnow() - timedelta(days=days):
        raise AddressRefused(f"claim {claim.status.value} over {days} days ago", EXPIRED_ADDRESS)
    return claim, user


@atomic
def receive_reply(address: str, message: EmailMessage, mail_from: str) -> Received:
    """Store the reply to `address` as the member's message on the claim (once per
    Message-ID), or drop or answer it; raises AddressRefused as `recipient_of` does."""
    claim, user = recipient_of(address)  # again: it may have changed since RCPT TO

    def received(outcome: Outcome, detail: str = "") -> Received:
        return Received(outcome, claim.id, user.id, detail)

    automatic = reply_text.automatic_reason(message, mail_from)
    if automatic:
        return received(Outcome.AUTOMATIC, automatic)
    message_id = str(message.get("Message-ID") or "").strip()[:255] or None
    if message_id and _stored_already(message_id):
        return received(Outcome.DUPLICATE, message_id)
    text = reply_text.new_text(message)
    with force_locale(user.language.value):  # a refusal's words, in the member's language
        if not text:
            _tell(user, claim, "claim_reply_refused", message_id,
                  reason=_("We found no text of your own in it."))
            return received(Outcome.EMPTY)
        try:
            with savepoint():
                post_message(user, claim, text, source_message_id=message_id)
        except IntegrityError:  # the same reply, delivered twice at the same moment
            return received(Outcome.DUPLICATE, message_id or "")
        except DomainError as error:
            _tell(user, claim, "claim_reply_refused", message_id, reason=error.message)
            return received(Outcome.REFUSED, error.message)
    attachments = reply_text.attachment_names(message)
    if attachments:
        _tell(user, claim, "claim_reply_attachments", message_id, dropped=attachments)
    return received(Outcome.STORED, f"{len(text)} characters"
                    + (f", {len(attachments)} attachments dropped" if attachments else ""))


def _stored_already(message_id: str) -> bool:
    return db.session.scalar(select(ClaimMessage.id).where(
        ClaimMessage.source_message_id == message_id).limit(1)) is not None


def _tell(user: User, claim: Claim, template: str, message_id: str | None,
          **context: Any) -> None:
    """Email the member about their reply, once per reply (a second delivery of a reply that
    was answered already finds the answer, which answers its Message-ID)."""
    if message_id and db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.recipient_user_id == user.id, OutboxMessage.in_reply_to == message_id,
            OutboxMessage.template.in_(_NOTICES)).limit(1)) is not None:
        return
    notice = queue_email(template, user, **claim_email_context(claim), **context)
    if notice is not None and message_id:
        # Shown under the member's own reply in their mail program.
        notice.in_reply_to = message_id
