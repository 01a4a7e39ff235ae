"""Posting, editing, reading and reviewing listings, through the pages people use."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import builders
import pytest
from builders import category_id, impact_fields, listing_details
from helpers import SHARED_TESTDATA, outbox, reload
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Listing,
    ListingStatus,
    OrganisationStatus,
    Photo,
    Province,
    Role,
    Site,
    UserStatus,
)
from marketplace.models.base import utcnow
from marketplace.services.errors import DomainError
from marketplace.services.listings import PhotoChanges, create_listing

GOOD = SHARED_TESTDATA / "images" / "good"
HOSTILE = SHARED_TESTDATA / "images" / "hostile"
CONFIRMED = {"confirmed": "yes"}  # the confirmation step's field: the act itself


def photo(path: Path, name: str | None = None) -> tuple[BytesIO, str]:
    return BytesIO(path.read_bytes()), name or path.name


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def listing_form(user, **overrides):
    return builders.listing_form(user, **{**impact_fields(), **overrides})


@pytest.fixture
def poster(app, make_user):
    return make_user(name="Fenna Poster")


def post_listing(client, user, photos=None, **overrides):
    if photos is None:
        photos = ["hopper.jpg", "hopper.png", "exif_gps.jpg"]
    return builders.post_listing(client, user, photos=photos,
                                 **{**impact_fields(), **overrides})


def only_listing() -> Listing:
    return db.session.scalar(select(Listing))


def test_a_member_posts_a_listing_with_three_photos_which_waits_for_review(
    app, poster, login_as
):
    client = login_as(poster)
    response = post_listing(client, poster)
    assert response.status_code == 302
    listing = only_listing()
    assert response.headers["Location"] == f"/listings/{listing.id}"
    assert listing.status is ListingStatus.PENDING_REVIEW
    assert listing.created_by_id == poster.id
    assert len(listing.photos) == 3
    assert count(Photo) == 3
    assert len(stored_files(app)) == 3 * 3  # card, page and full per photo
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rollators, inklapbaar" in page
    assert "Waiting for review" in page
    assert "srcset=" in page
    assert "Cleaned and disinfected on" in page


def test_a_trusted_organisation_publishes_at_once(poster, login_as):
    poster.organisation.trusted = True
    db.session.commit()
    post_listing(login_as(poster), poster)
    listing = only_listing()
    assert listing.status is ListingStatus.PUBLISHED
    assert listing.published_at is not None
    assert listing.quantity_available == 12


def test_a_draft_may_have_no_photos_but_submitting_needs_one(poster, login_as):
    client = login_as(poster)
    response = post_listing(client, poster, photos=[], submit="", save_draft="Save as draft")
    assert response.status_code == 302
    assert only_listing().status is ListingStatus.DRAFT

    response = post_listing(client, poster, photos=[], title="Tweede")
    assert response.status_code == 422
    assert "Add at least one photo" in response.get_data(as_text=True)
    assert count(Listing) == 1


@pytest.mark.parametrize("amount", ["sNaN", "NaN", "-Infinity", "inf"])
def test_an_amount_that_is_no_number_is_refused_and_the_form_kept(poster, login_as, amount):
    response = post_listing(login_as(poster), poster, value_per_unit=amount,
                            weight_per_unit_kg=amount)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.count("Not a valid decimal value") == 4  # by each field, in the summary
    assert 'value="Rollators, inklapbaar"' in body
    assert count(Listing) == 0


def test_a_bad_photo_is_refused_by_name_alone_and_the_good_one_kept(app, poster, login_as):
    client = login_as(poster)
    response = post_listing(client, poster, photos=[
        photo(GOOD / "hopper.jpg"), photo(HOSTILE / "program.jpg"),
    ])
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "program.jpg" in body
    assert 'value="Rollators, inklapbaar"' in body
    assert "Twaalf inklapbare rollators" in body
    assert count(Listing) == 0
    assert count(Photo) == 1  # hopper.jpg, staged for the poster and on the form again
    assert 'name="staged_photo"' in body
    assert len(stored_files(app)) == 3  # the variants of hopper.jpg only


# The PHP polyglot is a valid JPEG: it may be kept, re-encoded (see test_photos).
@pytest.mark.parametrize("name", sorted(path.name for path in HOSTILE.iterdir()
                                        if path.name != "polyglot.php.jpg"))
def test_every_hostile_file_is_refused_with_nothing_stored(app, poster, login_as, name):
    client = login_as(poster)
    response = post_listing(client, poster, photos=[photo(HOSTILE / name)])
    assert response.status_code == 422
    assert count(Listing) == 0 and count(Photo) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize("overrides, message", [
    ({"available_until": (date.today() + timedelta(days=200)).isoformat()},
     "at most 90 days"),
    ({"available_until": date.today().isoformat()}, "Choose a date after today."),
    ({"title": "ab"}, "at least 3 characters"),
    ({"category": ""}, "Choose a category"),
    ({"quantity": "0"}, "Number must be between 1 and 100000."),
    ({"cleaned_on": (date.today() + timedelta(days=3)).isoformat()},
     "This date cannot be in the future."),
    ({"internal_days": "30"}, "Number must be between 0 and 14."),
])
def test_invalid_details_are_explained_and_the_text_kept(poster, login_as, overrides, message):
    response = post_listing(login_as(poster), poster, **overrides)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body
    assert "Twaalf inklapbare rollators" in body
    assert count(Listing) == 0


@pytest.mark.parametrize(("changes", "field"), [
    ({"internal_days": 15}, "internal_days"),
    ({"internal_days": -1}, "internal_days"),
    ({"value_per_unit": Decimal("1000000")}, "value_per_unit"),
    ({"weight_per_unit_kg": Decimal("-0.001")}, "weight_per_unit_kg"),
    ({"inspected_on": date.today() + timedelta(days=1)}, "inspected_on"),
])
def test_the_service_refuses_what_the_form_stops_first(poster, changes, field):
    """The service's rules hold for every caller, not only behind the form that checks first."""
    with pytest.raises(DomainError) as refusal:
        create_listing(poster, listing_details(poster, **changes), PhotoChanges(), submit=False)
    assert refusal.value.field == field
    assert count(Listing) == 0


