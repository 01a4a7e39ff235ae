"""What decoding a form's photos may cost (issue 14, item 7): a budget in decoded bytes, known
from the files' headers before any is decoded, and a limit on how many large decodes a process
runs at once.

The files are real: PNGs whose every row is compressed (small on disk, tens of megapixels
decoded) and pictures made with Pillow. Whether a file was decoded is told by the process's peak
resident size, which decoding any of them would raise by far more than the margin allowed.
"""

from __future__ import annotations

import gc
import io
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import cache

import pytest
from builders import listing_form
from flask import Flask
from flask.testing import FlaskClient
from helpers import AuthActions
from hostile_files import png_claiming
from markupsafe import escape
from PIL import Image
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Listing, Photo, User
from marketplace.services import photos
from marketplace.services.photos.budget import large_decode_slots

MB = 1024 * 1024
UNREAD_PEAK = 64 * MB  # refusing from the header takes nothing like decoding
TOO_COSTLY = "takes too much memory to process"
TOGETHER = "together with the other photos, more than we can process in one go"
BUSY = "We are processing many large photos right now, so"


@cache
def png_16_bit_grey_49_megapixels() -> bytes:
    """The issue's scan: 7000 x 7000 16-bit grey, about 90 KB."""
    return png_claiming(7000, 7000, complete=True, colour_type=0, bit_depth=16)


@cache
def png_rgb_49_megapixels() -> bytes:
    """One of the issue's eight: 7000 x 7000 RGB, about 140 KB."""
    return png_claiming(7000, 7000, complete=True, colour_type=2, bit_depth=8)


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


# What the member typed, which a refused form must show again.
TYPED = {"title": "Hoog-laagbedden, elektrisch",
         "description": "Drie elektrische hoog-laagbedden met zijhekken, gereinigd.",
         "quantity": "3"}


def post(client: FlaskClient, user: User, files: list[tuple[str, bytes]],
         staged_photo: Sequence[str] = ()):
    """The listing form with `files` as its photos (and the staged photos it names), in a body
    built here: the test client would spool a large one to a temporary file it never closes."""
    boundary = uuid.uuid4().hex
    fields = [*listing_form(user, **TYPED).items(),
              *(("staged_photo", number) for number in staged_photo)]
    parts = [f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()
             for name, value in fields]
    parts += [f'Content-Disposition: form-data; name="photos"; filename="{name}"\r\n'
              "Content-Type: application/octet-stream\r\n\r\n".encode() + content
              for name, content in files]
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return client.post("/listings/new", data=body + f"--{boundary}--\r\n".encode(),
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Listing)),
            db.session.scalar(select(func.count()).select_from(Photo)))


def peak_resident_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_of(action: Callable[[], object]) -> tuple[object, int]:
    """What `action` returned, and how far it raised the resident size at its peak."""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("the peak resident size cannot be reset here (/proc/self/clear_refs)")
    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the peak starts afresh from the current size
    before = resident_bytes()
    result = action()
    return result, peak_resident_bytes() - before


@pytest.fixture
def poster(app: Flask, make_user: Callable[..., User]) -> User:
    user = make_user(name="Budget Poster")
    user.organisation.trusted = True
    db.session.commit()
    return user


@pytest.fixture
def client(poster: User, login_as: Callable[[User], FlaskClient]) -> FlaskClient:
    client = login_as(poster)
    post(client, poster, [("warm-up.jpg", b"?")])  # templates compiled before any measure
    return client


def test_a_16_bit_greyscale_png_of_49_megapixels_is_refused_by_name_unread(
        client: FlaskClient, poster: User):
    data = png_16_bit_grey_49_megapixels()
    assert len(data) < 200_000
    response, peak = peak_of(lambda: post(client, poster, [("scan-16bit.png", data)]))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f"scan-16bit.png {TOO_COSTLY}" in body
    assert 'value="Hoog-laagbedden, elektrisch"' in body
    assert peak < UNREAD_PEAK, f"{peak / MB:.0f} MB at the peak"
    assert stored() == (0, 0)


