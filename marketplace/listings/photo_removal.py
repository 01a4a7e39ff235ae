"""Removing photos from a listing is confirmed first (issue 17): the edit form, saved with
photos ticked for removal, comes back with a block naming what goes and a button that saves it
all again with the removal confirmed. Without JavaScript too: the block is a form of its own,
carrying what was posted (the uploads already staged, so by their staged ids)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_babel import gettext as _
from flask_babel import ngettext

from ..confirmation import CONFIRMED, Confirmation
from ..models import Listing, ListingPhoto, ListingStatus
from ..services.listings import PhotoEdit
from .kept_photos import REMOVE_FIELD, STAGED_FIELD, KeptPhotos

CONFIRM_FIELD = "confirm_photo_removal"


@dataclass(frozen=True)
class PhotoRemoval:
    """The confirmation block: its words, the photos that go, and the fields it posts again."""

    confirmation: Confirmation
    photos: list[ListingPhoto]
    fields: list[tuple[str, str]]


def removal_to_confirm(listing: Listing, edits: list[PhotoEdit],
                       kept: KeptPhotos) -> PhotoRemoval | None:
    """The block to show before saving, or None: nothing ticked, already confirmed, or a
    published listing left without photos (the listing service refuses that, and says why)."""
    ticked = {edit.listing_photo_id for edit in edits if edit.remove}
    leaving = [item for item in listing.photos if item.id in ticked]
    if not leaving or request.form.get(CONFIRM_FIELD) == CONFIRMED:
        return None
    if listing.status is ListingStatus.PUBLISHED and len(leaving) == len(listing.photos) \
            and not kept.staged:
        return None
    return PhotoRemoval(confirmation=_confirmation(listing, len(leaving)), photos=leaving,
                        fields=_posted_again(kept))


def _confirmation(listing: Listing, count: int) -> Confirmation:
    return Confirmation(
        title=ngettext("Remove this photo?", "Remove these %(num)d photos?", count),
        consequences=[
            ngettext("%(num)d photo is taken off the listing.",
                     "%(num)d photos are taken off the listing.", count),
            _("A removed photo only comes back if you add it again."),
            _("Your other changes are saved at the same time."),
        ],
        button=ngettext("Yes, remove it and save", "Yes, remove them and save", count),
        back_url="#photos-fieldset")


def _posted_again(kept: KeptPhotos) -> list[tuple[str, str]]:
    """What the form posted (the CSRF token and the button pressed included), with the
    uploads as the staged photos they became, and the confirmation."""
    fields = [(name, value) for name, value in request.form.items(multi=True)
              if name not in (STAGED_FIELD, REMOVE_FIELD, CONFIRM_FIELD)]
    fields += [(STAGED_FIELD, str(row.id)) for row in kept.staged]
    return [*fields, (CONFIRM_FIELD, CONFIRMED)]
