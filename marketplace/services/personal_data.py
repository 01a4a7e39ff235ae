"""Personal data: everything the platform holds about a member, handed over or erased.

`export_archive` builds a zip (data.json and the photos of the member's listings) in a spooled
temporary file, so memory stays bounded whatever the member posted. `delete_account` anonymises
the account in one unit of work: the organisation keeps its listings, claims and messages
(shown as by "Deleted user"), open claims are cancelled with the givers emailed, alerts are
deleted, and the mail log forgets the old address. `forget_mail_of_deleted_accounts` finishes
that for mail still being sent at the deletion (housekeeping runs it).
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any, cast

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update

from ..extensions import db
from ..localtime import local_today
from ..models import (
    Alert,
    AlertMatch,
    AuditEvent,
    Claim,
    ClaimMessage,
    Listing,
    ListingFollower,
    NotificationPreference,
    OrganisationStatus,
    OutboxMessage,
    OutboxStatus,
    Report,
    Role,
    User,
    UserStatus,
    Wanted,
    WantedAnswer,
)
from ..models.base import utcnow
from ..models.claim import OPEN_CLAIM_STATUSES
from ..models.states import move
from ..security import Action, require
from ..storage import get_storage
from ..unit_of_work import atomic, unit_of_work
from . import audit
from .accounts import active_platform_admin_count, end_all_sessions
from .claims import cancel_claims_of_departing_member
from .errors import DomainError, WrongPassword
from .following import followed_by
from .mail import EMAIL_KINDS, queue_email
from .organisations import organisation_admins
from .passwords import verify_password
from .photos import FULL, photo_file_name
from .urls import external_url

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

EXPORT_FORMAT = 1
DELETED_NAME = "Deleted user"  # stored in the row: every page shows it for the author
# Not a Werkzeug hash ("method$salt$hash"), so no password ever matches it: a marker.
UNUSABLE_PASSWORD_HASH = "!deleted"  # noqa: S105  # nosec B105
# Kept in memory up to this size, then on disk: an export never holds all photos in memory.
SPOOL_MAX_BYTES = 8 * 1024 * 1024
MAIL_NOT_SENT = "Not sent: the account was deleted."


def deleted_address(user: User) -> str:
    """The unique, undeliverable address a deleted account keeps (.invalid never resolves)."""
    return f"deleted-{user.id}@invalid"


def deleted_label(user: User) -> str:
    return f"{DELETED_NAME} #{user.id}"


def export_filename(today: date | None = None) -> str:
    return f"surplus-marketplace-{(today or local_today()).isoformat()}.zip"


# --- export ----------------------------------------------------------------------------------

def _require_self_or_platform_admin(actor: User, user: User) -> bool:
    """True when the actor acts on their own account; PermissionDenied unless platform admin."""
    require(actor, Action.ACCESS_PERSONAL_DATA, user)
    return actor.id == user.id


def export_archive(actor: User, user: User) -> IO[bytes]:
    """A zip of everything about `user`, rewound and ready to stream (the caller closes it).

    Members export their own data; platform admins anyone's, on request (audited as
    "user.export"). Raises PermissionDenied.
    """
    if not _require_self_or_platform_admin(actor, user):
        with unit_of_work():  # committed before the archive is written
            audit.record(actor, "user.export", user,
                         label=deleted_label(user) if user.is_deleted else None)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115 (streamed)
    try:
        _write_archive(user, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _write_archive(user: User, target: IO[bytes]) -> None:
    data = personal_data(user)
    storage = get_storage()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2,
                                                 default=_json_value))
        written: set[str] = set()
        for listing in data["listings"]:
            for photo in listing["photos"]:
                name = photo["file"]
                if name in written:
                    continue
                try:
                    content = storage.read(photo_file_name(photo["content_hash"], FULL))
                except FileNotFoundError:
                    continue  # removed from disk (see purge_refused_listing_photos)
                # JPEG is compressed already: stored as it is.
                archive.writestr(name, content, compress_type=zipfile.ZIP_STORED)
                written.add(name)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return str(value)


def personal_data(user: User) -> dict[str, Any]:
    """What the platform holds about `user`, as plain JSON-ready values (see the privacy page)."""
    return {
        "format": EXPORT_FORMAT,
        "generated_at": utcnow(),
        "notes": [
            "Listings, claims and wanted posts belong to your organisation; they are listed "
            "here because you posted or made them.",
            "Of the email we sent you, the subject, template and dates are listed; the bodies "
            "repeat what is listed elsewhere in this file and are left out.",
            "Photos are the stored originals (EXIF and GPS data were removed at upload).",
        ],
        "profile": _profile(user),
        "organisation": {"name": user.organisation.name} if user.organisation else None,
        "email_preferences": {
            "notifications": user.notifications,
            "muted_kinds": sorted(user.muted_kinds),
            "language": user.language,
        },
        "listings": _listings(user),
        "claims": _claims(user),
        "messages_on_other_claims": _messages_on_other_claims(user),
        "claim_decisions": _claim_decisions(user),
        "alerts": _alerts(user),
        "following": {
            "all_listings_of_my_organisation": user.follows_organisation_listings,
            "listings": [{"id": listing.id, "title": listing.title}
                         for listing in followed_by(user)],
        },
        "wanted_posts": _wanted(user),
        "wanted_answers": _wanted_answers(user),
        "reports": _reports(user),
        "audit_events": _audit_events(user),
        "email_sent": _mail(user),
    }


def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.id, "name": user.name, "email": user.email, "phone": user.phone,
        "role": user.role, "status": user.status, "language": user.language,
        "created_at": user.created_at, "email_confirmed_at": user.email_confirmed_at,
        "last_login_at": user.last_login_at, "deleted_at": user.deleted_at,
    }


def _listings(user: User) -> list[dict[str, Any]]:
    listings = db.session.scalars(select(Listing).where(Listing.created_by_id == user.id)
                                  .order_by(Listing.created_at, Listing.id))
    return [{
        "id": listing.id, "title": listing.title, "description": listing.description,
        # A draft may have no category or site yet (saved with a title alone).
        "status": listing.status,
        "category": listing.category.name_en if listing.category_id else None,
        "condition": listing.condition, "quantity": listing.quantity,
        "quantity_available": listing.quantity_available, "unit": listing.unit,
        "value_per_unit_eur": listing.value_per_unit,
        "weight_per_unit_kg": listing.weight_per_unit_kg,
        "available_until": listing.available_until, "best_before": listing.best_before,
        "site": listing.site.name if listing.site_id else None,
        "delivery_possible": listing.delivery_possible,
        "moderation_reason": listing.moderation_reason,
        "created_at": listing.created_at, "published_at": listing.published_at,
        "photos": [{"file": f"photos/{item.photo.content_hash}.jpg",
                    "content_hash": item.photo.content_hash, "alt_text": item.alt_text,
                    "position": item.position} for item in listing.photos],
    } for listing in listings]


def _message(message: ClaimMessage, user: User) -> dict[str, Any]:
    return {"written_by_you": message.author_id == user.id, "body": message.body,
            "created_at": message.created_at}


def _claims(user: User) -> list[dict[str, Any]]:
    claims = db.session.scalars(select(Claim).where(Claim.claimant_id == user.id)
                                .order_by(Claim.created_at, Claim.id))
    return [{
        "id": claim.id, "listing_id": claim.listing_id, "listing_title": claim.listing.title,
        "giving_organisation": claim.listing.organisation.name, "quantity": claim.quantity,
        "message": claim.message, "preferred_pickup_date": claim.preferred_pickup_date,
        "agreed_pickup_date": claim.agreed_pickup_date, "status": claim.status,
        "created_at": claim.created_at, "decided_at": claim.decided_at,
        "collected_at": claim.collected_at, "closed_at": claim.closed_at,
        "messages": [_message(message, user) for message in claim.messages],
    } for claim in claims]


def _messages_on_other_claims(user: User) -> list[dict[str, Any]]:
    """What they wrote as the giving side, on claims others made."""
    messages = db.session.scalars(
        select(ClaimMessage).join(Claim)
        .where(ClaimMessage.author_id == user.id,
               or_(Claim.claimant_id.is_(None), Claim.claimant_id != user.id))
        .order_by(ClaimMessage.created_at, ClaimMessage.id))
    return [{"claim_id": message.claim_id, "listing_title": message.claim.listing.title,
             "body": message.body, "created_at": message.created_at} for message in messages]


def _claim_decisions(user: User) -> list[dict[str, Any]]:
    """Claims of others they accepted or declined as the giving side, with their note."""
    claims = db.session.scalars(
        select(Claim).where(Claim.decided_by_id == user.id,
                            or_(Claim.claimant_id.is_(None), Claim.claimant_id != user.id))
        .order_by(Claim.decided_at, Claim.id))
    return [{"claim_id": claim.id, "listing_title": claim.listing.title,
             "status": claim.status, "decision_note": claim.decision_note,
             "decided_at": claim.decided_at} for claim in claims]


def _alerts(user: User) -> list[dict[str, Any]]:
    alerts = db.session.scalars(select(Alert).where(Alert.user_id == user.id)
                                .order_by(Alert.created_at, Alert.id))
    return [{"words": alert.words,
             "category": alert.category.name_en if alert.category else None,
             "province": alert.province, "condition": alert.condition,
             "frequency": alert.frequency, "paused": alert.paused,
             "created_at": alert.created_at} for alert in alerts]


def _wanted(user: User) -> list[dict[str, Any]]:
    posts = db.session.scalars(select(Wanted).where(Wanted.author_id == user.id)
                               .order_by(Wanted.created_at, Wanted.id))
    return [{"id": post.id, "title": post.title, "description": post.description,
             "quantity": post.quantity, "needed_by": post.needed_by,
             "category": post.category.name_en if post.category else None,
             "province": post.province, "status": post.status,
             "created_at": post.created_at} for post in posts]


def _wanted_answers(user: User) -> list[dict[str, Any]]:
    """The listings they offered in answer to someone's wanted post."""
    answers = db.session.scalars(select(WantedAnswer).where(WantedAnswer.responder_id == user.id)
                                 .order_by(WantedAnswer.created_at, WantedAnswer.id))
    return [{"wanted_title": answer.wanted.title, "listing_id": answer.listing_id,
             "listing_title": answer.listing.title, "created_at": answer.created_at}
            for answer in answers]


