"""Claims and our listings at a glance (issue 19): claims grouped by who acts next, "Ons aanbod"
with only the tabs that hold something and each listing's open claims counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from marketplace.extensions import db
from marketplace.models import ClaimStatus, Language, ListingPhoto, ListingStatus, Photo, Role
from marketplace.models.base import utcnow
from marketplace.services import claim_overview, organisations

_hashes = iter(range(1, 10_000))


def with_photo(listing):
    content_hash = f"{next(_hashes):064x}"
    listing.photos.append(ListingPhoto(photo=Photo(content_hash=content_hash, width=640,
                                                   height=480, byte_size=1000), position=0))
    db.session.commit()
    return content_hash


def section(page: str, heading_id: str) -> str:
    """The HTML of the page's section headed by `heading_id`."""
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def count_queries(client, url: str) -> int:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


@pytest.fixture
def ours(app, make_org, make_user):
    """A member of "Zorggroep Eigen" reading in Dutch, and a colleague."""
    organisation = make_org("Zorggroep Eigen")
    reader = make_user(organisation=organisation, language=Language.NL)
    return reader, make_user(organisation=organisation)


# --- claims ---------------------------------------------------------------------------------

def test_claims_are_grouped_by_who_acts_next(ours, make_org, make_user, make_listing,
                                             make_claim, login_as):
    reader, colleague = ours
    other = make_user(organisation=make_org("Thuiszorg Overkant"))
    asked_of_us = make_listing("Tillift Eigen", organisation=reader.organisation)
    photo = with_photo(asked_of_us)
    make_claim(asked_of_us, other, age=timedelta(days=3, hours=2))
    theirs = make_listing("Rolstoel Overkant", organisation=other.organisation)
    make_claim(theirs, colleague, ClaimStatus.ACCEPTED)
    asked_by_us = make_listing("Douchestoel Overkant", organisation=other.organisation)
    make_claim(asked_by_us, reader, age=timedelta(hours=5))
    handed_over = make_listing("Bedden Overkant", organisation=other.organisation)
    make_claim(handed_over, colleague, ClaimStatus.COLLECTED, collected_at=utcnow())
    stranger = make_user()
    make_claim(make_listing("Andermans kast"), stranger)

    page = login_as(reader).get("/claims/").get_data(as_text=True)

    waiting = section(page, "waiting-heading")
    assert "Wacht op jouw antwoord" in waiting
    assert "Tillift Eigen" in waiting and "Aangevraagd door Thuiszorg Overkant" in waiting
    assert f"{photo}-card.webp" in waiting
    assert "wacht al 3 dagen" in waiting
    running = section(page, "running-heading")
    assert "Loopt" in running
    assert "Rolstoel Overkant" in running and "Geaccepteerd" in running
    assert "Aangeboden door Thuiszorg Overkant" in running
    assert "Douchestoel Overkant" in running and "wacht al 5 uur" in running
    finished = section(page, "finished-heading")
    assert "Afgerond" in finished and "Bedden Overkant" in finished and "Opgehaald" in finished
    for title in ("Tillift Eigen", "Rolstoel Overkant", "Douchestoel Overkant"):
        assert title not in finished
    assert "Andermans kast" not in page
    assert "Hier staat niets." not in page


def test_a_new_pick_up_time_waits_for_the_side_that_did_not_propose_it(
        ours, make_org, make_user, make_listing, make_claim, login_as):
    reader, _colleague = ours
    other = make_user(organisation=make_org("Thuiszorg Overkant"))
    starts = utcnow() + timedelta(days=2)
    proposal = {"proposed_starts_at": starts, "proposed_ends_at": starts + timedelta(hours=1)}
    make_claim(make_listing("Rolstoel Overkant", organisation=other.organisation), reader,
               ClaimStatus.ACCEPTED, proposed_by_giver=True, **proposal)
    make_claim(make_listing("Tillift Eigen", organisation=reader.organisation), other,
               ClaimStatus.ACCEPTED, proposed_by_giver=True, **proposal)

    page = login_as(reader).get("/claims/").get_data(as_text=True)
    waiting = section(page, "waiting-heading")
    assert "Rolstoel Overkant" in waiting and "Nieuwe tijd voorgesteld" in waiting
    assert "Tillift Eigen" in section(page, "running-heading")  # ours: the other side answers