def test_the_service_refuses_another_organisations_site_and_an_archived_one(poster, make_org):
    archived = Site(name="Oude locatie", street="Oudeweg 2", postcode="3811 AB",
                    city="Amersfoort", province=Province.UTRECHT, active=False)
    poster.organisation.sites.append(archived)
    db.session.commit()
    for site in (make_org().sites[0], archived):
        with pytest.raises(DomainError) as refusal:
            create_listing(poster, listing_details(poster, site_id=site.id), PhotoChanges(),
                           submit=False)
        assert refusal.value.field == "site"
    assert count(Listing) == 0


def test_a_site_of_another_organisation_cannot_be_chosen(poster, make_org, login_as):
    other_site = make_org().sites[0]
    response = post_listing(login_as(poster), poster, site=str(other_site.id))
    assert response.status_code == 422
    assert count(Listing) == 0


def test_the_form_says_medicines_are_not_allowed(poster, login_as):
    body = login_as(poster).get("/listings/new").get_data(as_text=True)
    assert "No medicines." in body
    assert 'accept="image/*"' in body and "multiple" in body


def test_members_of_a_pending_organisation_are_told_why_they_cannot_post(make_org, make_user,
                                                                         login_as):
    user = make_user(organisation=make_org(status=OrganisationStatus.PENDING))
    client = login_as(user)
    response = client.get("/listings/new", follow_redirects=True)
    assert "waiting for approval by the platform administrators" in response.get_data(
        as_text=True)
    assert post_listing(client, user).status_code == 302
    assert count(Listing) == 0


# --- who sees what ---------------------------------------------------------------------------

