"""Photo storage: the contract every backend keeps (local folder and S3), and the whole app with
its photos in an S3 bucket (moto's S3 server on loopback, one per module)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from builders import post_listing
from flask import Flask
from helpers import SHARED_TESTDATA, AuthActions
from moto.server import ThreadedMotoServer
from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.models import Listing, ListingPhoto, ListingStatus, Photo, User
from marketplace.models.base import utcnow
from marketplace.services.photos import (
    FULL,
    VARIANTS,
    photo_file_name,
    prepare_photo,
    save_prepared,
)
from marketplace.storage import S3Storage, StorageError, UnsafeName, get_storage

IMAGES = SHARED_TESTDATA / "images" / "good"
PREFIX = "photos/"
UNSAFE_NAMES = ["../outside.jpg", "ab/../../outside.jpg", "/etc/passwd", "", ".", "ab/.."]
# A key is taken literally, so S3 refuses what the local folder would resolve to a name inside.
UNSAFE_KEYS = ["ab/../cd.jpg", "ab//cd.jpg", "ab/./cd.jpg", "ab\\cd.jpg", "ab/cd\n.jpg",
               "ab/"]


# --- an S3 service on loopback ----------------------------------------------------------------

@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def no_aws_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """boto3 must find nothing of the machine's own (credentials, profiles, a region)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="module")
def s3(s3_endpoint: str):
    """A client of our own, to look into the bucket behind the app's back."""
    return boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                 region_name="us-east-1").client("s3", endpoint_url=s3_endpoint)


@pytest.fixture
def bucket(s3) -> str:
    name = f"photos-{uuid.uuid4().hex[:12]}"  # a bucket per test: nothing leaks between tests
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_settings(s3_endpoint: str, bucket: str) -> dict[str, str]:
    return {"PHOTO_STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint,
            "S3_REGION": "us-east-1", "S3_PREFIX": PREFIX, "S3_ACCESS_KEY_ID": "test",
            "S3_SECRET_ACCESS_KEY": "test"}


def keys(s3, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", ()))


def local_files(app: Flask) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


# --- the contract, for both backends ---------------------------------------------------------

@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, make_app: Callable[..., Flask]) -> Iterator[str]:
    settings = request.getfixturevalue("s3_settings") if request.param == "s3" else {}
    with make_app(**settings).app_context():
        yield request.param


def test_a_stored_file_is_read_back_replaced_and_deleted(backend: str):
    storage = get_storage()
    assert not storage.exists("ab/file.webp")
    storage.write("ab/file.webp", b"first")
    assert storage.exists("ab/file.webp")
    storage.write("ab/file.webp", b"second")
    assert storage.read("ab/file.webp") == b"second"
    assert list(storage.names()) == ["ab/file.webp"]
    storage.delete("ab/file.webp")
    storage.delete("ab/file.webp")  # already gone: fine
    assert not storage.exists("ab/file.webp")
    assert list(storage.names()) == []


def test_reading_a_missing_file_is_file_not_found(backend: str):
    storage = get_storage()
    with pytest.raises(FileNotFoundError):
        storage.read("ab/never-stored.jpg")
    storage.delete("ab/never-stored.jpg")


def test_names_lists_every_stored_file_across_folders(backend: str):
    storage = get_storage()
    if isinstance(storage, S3Storage):
        storage.page_size = 2  # several list requests for five files
    stored = {f"{folder}/{number}.webp" for folder in ("ab", "cd") for number in range(2)}
    stored.add("ef/gh/deep.jpg")
    for name in stored:
        storage.write(name, name.encode())
    assert sorted(storage.names()) == sorted(stored)
    assert {storage.read(name) for name in storage.names()} == {name.encode() for name in stored}


def assert_refused(storage, name: str) -> None:
    for action in (lambda: storage.write(name, b"x"), lambda: storage.read(name),
                   lambda: storage.exists(name), lambda: storage.path(name),
                   lambda: storage.delete(name)):
        with pytest.raises(UnsafeName):
            action()


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_unsafe_names_are_refused_and_nothing_is_stored(backend: str, name: str,
                                                         tmp_path: Path):
    storage = get_storage()
    assert_refused(storage, name)
    assert list(storage.names()) == []
    assert not (tmp_path / "outside.jpg").exists()


