"""Hostile uploads through the listing form (issue 7): the shared corpus and files made here.

Each is refused with a message naming the file, the rest of the form kept and nothing stored (no
row, no file in the upload folder); or, for a valid picture that carries a payload or a hostile
name, stored re-encoded under its content hash with nothing taken from the upload's name or
extra bytes. Each is handled in under a second, a bomb is refused without being decoded, and
the corpus, sent again and again, does not grow the process's memory.
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
from builders import listing_form
from flask import Flask
from flask.testing import FlaskClient
from hostile_files import (
    ACCEPTED,
    HOSTILE_NAMES,
    HOSTILE_NAMES_SHOWN,
    NON_UTF8_NAMES,
    NOT_USABLE,
    Hostile,
    corpus,
    good_jpeg,
    good_picture_named,
    hostile_content_named,
    html_page,
    png_claiming,
)
from markupsafe import escape
from PIL import Image
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Listing, ListingPhoto, Photo, User
from marketplace.services.listings import MAX_PHOTOS

SECOND = 1.0  # the budget for handling one hostile file
MEMORY_BUDGET = 64 * 1024 * 1024  # growth allowed over several passes through the corpus
PEAK_BUDGET = 64 * 1024 * 1024  # what refusing one bomb may take at its peak
STORED_NAME = re.compile(r"([0-9a-f]{2})/([0-9a-f]{64})-(card|page|full)\.(webp|jpg)")
STORED_FORMATS = {"webp": "WEBP", "jpg": "JPEG"}

CORPUS = corpus()
REFUSED = [item for item in CORPUS if item.expect != ACCEPTED] + [
    hostile_content_named(name) for name in HOSTILE_NAMES.values()]
ACCEPTED_CASES = [item for item in CORPUS if item.expect == ACCEPTED]
BOMBS = [item for item in CORPUS if item.claimed_pixels]


def ids(items: list[Hostile]) -> list[str]:
    return [item.id for item in items]


# --- helpers ------------------------------------------------------------------------------------

def upload_folder(app: Flask) -> set[str]:
    """Everything in the upload folder: files, folders and half-written files alike."""
    root = Path(app.config["UPLOAD_FOLDER"])
    return {path.relative_to(root).as_posix() for path in root.rglob("*")} \
        if root.exists() else set()


def everything_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*")}


def rows() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Listing, ListingPhoto, Photo)}


def filename_parameter(filename: str | bytes) -> bytes:
    """The filename parameter of a part's Content-Disposition, as a client would send it: a
    quoted string, or RFC 5987 percent-encoding for line breaks (a quoted string cannot hold
    them); bytes are sent as they are."""
    if isinstance(filename, bytes):
        return filename
    if "\r" in filename or "\n" in filename:
        return b"filename*=UTF-8''" + quote(filename, safe="").encode()
    quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
    return b'filename="' + quoted.encode() + b'"'


def multipart(fields: dict[str, str], files: list[tuple[str | bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body built by hand, so that any file name can be sent."""
    boundary = uuid.uuid4().hex.encode()
    parts = [b'Content-Disposition: form-data; name="%s"\r\n\r\n%s'
             % (name.encode(), value.encode()) for name, value in fields.items()]
    parts += [b'Content-Disposition: form-data; name="photos"; %s\r\n'
              b"Content-Type: application/octet-stream\r\n\r\n%s"
              % (filename_parameter(filename), content) for filename, content in files]
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary + b"--\r\n", \
        f"multipart/form-data; boundary={boundary.decode()}"


# What the member typed, which a refused form must show again (assert_form_kept).
TYPED = {"title": "Douchestoelen, in hoogte verstelbaar",
         "description": "Zes douchestoelen met rugleuning, gereinigd en nagekeken.",
         "quantity": "6"}


def post(client: FlaskClient, user: User, files: list[tuple[str | bytes, bytes]]):
    body, content_type = multipart(listing_form(user, **TYPED), files)
    return client.post("/listings/new", data=body, content_type=content_type)


def timed_post(client: FlaskClient, user: User, files: list[tuple[str | bytes, bytes]],
               attempts: int = 3):
    """The first response, the fewest seconds the application took to answer, and how many times
    the form was sent. It is sent again (up to `attempts` times) only while over the budget: the
    machine may be busy with other work, which is no part of handling the file."""
    body, content_type = multipart(listing_form(user, **TYPED), files)
    responses, fastest = [], float("inf")
    while len(responses) < attempts and fastest >= SECOND:
        started = time.perf_counter()
        responses.append(client.post("/listings/new", data=body, content_type=content_type))
        fastest = min(fastest, time.perf_counter() - started)
    return responses[0], fastest, len(responses)


