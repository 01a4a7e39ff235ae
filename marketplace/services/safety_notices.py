"""Field safety notices (issue 20): a platform admin records a manufacturer's warning; every
organisation that received a matching device through the platform is told and keeps it on its
to-do list until a member acknowledges it; listings still on offer that match are held for
review (and so is a matching listing submitted later: services/listings.py asks
`safety_matching.held_by_notice`). Which devices match is services/safety_matching.py's rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload
from stdnum import ean

from ..extensions import db
from ..models import (
    Claim,
    DevicePassport,
    Listing,
    ListingStatus,
    Organisation,
    Role,
    SafetyNotice,
    SafetyNoticeRecipient,
    Transfer,
    User,
    UserStatus,
)
from ..models.base import utcnow
from ..security import Action, require
from ..unit_of_work import atomic
from . import audit, moderation
from .claims import givers_of
from .errors import DomainError
from .mail import queue_email
from .safety_matching import device_condition, numbered, serial, serial_rule, serials_of
from .urls import external_url

MAX_TEXT_LENGTH = 5000
MAX_NAME_LENGTH = 120  # the manufacturer and model columns
MAX_SERIAL_LENGTH = 60
MAX_LINK_LENGTH = 500
# Listings on offer: what a receiver could still claim.
ON_OFFER = (ListingStatus.PUBLISHED, ListingStatus.PENDING_REVIEW)


@dataclass(frozen=True)
class NoticeDetails:
    """What the admin's form says, as typed."""

    manufacturer: str = ""
    model: str = ""
    udi_di: str = ""
    serials_from: str = ""
    serials_to: str = ""
    serials_listed: str = ""
    text: str = ""
    link: str = ""


# --- matching --------------------------------------------------------------------------------

def matching_transfers(notice: SafetyNotice,
                       organisation_id: int | None = None) -> list[Transfer]:
    """The transfers of devices the notice concerns (of one receiving organisation, if
    given), oldest first."""
    statement = (select(Transfer)
                 .where(device_condition(notice, Transfer.udi_di, Transfer.manufacturer,
                                          Transfer.model))
                 .order_by(Transfer.created_at, Transfer.id)
                 .options(selectinload(Transfer.claim).selectinload(Claim.claimant)))
    if organisation_id is not None:
        statement = statement.where(Transfer.receiver_organisation_id == organisation_id)
    applies = serial_rule(notice)
    return [transfer for transfer in db.session.scalars(statement)
            if applies(transfer.serial_numbers)]


def matching_listings(notice: SafetyNotice) -> list[Listing]:
    """Listings still on offer whose device passport the notice concerns."""
    statement = (select(Listing).join(DevicePassport, DevicePassport.listing_id == Listing.id)
                 .where(Listing.status.in_(ON_OFFER),
                        device_condition(notice, DevicePassport.udi_di,
                                          DevicePassport.manufacturer, DevicePassport.model))
                 .order_by(Listing.id))
    applies = serial_rule(notice)
    return [listing for listing in db.session.scalars(statement)
            if listing.passport is not None and applies(listing.passport.serial_numbers)]


# --- recording a notice ----------------------------------------------------------------------

def _validated(details: NoticeDetails) -> dict[str, str | None]:
    """The notice's columns from the form, or DomainError on the field that is wrong."""
    values: dict[str, str | None] = {}
    for name in ("manufacturer", "model"):
        value = " ".join(getattr(details, name).split())
        if len(value) > MAX_NAME_LENGTH:
            raise DomainError(_("Keep this under %(max)d characters.", max=MAX_NAME_LENGTH),
                              field=name)
        values[name] = value or None
    udi = "".join((details.udi_di or "").split())
    if udi and not (udi.isdigit() and len(udi) in (8, 12, 13, 14) and ean.is_valid(udi)):
        raise DomainError(_("Enter the UDI-DI as the GTIN on the label: 8, 12, 13 or 14 "
                            "digits with a correct check digit."), field="udi_di")
    values["udi_di"] = udi or None
    if not udi and not (values["manufacturer"] and values["model"]):
        raise DomainError(_("Enter the UDI-DI, or the manufacturer and the model."),
                          field="udi_di")
    first, last = serial(details.serials_from or ""), serial(details.serials_to or "")
    if first or last:
        numbered_first, numbered_last = numbered(first), numbered(last)
        if (numbered_first is None or numbered_last is None
                or numbered_first[0] != numbered_last[0]
                or numbered_first[1] > numbered_last[1]
                or max(len(first), len(last)) > MAX_SERIAL_LENGTH):
            raise DomainError(_("Enter both ends of the range as the same letters followed "
                                "by a number, the first not higher than the last: SN1000 to "
                                "SN1999."), field="serials_to")
    values["serials_from"], values["serials_to"] = first or None, last or None
    listed = serials_of(details.serials_listed)
    if any(len(number) > MAX_SERIAL_LENGTH for number in listed):
        raise DomainError(_("Keep each number under %(max)d characters.",
                            max=MAX_SERIAL_LENGTH), field="serials_listed")
    values["serials_listed"] = "\n".join(dict.fromkeys(listed)) or None
    text = (details.text or "").strip()
    if not text:
        raise DomainError(_("Write what the notice says and what to do."), field="text")
    if len(text) > MAX_TEXT_LENGTH:
        raise DomainError(_("Keep the text under %(max)d characters.", max=MAX_TEXT_LENGTH),
                          field="text")
    values["text"] = text
    link = (details.link or "").strip()
    if link:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc \
                or len(link) > MAX_LINK_LENGTH or any(ord(c) < 33 for c in link):
            raise DomainError(_("Enter a web address starting with https:// or http://."),
                              field="link")
    values["link"] = link or None
    return values


