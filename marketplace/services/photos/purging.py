"""Photos of refused listings removed after a grace period (personal data)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Listing, ListingPhoto, ListingStatus
from ...unit_of_work import Skip, after_commit, each_in_own_unit, unit_of_work
from .storing import delete_unreferenced_photos

# Logged under the package's name, as before it was split.
log = logging.getLogger(__package__)


def purge_refused_listing_photos(now: datetime | None = None,
                                 grace: timedelta | None = None) -> int:
    """Take the photos off listings rejected or removed by moderation whose last change is
    older than the grace period (PHOTO_GRACE_DAYS), and delete the files no other listing
    shows. A rejected listing edited or resubmitted within the period keeps its photos (its
    change restarts the period, or its status moved on). Returns how many listings lost their
    photos; each is its own transaction, conditional on the listing still qualifying, so two
    runs at once purge a listing once."""
    now = now or datetime.now(UTC)
    if grace is None:
        grace = timedelta(days=current_app.config["PHOTO_GRACE_DAYS"])
    qualifies = (Listing.status.in_([ListingStatus.REJECTED, ListingStatus.REMOVED])
                 & (Listing.updated_at < now - grace))
    has_photos = select(ListingPhoto.id).where(ListingPhoto.listing_id == Listing.id).exists()
    with unit_of_work():  # read, and the transaction ended, before the listings one by one
        listing_ids = db.session.scalars(
            select(Listing.id).where(qualifies, has_photos).order_by(Listing.id)).all()

    def purge(listing_id: int) -> bool:
        # Lock the listing (PostgreSQL), so an edit at this moment waits, then check again.
        still = db.session.scalar(select(Listing.id).where(Listing.id == listing_id, qualifies)
                                  .with_for_update())
        photo_ids = set(db.session.scalars(
            select(ListingPhoto.photo_id).where(ListingPhoto.listing_id == listing_id)))
        # A DELETE's result is a CursorResult; execute()'s overloads cannot know it.
        detached = 0 if still is None else cast("CursorResult[Any]", db.session.execute(
            delete(ListingPhoto).where(ListingPhoto.listing_id == listing_id)
            .execution_options(synchronize_session=False))).rowcount
        if not detached:
            raise Skip  # changed since, or another run was first
        try:
            delete_unreferenced_photos(photo_ids)  # the files go once this unit has committed
        except IntegrityError:
            # The same picture was just uploaded to another listing: try again next run.
            log.warning("Photos of listing %s are in use again; kept for now", listing_id)
            raise Skip from None
        after_commit(lambda: log.info(
            "Removed the photos of refused listing %s after the grace period", listing_id))
        return True

    return each_in_own_unit(listing_ids, purge)
