"""Photos uploaded before the listing is saved (staged): the JSON endpoints the browser's
uploader calls, who may use them, and their removal after a day."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from builders import GOOD_IMAGES, upload
from helpers import PASSWORD, SHARED_TESTDATA, AuthActions, csrf_token
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Photo, StagedPhoto
from marketplace.models.base import utcnow
from marketplace.services.photos import VARIANTS, photo_file_name, purge_stale_staged
from marketplace.storage import get_storage

HOSTILE = SHARED_TESTDATA / "images" / "hostile"
STAGE = "/listings/photos/staged"


def stage(client, photo="hopper.jpg", **headers):
    return client.post(STAGE, data={"photo": upload(photo)}, headers=headers,
                       content_type="multipart/form-data")


def test_a_staged_photo_answers_its_id_thumbnail_and_name(make_user, login_as):
    member = make_user()
    client = login_as(member)
    response = stage(client, (GOOD_IMAGES / "hopper.png", "IMG_0001.png"))
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.get_json()
    row = db.session.get(StagedPhoto, answer["id"])
    assert row.owner_id == member.id and answer["name"] == "IMG_0001.png"
    thumbnail = client.get(answer["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/webp"
    assert "private" in thumbnail.headers["Cache-Control"]
    thumbnail.close()


def test_a_refused_photo_answers_why_naming_it(make_user, login_as):
    client = login_as(make_user())
    response = stage(client, (HOSTILE / "program.jpg", "vakantie.jpg"))
    assert response.status_code == 422
    assert "vakantie.jpg" in response.get_json()["error"]
    assert db.session.scalar(select(StagedPhoto.id)) is None


def test_an_oversize_photo_is_refused_as_too_large(make_app, make_user):
    app = make_app(PHOTO_MAX_BYTES=4000)
    with app.app_context():
        client = app.test_client()
        AuthActions(client).login(make_user())
        response = stage(client, (GOOD_IMAGES / "hopper.jpg", "groot.jpg"))
        assert response.status_code == 413
        assert "groot.jpg" in response.get_json()["error"]


def test_only_the_uploader_sees_uses_or_removes_a_staged_photo(make_user, login_as):
    owner = make_user()
    colleague = make_user(organisation=owner.organisation)
    answer = stage(login_as(owner)).get_json()
    other = login_as(colleague)
    assert other.get(answer["thumbnail_url"]).status_code == 404
    assert other.post(f"{STAGE}/{answer['id']}/remove").status_code == 404
    assert db.session.get(StagedPhoto, answer["id"]) is not None


def test_removing_a_staged_photo_deletes_it_and_its_unused_files(make_user, login_as):
    client = login_as(make_user())
    answer = stage(client).get_json()
    content_hash = db.session.get(StagedPhoto, answer["id"]).photo.content_hash
    assert client.post(f"{STAGE}/{answer['id']}/remove").status_code == 204
    db.session.expire_all()
    assert db.session.get(StagedPhoto, answer["id"]) is None
    assert db.session.scalar(select(Photo).where(Photo.content_hash == content_hash)) is None
    assert not any(get_storage().exists(photo_file_name(content_hash, variant))
                   for variant in VARIANTS)
    assert client.post(f"{STAGE}/{answer['id']}/remove").status_code == 404


def test_staging_needs_the_csrf_token(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        member = make_user()
        client = app.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        client.post("/auth/login", data={"email": member.email, "password": PASSWORD,
                                         "csrf_token": csrf_token(page)})
        refused = stage(client)
        assert refused.status_code == 400 and refused.get_json()["error"]
        token = csrf_token(client.get("/listings/new").get_data(as_text=True))
        assert stage(client, **{"X-CSRFToken": token}).status_code == 201


def test_staged_photos_older_than_a_day_go_with_their_unused_files(make_user, login_as):
    client = login_as(make_user())
    old = stage(client, "hopper.jpg").get_json()["id"]
    fresh = stage(client, "hopper.png").get_json()["id"]
    row = db.session.get(StagedPhoto, old)
    content_hash = row.photo.content_hash
    row.created_at = utcnow() - timedelta(days=1, minutes=1)
    db.session.commit()
    assert purge_stale_staged() == 1
    db.session.expire_all()
    assert db.session.get(StagedPhoto, old) is None
    assert db.session.get(StagedPhoto, fresh) is not None
    assert not get_storage().exists(photo_file_name(content_hash, "card"))


def test_a_refused_upload_is_not_staged_but_the_earlier_ones_stay(make_user, login_as):
    client = login_as(make_user())
    kept = stage(client).get_json()["id"]
    assert stage(client, (BytesIO(b""), "leeg.jpg")).status_code == 422
    assert db.session.scalars(select(StagedPhoto.id)).all() == [kept]
