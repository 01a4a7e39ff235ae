"""Wanted posts: ask, answer with a listing, claim in one click; likely matches suggested."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from helpers import outbox, reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Claim, ListingStatus, Role, Wanted, WantedStatus
from marketplace.services import housekeeping
from marketplace.services.errors import DomainError
from marketplace.services.moderation import approve_listing
from marketplace.services.wanted import answer_wanted


def post_request(client, **overrides):
    data = {"title": "Hoog-laag bed", "description": "Voor een nieuwe bewoner.",
            "quantity": "2", "needed_by": (date.today() + timedelta(days=20)).isoformat(),
            "category": "", "province": "utrecht"}
    data.update(overrides)
    return client.post("/wanted/new", data=data)


def test_a_member_posts_a_request_that_others_see(app, make_user, login_as):
    asker = make_user()
    response = post_request(login_as(asker))
    assert response.status_code == 302
    wanted = db.session.scalar(select(Wanted))
    assert (wanted.title, wanted.quantity, wanted.status) == ("Hoog-laag bed", 2,
                                                               WantedStatus.OPEN)
    other = login_as(make_user())
    assert "Hoog-laag bed" in other.get("/wanted/").get_data(as_text=True)
    assert "Hoog-laag bed" in other.get(f"/wanted/{wanted.id}").get_data(as_text=True)


def test_bad_requests_are_explained(app, make_user, login_as):
    client = login_as(make_user())
    for overrides, message in [({"title": "x"}, "at least 3 characters"),
                               ({"needed_by": (date.today() - timedelta(days=1)).isoformat()},
                                "Choose a date from today on"),
                               ({"quantity": "0"}, "Number must be between 1 and 100000.")]:
        response = post_request(client, **overrides)
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Wanted)) is None


def test_a_giver_answers_with_a_listing_and_the_asker_claims_in_one_click(
    app, make_user, make_listing, login_as
):
    asker = make_user()
    post_request(login_as(asker))
    wanted = db.session.scalar(select(Wanted))
    listing = make_listing("Elektrisch bed", quantity=5)
    giver = make_user(organisation=listing.organisation)
    giver_client = login_as(giver)
    assert "Offer this listing" in giver_client.get(f"/wanted/{wanted.id}").get_data(
        as_text=True)
    response = giver_client.post(f"/wanted/{wanted.id}/answer", data={"listing": listing.id})
    assert response.status_code == 302
    [mail] = outbox("wanted_answered", to=asker.email)
    assert "Elektrisch bed" in mail.body_text

    asker_client = login_as(asker)
    page = asker_client.get(f"/wanted/{wanted.id}").get_data(as_text=True)
    assert "Claim 2" in page
    asker_client.post(f"/listings/{listing.id}/claim", data={"quantity": "2",
                                                             "message": "Voor ons verzoek"})
    claim = db.session.scalar(select(Claim))
    assert (claim.quantity, claim.claimant_id) == (2, asker.id)


def test_a_giver_cannot_offer_someone_elses_listing(app, make_user, make_listing, login_as):
    post_request(login_as(make_user()))
    wanted = db.session.scalar(select(Wanted))
    giver = make_user()
    foreign = make_listing("Bed van een ander")
    login_as(giver).post(f"/wanted/{wanted.id}/answer", data={"listing": foreign.id})
    assert reload(wanted).answers == []


@pytest.mark.parametrize("number", ["99999999999", "-1", "0", "2147483648"])
def test_numbers_beyond_any_database_id_are_refused_with_a_message(
        app, make_user, login_as, number):
    """PostgreSQL answers an integer beyond its range with an error, never a miss."""
    member = login_as(make_user())
    post_request(member)
    wanted = db.session.scalar(select(Wanted))
    response = member.post(f"/wanted/{wanted.id}/answer", data={"listing": number},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Choose one of your organisation&#39;s published listings." in \
        response.get_data(as_text=True)
    assert reload(wanted).answers == []
    assert member.get(f"/wanted/?category={number}").status_code == 200


def test_publishing_a_listing_suggests_it_to_matching_requests_once(app, make_user,
                                                                    make_listing, login_as):
    asker = make_user()
    post_request(login_as(asker), title="Bed", province="")
    admin = make_user(role=Role.PLATFORM_ADMIN)
    listing = make_listing("Bed met matras", status=ListingStatus.PENDING_REVIEW)
    approve_listing(admin, listing)
    [mail] = outbox("wanted_likely_match", to=asker.email)
    assert "Bed met matras" in mail.body_text
    unrelated = make_listing("Bureaustoel", status=ListingStatus.PENDING_REVIEW)
    approve_listing(admin, unrelated)
    assert len(outbox("wanted_likely_match")) == 1


def test_the_asker_closes_the_request_and_outsiders_cannot(app, make_user, login_as):
    asker = make_user()
    post_request(login_as(asker))
    wanted = db.session.scalar(select(Wanted))
    assert login_as(make_user()).post(f"/wanted/{wanted.id}/fulfilled").status_code == 403
    login_as(asker).post(f"/wanted/{wanted.id}/fulfilled")
    assert reload(wanted).status is WantedStatus.FULFILLED


def test_requests_past_their_date_expire(app, make_user, login_as):
    post_request(login_as(make_user()))
    wanted = db.session.scalar(select(Wanted))
    wanted.needed_by = date.today() - timedelta(days=1)
    db.session.commit()
    list(housekeeping.run())
    assert reload(wanted).status is WantedStatus.EXPIRED


def test_a_giver_cannot_answer_a_request_of_their_own_organisation(app, make_user,
                                                                   make_listing, login_as):
    asker = make_user()
    post_request(login_as(asker))
    wanted = db.session.scalar(select(Wanted))
    colleague = make_user(organisation=asker.organisation)
    own = make_listing("Bed van de buren", organisation=asker.organisation)
    with pytest.raises(DomainError, match="your own organisation"):
        answer_wanted(colleague, wanted, own)
    db.session.rollback()
    assert reload(wanted).answers == []