def assert_form_kept(body: str) -> None:
    assert 'value="Douchestoelen, in hoogte verstelbaar"' in body
    assert "Zes douchestoelen met rugleuning" in body


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_resident_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def reset_peak() -> None:
    """Start the peak resident size (VmHWM) afresh from the current one (Linux 4.0 and later)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


@pytest.fixture
def poster(app: Flask, make_user: Callable[..., User]) -> User:
    return make_user(name="Hostile Poster")


@pytest.fixture
def client_of(poster: User, login_as: Callable[[User], FlaskClient]) -> FlaskClient:
    """The poster's client, after one refused upload: a new application compiles its templates
    on first use, which is no part of handling a file."""
    client = login_as(poster)
    assert post(client, poster, [("warm-up.jpg", b"?")]).status_code == 422
    return client


@pytest.fixture
def nothing_stored(app: Flask, tmp_path: Path) -> Iterator[None]:
    """The test's uploads leave no row, no file in the upload folder and nothing elsewhere."""
    rows_before, folder_before = rows(), upload_folder(app)
    elsewhere_before = everything_under(tmp_path) - {"uploads"}
    yield
    assert rows() == rows_before
    assert upload_folder(app) == folder_before
    # The database's journal files come and go; nothing else may appear beside the uploads.
    elsewhere = {name for name in everything_under(tmp_path) - elsewhere_before
                 if not name.startswith(("uploads", "test.sqlite"))}
    assert elsewhere == set()


# --- refused, by name, with the form kept and nothing stored ------------------------------------

@pytest.mark.parametrize("item", REFUSED, ids=ids(REFUSED))
def test_each_hostile_file_is_refused_by_name_with_the_form_kept_and_nothing_stored(
        client_of: FlaskClient, poster: User, nothing_stored: None, item: Hostile):
    response, seconds, _sent = timed_post(client_of, poster, [(item.filename, item.content)])
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    message = f"{item.shown_name} {item.expect}"
    assert str(escape(message)) in body
    assert_form_kept(body)
    assert seconds < SECOND, f"{item.id} took {seconds:.2f} s"


@pytest.mark.parametrize("name", sorted(HOSTILE_NAMES))
def test_a_refusal_names_the_file_without_the_folders_the_upload_claimed(
        client_of: FlaskClient, poster: User, nothing_stored: None, name: str):
    item = hostile_content_named(HOSTILE_NAMES[name])
    body = post(client_of, poster, [(item.filename, item.content)]).get_data(as_text=True)
    refusal = re.search(r"([^\s>]*) is not a photo we can use", body)
    assert refusal is not None
    shown = str(escape(HOSTILE_NAMES_SHOWN[name]))
    assert refusal.group(1) == shown == str(escape(item.shown_name))


def test_every_refusal_in_one_form_is_named_at_once(client_of: FlaskClient, poster: User,
                                                     nothing_stored: None):
    refused = [item for item in REFUSED if item.id.startswith("shared-")][:MAX_PHOTOS]
    response = post(client_of, poster, [(item.filename, item.content) for item in refused])
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for item in refused:
        assert str(escape(f"{item.shown_name} {item.expect}")) in body
    assert_form_kept(body)


@pytest.mark.parametrize("name", ["latin-1-name", "invalid-utf8-name"])
def test_a_form_whose_file_name_is_not_utf8_is_refused_as_unreadable_with_nothing_stored(
        client_of: FlaskClient, poster: User, nothing_stored: None, name: str):
    # werkzeug cannot decode such a part header and then reads no field of the form at all:
    # nothing to keep or name, but a 4xx, not a 500 (browsers always send UTF-8).
    response, seconds, _sent = timed_post(client_of, poster,
                                          [(NON_UTF8_NAMES[name], good_jpeg())])
    assert response.status_code == 422
    assert "Enter a title" in response.get_data(as_text=True)  # no field was read
    assert seconds < SECOND


def test_a_percent_encoded_name_that_is_not_utf8_is_named_with_replacement_characters(
        client_of: FlaskClient, poster: User, nothing_stored: None):
    filename = NON_UTF8_NAMES["percent-encoded-invalid-utf8"]
    response = post(client_of, poster, [(filename, html_page())])
    assert response.status_code == 422
    assert f"\ufffd\ufffdevil.jpg {NOT_USABLE}" in response.get_data(as_text=True)


def test_more_files_than_a_listing_can_have_are_refused_before_any_is_decoded(
        client_of: FlaskClient, poster: User, nothing_stored: None,
        monkeypatch: pytest.MonkeyPatch):
    # Each of these valid 1-bit PNGs is 6 kB and decodes to 49 megapixels (seconds of work):
    # a form full of them must be refused on their number, not after decoding every one.
    from marketplace.services import listings

    decoded: list[str] = []
    real_prepare = listings.prepare_photo
    monkeypatch.setattr(listings, "prepare_photo",
                        lambda data, filename: decoded.append(filename)
                        or real_prepare(data, filename))
    files = [(f"IMG_{number}.png", png_claiming(7_000, 7_000 + number, complete=True))
             for number in range(MAX_PHOTOS + 1)]
    response, seconds, _sent = timed_post(client_of, poster, files)
    assert response.status_code == 422
    assert f"at most {MAX_PHOTOS} photos" in response.get_data(as_text=True)
    assert decoded == []
    assert seconds < SECOND