def test_finished_claims_come_latest_first_a_page_at_a_time(ours, make_listing, make_claim,
                                                             login_as, monkeypatch):
    monkeypatch.setattr(claim_overview, "FINISHED_PAGE_SIZE", 2)
    reader, _colleague = ours
    for days_ago, title in ((3, "Oudste stoel"), (1, "Nieuwste stoel"), (2, "Middelste stoel")):
        make_claim(make_listing(title), reader, ClaimStatus.DECLINED,
                   closed_at=utcnow() - timedelta(days=days_ago))
    client = login_as(reader)

    first = section(client.get("/claims/").get_data(as_text=True), "finished-heading")
    assert first.index("Nieuwste stoel") < first.index("Middelste stoel")
    assert "Oudste stoel" not in first
    assert "Oudere afgeronde aanvragen" in first and 'href="/claims/?page=2#finished"' in first
    second = section(client.get("/claims/?page=2").get_data(as_text=True), "finished-heading")
    assert "Oudste stoel" in second and "Nieuwste stoel" not in second
    assert "Nieuwere afgeronde aanvragen" in second and "Oudere afgeronde" not in second
    assert client.get("/claims/?page=abc").status_code == 200  # a bad page is the first


def test_the_claims_page_takes_the_same_queries_however_many_claims(
        ours, make_org, make_user, make_listing, make_claim, login_as):
    reader, colleague = ours

    def one_of_each() -> None:
        other = make_user(organisation=make_org())
        ours_listing = make_listing(organisation=reader.organisation)
        with_photo(ours_listing)
        make_claim(ours_listing, other)
        theirs = make_listing(organisation=other.organisation)
        with_photo(theirs)
        make_claim(theirs, colleague, ClaimStatus.ACCEPTED)
        done = make_listing(organisation=other.organisation)
        make_claim(done, colleague, ClaimStatus.COLLECTED, collected_at=utcnow())

    one_of_each()
    client = login_as(reader)
    before = count_queries(client, "/claims/")
    for _more in range(3):
        one_of_each()
    assert count_queries(client, "/claims/") == before


def test_a_member_not_in_good_standing_sees_only_their_own_claims(
        ours, make_org, make_user, make_listing, make_claim, login_as):
    reader, colleague = ours
    other = make_user(organisation=make_org("Thuiszorg Overkant"))
    make_claim(make_listing("Eigen aanvraag rolstoel", organisation=other.organisation), reader)
    make_claim(make_listing("Collega aanvraag bed", organisation=other.organisation), colleague)
    make_claim(make_listing("Ons aanbod tillift", organisation=reader.organisation), other)
    client = login_as(reader)
    organisations.suspend_organisation(make_user(role=Role.PLATFORM_ADMIN),
                                       reader.organisation, reason="Onderzoek")

    page = client.get("/claims/").get_data(as_text=True)
    assert "Je ziet alleen de aanvragen die je zelf hebt gedaan." in page
    assert "Eigen aanvraag rolstoel" in section(page, "running-heading")
    assert "Collega aanvraag bed" not in page and "Ons aanbod tillift" not in page
    assert "Wacht op jouw antwoord" not in page
    colleagues_page = login_as(colleague).get("/claims/").get_data(as_text=True)
    assert "Collega aanvraag bed" in colleagues_page
    assert "Eigen aanvraag rolstoel" not in colleagues_page


def test_a_member_not_in_good_standing_without_claims_is_sent_to_the_waiting_page(
        ours, make_user, login_as):
    reader, _colleague = ours
    client = login_as(reader)
    organisations.suspend_organisation(make_user(role=Role.PLATFORM_ADMIN),
                                       reader.organisation, reason="Onderzoek")
    answer = client.get("/claims/")
    assert (answer.status_code, answer.headers["Location"]) == (302, "/account/waiting")