@atomic
def record_notice(actor: User, details: NoticeDetails) -> SafetyNotice:
    """Record a field safety notice: each organisation that received a matching device gets
    one recipient row (naming its first matching transfer) and its admins and the members who
    received the devices are emailed, each once; matching listings on offer are held for
    review and their poster and organisation admins told. Raises DomainError (with the field)
    for what the form says wrong."""
    require(actor, Action.ADMINISTER_PLATFORM)
    notice = SafetyNotice(created_by=actor, **_validated(details))
    db.session.add(notice)
    db.session.flush()
    audit.record(actor, "safety_notice.record", notice, label=notice.device)
    by_organisation: dict[int, list[Transfer]] = {}
    for transfer in matching_transfers(notice):
        by_organisation.setdefault(transfer.receiver_organisation_id, []).append(transfer)
    for organisation_id, transfers in by_organisation.items():
        recipient = SafetyNoticeRecipient(notice=notice, organisation_id=organisation_id,
                                          transfer=transfers[0])
        db.session.add(recipient)
        db.session.flush()
        _tell_receivers(notice, recipient, transfers)
    for listing in matching_listings(notice):
        _hold(actor, notice, listing)
    return notice


def _active(people: Iterable[User | None], organisation_id: int) -> list[User]:
    """Active members of the organisation among `people`, each once."""
    kept: list[User] = []
    for person in people:
        if (person is not None and person.status is UserStatus.ACTIVE
                and person.organisation_id == organisation_id and person not in kept):
            kept.append(person)
    return kept


def _organisation_admins(organisation_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(
        User.organisation_id == organisation_id, User.role == Role.ORG_ADMIN,
        User.status == UserStatus.ACTIVE).order_by(User.id)))


def _tell_receivers(notice: SafetyNotice, recipient: SafetyNoticeRecipient,
                    transfers: list[Transfer]) -> None:
    organisation_id = recipient.organisation_id
    people = _active([*_organisation_admins(organisation_id),
                      *(transfer.claim.claimant for transfer in transfers)], organisation_id)
    for person in people:
        queue_email("safety_notice", person, device=notice.device, notice=notice,
                    references=", ".join(transfer.reference for transfer in transfers),
                    notice_url=external_url("safety_notices.show",
                                            recipient_id=recipient.id))


def _hold(actor: User, notice: SafetyNotice, listing: Listing) -> None:
    posters = givers_of(listing)
    language = posters[0].language.value if posters else "nl"
    with force_locale(language):  # the moderator's note, in the poster's language
        reason = _("Field safety notice for %(device)s (%(date)s): check whether this "
                   "device is affected before it is offered again.",
                   device=notice.device, date=notice.created_at.date().isoformat())
    if not moderation.hold_for_review(actor, listing, reason[:moderation.MAX_REASON_LENGTH]):
        return
    for person in _active([*posters, *_organisation_admins(listing.organisation_id)],
                          listing.organisation_id):
        queue_email("listing_held_safety_notice", person, title=listing.title,
                    device=notice.device, notice=notice,
                    listing_url=external_url("listings.show", listing_id=listing.id))


# --- what the receiving organisation sees ------------------------------------------------------

def open_for(organisation_id: int) -> Any:
    """The condition: notices sent to the organisation and not acknowledged yet."""
    return ((SafetyNoticeRecipient.organisation_id == organisation_id)
            & SafetyNoticeRecipient.acknowledged_at.is_(None))


def recipients_of(notice: SafetyNotice) -> list[SafetyNoticeRecipient]:
    """Who the notice went to, with the transfer and who acknowledged it (the admin's page)."""
    return list(db.session.scalars(
        select(SafetyNoticeRecipient).where(SafetyNoticeRecipient.notice_id == notice.id)
        .join(Organisation, SafetyNoticeRecipient.organisation_id == Organisation.id)
        .order_by(Organisation.name, SafetyNoticeRecipient.id)
        .options(selectinload(SafetyNoticeRecipient.organisation),
                 selectinload(SafetyNoticeRecipient.transfer),
                 selectinload(SafetyNoticeRecipient.acknowledged_by))))


def all_notices() -> list[SafetyNotice]:
    """Every notice, newest first, with its recipients (the admin's list)."""
    return list(db.session.scalars(
        select(SafetyNotice).order_by(SafetyNotice.created_at.desc(), SafetyNotice.id.desc())
        .options(selectinload(SafetyNotice.recipients))))


@atomic
def acknowledge(actor: User, recipient: SafetyNoticeRecipient) -> None:
    """A member of the receiving organisation says it has been read and acted on; the notice
    leaves the organisation's to-do list. Raises DomainError when a colleague did so first."""
    require(actor, Action.ACKNOWLEDGE_SAFETY_NOTICE, recipient)
    # Conditional: of two colleagues at once, one is recorded.
    done = cast(Any, db.session.execute(
        update(SafetyNoticeRecipient)
        .where(SafetyNoticeRecipient.id == recipient.id,
               SafetyNoticeRecipient.acknowledged_at.is_(None))
        .values(acknowledged_by_id=actor.id, acknowledged_at=utcnow()))).rowcount == 1
    db.session.refresh(recipient)
    if not done:
        raise DomainError(_("%(name)s has acknowledged this notice already.",
                            name=recipient.acknowledged_by.name if recipient.acknowledged_by
                            else _("A colleague")))
    audit.record(actor, "safety_notice.acknowledge", recipient,
                 label=f"{recipient.notice.device} · {recipient.organisation.name}")