def _reports(user: User) -> list[dict[str, Any]]:
    reports = db.session.scalars(select(Report).where(Report.reporter_id == user.id)
                                 .order_by(Report.created_at, Report.id))
    return [{"listing_id": report.listing_id, "reason": report.reason, "text": report.text,
             "status": report.status, "outcome": report.outcome,
             "created_at": report.created_at, "resolved_at": report.resolved_at}
            for report in reports]


def _audit_events(user: User) -> list[dict[str, Any]]:
    """Events by them, or about their account. Labels of other people are left out."""
    about_them = (AuditEvent.target_type == "user") & (AuditEvent.target_id == user.id)
    events = db.session.scalars(
        select(AuditEvent).where(or_(AuditEvent.actor_id == user.id, about_them))
        .order_by(AuditEvent.created_at, AuditEvent.id))
    return [{
        "action": event.action, "by_you": event.actor_id == user.id,
        "about_you": event.target_type == "user" and event.target_id == user.id,
        "target_type": event.target_type, "target_id": event.target_id,
        "reason": event.reason, "created_at": event.created_at,
    } for event in events]


def _mail(user: User) -> list[dict[str, Any]]:
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_user_id == user.id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id))
    return [{"template": message.template, "subject": message.subject,
             "status": message.status, "created_at": message.created_at,
             "sent_at": message.sent_at} for message in messages]


