"""Listings: posting, editing, the review step, withdrawing and re-listing.

The status moves only through the functions here:
draft → pending_review → published (or straight to published for trusted organisations);
an edit of a published listing by an untrusted organisation goes back to pending_review;
draft/pending/published → withdrawn by the owner; expired/withdrawn → re-listed.
A listing whose text has a watch-word waits for review whatever the trust (services/watch_words).
Moderators' decisions (approve, reject, ask for changes, remove) live in services/moderation.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..localtime import local_today
from ..models import (
    Category,
    Listing,
    ListingPhoto,
    ListingStatus,
    Organisation,
    Site,
    StagedPhoto,
    User,
)
from ..models.base import utcnow
from ..models.listing import EDITABLE, RELISTABLE, WITHDRAWABLE, Condition, Unit
from ..models.states import move
from ..security import Action, participation_block_reason, require
from ..unit_of_work import after_commit, atomic
from . import audit
from .announcements import announce
from .claims import tell_waiting_claimants
from .device_passports import PassportDetails, apply_passport, copy_passport
from .errors import DomainError, PermissionDenied
from .photos import (
    PhotoRejected,
    PreparedPhoto,
    decode_cost,
    delete_unreferenced_photos,
    over_decode_budget,
    prepare_photo,
    save_prepared,
    take_staged,
)
from .pick_up import missing_site_reason
from .safety_matching import held_by_notice
from .watch_words import hold_for_watch_words

log = logging.getLogger(__name__)

MAX_PHOTOS = 8
MAX_QUANTITY = 100_000
MAX_INTERNAL_DAYS = 14


@dataclass
class ListingDetails:
    """What the poster fills in (photos apart)."""

    title: str
    description: str
    category_id: int | None
    condition: Condition | None  # None (or "") only in a draft
    quantity: int | None
    unit: Unit
    site_id: int | None
    available_until: date | None
    value_per_unit: Decimal | None = None
    weight_per_unit_kg: Decimal | None = None
    delivery_possible: bool = False
    best_before: date | None = None
    batch_number: str | None = None
    packaging_unopened: bool | None = None
    storage_conditions: str | None = None
    cleaned_on: date | None = None
    inspected_on: date | None = None
    internal_days: int = 0
    # Medical categories only (services/device_passports.py); None: the form had none.
    passport: PassportDetails | None = None


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class PhotoEdit:
    """A change to a photo already on the listing."""

    listing_photo_id: int
    position: int
    alt_text: str = ""
    remove: bool = False


@dataclass
class PhotoChanges:
    uploads: list[Upload] = field(default_factory=list)
    edits: list[PhotoEdit] = field(default_factory=list)
    # The poster's staged photos (services/photos/staging.py), in the order they go on the
    # listing, after the photos it has.
    staged: list[StagedPhoto] = field(default_factory=list)


def default_available_until(today: date | None = None) -> date:
    return (today or local_today()) + timedelta(days=current_app.config["LISTING_DEFAULT_DAYS"])


def latest_available_until(today: date | None = None) -> date:
    return (today or local_today()) + timedelta(days=current_app.config["LISTING_MAX_DAYS"])


# --- validation ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Checked:
    """What _validate found and guarantees: the fields it requires, no longer optional (None
    only in a draft, which may leave them empty)."""

    category: Category
    site: Site
    quantity: int
    available_until: date


def _validate(actor: User, organisation_id: int | None, details: ListingDetails,
              draft: bool = False) -> _Checked:
    """Raise DomainError(field=…) for the first problem; return what it checked. A `draft`
    needs only its title: what else it has must be valid, what it leaves empty may stay so."""
    if len(details.title.strip()) < 3:
        raise DomainError(_("Give the listing a title of at least 3 characters."), field="title")
    if not draft:
        _require_details(actor, organisation_id, details)
    category = db.session.get(Category, details.category_id) if details.category_id else None
    if details.category_id and (category is None or category.retired):
        raise DomainError(_("Choose a category."), field="category")
    if details.quantity is not None and not 1 <= details.quantity <= MAX_QUANTITY:
        raise DomainError(_("Enter a quantity from 1 to %(max)d.", max=MAX_QUANTITY),
                          field="quantity")
    site = db.session.get(Site, details.site_id) if details.site_id else None
    if details.site_id and (site is None or site.organisation_id != organisation_id
                            or not site.active):
        raise DomainError(_("Choose one of your organisation's pick-up sites."), field="site")
    today = local_today()
    if details.available_until is not None and details.available_until <= today:
        raise DomainError(_("Choose a date after today."), field="available_until")
    if details.available_until and details.available_until > latest_available_until(today):
        raise DomainError(_("A listing can be available for at most %(days)d days.",
                            days=current_app.config["LISTING_MAX_DAYS"]),
                          field="available_until")
    for name in ("cleaned_on", "inspected_on"):
        value = getattr(details, name)
        if value is not None and value > today:
            raise DomainError(_("This date cannot be in the future."), field=name)
    if not 0 <= details.internal_days <= MAX_INTERNAL_DAYS:
        raise DomainError(_("Offer it internally for 0 to %(max)d days.", max=MAX_INTERNAL_DAYS),
                          field="internal_days")
    for name in ("value_per_unit", "weight_per_unit_kg"):
        value = getattr(details, name)
        if value is not None and not Decimal(0) <= value < Decimal(1_000_000):
            raise DomainError(_("Enter an amount from 0 to 999,999."), field=name)
    # Only a draft may leave them None (see Listing: NULL in drafts alone).
    return _Checked(category, site, details.quantity,  # type: ignore[arg-type]
                    details.available_until)  # type: ignore[arg-type]


def _require_details(actor: User, organisation_id: int | None,
                     details: ListingDetails) -> None:
    """What a listing needs beyond its title before it leaves the draft state."""
    if not details.description.strip():
        raise DomainError(_("Describe what you offer: size, state, what is included."),
                          field="description")
    if not details.category_id:
        raise DomainError(_("Choose a category."), field="category")
    if not details.condition:
        raise DomainError(_("Choose the condition."), field="condition")
    if details.quantity is None:
        raise DomainError(_("Enter a quantity from 1 to %(max)d.", max=MAX_QUANTITY),
                          field="quantity")
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    no_site = missing_site_reason(actor, organisation)
    if no_site:
        raise DomainError(no_site, field="site")
    if not details.site_id:
        raise DomainError(_("Choose one of your organisation's pick-up sites."), field="site")
    if details.available_until is None:
        raise DomainError(_("Choose a date after today."), field="available_until")


def _apply(listing: Listing, details: ListingDetails, checked: _Checked) -> None:
    listing.title = " ".join(details.title.split())
    listing.description = details.description.strip()
    listing.category = checked.category
    listing.site = checked.site
    # A draft may have no condition yet (None only there).
    listing.condition = details.condition or None  # type: ignore[assignment]
    listing.unit = details.unit
    if checked.quantity is None:  # a draft, which nobody can claim
        listing.quantity = listing.quantity_available = None
    elif listing.quantity is None or listing.quantity_available == listing.quantity:
        listing.quantity_available = checked.quantity
    else:  # claims have taken part of it: keep what they took
        taken = listing.quantity - listing.quantity_available
        if checked.quantity < taken:
            raise DomainError(ngettext("%(quantity)s has been promised to others already.",
                                       "%(quantity)s have been promised to others already.",
                                       taken, quantity=listing.unit.quantity(taken)),
                              field="quantity")
        listing.quantity_available = checked.quantity - taken
    listing.quantity = checked.quantity
    listing.available_until = checked.available_until
    listing.value_per_unit = details.value_per_unit
    listing.weight_per_unit_kg = details.weight_per_unit_kg
    listing.delivery_possible = details.delivery_possible
    listing.best_before = details.best_before
    listing.batch_number = (details.batch_number or "").strip() or None
    listing.packaging_unopened = details.packaging_unopened
    listing.storage_conditions = (details.storage_conditions or "").strip() or None
    listing.cleaned_on = details.cleaned_on
    listing.inspected_on = details.inspected_on
    listing.internal_days = details.internal_days


# --- photos ----------------------------------------------------------------------------------

def _too_many_photos() -> DomainError:
    return DomainError(_("A listing can have at most %(max)d photos.", max=MAX_PHOTOS),
                       field="photos")


def _prepare_uploads(uploads: list[Upload]) -> list[PreparedPhoto]:
    """Decode every upload before anything is stored; all refusals are reported at once."""
    # Counted before decoding: a small file can take a second and hundreds of MB to decode, so a
    # form with hundreds of them must not be decoded first and refused for their number after.
    distinct: dict[bytes, Upload] = {}
    for upload in uploads:
        distinct.setdefault(hashlib.sha256(upload.data).digest(), upload)
    if len(distinct) > MAX_PHOTOS:
        raise _too_many_photos()
    # Costed from their headers before any is decoded: a form whose photos together would take
    # too long or too much memory is refused at once (photos.over_decode_budget). The same
    # file sent twice is decoded once (and shown once).
    usable, costs, refusals = [], [], []
    for upload in distinct.values():
        try:
            costs.append((upload.filename, decode_cost(upload.data, upload.filename)))
            usable.append(upload)
        except PhotoRejected as error:
            refusals.append(error.message)
    over = over_decode_budget(costs)
    if over:
        raise DomainError(" ".join([*refusals, *(error.message for error in over)]),
                          field="photos")
    prepared = []
    for upload in usable:
        try:
            prepared.append(prepare_photo(upload.data, upload.filename))
        except PhotoRejected as error:
            refusals.append(error.message)
    if refusals:
        raise DomainError(" ".join(refusals), field="photos")
    return prepared


def _apply_photo_changes(actor: User, listing: Listing, changes: PhotoChanges,
                         prepared: list[PreparedPhoto]) -> set[int]:
    """Reorder, relabel and remove existing photos, then append new ones (uploads, then the
    actor's staged photos, which are taken); returns the ids of photos taken off."""
    edits = {edit.listing_photo_id: edit for edit in changes.edits}
    removed: set[int] = set()
    kept: list[tuple[int, int, ListingPhoto]] = []
    for index, listing_photo in enumerate(list(listing.photos)):
        edit = edits.get(listing_photo.id)
        if edit is not None and edit.remove:
            removed.add(listing_photo.photo_id)
            listing.photos.remove(listing_photo)
            continue
        if edit is not None:
            listing_photo.alt_text = edit.alt_text.strip()[:200]
        kept.append((edit.position if edit else index + 1, index, listing_photo))
    kept.sort(key=lambda item: (item[0], item[1]))
    kept_hashes = {listing_photo.photo.content_hash for _p, _i, listing_photo in kept}
    new_hashes = ({item.content_hash for item in prepared}
                  | {row.photo.content_hash for row in changes.staged}) - kept_hashes
    if len(kept) + len(new_hashes) > MAX_PHOTOS:
        raise _too_many_photos()
    present = {listing_photo.photo_id for _position, _index, listing_photo in kept}
    for position, (_wanted, _index, listing_photo) in enumerate(kept):
        listing_photo.position = position
    position = len(kept)
    for photo in [*map(save_prepared, prepared), *take_staged(actor, changes.staged)]:
        if photo.id in present:
            continue  # the same picture twice on one listing is shown once
        present.add(photo.id)
        listing.photos.append(ListingPhoto(photo=photo, position=position))
        position += 1
    return removed - present


def _delete_photos_after_commit(removed_photo_ids: set[int]) -> None:
    # Files written in this unit go away with a rollback (see services/photos/storing.py); the
    # photos taken off the listing go after the commit, in a unit of their own, if no other
    # listing shows them (their files once that commits too).
    if removed_photo_ids:
        after_commit(lambda: atomic(delete_unreferenced_photos)(removed_photo_ids))


# --- the lifecycle ---------------------------------------------------------------------------

def _require_participation(actor: User) -> None:
    reason = participation_block_reason(actor)
    if reason is not None:
        raise PermissionDenied(reason)


def _require_editor(actor: User, listing: Listing) -> None:
    require(actor, Action.EDIT_LISTING, listing,
            _("Only the poster and their organisation admins can change this listing."))


def _audit_on_behalf(actor: User, listing: Listing, action: str) -> None:
    """An admin changing someone else's listing is an admin action: it goes in the audit log."""
    if listing.created_by_id != actor.id:
        audit.record(actor, action, listing)


@atomic
def create_listing(actor: User, details: ListingDetails, photos: PhotoChanges,
                   submit: bool) -> Listing:
    """A new listing, saved as a draft or submitted (for review, or published when trusted)."""
    _require_participation(actor)
    checked = _validate(actor, actor.organisation_id, details, draft=not submit)
    prepared = _prepare_uploads(photos.uploads)
    listing = Listing(organisation_id=actor.organisation_id, created_by=actor,
                      status=ListingStatus.DRAFT)
    _apply(listing, details, checked)
    db.session.add(listing)
    apply_passport(listing, checked.category, details.passport, draft=not submit)
    _apply_photo_changes(actor, listing, photos, prepared)
    if submit:
        _submit(actor, listing)
    return listing


# What "post similar" takes over: what the thing is and where it is. Quantities, dates and
# the facts of one batch (best-before, batch number, cleaning, inspection) are the poster's to
# fill in again.
_COPIED = ("title", "description", "category_id", "site_id", "condition", "unit", "quantity",
           "value_per_unit", "weight_per_unit_kg", "delivery_possible", "packaging_unopened",
           "storage_conditions")


@atomic
def copy_as_draft(actor: User, source: Listing) -> Listing:
    """"Post similar": a new draft of the actor's organisation with what `source` says and
    shows, its photos included, for the next batch of the same thing. Raises PermissionDenied."""
    require(actor, Action.COPY_LISTING, source,
            _("Only members of the organisation that offered it can post it again."))
    draft = Listing(organisation_id=source.organisation_id, created_by=actor,
                    status=ListingStatus.DRAFT)
    archived_site = source.site is not None and not source.site.active
    for name in _COPIED:
        if name != "site_id" or not archived_site:  # archived since: the poster chooses another
            setattr(draft, name, getattr(source, name))
    draft.quantity_available = draft.quantity
    draft.photos = [ListingPhoto(photo_id=item.photo_id, position=item.position,
                                 alt_text=item.alt_text) for item in source.photos]
    draft.passport = copy_passport(source.passport)
    db.session.add(draft)
    db.session.flush()
    return draft


@atomic
def update_listing(actor: User, listing: Listing, details: ListingDetails, photos: PhotoChanges,
                   submit: bool) -> Listing:
    """Save changes. Submitting sends a draft or rejected listing to review (or publishes it);
    a published listing of an untrusted organisation goes back to review."""
    _require_editor(actor, listing)
    if listing.status not in EDITABLE:
        raise DomainError(_("A listing that is %(status)s cannot be edited.",
                            status=listing.status.label))
    draft = not submit and listing.status is ListingStatus.DRAFT
    checked = _validate(actor, listing.organisation_id, details, draft=draft)
    prepared = _prepare_uploads(photos.uploads)
    _apply(listing, details, checked)
    apply_passport(listing, checked.category, details.passport, draft=draft)
    removed = _apply_photo_changes(actor, listing, photos, prepared)
    if listing.status is ListingStatus.PUBLISHED:
        if not listing.photos:
            raise DomainError(_("Add at least one photo: a published listing cannot be "
                                "without one. Add the new photo before you remove the last "
                                "one."), field="photos")
        held = hold_for_watch_words(listing)
        if held or not listing.organisation.trusted:
            move(listing, ListingStatus.PENDING_REVIEW)
            listing.submitted_at = utcnow()
    elif submit:
        _submit(actor, listing)
    elif listing.status is ListingStatus.PENDING_REVIEW:
        hold_for_watch_words(listing)  # the moderator sees what it says now
    _audit_on_behalf(actor, listing, "listing.edit")
    _delete_photos_after_commit(removed)
    return listing


def _submit(actor: User, listing: Listing) -> None:
    _require_participation(actor)
    if not listing.photos:
        raise DomainError(_("Add at least one photo: listings with photos find a taker."),
                          field="photos")
    listing.submitted_at = utcnow()
    listing.moderation_reason = None
    held = hold_for_watch_words(listing)
    # A device a field safety notice concerns waits for a moderator, whatever the trust.
    if listing.organisation.trusted and not held and not held_by_notice(listing):
        publish(listing)
    else:
        move(listing, ListingStatus.PENDING_REVIEW)


def publish(listing: Listing, now: datetime | None = None) -> None:
    """The one way a listing is published (on submission by a trusted organisation, or a
    moderator's approval): dated, and announced to alerts and wanted posts (deferred while it
    is internal). It joins the caller's unit of work."""
    now = now or utcnow()
    move(listing, ListingStatus.PUBLISHED)
    listing.published_at = now
    listing.internal_until = now + timedelta(days=listing.internal_days) \
        if listing.internal_days else None
    db.session.flush()
    announce(listing, now)


@atomic
def withdraw_listing(actor: User, listing: Listing) -> None:
    _require_editor(actor, listing)
    if listing.status not in WITHDRAWABLE:
        raise DomainError(_("This listing cannot be withdrawn any more."))
    move(listing, ListingStatus.WITHDRAWN)
    tell_waiting_claimants(listing)
    _audit_on_behalf(actor, listing, "listing.withdraw")


@atomic
def relist_listing(actor: User, listing: Listing, available_until: date | None = None) -> None:
    """Offer an expired or withdrawn listing again, until a new date."""
    _require_editor(actor, listing)
    _require_participation(actor)
    if listing.status not in RELISTABLE:
        raise DomainError(_("Only expired or withdrawn listings can be offered again."))
    if listing.quantity_available < 1:
        raise DomainError(_("Nothing of this listing is left to offer."))
    until = available_until or default_available_until()
    if not local_today() < until <= latest_available_until():
        raise DomainError(_("Choose a date after today."), field="available_until")
    listing.available_until = until
    _submit(actor, listing)
    _audit_on_behalf(actor, listing, "listing.relist")
