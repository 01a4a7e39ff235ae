"""The claim journey through the pages: claim, accept, message, collect."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from helpers import link_in, outbox, reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, ListingStatus, Role


def _setup(make_listing, make_user):
    listing = make_listing("Tillift", quantity=2, value_per_unit=Decimal("1200"),
                           weight_per_unit_kg=Decimal("40"))
    giver = make_user(organisation=listing.organisation, name="Gerda Gever")
    listing.created_by = giver
    db.session.commit()
    taker = make_user(name="Tim Nemer")
    return listing, giver, taker


def test_the_whole_claim_journey_through_the_pages(app, make_listing, make_user, login_as):
    listing, giver, taker = _setup(make_listing, make_user)
    taker_client, giver_client = login_as(taker), login_as(giver)

    page = taker_client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "How many do you need?" in page
    pickup = (date.today() + timedelta(days=5)).isoformat()
    response = taker_client.post(f"/listings/{listing.id}/claim", data={
        "quantity": "1", "preferred_pickup_date": pickup, "message": "Voor locatie Oost"})
    assert response.status_code == 302
    claim = db.session.scalar(select(Claim))
    assert response.headers["Location"] == f"/claims/{claim.id}"
    [received] = outbox("claim_received", to=giver.email)
    claim_path = link_in(received, "/claims/")

    # The giver sees the claim on the listing page and on the claims page, with reliability.
    assert taker.organisation.name in giver_client.get(f"/listings/{listing.id}").get_data(
        as_text=True)
    claim_page = giver_client.get(claim_path).get_data(as_text=True)
    assert "Voor locatie Oost" in claim_page
    assert "has no hand-overs on record yet" in claim_page
    assert giver_client.post(f"/claims/{claim.id}/accept", data={
        "agreed_pickup_date": pickup, "note": "Bel even aan bij de receptie"}).status_code == 302
    assert reload(claim).status is ClaimStatus.ACCEPTED
    assert reload(listing).quantity_available == 1
    [accepted] = outbox("claim_accepted", to=taker.email)
    assert listing.site.street in accepted.body_text

    # The claimant now sees where to go; they exchange a message.
    taker_view = taker_client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert listing.site.street in taker_view
    taker_client.post(f"/claims/{claim.id}/messages", data={"body": "Ik kom om 10 uur"})
    [note] = outbox("claim_message", to=giver.email)
    assert "Ik kom om 10 uur" in note.body_text
    assert "Ik kom om 10 uur" in giver_client.get(f"/claims/{claim.id}").get_data(as_text=True)

    # Collected: thank-you to both sides with what it saved.
    assert taker_client.post(f"/claims/{claim.id}/collected").status_code == 302
    assert reload(claim).status is ClaimStatus.COLLECTED
    thanks = outbox("claim_collected")
    assert {mail.recipient for mail in thanks} == {giver.email, taker.email}
    assert "40 kg" in thanks[0].body_text
    assert reload(listing).status is ListingStatus.PUBLISHED  # one of two is still there
    index = taker_client.get("/claims/?tab=made").get_data(as_text=True)
    assert "Tillift" in index and "Collected" in index


def test_the_street_address_stays_hidden_until_the_claim_is_accepted(
    app, make_listing, make_user, login_as
):
    listing, _giver, taker = _setup(make_listing, make_user)
    client = login_as(taker)
    client.post(f"/listings/{listing.id}/claim", data={"quantity": "1"})
    claim = db.session.scalar(select(Claim))
    assert listing.site.street not in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert listing.site.street not in client.get(f"/listings/{listing.id}").get_data(
        as_text=True)


def test_bad_claims_are_explained_and_change_nothing(app, make_listing, make_user, login_as):
    listing, _giver, taker = _setup(make_listing, make_user)
    client = login_as(taker)
    for quantity, message in [("0", "Number must be between 1 and 100000."),
                              ("abc", "Not a valid integer value."),
                              ("3", "Only 2 pieces available.")]:
        response = client.post(f"/listings/{listing.id}/claim", data={"quantity": quantity})
        assert response.status_code == 422, quantity
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Claim)) is None


def test_a_double_click_on_claim_makes_one_claim(app, make_listing, make_user, login_as):
    listing, _giver, taker = _setup(make_listing, make_user)
    client = login_as(taker)
    client.post(f"/listings/{listing.id}/claim", data={"quantity": "1"})
    again = client.post(f"/listings/{listing.id}/claim", data={"quantity": "1"})
    assert again.status_code == 422
    assert "claimed this listing already" in again.get_data(as_text=True)
    assert len(db.session.scalars(select(Claim)).all()) == 1


def test_outsiders_cannot_see_or_decide_a_claim(app, make_listing, make_user, login_as):
    listing, _giver, taker = _setup(make_listing, make_user)
    login_as(taker).post(f"/listings/{listing.id}/claim", data={"quantity": "1"})
    claim = db.session.scalar(select(Claim))
    outsider = login_as(make_user())
    assert outsider.get(f"/claims/{claim.id}").status_code == 404
    assert outsider.post(f"/claims/{claim.id}/accept", data={}).status_code == 404
    # The claimant cannot accept their own claim.
    assert login_as(taker).post(f"/claims/{claim.id}/accept", data={}).status_code == 403
    assert reload(claim).status is ClaimStatus.REQUESTED
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    assert admin.get(f"/claims/{claim.id}").status_code == 200


def test_own_organisation_cannot_claim_its_listing(app, make_listing, make_user, login_as):
    listing, giver, _taker = _setup(make_listing, make_user)
    client = login_as(giver)
    assert "How many do you need?" not in client.get(f"/listings/{listing.id}").get_data(
        as_text=True)
    response = client.post(f"/listings/{listing.id}/claim", data={"quantity": "1"})
    assert response.status_code == 422
    assert db.session.scalar(select(Claim)) is None


def test_withdrawing_a_listing_tells_those_still_waiting(app, make_listing, make_user,
                                                        login_as):
    listing, giver, taker = _setup(make_listing, make_user)
    login_as(taker).post(f"/listings/{listing.id}/claim", data={"quantity": "1"})
    login_as(giver).post(f"/listings/{listing.id}/withdraw",
                         data={"confirmed": "yes"})
    claim = db.session.scalar(select(Claim))
    assert reload(claim).status is ClaimStatus.EXPIRED
    assert outbox("claim_listing_gone", to=taker.email)
