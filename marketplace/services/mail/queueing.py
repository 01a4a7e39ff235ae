"""Mail into the outbox: `queue_email` renders a message (text and HTML, in the recipient's
language) and adds it in the caller's transaction, so mail exists exactly when the change that
caused it was committed."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import Claim, Language, OutboxMessage, OutboxStatus, User
from ..tokens import TokenPurpose, make_token
from ..urls import external_url
from .kinds import KIND_OF_TEMPLATE, wants_email
from .reply_addresses import make_reply_address
from .transports import message_id_of

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
    "claim_pickup_proposed": _l("New pick-up time proposed: %(title)s"),
    "claim_pickup_answered": _l("Answer about the pick-up time: %(title)s"),
    "claim_withdrawn": _l("You cancelled your claim: %(title)s"),
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
    "claim_reply_refused": _l("Your reply was not added to the claim: %(title)s"),
    "claim_reply_attachments": _l("Your reply was added without its attachments: %(title)s"),
    "claim_sign_off_requested": _l("Approve a claim for a medical device: %(title)s"),
    "claim_sign_off_waiting": _l("Your claim waits for medical technology: %(title)s"),
    "claim_signed_off": _l("Medical technology approved your claim: %(title)s"),
    "claim_not_signed_off": _l("Medical technology did not approve your claim: %(title)s"),
    "claim_sign_off_expired": _l("Your claim was not approved in time: %(title)s"),
    "safety_notice": _l("Field safety notice: %(device)s"),
    "listing_held_safety_notice": _l("Your listing is held for review: %(title)s"),
}

# Every email about one claim has this subject (the first one's, kept to the end), so mail
# programs that thread by subject group them too; what happened is the email's first line.
CLAIM_SUBJECT = _l("Claim for %(title)s")

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
    Returns None when the user has switched this kind of email off. Mail about a claim (a
    `claim` in the context) joins the claim's thread; optional mail gets a one-click
    unsubscribe link. It joins the caller's unit of work; nothing is sent before that commits.
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
    thread_key = _thread_key(context)
    first = _first_of_thread(thread_key, address.strip()) if thread_key else None
    # A member's mail about a claim: replying to it writes on the claim (the layout says so).
    context["reply_to"] = reply_to = make_reply_address(context["claim"].id, user.id) \
        if thread_key and user is not None else None
    with force_locale(language.value):
        words = {key: value for key, value in context.items() if isinstance(value, str)}
        subject = str(SUBJECTS[template]) % words
        if thread_key:
            context["headline"] = subject
            subject = first.subject if first else str(CLAIM_SUBJECT) % words
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
        thread_key=thread_key,
        in_reply_to=message_id_of(first) if first else None,
        unsubscribe_url=_unsubscribe_url(user, template),
        reply_to=reply_to,
    )
    db.session.add(message)
    g.mail_queued = True  # lets the app deliver right after the request when so configured
    return message


def _thread_key(context: dict[str, Any]) -> str | None:
    """The thread an email belongs to: the claim it is about, if any."""
    claim = context.get("claim")
    return f"claim-{claim.id}" if isinstance(claim, Claim) else None


def _first_of_thread(thread_key: str, address: str) -> OutboxMessage | None:
    """The first email of the thread to this address (mail programs thread per mailbox), the
    one the later ones answer; one that failed never arrived, so it anchors nothing."""
    # Selecting flushes the caller's new rows: an email queued a moment ago has its id.
    return db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.thread_key == thread_key, OutboxMessage.recipient == address,
               OutboxMessage.status != OutboxStatus.FAILED)
        .order_by(OutboxMessage.id).limit(1))


def _unsubscribe_url(user: User | None, template: str) -> str | None:
    """The one-click link that turns this kind of email off (optional email only)."""
    kind = KIND_OF_TEMPLATE.get(template)
    if user is None or kind is None:
        return None
    return external_url("account.unsubscribe",
                        token=make_token(TokenPurpose.UNSUBSCRIBE, {"u": user.id, "k": kind}))