# --- what only the S3 backend does ----------------------------------------------------------

def test_objects_go_under_the_prefix_with_their_content_type(make_app, s3_settings, s3, bucket):
    with make_app(**s3_settings).app_context():
        storage = get_storage()
        storage.write("ab/card.webp", b"RIFF....WEBP")
        storage.write("ab/full.jpg", b"\xff\xd8\xff")
        assert storage.path("ab/full.jpg") is None
    assert keys(s3, bucket) == ["photos/ab/card.webp", "photos/ab/full.jpg"]
    assert s3.head_object(Bucket=bucket, Key="photos/ab/card.webp")["ContentType"] == "image/webp"
    assert s3.head_object(Bucket=bucket, Key="photos/ab/full.jpg")["ContentType"] == "image/jpeg"


@pytest.mark.parametrize("name", UNSAFE_KEYS)
def test_keys_are_taken_literally_so_odd_names_are_refused(make_app, s3_settings, s3, bucket,
                                                            name: str):
    with make_app(**s3_settings).app_context():
        assert_refused(get_storage(), name)
    assert keys(s3, bucket) == []


def test_names_ignore_objects_outside_the_prefix(make_app, s3_settings, s3, bucket):
    s3.put_object(Bucket=bucket, Key="backups/db.sqlite", Body=b"x")
    s3.put_object(Bucket=bucket, Key="photos/ab/", Body=b"")  # a console's "folder"
    s3.put_object(Bucket=bucket, Key="photos/ab/one.jpg", Body=b"1")
    with make_app(**s3_settings).app_context():
        assert list(get_storage().names()) == ["ab/one.jpg"]


def test_without_a_prefix_the_names_are_the_keys(make_app, s3_settings, s3, bucket):
    with make_app(**{**s3_settings, "S3_PREFIX": ""}).app_context():
        get_storage().write("ab/one.jpg", b"1")
        assert list(get_storage().names()) == ["ab/one.jpg"]
    assert keys(s3, bucket) == ["ab/one.jpg"]


def test_a_missing_bucket_is_a_storage_error_not_a_missing_file(make_app, s3_settings):
    with make_app(**{**s3_settings, "S3_BUCKET": "no-such-bucket"}).app_context():
        storage = get_storage()
        with pytest.raises(StorageError, match="no-such-bucket"):
            storage.read("ab/one.jpg")
        with pytest.raises(StorageError):
            storage.write("ab/one.jpg", b"1")
        with pytest.raises(OSError):
            list(storage.names())


def test_one_client_per_app_shared_by_its_threads(make_app, s3_settings, s3, bucket):
    app = make_app(**s3_settings)
    seen: list[object] = []
    errors: list[BaseException] = []

    def work(number: int) -> None:
        try:
            with app.app_context():
                storage = get_storage()
                seen.append(storage)
                for step in range(5):
                    storage.write(f"t{number}/{step}.jpg", bytes([number, step]))
                    assert storage.read(f"t{number}/{step}.jpg") == bytes([number, step])
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({id(storage) for storage in seen}) == 1
    assert len(keys(s3, bucket)) == 8 * 5
    with make_app(**s3_settings).app_context():  # another app: a client of its own
        assert get_storage() is not seen[0]


def test_credentials_may_come_from_the_standard_aws_variables(
        make_app, s3_settings, s3, bucket, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "from-env")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")
    settings = {**s3_settings, "S3_ACCESS_KEY_ID": None, "S3_SECRET_ACCESS_KEY": None}
    with make_app(**settings).app_context():
        storage = get_storage()
        assert storage.client._request_signer._credentials.access_key == "from-env"
        storage.write("ab/one.jpg", b"1")
    assert keys(s3, bucket) == ["photos/ab/one.jpg"]


