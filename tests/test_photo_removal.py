"""Removing a photo from a listing is confirmed first (issue 17): saving the edit form with
photos ticked for removal shows the form again, everything kept, with a block naming what goes;
its button posts the same again with the removal confirmed. A published listing keeps one."""

from __future__ import annotations

import re
from html import unescape

import pytest
from builders import listing_form, post_listing
from helpers import reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Listing, ListingStatus


@pytest.fixture
def poster(app, make_user, make_org):
    organisation = make_org()
    organisation.trusted = True
    return make_user(organisation=organisation, name="Petra Poster")


def published(client, poster) -> Listing:
    response = post_listing(client, poster, photos=["hopper.jpg", "hopper.png", "hopper.webp"])
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = db.session.scalar(select(Listing))
    assert listing.status is ListingStatus.PUBLISHED
    return listing


def edit(client, listing, poster, ticked, **fields):
    data = listing_form(poster, photos=[], submit="", save_draft="Save", **fields)
    for item in ticked:
        data[f"photo-{item.id}-remove"] = "y"
    return client.post(f"/listings/{listing.id}/edit", data=data,
                       content_type="multipart/form-data")


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The fields of the confirmation block's form, as the browser would post them."""
    block = page[page.index('id="photo-removal"'):page.index("</form>", page.index(
        'id="photo-removal"'))]
    return [(unescape(name), unescape(value)) for name, value in re.findall(
        r'<input type="hidden" name="([^"]*)" value="([^"]*)">', block)]


def test_ticked_photos_are_named_and_removed_only_once_confirmed(poster, login_as):
    client = login_as(poster)
    listing = published(client, poster)
    first, second, third = listing.photos

    answer = edit(client, listing, poster, [first, third], title="Rollators, bijna nieuw")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "2 photos are taken off the listing." in page
    assert page.count('class="photo-removal-list"') == 1
    assert 'value="Rollators, bijna nieuw"' in page  # what was typed is kept
    assert f'name="photo-{first.id}-remove" value="y" checked' in page
    listing = reload(listing)
    assert len(listing.photos) == 3 and listing.title != "Rollators, bijna nieuw"

    fields = hidden_fields(page)
    assert ("confirm_photo_removal", "yes") in fields
    answer = client.post(f"/listings/{listing.id}/edit", data=_multi(fields),
                         content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    listing = reload(listing)
    assert [item.photo_id for item in listing.photos] == [second.photo_id]
    assert listing.title == "Rollators, bijna nieuw"


def test_the_last_photo_of_a_published_listing_is_not_removed_and_it_says_why(
        poster, login_as):
    client = login_as(poster)
    listing = published(client, poster)

    answer = edit(client, listing, poster, list(listing.photos))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "a published listing cannot be without one" in page
    assert 'id="photo-removal"' not in page
    assert len(reload(listing).photos) == 3


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data