def test_without_claims_the_page_says_where_to_start(ours, login_as):
    reader, _colleague = ours
    page = login_as(reader).get("/claims/").get_data(as_text=True)
    assert "Je organisatie heeft nog geen aanvragen gedaan of gekregen." in page
    assert 'href="/listings/"' in page and "Bekijk het aanbod" in page
    assert "Hier staat niets." not in page


# --- our listings ---------------------------------------------------------------------------

def tabs_of(page: str) -> str:
    start = page.index('class="tabs"')
    return page[start:page.index("</nav>", start)]


def test_our_listings_shows_only_the_tabs_that_hold_something(ours, make_listing, login_as):
    reader, _colleague = ours
    make_listing("Kantoorstoelen", organisation=reader.organisation)
    for title in ("Concept bed", "Concept kast"):
        make_listing(title, organisation=reader.organisation, status=ListingStatus.DRAFT)
    client = login_as(reader)

    page = client.get("/listings/mine").get_data(as_text=True)
    tabs = tabs_of(page)
    assert "Gepubliceerd" in tabs and "(1)" in tabs and "Concept" in tabs and "(2)" in tabs
    assert "Verlopen" not in tabs and "Wacht op controle" not in tabs
    assert "Kantoorstoelen" in page and "Concept bed" not in page

    expired = client.get("/listings/mine?status=expired").get_data(as_text=True)
    assert "Verlopen" in tabs_of(expired)  # the tab asked for, though empty
    assert "Geen advertenties met deze status." in expired
    assert client.get("/listings/mine?status=bogus").status_code == 200


def test_our_listings_opens_on_the_first_tab_that_holds_something(ours, make_listing, login_as):
    reader, _colleague = ours
    make_listing("Concept bed", organisation=reader.organisation, status=ListingStatus.DRAFT)
    page = login_as(reader).get("/listings/mine").get_data(as_text=True)
    assert "Concept bed" in page
    assert "Gepubliceerd" not in tabs_of(page)


def test_our_listings_counts_each_listings_open_claims(ours, make_user, make_listing,
                                                      make_claim, login_as):
    reader, _colleague = ours
    wanted = make_listing("Tillift gevraagd", organisation=reader.organisation, quantity=10)
    photo = with_photo(wanted)
    for status in (ClaimStatus.REQUESTED, ClaimStatus.REQUESTED, ClaimStatus.ACCEPTED,
                   ClaimStatus.DECLINED):
        make_claim(wanted, make_user(), status)
    make_listing("Stoel zonder aanvragen", organisation=reader.organisation)

    page = login_as(reader).get("/listings/mine").get_data(as_text=True)
    row = page[page.index("Tillift gevraagd"):page.index("</li>", page.index("Tillift gevraagd"))]
    assert "2 aanvragen wachten" in row and "1 geaccepteerd" in row
    assert f'href="/listings/{wanted.id}#claims-heading"' in row
    assert f"{photo}-card.webp" in page
    quiet = page[page.index("Stoel zonder aanvragen"):]
    assert "wacht" not in quiet[:quiet.index("</li>")]


def test_our_listings_takes_the_same_queries_however_many_listings(
        ours, make_user, make_listing, make_claim, login_as):
    reader, _colleague = ours
    claimant = make_user()

    def listing_with_claims() -> None:
        listing = make_listing(organisation=reader.organisation)
        with_photo(listing)
        make_claim(listing, claimant)
        make_claim(listing, make_user(), ClaimStatus.ACCEPTED)

    listing_with_claims()
    client = login_as(reader)
    before = count_queries(client, "/listings/mine")
    for _more in range(3):
        listing_with_claims()
    assert count_queries(client, "/listings/mine") == before


def test_without_listings_the_page_says_how_to_offer_something(ours, login_as):
    reader, _colleague = ours
    page = login_as(reader).get("/listings/mine").get_data(as_text=True)
    assert "Je organisatie biedt nog niets aan." in page
    assert 'class="tabs"' not in page and "Hier staat niets." not in page
