"""Saving a draft: a title is enough. What else a draft has must be valid (the listing service
checks it); what it leaves empty may stay empty until it is published."""

from __future__ import annotations

from wtforms import Field

from ..models import Listing, ListingStatus
from .forms import ListingForm

# The fields a draft may leave empty; publishing asks for each (services/listings.py).
DRAFT_MAY_LEAVE_EMPTY = ("description", "category", "condition", "quantity", "site",
                         "available_until")


def saving_draft(form: ListingForm, listing: Listing | None) -> bool:
    """The member saves a new listing or a draft as a draft (not a listing already out)."""
    return bool(form.save_draft.data) and not form.submit.data and (
        listing is None or listing.status is ListingStatus.DRAFT)


def form_ready(form: ListingForm, listing: Listing | None) -> bool:
    """`validate_on_submit`, except that a draft may leave the fields above empty."""
    if not form.is_submitted():
        return False
    if form.validate():
        return True
    if not saving_draft(form, listing):
        return False
    for name in DRAFT_MAY_LEAVE_EMPTY:
        if _left_empty(form[name]):
            form[name].errors = []
    return not form.errors


def _left_empty(field: Field) -> bool:
    return not any(value.strip() for value in field.raw_data or [] if isinstance(value, str))
