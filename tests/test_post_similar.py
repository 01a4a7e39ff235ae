""""Post similar": the next batch of the same thing starts as a draft with the text and photos
of the last one, for any colleague who may post; the facts of one batch are asked again."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from builders import listing_form, post_listing
from helpers import reload
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Listing, ListingStatus, Photo, Role
from marketplace.services.photos import photo_file_name


@pytest.fixture
def poster(app, make_user, make_org):
    organisation = make_org()
    organisation.trusted = True
    return make_user(organisation=organisation, name="Petra Poster")


def newest_listing() -> Listing:
    return db.session.scalars(select(Listing).order_by(Listing.id.desc())).first()


def published(client, poster, **fields) -> Listing:
    response = post_listing(client, poster, photos=["hopper.jpg", "hopper.png"],
                            best_before=(date.today() + timedelta(days=200)).isoformat(),
                            batch_number="LOT-77", **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = newest_listing()
    assert listing.status is ListingStatus.PUBLISHED
    return listing


def test_a_colleague_posts_the_next_batch_as_a_draft_with_text_and_photos(poster, make_user,
                                                                          login_as):
    source = published(login_as(poster), poster, quantity="12")
    colleague = make_user(organisation=poster.organisation, name="Cor Collega")
    client = login_as(colleague)

    page = client.get(f"/listings/{source.id}").get_data(as_text=True)
    assert "Post similar" in page
    response = client.post(f"/listings/{source.id}/copy")

    draft = newest_listing()
    assert draft.id != source.id
    assert response.headers["Location"] == f"/listings/{draft.id}/edit"
    assert "A copy is saved as a draft" in client.get(response.headers["Location"]) \
        .get_data(as_text=True)
    assert draft.status is ListingStatus.DRAFT and draft.created_by_id == colleague.id
    for name in ("title", "description", "category_id", "site_id", "condition", "unit",
                 "quantity"):
        assert getattr(draft, name) == getattr(source, name), name
    assert draft.quantity_available == 12
    assert [(item.photo_id, item.alt_text) for item in draft.photos] == \
        [(item.photo_id, item.alt_text) for item in source.photos]
    # The facts of one batch are the poster's to give again.
    assert draft.best_before is None and draft.batch_number is None
    assert reload(source).status is ListingStatus.PUBLISHED  # the source is untouched


def test_the_copys_photos_stay_when_the_source_drops_them(poster, login_as):
    client = login_as(poster)
    source = published(client, poster)
    client.post(f"/listings/{source.id}/copy")
    draft = newest_listing()
    photos_before = db.session.scalar(select(func.count(Photo.id)))

    # The poster takes a photo off the source (a photo nothing shows is deleted then).
    data = listing_form(poster, photos=[], submit="", save_draft="Save")
    data[f"photo-{source.photos[0].id}-remove"] = "y"
    data["confirm_photo_removal"] = "yes"
    response = client.post(f"/listings/{source.id}/edit", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    assert len(reload(source).photos) == 1

    assert db.session.scalar(select(func.count(Photo.id))) == photos_before
    for item in reload(draft).photos:
        with client.get(f"/photos/{photo_file_name(item.photo, 'card')}") as served:
            assert served.status_code == 200


def test_an_archived_site_is_left_for_the_poster_to_choose(poster, login_as):
    client = login_as(poster)
    source = published(client, poster)
    source.site.active = False
    db.session.commit()

    client.post(f"/listings/{source.id}/copy")

    assert newest_listing().site_id is None


def test_only_the_organisations_colleagues_who_may_post_can_copy(poster, make_user, login_as):
    source = published(login_as(poster), poster)
    count_before = db.session.scalar(select(func.count(Listing.id)))
    outsider = login_as(make_user(name="Olga Buiten"))
    platform_admin = login_as(make_user(role=Role.PLATFORM_ADMIN))

    assert "Post similar" not in outsider.get(f"/listings/{source.id}").get_data(as_text=True)
    assert outsider.post(f"/listings/{source.id}/copy").status_code == 403
    assert platform_admin.post(f"/listings/{source.id}/copy").status_code == 403
    assert db.session.scalar(select(func.count(Listing.id))) == count_before