# --- deletion --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeletionSummary:
    """What deleting the account changes, for the confirmation page."""

    open_claims: int
    listings: int
    alerts: int


def deletion_summary(user: User) -> DeletionSummary:
    def count(statement: Any) -> int:
        return db.session.scalar(statement) or 0

    return DeletionSummary(
        open_claims=count(select(func.count(Claim.id)).where(
            Claim.claimant_id == user.id,
            Claim.status.in_(OPEN_CLAIM_STATUSES))),
        listings=count(select(func.count(Listing.id)).where(Listing.created_by_id == user.id)),
        alerts=count(select(func.count(Alert.id)).where(Alert.user_id == user.id)),
    )


def deletion_block_reason(user: User) -> str | None:
    """Why this account cannot be deleted now, in words for the person; None when it can."""
    if user.is_deleted:
        return _("This account has been deleted already.")
    if user.is_platform_admin and user.status is UserStatus.ACTIVE \
            and active_platform_admin_count() <= 1:
        return _("This is the last platform admin account. Make someone else platform admin "
                 "first: there must always be one.")
    organisation = user.organisation
    if user.role is Role.ORG_ADMIN and user.status is UserStatus.ACTIVE \
            and organisation is not None \
            and organisation.status is OrganisationStatus.ACTIVE \
            and all(admin.id == user.id for admin in organisation_admins(organisation)) \
            and any(colleague.id != user.id and colleague.status is UserStatus.ACTIVE
                    for colleague in organisation.users):
        return _("This is the last organisation admin of %(organisation)s. Make a colleague "
                 "organisation admin first (on the members page of the organisation).",
                 organisation=organisation.name)
    return None


