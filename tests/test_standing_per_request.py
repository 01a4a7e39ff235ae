"""A member's standing is read from the database on every request (issue 18): a member's pages
were made cheaper (auth_session.load_user reads the user with its organisation, the navigation's
counts and the search's origin in one statement: services/session_user.py), and nothing they
check may be remembered from an earlier request. The other tests suspend an
organisation before its member's first page; here the member has been seen in good standing
first, as a worker process that kept anything would have seen them."""

from __future__ import annotations

from datetime import timedelta

from helpers import statements_of

from marketplace.extensions import db
from marketplace.models import Language, Role, UserStatus
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


def test_a_member_s_kept_search_page_asks_the_database_once_and_sees_changes_at_once(
        make_user, make_listing, make_claim, login_as):
    member = make_user(language=Language.NL)
    organisation = member.organisation
    make_listing("Tillift", organisation=organisation)
    client = login_as(member)
    assert "Tillift" in client.get("/listings/?q=tillift").get_data(as_text=True)

    [statement] = statements_of(client, "/listings/?q=tillift")  # the kept page
    statement = statement.lower()
    assert "from user_account" in statement and "count(claim.id)" in statement
    assert "from site" in statement and "internal_until" in statement

    # Read afresh: a claim to answer and a listing in its internal phase show on the next page.
    make_claim(make_listing("Rolstoel", organisation=organisation), make_user())
    make_listing(INTERNAL_TITLE, organisation=organisation,
                 internal_until=utcnow() + timedelta(days=3))
    page = client.get("/listings/?q=tillift").get_data(as_text=True)
    assert INTERNAL_TITLE in page
    assert 'Aanvragen <span class="count">(1)</span>' in page


def test_the_kept_navigation_shows_each_account_its_own_links_and_counts(make_user, login_as):
    """templating.member_nav renders the navigation once per process for the values it shows:
    two organisations' admins, asked in turn, each see their own organisation and count, in
    their own language, and a count that changes shows on the next page."""
    first = make_user(role=Role.ORG_ADMIN, language=Language.NL)
    second = make_user(role=Role.ORG_ADMIN, language=Language.EN)
    waiting = make_user(organisation=first.organisation, status=UserStatus.PENDING)
    first_client, second_client = login_as(first), login_as(second)
    first_link = f'<a href="/organisations/{first.organisation_id}/members">Mijn organisatie'
    second_link = f'<a href="/organisations/{second.organisation_id}/members">My organisation'
    for _again in range(2):
        page = first_client.get("/listings/").get_data(as_text=True)
        assert first_link + ' <span class="count">(1)</span>' in page
        page = second_client.get("/listings/").get_data(as_text=True)
        assert second_link + "</a>" in page and "Mijn organisatie" not in page
    waiting.status = UserStatus.ACTIVE
    db.session.commit()
    assert first_link + "</a>" in first_client.get("/listings/").get_data(as_text=True)


def test_the_kept_layout_speaks_each_page_s_language_and_follows_its_script_root(client,
                                                                               make_user,
                                                                               login_as):
    """templating.layout_parts renders the layout's links and texts once per process, for a
    language and a script root (the app served under a prefix): each page gets its own."""
    dutch = login_as(make_user(language=Language.NL))
    for _again in range(2):
        english = client.get("/listings/").get_data(as_text=True)
        assert '<a href="/listings/">Find surplus</a>' in english
        assert '<a href="/auth/login">Log in</a>' in english
        assert 'href="/static/css/app.css"' in english
        page = dutch.get("/listings/").get_data(as_text=True)
        assert '<a href="/listings/">Overschot zoeken</a>' in page
        assert '<a href="/account/">Profiel</a>' in page and "Log in" not in page
        prefixed = client.get("/listings/", base_url="http://localhost/markt")
        page = prefixed.get_data(as_text=True)
        assert 'href="/markt/static/css/app.css"' in page
        assert '<a href="/markt/listings/">Find surplus</a>' in page