def test_s3_without_a_bucket_is_a_configuration_error(make_app, s3_settings):
    with make_app(**{**s3_settings, "S3_BUCKET": None}).app_context(), \
            pytest.raises(RuntimeError, match="S3_BUCKET"):
        get_storage()


def test_the_app_runs_without_boto3_on_local_storage(tmp_path: Path):
    script = f"""
import sys
sys.modules["boto3"] = sys.modules["botocore"] = None  # as if not installed
from marketplace import create_app
from marketplace.storage import get_storage
app = create_app({{"TESTING": True, "SECRET_KEY": "x", "UPLOAD_FOLDER": {str(tmp_path)!r},
                  "SQLALCHEMY_DATABASE_URI": "sqlite://"}})
with app.app_context():
    get_storage().write("ab/one.jpg", b"1")
    assert get_storage().read("ab/one.jpg") == b"1"
app.config["PHOTO_STORAGE"] = "s3"
app.config["S3_BUCKET"] = "photos"
with app.app_context():
    try:
        get_storage()
    except RuntimeError as error:
        print(error)
"""
    result = subprocess.run(  # noqa: S603 (our own script)
        [sys.executable, "-c", script], capture_output=True, text=True,
        cwd=Path(__file__).resolve().parent.parent, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "needs boto3" in result.stdout
    assert (tmp_path / "ab" / "one.jpg").read_bytes() == b"1"


# --- the app with its photos in a bucket ----------------------------------------------------

@pytest.fixture
def s3_app(make_app: Callable[..., Flask], s3_settings: dict[str, str]) -> Iterator[Flask]:
    app = make_app(**s3_settings)
    with app.app_context():
        yield app


@pytest.fixture
def poster(s3_app: Flask, make_user: Callable[..., User]) -> User:
    user = make_user(name="Fenna Poster")
    user.organisation.trusted = True  # published at once, so anyone may see the photos
    db.session.commit()
    return user


@pytest.fixture
def login_as(s3_app: Flask) -> Callable[[User], object]:
    """A client of the S3 app (the shared fixture's is of the default app), logged in."""

    def build(user: User):
        client = s3_app.test_client()
        assert AuthActions(client).login(user).status_code == 302
        return client

    return build





def the_listing() -> Listing:
    return db.session.scalar(select(Listing))


def test_a_posted_photo_goes_to_the_bucket_and_not_to_the_upload_folder(
        s3_app, poster, login_as, s3, bucket):
    response = post_listing(login_as(poster), poster)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    [item] = the_listing().photos
    expected = [PREFIX + photo_file_name(item.photo, variant) for variant in VARIANTS]
    assert keys(s3, bucket) == sorted(expected)
    assert local_files(s3_app) == []


def test_photos_from_the_bucket_are_served_with_caching_and_conditional_get(
        s3_app, poster, login_as, make_user, s3, bucket):
    post_listing(login_as(poster), poster)
    photo = the_listing().photos[0].photo
    colleague_elsewhere = login_as(make_user())
    for variant, mimetype in (("card", "image/webp"), ("full", "image/jpeg")):
        name = photo_file_name(photo, variant)
        stored = s3.get_object(Bucket=bucket, Key=PREFIX + name)["Body"].read()
        response = colleague_elsewhere.get(f"/photos/{name}")
        assert response.status_code == 200
        assert response.mimetype == mimetype
        assert response.get_data() == stored
        assert response.content_length == len(stored)
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["ETag"] and response.headers["Last-Modified"]

        again = colleague_elsewhere.get(
            f"/photos/{name}", headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b""
        assert again.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        since = colleague_elsewhere.get(
            f"/photos/{name}", headers={"If-Modified-Since": response.headers["Last-Modified"]})
        assert since.status_code == 304
        part = colleague_elsewhere.get(f"/photos/{name}", headers={"Range": "bytes=0-9"})
        assert part.status_code == 206 and part.get_data() == stored[:10]


def test_a_draft_photo_in_the_bucket_stays_private(s3_app, poster, login_as, make_user):
    client = login_as(poster)
    post_listing(client, poster)
    listing = the_listing()
    listing.status = ListingStatus.DRAFT
    db.session.commit()
    name = photo_file_name(listing.photos[0].photo, "page")
    assert s3_app.test_client().get(f"/photos/{name}").status_code == 404
    assert login_as(make_user()).get(f"/photos/{name}").status_code == 404
    response = client.get(f"/photos/{name}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")


def test_a_photo_missing_from_the_bucket_is_not_found(s3_app, poster, login_as, s3, bucket):
    client = login_as(poster)
    post_listing(client, poster)
    name = photo_file_name(the_listing().photos[0].photo, "card")
    s3.delete_object(Bucket=bucket, Key=PREFIX + name)
    assert client.get(f"/photos/{name}").status_code == 404
    assert client.get("/photos/" + "a" * 64).status_code == 404


def test_an_unreachable_bucket_answers_503_not_500(s3_app, poster, login_as, s3, bucket):
    client = login_as(poster)
    post_listing(client, poster)
    name = photo_file_name(the_listing().photos[0].photo, "card")
    for key in keys(s3, bucket):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)
    answer = client.get(f"/photos/{name}")
    assert answer.status_code == 503
    assert "Not available right now" in answer.get_data(as_text=True)  # not "went wrong"
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["storage"] == "unavailable"


def test_the_health_check_asks_the_bucket(s3_app):
    response = s3_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["storage"] == "ok"


def test_posting_while_the_bucket_is_unreachable_answers_503_and_keeps_nothing(
        s3_app, poster, login_as, s3, bucket):
    client = login_as(poster)
    s3.delete_bucket(Bucket=bucket)
    response = post_listing(client, poster)
    assert response.status_code == 503
    body = response.get_data(as_text=True)  # the form again, as typed, saying what happened
    assert "Nothing has been saved: we could not store the photos just now." in body
    assert 'value="Rollators, inklapbaar"' in body
    assert db.session.scalar(select(Listing)) is None
    assert db.session.scalar(select(Photo)) is None
    assert local_files(s3_app) == []


def test_a_rolled_back_upload_leaves_no_object(s3_app, s3, bucket):
    save_prepared(prepare_photo((IMAGES / "hopper.jpg").read_bytes(), "hopper.jpg"))
    assert len(keys(s3, bucket)) == len(VARIANTS)  # written with the row, before the commit
    db.session.rollback()
    assert keys(s3, bucket) == []
    assert db.session.scalar(select(Photo)) is None


def test_the_personal_data_export_holds_the_photos_from_the_bucket(
        s3_app, poster, login_as, s3, bucket):
    client = login_as(poster)
    post_listing(client, poster, photos=["hopper.png"])
    photo = the_listing().photos[0].photo
    response = client.post("/account/data")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    [listing] = json.loads(archive.read("data.json"))["listings"]
    [entry] = listing["photos"]
    stored = s3.get_object(Bucket=bucket, Key=PREFIX + photo_file_name(photo, FULL))["Body"]
    assert archive.read(entry["file"]) == stored.read()


def test_housekeeping_deletes_the_objects_of_refused_listings(
        s3_app, poster, login_as, make_listing, s3, bucket):
    post_listing(login_as(poster), poster)
    refused = the_listing()
    kept = make_listing("Nog te zien")
    kept.photos.append(ListingPhoto(photo=save_prepared(
        prepare_photo((IMAGES / "hopper_gray.jpg").read_bytes(), "hopper_gray.jpg"))))
    db.session.commit()
    kept_keys = sorted(PREFIX + photo_file_name(kept.photos[0].photo, v) for v in VARIANTS)
    db.session.execute(update(Listing).where(Listing.id == refused.id).values(
        status=ListingStatus.REJECTED, updated_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    assert len(keys(s3, bucket)) == 2 * len(VARIANTS)

    result = s3_app.test_cli_runner().invoke(args=["housekeeping"])
    assert result.exit_code == 0, result.output
    assert "photos of 1 refused listings deleted" in result.output
    assert keys(s3, bucket) == kept_keys