def test_drafts_are_seen_by_the_own_organisation_only(app, make_listing, make_user, login_as):
    listing = make_listing(status=ListingStatus.DRAFT)
    colleague = make_user(organisation=listing.organisation)
    outsider = make_user()
    assert login_as(colleague).get(f"/listings/{listing.id}").status_code == 200
    assert login_as(outsider).get(f"/listings/{listing.id}").status_code == 404
    assert app.test_client().get(f"/listings/{listing.id}").status_code == 404


def test_published_listings_are_public(app, make_listing):
    listing = make_listing("Hoog-laagbed")
    response = app.test_client().get(f"/listings/{listing.id}")
    assert response.status_code == 200
    assert "Hoog-laagbed" in response.get_data(as_text=True)


def test_the_street_address_is_not_shown_to_others(app, make_listing):
    listing = make_listing()
    body = app.test_client().get(f"/listings/{listing.id}").get_data(as_text=True)
    assert listing.site.city in body
    assert listing.site.street not in body


def test_internal_first_shows_the_listing_to_the_own_organisation_until_the_phase_ends(
    app, make_listing, make_user, login_as
):
    listing = make_listing(internal_days=3, internal_until=utcnow() + timedelta(days=3))
    colleague, outsider = make_user(organisation=listing.organisation), make_user()
    assert login_as(colleague).get(f"/listings/{listing.id}").status_code == 200
    outsider_client = login_as(outsider)
    assert outsider_client.get(f"/listings/{listing.id}").status_code == 404
    assert listing.title not in outsider_client.get("/listings/").get_data(as_text=True)

    listing.internal_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert outsider_client.get(f"/listings/{listing.id}").status_code == 200


def test_an_unknown_listing_gives_404(client):
    assert client.get("/listings/999999").status_code == 404
    assert client.get("/listings/999999/edit").status_code in (302, 404)


# --- editing ---------------------------------------------------------------------------------

def test_only_the_poster_their_org_admins_and_platform_admins_may_edit(
    make_listing, make_user, login_as
):
    listing = make_listing()
    owner = make_user(organisation=listing.organisation)
    listing.created_by = owner
    db.session.commit()
    colleague = make_user(organisation=listing.organisation)
    org_admin = make_user(organisation=listing.organisation, role=Role.ORG_ADMIN)
    outsider = make_user()
    platform_admin = make_user(role=Role.PLATFORM_ADMIN)
    for user, status in [(owner, 200), (org_admin, 200), (platform_admin, 200),
                         (colleague, 403), (outsider, 403)]:
        client = login_as(user)
        assert client.get(f"/listings/{listing.id}/edit").status_code == status, user
        assert client.post(f"/listings/{listing.id}/withdraw", data=CONFIRMED).status_code in \
            ((302,) if status == 200 else (403,)), user
        if status == 200:  # undo, so the next user finds it published again
            listing = reload(listing)
            listing.status = ListingStatus.PUBLISHED
            db.session.commit()


def _post_edit(client, listing, user, **overrides):
    data = listing_form(user, submit="", save_draft="Save", **overrides)
    data["photos"] = []
    return client.post(f"/listings/{listing.id}/edit", data=data,
                       content_type="multipart/form-data")


def test_editing_a_published_listing_of_an_untrusted_organisation_sends_it_back_to_review(
    poster, login_as
):
    poster.organisation.trusted = True
    db.session.commit()
    client = login_as(poster)
    post_listing(client, poster)
    listing = only_listing()
    assert listing.status is ListingStatus.PUBLISHED

    assert _post_edit(client, listing, poster, title="Rollators, net als nieuw").status_code \
        == 302
    assert reload(listing).status is ListingStatus.PUBLISHED  # trusted: no review

    poster.organisation.trusted = False
    db.session.commit()
    _post_edit(client, listing, poster, title="Rollators, bijna nieuw")
    listing = reload(listing)
    assert listing.title == "Rollators, bijna nieuw"
    assert listing.status is ListingStatus.PENDING_REVIEW


