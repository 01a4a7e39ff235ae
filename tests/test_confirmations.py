"""Confirm what cannot be undone (issue 17): withdrawing a listing, cancelling a claim and
deactivating a colleague each show a page naming the consequence, with the counts, also
without JavaScript; only the POST from that page acts."""

from __future__ import annotations

from helpers import outbox, reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditEvent, ClaimStatus, Language, ListingStatus, Role, UserStatus

CONFIRMED = {"confirmed": "yes"}


def _listing_with_claims(make_listing, make_user, make_claim):
    listing = make_listing(title="Twaalf rollators", quantity=12, quantity_available=9)
    poster = make_user(organisation=listing.organisation, role=Role.ORG_ADMIN,
                       language=Language.NL)
    waiting = [make_user(), make_user()]
    for claimant in waiting:
        make_claim(listing, claimant)
    make_claim(listing, make_user(), ClaimStatus.ACCEPTED, quantity=3)
    return listing, poster, waiting


def test_withdrawing_names_who_is_told_and_acts_only_when_confirmed(
        make_listing, make_user, make_claim, login_as):
    listing, poster, waiting = _listing_with_claims(make_listing, make_user, make_claim)
    client = login_as(poster)
    url = f"/listings/{listing.id}/withdraw"

    page = client.get(url).get_data(as_text=True)
    assert "“Twaalf rollators” intrekken?" in page
    assert "2 aanvragers krijgen bericht" in page
    assert "1 geaccepteerde aanvraag blijft staan" in page
    assert 'name="confirmed" value="yes"' in page

    # The old one-tap button (a POST without the confirmation) shows the same page.
    answer = client.post(url)
    assert answer.status_code == 200
    assert "2 aanvragers krijgen bericht" in answer.get_data(as_text=True)
    assert reload(listing).status is ListingStatus.PUBLISHED
    assert outbox("claim_listing_gone") == []

    answer = client.post(url, data=CONFIRMED)
    assert answer.status_code == 302
    assert reload(listing).status is ListingStatus.WITHDRAWN
    assert sorted(message.recipient for message in outbox("claim_listing_gone")) == \
        sorted(claimant.email for claimant in waiting)


def test_withdrawing_a_listing_nobody_claimed_still_asks(make_listing, make_user, login_as):
    listing = make_listing()
    poster = make_user(organisation=listing.organisation, role=Role.ORG_ADMIN)
    client = login_as(poster)
    page = client.get(f"/listings/{listing.id}/withdraw").get_data(as_text=True)
    assert "Nobody is waiting for it: nobody needs to be told." in page
    client.post(f"/listings/{listing.id}/withdraw")
    assert reload(listing).status is ListingStatus.PUBLISHED


def test_cancelling_an_accepted_claim_says_the_quantity_goes_back(
        make_listing, make_user, make_claim, login_as):
    listing = make_listing(title="Rolstoelen", quantity=10, quantity_available=7)
    giver = make_user(organisation=listing.organisation, role=Role.ORG_ADMIN)
    claimant = make_user()
    claim = make_claim(listing, claimant, ClaimStatus.ACCEPTED, quantity=3)
    client = login_as(claimant)
    url = f"/claims/{claim.id}/cancel"

    page = client.get(url).get_data(as_text=True)
    assert "Cancel your claim for “Rolstoelen”?" in page
    assert "The 3 items reserved for you go back to the listing" in page
    assert f"{listing.organisation.name} is told by email." in page

    assert client.post(url).status_code == 200
    assert reload(claim).status is ClaimStatus.ACCEPTED
    assert outbox("claim_cancelled") == []

    assert client.post(url, data=CONFIRMED).status_code == 302
    assert reload(claim).status is ClaimStatus.CANCELLED
    assert reload(listing).quantity_available == 10
    assert [message.recipient for message in outbox("claim_cancelled")] == [giver.email]


def test_cancelling_a_waiting_claim_says_nothing_was_reserved(
        make_listing, make_user, make_claim, login_as):
    claimant = make_user(language=Language.NL)
    claim = make_claim(make_listing(), claimant, quantity=2)
    page = login_as(claimant).get(f"/claims/{claim.id}/cancel").get_data(as_text=True)
    assert "Er was nog niets voor je gereserveerd: je aanvraag voor 2 wordt ingetrokken." in page


def test_deactivating_a_colleague_says_what_it_means_and_keeps_the_reason(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=admin.organisation, name="Mila Member")
    client = login_as(admin)
    url = f"/organisations/{admin.organisation_id}/members/{colleague.id}/deactivate"

    page = client.get(url).get_data(as_text=True)
    assert "Deactivate Mila Member?" in page
    assert "Mila Member can no longer log in, and is logged out now." in page
    assert f"The listings and claims of Mila Member stay with {admin.organisation.name}." \
        in page

    page = client.post(url, data={"reason": "Vertrokken"}).get_data(as_text=True)
    assert "Vertrokken</textarea>" in page  # the reason from the members page, kept
    assert reload(colleague).status is UserStatus.ACTIVE

    answer = client.post(url, data={"reason": "Vertrokken", **CONFIRMED})
    assert answer.status_code == 302
    assert reload(colleague).status is UserStatus.DEACTIVATED
    [event] = db.session.scalars(select(AuditEvent)
                                 .where(AuditEvent.action == "user.deactivate")).all()
    assert event.reason == "Vertrokken"
