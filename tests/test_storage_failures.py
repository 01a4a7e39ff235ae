"""Photo storage failing while a listing is posted or edited (issue 14, item 8), and /healthz
telling of low disk space.

The upload folder fails for real: a folder under a regular file can be neither made nor written,
even by root (for whom a folder without write permission is no obstacle), and a folder standing
where a photo file is to go cannot be replaced by it. Each failure answers 503 on the form, with
what was typed kept and a message that nothing was saved, and leaves no row and no file. The S3
backend failing is tested in test_storage_s3.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from builders import listing_form
from flask import Flask
from flask.testing import FlaskClient
from helpers import SHARED_TESTDATA
from markupsafe import escape
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Listing, ListingPhoto, ListingStatus, Photo, StagedPhoto, User
from marketplace.services.photos import photo_file_name

IMAGES = SHARED_TESTDATA / "images" / "good"
NOTHING_SAVED = "Nothing has been saved: we could not store the photos just now."
TITLE = "Tilliften, elektrisch, met weegschaal"


@pytest.fixture
def poster(app: Flask, make_user: Callable[..., User]) -> User:
    user = make_user(name="Storage Poster")
    user.organisation.trusted = True
    db.session.commit()
    return user


def form(user: User, *files: str, title: str = TITLE) -> dict[str, object]:
    return listing_form(user, photos=files, title=title, quantity="2", description=(
        "Twee elektrische tilliften met ingebouwde weegschaal, gekeurd in maart."))


def post(client: FlaskClient, url: str, data: dict[str, object]):
    return client.post(url, data=data, content_type="multipart/form-data")


def rows() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Listing, ListingPhoto, Photo)}


def everything_in(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")} \
        if folder.exists() else set()


def assert_refused_with_the_form_kept(response, title: str = TITLE) -> None:
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert NOTHING_SAVED in body
    assert f'value="{escape(title)}"' in body
    assert "Twee elektrische tilliften met ingebouwde weegschaal" in body


def block(app: Flask, image: str, variant: str) -> Path:
    """A folder where that variant of that image is to be stored: writing it fails."""
    content_hash = hashlib.sha256((IMAGES / image).read_bytes()).hexdigest()
    blocker = Path(app.config["UPLOAD_FOLDER"]) / photo_file_name(content_hash, variant)
    blocker.mkdir(parents=True)
    return blocker


def test_posting_while_the_upload_folder_cannot_be_written_answers_503_with_the_form_kept(
        app: Flask, poster: User, login_as: Callable[[User], FlaskClient], tmp_path: Path):
    (tmp_path / "a-file").write_text("not a folder")
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "a-file" / "uploads")
    before = rows()
    assert_refused_with_the_form_kept(post(login_as(poster), "/listings/new",
                                           form(poster, "hopper.jpg")))
    assert rows() == before


def test_a_failure_after_some_files_were_written_leaves_none_of_them_and_keeps_the_others(
        app: Flask, poster: User, login_as: Callable[[User], FlaskClient]):
    # The first photo is stored whole (and kept, staged for the poster) and the second's first
    # file too, before its second fails: none of the second's files stays.
    blocker = block(app, "hopper.png", "page")
    folder = Path(app.config["UPLOAD_FOLDER"])
    before_rows = rows()
    response = post(login_as(poster), "/listings/new", form(poster, "hopper.jpg", "hopper.png"))
    assert_refused_with_the_form_kept(response)
    assert rows() == {**before_rows, "photo": before_rows["photo"] + 1}
    kept = db.session.scalar(select(StagedPhoto))
    assert kept.original_name == "hopper.jpg"
    assert f'name="staged_photo" value="{kept.id}"' in response.get_data(as_text=True)
    # No file, no half-written file, but those of the photo kept.
    assert {path.name.split("-")[0] for path in folder.rglob("*") if path.is_file()} == \
        {kept.photo.content_hash}
    assert blocker.is_dir()


def test_an_edit_while_photos_cannot_be_stored_changes_nothing_and_keeps_the_form(
        app: Flask, poster: User, login_as: Callable[[User], FlaskClient],
        make_listing: Callable[..., Listing]):
    listing = make_listing("Tilliften", organisation=poster.organisation,
                           status=ListingStatus.DRAFT, created_by=poster)
    block(app, "hopper.jpg", "card")
    response = post(login_as(poster), f"/listings/{listing.id}/edit",
                    form(poster, "hopper.jpg", title="Tilliften, nu met acculader"))
    assert_refused_with_the_form_kept(response, title="Tilliften, nu met acculader")
    db.session.expire_all()
    assert db.session.get(Listing, listing.id).title == "Tilliften"
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_the_same_form_goes_through_once_storage_works_again(
        app: Flask, poster: User, login_as: Callable[[User], FlaskClient]):
    blocker = block(app, "hopper.jpg", "full")
    client = login_as(poster)
    assert post(client, "/listings/new", form(poster, "hopper.jpg")).status_code == 503
    blocker.rmdir()
    assert post(client, "/listings/new", form(poster, "hopper.jpg")).status_code == 302
    assert db.session.scalar(select(Listing.title)) == TITLE


# --- /healthz and free space ----------------------------------------------------------------

def test_healthz_says_degraded_when_the_upload_disk_has_less_free_than_the_threshold(
        make_app: Callable[..., Flask]):
    # More than any disk has: the real free space of the test's folder is below it.
    app = make_app(HEALTH_MIN_FREE_MB=1024 ** 4)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200  # photos can still be stored: not taken out of service
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["storage"] == "low_space"


def test_healthz_says_ok_with_enough_free_space(make_app: Callable[..., Flask]):
    response = make_app(HEALTH_MIN_FREE_MB=1).test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["storage"] == "ok"
