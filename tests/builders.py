"""What a member posts: a complete, valid listing form (and the details the listing service
gets from it), to change one field of at a time.

The database builders (`make_org`, `make_user`, `make_listing`, `make_claim`) are fixtures in
conftest.py; this module holds the request side, so every test posts the same valid form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

from flask.testing import FlaskClient
from helpers import SHARED_TESTDATA
from sqlalchemy import select
from werkzeug.test import TestResponse

from marketplace.extensions import db
from marketplace.models import Category, Condition, Organisation, Unit, User
from marketplace.services.listings import ListingDetails

GOOD_IMAGES = SHARED_TESTDATA / "images" / "good"


def category_id(slug: str = "medical-aids") -> int:
    found = db.session.scalar(select(Category.id).where(Category.slug == slug))
    assert found is not None, slug
    return found


Photo = str | Path | tuple[Path, str] | tuple[BytesIO, str]


def upload(photo: Photo) -> tuple[BytesIO, str]:
    """A file field's value: a real image, by name in the good images, by path, or as
    (path, the file name the browser sends); a ready (BytesIO, name) is passed on."""
    if isinstance(photo, tuple) and isinstance(photo[0], BytesIO):
        return photo  # type: ignore[return-value]
    path, name = photo if isinstance(photo, tuple) else (photo, None)
    path = path if isinstance(path, Path) else GOOD_IMAGES / path
    return BytesIO(path.read_bytes()), name or path.name


def impact_fields() -> dict[str, str]:
    """The optional fields the impact figures and the medical-aid details use."""
    return {"value_per_unit": "89.50", "weight_per_unit_kg": "7.5",
            "cleaned_on": date.today().isoformat()}


def listing_form(poster: User | Organisation, *, photos: Iterable[Photo] = (),
                 **overrides: object) -> dict[str, object]:
    """Every required field of /listings/new filled in validly for the first site of the
    poster's organisation, and `photos` as uploads; `overrides` replace or add fields."""
    organisation = poster.organisation if isinstance(poster, User) else poster
    data: dict[str, object] = {
        "title": "Rollators, inklapbaar",
        "description": "Twaalf inklapbare rollators met mandje, gereinigd en gecontroleerd.",
        "category": str(category_id()),
        "condition": "good",
        "quantity": "12",
        "unit": "piece",
        "site": str(organisation.sites[0].id),
        "available_until": (date.today() + timedelta(days=30)).isoformat(),
        "internal_days": "0",
        "submit": "Publish",
    }
    uploads = [upload(photo) for photo in photos]
    if uploads:
        data["photos"] = uploads
    data.update(overrides)
    return data


def post_listing(client: FlaskClient, user: User, *, photos: Iterable[Photo] = ("hopper.jpg",),
                 url: str = "/listings/new", **overrides: object) -> TestResponse:
    """Post the listing form (with one photo unless told otherwise) as `user`'s client."""
    return client.post(url, data=listing_form(user, photos=photos, **overrides),
                       content_type="multipart/form-data")


def fields_in_error(page: str) -> list[str]:
    """The ids of the fields a rendered form marks as wrong, in page order."""
    return re.findall(r'id="([\w-]+)-error"', page)


def listing_details(poster: User, **changes: object) -> ListingDetails:
    """What the listing form gives the listing service, valid for `poster`, with `changes`."""
    details = ListingDetails(
        title="Rollators, inklapbaar", description="Twaalf inklapbare rollators met mandje.",
        category_id=category_id(), condition=Condition.GOOD, quantity=12, unit=Unit.PIECE,
        site_id=poster.organisation.sites[0].id,
        available_until=date.today() + timedelta(days=30))
    return replace(details, **changes)  # type: ignore[arg-type]
