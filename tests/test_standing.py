"""Accounts not in good standing: a member awaiting approval, and members of a suspended
organisation, see what a visitor sees (plus their own profile, their own claims and a page that
says what they wait for); a suspended organisation's members change nothing but cancel their own
claims; closed wanted posts stay with their organisation. On pages, photos, search and the
search pages kept between requests alike (security.in_good_standing)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from helpers import outbox
from security_world import (
    SECRET_DRAFT,
    SECRET_PENDING,
    World,
    build_world,
    client_for,
    database_state,
    fetch,
    stored_photo_names,
)

from marketplace.extensions import db
from marketplace.models import (
    Claim,
    ClaimStatus,
    Listing,
    OrganisationStatus,
    UserStatus,
    Wanted,
    WantedStatus,
)
from marketplace.models.base import utcnow
from marketplace.services import organisations

INTERNAL_TITLE = "Interne-tillift-Aa7"  # published, in its internal phase: A's people only


@pytest.fixture
def world(app, make_org, make_user, make_listing) -> World:
    world = build_world(make_org, make_user, make_listing)
    make_listing(INTERNAL_TITLE, organisation=world.a.organisation,
                 internal_until=utcnow() + timedelta(days=3))
    return world


def pages_of(client) -> dict[str, str]:
    """What the pages that list listings show (twice: the second read comes from the kept
    pages of page_cache)."""
    pages = {}
    for attempt in ("", "&again=1"):
        for url in ("/", f"/listings/?q=tillift{attempt}", f"/listings/?sort=newest{attempt}"):
            answer = fetch(client, "GET", url)
            assert answer.status == 200, url
            pages[url] = answer.body
    return pages


def test_a_member_awaiting_approval_sees_what_a_visitor_sees(app, world):
    visitor = app.test_client()
    pending = client_for(app, "pending_member", world)
    insider = client_for(app, "member_of_a", world)
    assert any(INTERNAL_TITLE in body for body in pages_of(insider).values())
    for url, body in pages_of(pending).items():
        assert INTERNAL_TITLE not in body, url
        assert SECRET_DRAFT not in body and SECRET_PENDING not in body, url
    visitor_pages = pages_of(visitor)
    assert not any(INTERNAL_TITLE in body for body in visitor_pages.values())

    internal = db.session.scalar(db.select(Listing).where(Listing.title == INTERNAL_TITLE))
    for listing in (world.a.listings["draft"], world.a.listings["pending"], internal):
        assert fetch(pending, "GET", f"/listings/{listing.id}").status == 404
    # On the organisation's published listing: the page a visitor gets, without its claims.
    published = f"/listings/{world.a.listings['published'].id}"
    claimant_organisation = world.users["claimant"].organisation.name
    assert claimant_organisation in fetch(insider, "GET", published).body
    assert claimant_organisation not in fetch(pending, "GET", published).body
    for kind in ("draft", "pending"):
        for name in stored_photo_names(world.a.photos[kind]):
            assert fetch(pending, "GET", f"/photos/{name}").status == 404, name
    for url in ("/listings/mine", "/claims/", "/wanted/", "/alerts/", "/listings/new"):
        answer = fetch(pending, "GET", url)
        assert (answer.status, answer.headers.get("Location")) == (302, "/account/waiting"), url

    waiting = fetch(pending, "GET", "/account/waiting").body
    assert "approves your account" in waiting and world.a.organisation.name in waiting
    assert fetch(pending, "GET", "/account/").status == 200  # their own profile


def test_the_waiting_page_says_what_each_account_waits_for(app, make_org, make_user):
    from helpers import AuthActions

    pending_organisation = make_org(status=OrganisationStatus.PENDING)
    cases = [
        (make_user(organisation=pending_organisation), "the platform administrators approve"),
        (make_user(organisation=make_org(status=OrganisationStatus.SUSPENDED)),
         "has been suspended"),
        (make_user(status=UserStatus.PENDING), "approves your account"),
    ]
    for user, expected in cases:
        client = app.test_client()
        assert AuthActions(client).login(user).status_code == 302
        assert expected in fetch(client, "GET", "/account/waiting").body, user
        home = fetch(client, "GET", "/").body
        assert 'href="/account/waiting"' in home  # the notice says where to read more
    member = make_user()
    client = app.test_client()
    AuthActions(client).login(member)
    assert fetch(client, "GET", "/account/waiting").headers["Location"] == "/"


def test_a_suspended_organisations_member_only_cancels_their_own_claim(app, world,
                                                                        make_listing):
    """Organisation C (the claimant's) is suspended: its member may still cancel their claim,
    but neither writes nor confirms a hand-over; A's people answer nothing of a suspended
    organisation either."""
    claimant = world.users["claimant"]
    claim_on_a = world.a.claim
    claim_on_b = world.b.claim
    db.session.execute(db.update(Claim).where(Claim.id == claim_on_b.id)
                       .values(status=ClaimStatus.ACCEPTED))
    db.session.commit()
    client = client_for(app, "claimant", world)
    organisations.suspend_organisation(world.users["platform_admin"], claimant.organisation,
                                       reason="Onderzoek")
    before = database_state(except_user=claimant)
    mail_before = len(outbox())

    page = fetch(client, "GET", f"/claims/{claim_on_a.id}")
    assert page.status == 200
    assert "Cancel my claim" in page.body
    assert "Send message" not in page.body and "Mark as collected" not in page.body
    index = fetch(client, "GET", "/claims/")
    assert index.status == 200 and world.a.listings["published"].title in index.body

    for url, data in ((f"/claims/{claim_on_a.id}/messages", {"body": "Nog steeds nodig"}),
                      (f"/claims/{claim_on_b.id}/collected", {})):
        assert fetch(client, "POST", url, data=data).status == 403, url
    assert database_state(except_user=claimant) == before
    assert len(outbox()) == mail_before

    answer = fetch(client, "POST", f"/claims/{claim_on_a.id}/cancel",
                   data={"confirmed": "yes"})
    assert answer.status == 302
    db.session.refresh(claim_on_a)
    assert claim_on_a.status is ClaimStatus.CANCELLED


def test_a_suspended_organisation_answers_no_claims(app, world):
    organisations.suspend_organisation(world.users["platform_admin"], world.a.organisation,
                                       reason="Onderzoek")
    admin = app.test_client()
    from helpers import AuthActions

    AuthActions(admin).login(world.users["org_admin"])
    claim = world.a.claim
    for url, data in ((f"/claims/{claim.id}/decline", {"note": "Nee"}),
                      (f"/claims/{claim.id}/messages", {"body": "Hallo"}),
                      (f"/claims/{claim.id}/accept", {})):
        assert fetch(admin, "POST", url, data=data).status == 404, url
    db.session.refresh(claim)
    assert claim.status is ClaimStatus.REQUESTED
    assert fetch(admin, "GET", f"/listings/{world.a.listings['draft'].id}").status == 404


@pytest.mark.parametrize("closed", [WantedStatus.WITHDRAWN, WantedStatus.FULFILLED])
def test_a_closed_wanted_post_is_for_its_own_organisation(app, world, closed):
    wanted = world.a.wanted
    wanted.status = closed
    db.session.commit()
    outsider = client_for(app, "outsider", world)
    colleague = client_for(app, "member_of_a", world)
    platform = client_for(app, "platform_admin", world)
    assert fetch(outsider, "GET", f"/wanted/{wanted.id}").status == 404
    assert wanted.title not in fetch(outsider, "GET", "/wanted/").body
    for client in (colleague, platform):
        page = fetch(client, "GET", f"/wanted/{wanted.id}")
        assert page.status == 200 and wanted.title in page.body


def test_wanted_posts_of_an_organisation_that_is_not_active_are_hidden(app, world):
    wanted = world.a.wanted
    outsider = client_for(app, "outsider", world)
    assert wanted.title in fetch(outsider, "GET", "/wanted/").body
    organisations.suspend_organisation(world.users["platform_admin"], world.a.organisation,
                                       reason="Onderzoek")
    assert wanted.title not in fetch(outsider, "GET", "/wanted/").body
    assert fetch(outsider, "GET", f"/wanted/{wanted.id}").status == 404
    assert db.session.get(Wanted, wanted.id).needed_by >= date.today()  # open, just hidden
