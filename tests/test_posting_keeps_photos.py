"""The posting form without JavaScript keeps every photo that reached us through every error:
a field left out, a photo refused by itself, a request too large; staged photos are shown again
as thumbnails with their `staged_photo` fields, and nobody chooses a photo twice."""

from __future__ import annotations

import re
from dataclasses import replace

import builders
import pytest
from builders import GOOD_IMAGES
from helpers import SHARED_TESTDATA, AuthActions
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Listing, ListingStatus, Photo, Role, StagedPhoto, Unit
from marketplace.services import listings as listing_service
from marketplace.services.errors import DomainError
from marketplace.services.listings import ListingDetails, PhotoChanges

HOSTILE = SHARED_TESTDATA / "images" / "hostile"
THREE = ("hopper.jpg", "hopper.png", "hopper.webp")


def staged_ids(body: str) -> list[str]:
    return re.findall(r'name="staged_photo" value="(\d+)"', body)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_three_photos_and_no_title_keeps_the_three_and_fixing_the_title_publishes_them(
        make_user, login_as):
    poster = make_user()
    poster.organisation.trusted = True
    db.session.commit()
    client = login_as(poster)
    response = builders.post_listing(client, poster, photos=THREE, title="")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    ids = staged_ids(body)
    assert len(ids) == 3
    assert body.count('class="photo-editor-item" data-staged-id=') == 3
    assert "Your photos have been kept." in body
    hashes = [db.session.get(StagedPhoto, int(number)).photo.content_hash for number in ids]

    response = builders.post_listing(client, poster, photos=(), staged_photo=ids)
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = db.session.scalar(select(Listing))
    assert listing.status is ListingStatus.PUBLISHED
    assert [item.photo.content_hash for item in listing.photos] == hashes
    assert count(StagedPhoto) == 0


def test_the_order_of_the_staged_fields_is_the_order_of_the_photos(make_user, login_as):
    poster = make_user()
    client = login_as(poster)
    ids = staged_ids(builders.post_listing(client, poster, photos=THREE, title="")
                     .get_data(as_text=True))
    photo_ids = [db.session.get(StagedPhoto, int(number)).photo_id for number in ids[::-1]]
    assert builders.post_listing(client, poster, photos=(),
                                 staged_photo=ids[::-1]).status_code == 302
    listing = db.session.scalar(select(Listing))
    assert [item.photo_id for item in listing.photos] == photo_ids


def test_an_oversize_photo_is_named_and_the_two_good_ones_kept(make_app, make_user):
    app = make_app(PHOTO_MAX_BYTES=20_000)  # hopper.png is 30 kB, the others smaller
    with app.app_context():
        poster = make_user()
        client = app.test_client()
        AuthActions(client).login(poster)
        response = builders.post_listing(client, poster, photos=THREE)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "hopper.png is larger than" in body
        assert len(staged_ids(body)) == 2
        assert count(Listing) == 0 and count(StagedPhoto) == 2


def test_a_hostile_file_is_refused_alone(make_user, login_as):
    poster = make_user()
    client = login_as(poster)
    response = builders.post_listing(
        client, poster, photos=["hopper.jpg", HOSTILE / "script.svg", "hopper.webp"])
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "script.svg is not a photo we can use" in body
    assert len(staged_ids(body)) == 2
    assert count(Photo) == 2


def test_a_staged_photo_ticked_for_removal_goes(make_user, login_as):
    poster = make_user()
    client = login_as(poster)
    ids = staged_ids(builders.post_listing(client, poster, photos=THREE[:2], title="")
                     .get_data(as_text=True))
    response = builders.post_listing(client, poster, photos=(), title="",
                                     staged_photo=ids, remove_staged=ids[0])
    assert staged_ids(response.get_data(as_text=True)) == ids[1:]
    assert count(StagedPhoto) == 1 and count(Photo) == 1


def test_another_members_staged_photo_cannot_be_put_on_a_listing(make_user, login_as):
    owner = make_user()
    ids = staged_ids(builders.post_listing(login_as(owner), owner, photos=THREE[:1], title="")
                     .get_data(as_text=True))
    other = make_user(organisation=owner.organisation)
    response = builders.post_listing(login_as(other), other, photos=(), staged_photo=ids)
    assert response.status_code == 422  # no photo of theirs: "add at least one photo"
    assert count(StagedPhoto) == 1 and count(Listing) == 0


def test_a_request_too_large_shows_the_form_with_the_staged_photos(make_app, make_user):
    app = make_app(MAX_CONTENT_LENGTH=20_000)
    with app.app_context():
        poster = make_user()
        client = app.test_client()
        AuthActions(client).login(poster)
        kept = client.post("/listings/photos/staged",
                           data={"photo": builders.upload("hopper.jpg")},
                           content_type="multipart/form-data").get_json()
        response = builders.post_listing(client, poster, photos=["hopper.png"])
        body = response.get_data(as_text=True)
        assert response.status_code == 413
        assert 'name="title"' in body and "Send fewer photos at a time" in body
        assert staged_ids(body) == [str(kept["id"])]


def test_the_request_limit_is_never_below_what_the_form_promises(make_app, monkeypatch):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", str(1024 * 1024))
    monkeypatch.setenv("PHOTO_MAX_BYTES", str(15 * 1024 * 1024))
    from marketplace.config import settings_from_environment

    settings = settings_from_environment(GOOD_IMAGES)
    assert settings["MAX_CONTENT_LENGTH"] >= 8 * 15 * 1024 * 1024 + 1024 * 1024


