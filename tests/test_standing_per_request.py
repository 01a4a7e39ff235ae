"""A member's standing is read from the database on every request (issue 18): a member's pages
were made cheaper (auth_session.load_user reads the user with its organisation in one statement),
and nothing they check may be remembered from an earlier request. The other tests suspend an
organisation before its member's first page; here the member has been seen in good standing
first, as a worker process that kept anything would have seen them."""

from __future__ import annotations

from datetime import timedelta

from marketplace.models import Language, Role
from marketplace.models.base import utcnow
from marketplace.services import organisations

INTERNAL_TITLE = "Interne-tillift-Qz4"  # published, in its internal phase: the organisation's own


def test_a_suspension_shows_on_the_members_very_next_request(make_org, make_user, make_listing,
                                                             login_as):
    organisation = make_org("Kliniek Morgenrood")
    member = make_user(organisation=organisation, language=Language.NL)
    platform_admin = make_user(role=Role.PLATFORM_ADMIN)
    make_listing(INTERNAL_TITLE, organisation=organisation,
                 internal_until=utcnow() + timedelta(days=3))
    client = login_as(member)
    for _again in range(2):  # the second search page is the kept one (page_cache)
        assert INTERNAL_TITLE in client.get("/listings/?q=tillift").get_data(as_text=True)
    assert client.get("/listings/new").status_code == 200
    assert client.get("/claims/").status_code == 200

    organisations.suspend_organisation(platform_admin, organisation, reason="Onderzoek")

    search = client.get("/listings/?q=tillift").get_data(as_text=True)
    assert INTERNAL_TITLE not in search
    assert "Je organisatie is geschorst door de platformbeheerders" in search
    assert 'href="/listings/new"' not in search  # no "Offer something" in the navigation
    for url in ("/listings/new", "/claims/"):
        answer = client.get(url)
        assert (answer.status_code, answer.headers.get("Location")) == (302, "/account/waiting")