# --- accepted, re-encoded, under the content hash only ------------------------------------------

def assert_stored_by_content_hash_only(app: Flask, uploaded: bytes, before: set[str],
                                       payload: bytes | None = None) -> None:
    new = upload_folder(app) - before
    content_hash = hashlib.sha256(uploaded).hexdigest()
    assert new == {content_hash[:2]} | {
        f"{content_hash[:2]}/{content_hash}-{variant}"
        for variant in ("card.webp", "page.webp", "full.jpg")}
    root = Path(app.config["UPLOAD_FOLDER"])
    for name in new - {content_hash[:2]}:
        data = (root / name).read_bytes()
        assert payload is None or payload not in data, f"{name} keeps the payload"
        with Image.open(BytesIO(data)) as image:  # re-encoded by Pillow, one still picture
            assert image.format == STORED_FORMATS[name.rsplit(".", 1)[1]]
            assert getattr(image, "n_frames", 1) == 1
            image.load()


@pytest.mark.parametrize("item", ACCEPTED_CASES, ids=ids(ACCEPTED_CASES))
def test_a_valid_picture_carrying_a_payload_is_stored_re_encoded_without_it(
        app: Flask, client_of: FlaskClient, poster: User, item: Hostile):
    before = upload_folder(app)
    response, seconds, sent = timed_post(client_of, poster, [(item.filename, item.content)])
    assert response.status_code == 302, response.get_data(as_text=True)
    assert rows() == {"listing": sent, "listing_photo": sent, "photo": 1}
    assert_stored_by_content_hash_only(app, item.content, before, item.payload)
    assert seconds < SECOND


@pytest.mark.parametrize("name", [*sorted(HOSTILE_NAMES), "percent-encoded-invalid-utf8"])
def test_a_hostile_name_on_a_real_picture_decides_nothing_about_where_or_how_it_is_kept(
        app: Flask, tmp_path: Path, client_of: FlaskClient, poster: User, name: str):
    item = good_picture_named(HOSTILE_NAMES.get(name) or NON_UTF8_NAMES[name])
    before, elsewhere_before = upload_folder(app), everything_under(tmp_path)
    response, seconds, _sent = timed_post(client_of, poster, [(item.filename, item.content)])
    assert response.status_code == 302, response.get_data(as_text=True)
    assert_stored_by_content_hash_only(app, item.content, before)
    assert {entry for entry in everything_under(tmp_path) - elsewhere_before
            if not entry.startswith(("uploads", "test.sqlite"))} == set()
    # Not the file's name, not even as the photo's description.
    assert set(db.session.scalars(select(ListingPhoto.alt_text))) == {""}
    assert seconds < SECOND


# --- time and memory ----------------------------------------------------------------------------

@pytest.mark.parametrize("item", BOMBS, ids=ids(BOMBS))
def test_a_bomb_is_refused_without_decoding_it(client_of: FlaskClient, poster: User,
                                              nothing_stored: None, item: Hostile):
    content = item.content
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("the peak resident size cannot be reset here (/proc/self/clear_refs)")
    gc.collect()
    reset_peak()
    before = resident_bytes()
    response = post(client_of, poster, [(item.filename, content)])
    peak = _peak_resident_bytes() - before
    # Decoded, it would take a byte a pixel at the very least: tens of megabytes or more.
    assert peak < min(PEAK_BUDGET, item.claimed_pixels // 4), \
        f"{item.id}: {peak / 2**20:.0f} MB at the peak"
    assert response.status_code == 422


def test_the_corpus_sent_again_and_again_does_not_grow_the_process(
        app: Flask, client_of: FlaskClient, poster: User):
    uploads = [(item.filename, item.content) for item in CORPUS]

    def one_pass() -> None:
        for filename, content in uploads:
            response = post(client_of, poster, [(filename, content)])
            assert response.status_code in (302, 422)

    one_pass()  # the first pass loads codecs, templates and caches
    gc.collect()
    before = resident_bytes()
    for _ in range(3):
        one_pass()
    gc.collect()
    growth = resident_bytes() - before
    assert growth < MEMORY_BUDGET, f"grew by {growth / 2**20:.1f} MB over 3 passes"
    accepted = len(ACCEPTED_CASES)  # 4 listings each; the same picture is one Photo
    assert rows() == {"listing": 4 * accepted, "listing_photo": 4 * accepted, "photo": accepted}
    assert all(STORED_NAME.fullmatch(name) for name in upload_folder(app) if "/" in name)