# --- drafts ----------------------------------------------------------------------------------

def test_a_draft_with_only_a_title_saves_and_publishing_asks_for_the_rest(make_user, login_as):
    poster = make_user()
    client = login_as(poster)
    response = client.post("/listings/new", data={"title": "Rolstoelen", "unit": "piece",
                                                  "save_draft": "Save"})
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = db.session.scalar(select(Listing))
    assert listing.status is ListingStatus.DRAFT
    assert listing.category_id is None and listing.site_id is None and listing.quantity is None
    for page in (response.headers["Location"], f"/listings/{listing.id}/edit",
                 "/listings/mine?status=draft"):
        assert client.get(page).status_code == 200, page
    published = client.post(f"/listings/{listing.id}/edit",
                            data={"title": "Rolstoelen", "unit": "piece", "submit": "Publish"})
    assert published.status_code == 422
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).status is ListingStatus.DRAFT


def test_a_draft_keeps_what_is_valid_and_refuses_what_is_not(make_user, login_as):
    poster = make_user()
    client = login_as(poster)
    refused = client.post("/listings/new", data={"title": "Rolstoelen", "quantity": "0",
                                                 "unit": "piece", "save_draft": "Save"})
    assert refused.status_code == 422 and count(Listing) == 0
    assert client.post("/listings/new", data={
        "title": "Rolstoelen", "quantity": "3", "description": "Drie stuks",
        "unit": "piece", "save_draft": "Save"}).status_code == 302
    listing = db.session.scalar(select(Listing))
    assert (listing.quantity, listing.description) == (3, "Drie stuks")


def test_condition_has_no_preset(make_user, login_as):
    poster = make_user()
    body = login_as(poster).get("/listings/new").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="condition".*?</select>', body, re.S).group(0)
    assert "selected" not in select_html  # the first option, "Choose…", shows
    assert re.search(r'<select[^>]*>\s*<option value="">', select_html)


# --- no pick-up site -------------------------------------------------------------------------

def organisation_without_a_site(make_org, make_user):
    organisation = make_org()
    organisation.sites[0].active = False
    admin = make_user(organisation=organisation, role=Role.ORG_ADMIN, name="Ank Beheer")
    member = make_user(organisation=organisation)
    db.session.commit()
    return admin, member


def test_a_member_without_a_site_is_told_before_typing_and_who_adds_one(make_org, make_user,
                                                                        login_as):
    _admin, member = organisation_without_a_site(make_org, make_user)
    client = login_as(member)
    body = client.get("/listings/new").get_data(as_text=True)
    assert 'id="no-pick-up-site"' in body and "ask Ank Beheer" in body
    assert "/sites/new" not in body
    response = builders.post_listing(client, member, photos=THREE[:2], site="")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.count("ask Ank Beheer") >= 2  # the note, and the refusal at the field
    assert 'value="Rollators, inklapbaar"' in body and len(staged_ids(body)) == 2
    draft = client.post("/listings/new", data={"title": "Rolstoelen", "unit": "piece",
                                               "save_draft": "Save"})
    assert draft.status_code == 302


def test_an_admin_without_a_site_gets_a_link_to_add_one(make_org, make_user, login_as):
    admin, _member = organisation_without_a_site(make_org, make_user)
    body = login_as(admin).get("/listings/new").get_data(as_text=True)
    assert f'href="/organisations/{admin.organisation_id}/sites/new"' in body
    assert "Add a site first" in body


def test_publishing_without_a_site_is_refused_by_the_service_with_who_adds_one(
        app, make_org, make_user):
    _admin, member = organisation_without_a_site(make_org, make_user)
    details = builders.listing_details(make_user(), site_id=None)
    with pytest.raises(DomainError, match="ask Ank Beheer"):
        listing_service.create_listing(member, details, PhotoChanges(), submit=True)


def test_the_service_saves_a_draft_with_a_title_alone_and_refuses_to_publish_it(app, make_user):
    poster = make_user()
    bare = ListingDetails(title="Rolstoelen", description="", category_id=None,
                          condition=None, quantity=None, unit=Unit.PIECE,
                          site_id=None, available_until=None)
    with pytest.raises(DomainError) as refused:
        listing_service.create_listing(poster, bare, PhotoChanges(), submit=True)
    assert refused.value.field == "description"
    draft = listing_service.create_listing(poster, bare, PhotoChanges(), submit=False)
    assert draft.status is ListingStatus.DRAFT and draft.quantity is None
    with pytest.raises(DomainError) as wrong:
        listing_service.create_listing(poster, replace(bare, quantity=0), PhotoChanges(),
                                       submit=False)
    assert wrong.value.field == "quantity"


def test_the_form_states_the_photo_limit_that_is_applied(make_app, make_user):
    app = make_app(PHOTO_MAX_BYTES=5 * 1024 * 1024)
    with app.app_context():
        client = app.test_client()
        AuthActions(client).login(make_user())
        body = client.get("/listings/new").get_data(as_text=True)
        assert "1 to 8 photos: JPEG, PNG, WebP or HEIC, at most 5 MB each." in body
