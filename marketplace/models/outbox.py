"""Outgoing email, written in the same transaction as the change that caused it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, enum_column, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by one sender (claimed_by), which confirms it (claimed_at)
    SENT = "sent"
    FAILED = "failed"  # gave up after MAIL_MAX_ATTEMPTS, or a sender died mid-send


class OutboxMessage(Model):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),
                      Index("ix_outbox_message_thread", "thread_key", "recipient"))

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(60))  # which email, for logs and tests
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Calendar invitations and the like: JSON list of {filename, content_type, data(base64)}.
    attachments: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # While SENDING: the sender holding the claim and when it last confirmed it (a heartbeat
    # between messages, every CLAIM_HEARTBEAT; services/mail.STALE_CLAIM).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    # The last attempt failed only because the SMTP server could not be reached: the message
    # goes out as soon as the server takes mail again, not after its backoff.
    server_unreachable: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Mail about one thing (a claim: "claim-<id>") threads in mail programs: each later message
    # to the same address answers (In-Reply-To, References) the Message-ID of the first one.
    thread_key: Mapped[str | None] = mapped_column(String(60))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    # Optional mail only: the signed one-click unsubscribe link (List-Unsubscribe, RFC 8058).
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    # Mail about a claim, when replies by email are on: the signed address that makes a reply
    # a message on the claim (services/mail/reply_addresses.py).
    reply_to: Mapped[str | None] = mapped_column(String(254))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.template} to {self.recipient} {self.status.value}>"
