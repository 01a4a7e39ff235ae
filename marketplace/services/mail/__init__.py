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

The package, by concern:
  kinds.py       optional email by kind (EMAIL_KINDS, KIND_LABELS), wants_email
  queueing.py    SUBJECTS and queue_email (into the outbox, in the caller's transaction;
                 a claim's mail in one thread, the unsubscribe link of optional mail)
  limits.py      time-outs, backoff, claim heartbeat and staleness (tests change them here)
  claiming.py    Sender and its claims: claim, confirm, take back stale ones, settle_claims
  delivery.py    deliver_pending (DeliveryReport), failures and backoff, retry_failed
  transports.py  build_message, and sending by SMTP or into MAIL_FOLDER

Everything other modules use is imported from here (`from ..services.mail import ...`). Every
module logs as `marketplace.services.mail`. The limits are re-exported to be read; set on this
package they would change nothing: tests set them on `mail.limits`.
"""

from .claiming import Sender, settle_claims
from .delivery import DeliveryReport, deliver_pending, retry_failed
from .kinds import (
    ALWAYS_UNLESS_MUTED,
    EMAIL_KINDS,
    KIND_LABELS,
    KIND_OF_TEMPLATE,
    email_kinds_for,
    wants_email,
)
from .limits import CLAIM_CHUNK, CLAIM_HEARTBEAT, RETRY_BACKOFF, SMTP_TIMEOUT_SECONDS, STALE_CLAIM
from .queueing import SUBJECTS, queue_email
from .transports import build_message

__all__ = [
    "ALWAYS_UNLESS_MUTED", "CLAIM_CHUNK", "CLAIM_HEARTBEAT", "EMAIL_KINDS", "KIND_LABELS",
    "KIND_OF_TEMPLATE", "RETRY_BACKOFF", "SMTP_TIMEOUT_SECONDS", "STALE_CLAIM", "SUBJECTS",
    "DeliveryReport", "Sender", "build_message", "deliver_pending", "email_kinds_for",
    "queue_email", "retry_failed", "settle_claims", "wants_email",
]