@atomic
def delete_account(actor: User, user: User, *, password: str | None = None,
                   reason: str | None = None) -> int:
    """Delete `user`'s account: anonymise the row, cancel open claims, delete alerts.

    The member deletes their own account with their password; a platform admin deletes
    someone's on request, with a reason (audited). A confirmation goes to the old address.
    Returns how many open claims were cancelled. Raises PermissionDenied, or DomainError for a
    wrong password (field "password"), a missing reason (field "reason"), an account deleted
    already, the last platform admin and the last organisation admin of an active organisation
    with colleagues.
    """
    own_account = _require_self_or_platform_admin(actor, user)
    reason = " ".join((reason or "").split())[:1000] or None
    if own_account:
        if not verify_password(user.password_hash, password or ""):
            raise WrongPassword(_("Your password is not right."), field="password")
    elif reason is None:
        raise DomainError(_("Give the reason for deleting this account (the request)."),
                          field="reason")
    block = deletion_block_reason(user)
    if block is not None:
        raise DomainError(block)

    old_address, old_name = user.email, user.name
    _forget_mail_of(user)  # before the confirmation below is queued: that one must go out
    cancelled = cancel_claims_of_departing_member(user)
    db.session.execute(delete(AlertMatch).where(
        AlertMatch.alert_id.in_(select(Alert.id).where(Alert.user_id == user.id))))
    db.session.execute(delete(Alert).where(Alert.user_id == user.id))
    db.session.execute(delete(ListingFollower).where(ListingFollower.user_id == user.id))
    confirmation = queue_email(
        "account_deleted", old_address, language=user.language, name=old_name,
        by_admin=not own_account, cancelled=cancelled,
        privacy_url=external_url("main.privacy"))
    if confirmation is not None:
        # Linked to the account, so housekeeping clears the old address once it was sent.
        confirmation.recipient_user_id = user.id
    _anonymise(user)
    db.session.execute(
        update(AuditEvent).where(AuditEvent.target_type == "user",
                                 AuditEvent.target_id == user.id)
        .values(target_label=deleted_label(user))
        .execution_options(synchronize_session=False))
    audit.record(actor, "user.delete", user, reason=reason, label=deleted_label(user))
    return cancelled


def _anonymise(user: User) -> None:
    user.name = DELETED_NAME
    user.email = deleted_address(user)
    user.phone = None
    user.password_hash = UNUSABLE_PASSWORD_HASH
    if user.status is not UserStatus.DEACTIVATED:  # it may have been deactivated before
        move(user, UserStatus.DEACTIVATED)
    if user.role is Role.ORG_ADMIN:
        user.role = Role.MEMBER
    user.notifications = NotificationPreference.OFF
    user.muted_email_kinds = ",".join(sorted(EMAIL_KINDS))
    user.follows_organisation_listings = False
    user.email_confirmed_at = None
    user.last_login_at = None
    user.deleted_at = utcnow()
    end_all_sessions(user)


def _forget_mail_of(user: User) -> None:
    """Mail to the account not sent yet is not sent; mail sent loses address and body."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient_user_id == user.id,
               OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, last_error=MAIL_NOT_SENT)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient_user_id == user.id,
               OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]))
        .values(recipient=deleted_address(user), body_text="", body_html="", attachments=None,
                unsubscribe_url=None)
        .execution_options(synchronize_session=False))


@atomic
def forget_mail_of_deleted_accounts() -> int:
    """Clear address and body of mail to deleted accounts that was sent (or failed) since the
    deletion, the confirmation of the deletion included. Conditional: safe to run twice."""
    deleted_ids = select(User.id).where(User.deleted_at.is_not(None))
    # A deleted account's address is its anonymous one (see deleted_address).
    anonymous = select(User.email).where(User.id == OutboxMessage.recipient_user_id) \
        .scalar_subquery()
    # An UPDATE's result is a CursorResult; Session.execute's overloads cannot tell.
    result = cast("CursorResult[Any]", db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient_user_id.in_(deleted_ids),
               OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
               or_(OutboxMessage.body_text != "", OutboxMessage.body_html != ""))
        .values(recipient=anonymous, body_text="", body_html="", attachments=None,
                unsubscribe_url=None)
        .execution_options(synchronize_session=False)))
    return result.rowcount