def test_photos_are_reordered_described_and_removed_and_unused_files_deleted(
    app, poster, login_as
):
    client = login_as(poster)
    post_listing(client, poster)
    listing = only_listing()
    first, second, third = listing.photos
    files_before = len(stored_files(app))
    data = listing_form(poster, submit="", save_draft="Save")
    data.update({
        f"photo-{first.id}-position": "3", f"photo-{second.id}-position": "1",
        f"photo-{third.id}-position": "2", f"photo-{third.id}-remove": "y",
        f"photo-{second.id}-alt": "Rollator van de zijkant",
        "photos": [], "confirm_photo_removal": "yes",
    })
    response = client.post(f"/listings/{listing.id}/edit", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    listing = reload(listing)
    assert [item.photo_id for item in listing.photos] == [second.photo_id, first.photo_id]
    assert listing.photos[0].alt_text == "Rollator van de zijkant"
    assert count(Photo) == 2
    assert len(stored_files(app)) == files_before - 3


def test_at_most_eight_photos(poster, login_as):
    client = login_as(poster)
    many = [photo(GOOD / name) for name in ["hopper.jpg", "hopper.png", "hopper.webp",
                                            "exif_gps.jpg", "hopper_gray.jpg",
                                            "pil_sample_cmyk.jpg", "hopper_bad_exif.jpg",
                                            "exif_imagemagick_orientation.png"]]
    assert post_listing(client, poster, photos=many).status_code == 302
    listing = only_listing()
    data = listing_form(poster, submit="", save_draft="Save")
    data["photos"] = [photo(GOOD / "hopper.jpg", "another.jpg")]
    # The same picture again is shown once, so it fits; a new one would not.
    response = client.post(f"/listings/{listing.id}/edit", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302


def test_withdrawing_and_offering_again(poster, login_as):
    client = login_as(poster)
    post_listing(client, poster)
    listing = only_listing()
    client.post(f"/listings/{listing.id}/withdraw", data=CONFIRMED)
    assert reload(listing).status is ListingStatus.WITHDRAWN

    listing.status = ListingStatus.EXPIRED
    db.session.commit()
    until = (date.today() + timedelta(days=20)).isoformat()
    response = client.post(f"/listings/{listing.id}/relist", data={"available_until": until})
    assert response.status_code == 302
    listing = reload(listing)
    assert listing.status is ListingStatus.PENDING_REVIEW
    assert listing.available_until.isoformat() == until


def test_a_listing_without_photos_cannot_be_offered_again(make_listing, make_user, login_as):
    listing = make_listing(status=ListingStatus.EXPIRED)
    client = login_as(make_user(organisation=listing.organisation, role=Role.ORG_ADMIN))
    until = (date.today() + timedelta(days=20)).isoformat()
    response = client.post(f"/listings/{listing.id}/relist", data={"available_until": until},
                           follow_redirects=True)
    assert "Add at least one photo" in response.get_data(as_text=True)
    assert reload(listing).status is ListingStatus.EXPIRED


def test_my_listings_shows_the_organisations_listings_by_status(make_listing, make_user,
                                                                 login_as):
    listing = make_listing("Kantoorstoelen")
    make_listing("Concept bed", organisation=listing.organisation, status=ListingStatus.DRAFT)
    make_listing("Andermans stoel")
    client = login_as(make_user(organisation=listing.organisation))
    published = client.get("/listings/mine").get_data(as_text=True)
    assert "Kantoorstoelen" in published and "Concept bed" not in published
    assert "Andermans stoel" not in published
    drafts = client.get("/listings/mine?status=draft").get_data(as_text=True)
    assert "Concept bed" in drafts


# --- review ----------------------------------------------------------------------------------

def test_a_platform_admin_approves_a_pending_listing(poster, make_user, login_as):
    post_listing(login_as(poster), poster)
    listing = only_listing()
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    queue = admin.get("/admin/listings").get_data(as_text=True)
    assert "Rollators, inklapbaar" in queue
    assert admin.post(f"/admin/listings/{listing.id}/approve").status_code == 302
    assert reload(listing).status is ListingStatus.PUBLISHED
    [mail] = outbox("listing_published", to=poster.email)
    assert "Rollators, inklapbaar" in mail.subject
    assert f"/listings/{listing.id}" in mail.body_text


def test_members_cannot_open_the_review_queue(make_user, login_as):
    client = login_as(make_user())
    assert client.get("/admin/listings").status_code == 403
    assert client.post("/admin/listings/1/approve").status_code == 403


# --- photos and pages ------------------------------------------------------------------------

def test_photos_are_served_with_long_cache_headers_to_whoever_may_see_them(
    app, poster, make_user, login_as
):
    poster.organisation.trusted = True
    db.session.commit()
    client = login_as(poster)
    post_listing(client, poster)
    listing = only_listing()
    page = app.test_client().get(f"/listings/{listing.id}").get_data(as_text=True)
    src = page.split('src="/photos/', 1)[1].split('"', 1)[0]
    with app.test_client().get("/photos/" + src) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.mimetype in ("image/webp", "image/jpeg")

    listing.status = ListingStatus.DRAFT
    db.session.commit()
    assert app.test_client().get("/photos/" + src).status_code == 404
    with client.get("/photos/" + src) as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"].startswith("private")


def test_unknown_photo_names_give_404(client):
    assert client.get("/photos/../../etc/passwd").status_code == 404
    assert client.get("/photos/" + "a" * 64).status_code == 404


def test_the_home_page_shows_the_newest_listings_as_cards(app, make_listing, poster,
                                                         login_as):
    poster.organisation.trusted = True
    db.session.commit()
    post_listing(login_as(poster), poster)
    make_listing("Douchestoel")
    make_listing("Tilbanden", status=ListingStatus.DRAFT)
    body = app.test_client().get("/").get_data(as_text=True)
    assert "Douchestoel" in body
    assert "Tilbanden" not in body
    assert "Rollators, inklapbaar" in body
    assert 'srcset="/photos/' in body
    search_page = app.test_client().get("/listings/?q=rollators").get_data(as_text=True)
    assert 'srcset="/photos/' in search_page


def test_search_finds_a_listing_by_a_word_of_its_description_with_a_filter(
    app, make_listing
):
    make_listing("Bedden", description="Drie elektrische hoog-laagbedden met matras.",
                 category="care-beds")
    make_listing("Stoelen", description="Stapelbare stoelen.")
    client = app.test_client()
    body = client.get(f"/listings/?q=matras&category={category_id('care-beds')}").get_data(
        as_text=True)
    assert "Bedden" in body and "Stoelen" not in body
    nothing = client.get("/listings/?q=matras&category=" + str(category_id("kitchen")))
    assert "Nothing found" in nothing.get_data(as_text=True)


@pytest.mark.parametrize("text", ['"', "*", "NEAR(a b)", "-foo", "(((", "a AND OR", "🙂"])
def test_search_text_with_syntax_characters_never_fails(client, text):
    assert client.get("/listings/", query_string={"q": text}).status_code == 200


def test_deactivated_users_cannot_edit(make_listing, make_user, login_as):
    listing = make_listing()
    user = make_user(organisation=listing.organisation, role=Role.ORG_ADMIN)
    client = login_as(user)
    user.status = UserStatus.DEACTIVATED
    db.session.commit()
    assert client.get(f"/listings/{listing.id}/edit").status_code == 302


def test_an_organisation_admin_changing_a_colleagues_listing_is_in_the_audit_log(
        app, make_user, make_listing, login_as):
    poster = make_user()
    org_admin = make_user(organisation=poster.organisation, role=Role.ORG_ADMIN)
    theirs = make_listing(organisation=poster.organisation, created_by=poster)
    own = make_listing(organisation=poster.organisation, created_by=org_admin)

    for listing in (theirs, own):
        response = login_as(org_admin).post(f"/listings/{listing.id}/withdraw", data=CONFIRMED)
        assert response.status_code == 302

    events = db.session.scalars(select(AuditEvent)).all()
    assert [(event.action, event.target_id, event.actor_id) for event in events] == \
        [("listing.withdraw", theirs.id, org_admin.id)]