def test_eight_49_megapixel_pngs_in_one_form_are_each_refused_by_name_unread(
        client: FlaskClient, poster: User):
    data = png_rgb_49_megapixels()
    files = [(f"plattegrond-{number}.png", data + bytes(number)) for number in range(1, 9)]
    response, peak = peak_of(lambda: post(client, poster, files))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for name, _content in files:
        assert f"{name} {TOO_COSTLY}" in body
    assert peak < UNREAD_PEAK, f"{peak / MB:.0f} MB at the peak"
    assert stored() == (0, 0)


@pytest.fixture
def small_budget(app: Flask) -> Iterator[None]:
    """A budget of 1 MB: three 256 x 256 RGB photos cost 7 bytes a pixel, 448 KB each."""
    app.config["PHOTO_DECODE_BUDGET_MB"] = 1
    yield
    app.config["PHOTO_DECODE_BUDGET_MB"] = photos.DEFAULT_DECODE_BUDGET_MB


def test_photos_that_fit_alone_but_not_together_are_refused_naming_those_left_over(
        client: FlaskClient, poster: User, small_budget: None):
    files = [(f"{name}.png", png((256, 256), colour)) for name, colour in
             (("voorkant", (200, 0, 0)), ("zijkant", (0, 200, 0)), ("achterkant", (0, 0, 200)))]
    response = post(client, poster, files)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert escape(f"achterkant.png: {TOGETHER}") in body
    assert f"voorkant.png: {TOGETHER}" not in body and f"zijkant.png: {TOGETHER}" not in body
    assert stored() == (0, 2)  # those that fit are kept (staged), shown on the form again
    staged = re.findall(r'name="staged_photo" value="(\d+)"', body)
    assert len(staged) == 2

    assert post(client, poster, [], staged_photo=staged).status_code == 302  # not chosen again
    assert stored() == (1, 2)


def test_the_same_photo_twice_in_a_form_is_costed_and_decoded_once(
        client: FlaskClient, poster: User, small_budget: None):
    photo = png((256, 256), (120, 80, 40))
    files = [("bed.png", photo), ("bed-kopie.png", photo), ("bed-nog-eens.png", photo)]
    assert post(client, poster, files).status_code == 302
    assert stored() == (1, 1)


# --- a process's slots for large decodes ----------------------------------------------------

@pytest.fixture
def one_slot(app: Flask) -> Iterator[None]:
    """Every decode is large, a process has one slot, and a request does not wait for it."""
    settings = {"PHOTO_LARGE_DECODE_MB": 0, "PHOTO_LARGE_DECODES": 1,
                "PHOTO_DECODE_WAIT_SECONDS": 0}
    before = {name: app.config.get(name) for name in settings}
    app.config.update(settings)
    app.extensions.pop("marketplace.photo_decode_slots", None)
    yield
    app.config.update(before)
    app.extensions.pop("marketplace.photo_decode_slots", None)


def test_a_large_decode_without_a_free_slot_is_refused_as_busy_with_the_form_kept(
        app: Flask, client: FlaskClient, poster: User, one_slot: None):
    files = [("rolstoel.png", png((640, 480), (90, 90, 90)))]
    with app.app_context():
        slots = large_decode_slots()
    assert slots.acquire(blocking=False)  # another thread of the process is decoding
    try:
        response = post(client, poster, files)
    finally:
        slots.release()
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert f"{BUSY} rolstoel.png could not be processed. Nothing has been saved" in body
    assert 'value="Hoog-laagbedden, elektrisch"' in body
    assert stored() == (0, 0)

    # Once free, the slot is taken and given back by each request in turn.
    assert post(client, poster, files).status_code == 302
    assert post(client, poster, [("rolstoel-2.png", png((640, 480), (10, 90, 90)))]
                ).status_code == 302
    assert stored() == (2, 2)


def test_a_small_decode_needs_no_slot(app: Flask, make_user: Callable[..., User],
                                      one_slot: None):
    app.config["PHOTO_LARGE_DECODE_MB"] = 1  # a 640 x 480 photo costs about 2 MB
    user = make_user()
    client = app.test_client()
    AuthActions(client).login(user)
    with app.app_context():
        slots = large_decode_slots()
    assert slots.acquire(blocking=False)
    try:
        tiny = post(client, user, [("klein.png", png((200, 150), (1, 2, 3)))])
        large = post(client, user, [("groot.png", png((640, 480), (1, 2, 3)))])
    finally:
        slots.release()
    assert tiny.status_code == 302
    assert large.status_code == 503
