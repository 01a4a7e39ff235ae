"""The home page is a member's to-do list (issue 19): what waits for their answer, pick-ups,
their own claims, listings ending, colleagues and, for platform admins, the queues; the
navigation counts what waits. Visitors get the marketing page, and nothing more is asked of
the database for them."""

from __future__ import annotations

from datetime import timedelta

from helpers import statements_of

from marketplace.extensions import db
from marketplace.localtime import local_today
from marketplace.models import (
    ClaimStatus,
    Language,
    ListingStatus,
    OrganisationStatus,
    Report,
    ReportReason,
    Role,
    UserStatus,
)
from marketplace.models.base import utcnow

HERO = "Geef weg wat je niet meer nodig hebt."
TO_DO = "Je takenlijst"
NOTHING_TO_DO = "Niets te doen. Bied iets aan wat je organisatie niet meer nodig heeft"
TO_ANSWER = "Aanvragen die op je antwoord wachten"
PICKUPS = "Ophalen deze week"
AWAITING = "Aanvragen van je organisatie die op antwoord wachten"
EXPIRING = "Advertenties die binnen drie dagen aflopen"
COLLEAGUES = "Collega's die op je goedkeuring wachten"
REVIEW = "Te controleren advertenties"
REPORTED = "Gemelde advertenties"
ORGANISATIONS = "Organisaties die op goedkeuring wachten"


def home(client) -> str:
    """The page down to the newest listings (whose cards may name the same things)."""
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True).split('id="newest-heading"', 1)[0]


def dutch(make_user, **fields):
    return make_user(language=Language.NL, **fields)


def test_a_visitor_gets_the_marketing_page_and_no_to_do_list(app, make_listing):
    make_listing("Rollator")
    visitor = app.test_client()
    dutch_browser = {"Accept-Language": "nl"}
    page = visitor.get("/", headers=dutch_browser).get_data(as_text=True)
    assert HERO in page
    assert "Zo werkt het" in page
    assert "Rollator" in page
    assert TO_DO not in page
    assert NOTHING_TO_DO not in page
    # The newest listings are kept (page_cache): a visitor's next page asks nothing at all,
    # so neither the to-do list nor the navigation's counts are asked for visitors.
    assert statements_of(visitor, "/", headers=dutch_browser) == []


def test_a_member_with_nothing_to_do_is_told_what_to_do_next(make_user, login_as):
    member = dutch(make_user)
    page = home(login_as(member))
    assert TO_DO in page
    assert NOTHING_TO_DO in page
    assert 'href="/listings/new"' in page
    assert 'action="/listings/"' in page and 'name="q"' in page  # the search box
    for heading in (HERO, "Zo werkt het", TO_ANSWER, PICKUPS, AWAITING, EXPIRING):
        assert heading not in page
    assert "Hallo" not in page  # one greeting: the login's "Welkom"


def test_a_claim_waiting_for_the_givers_answer_is_on_their_list_and_counted_in_the_nav(
        make_user, make_org, make_listing, make_claim, login_as):
    giver = dutch(make_user)
    claimant = dutch(make_user, organisation=make_org("Thuiszorg De Linde"))
    listing = make_listing("Hoog-laagbed", organisation=giver.organisation)
    claim = make_claim(listing, claimant, quantity=2)

    page = home(login_as(giver))
    assert TO_ANSWER in page
    assert "Hoog-laagbed" in page
    assert "Thuiszorg De Linde vraagt 2 stuks aan" in page
    assert f'href="/claims/{claim.id}"' in page
    assert "Beantwoorden" in page
    assert 'Aanvragen <span class="count">(1)</span>' in page
    assert NOTHING_TO_DO not in page

    # The claimant's side: waiting for the other's answer, nothing to answer themselves.
    claimant_page = home(login_as(claimant))
    assert AWAITING in claimant_page
    assert "Hoog-laagbed" in claimant_page
    assert TO_ANSWER not in claimant_page
    assert 'Aanvragen <span class="count">' not in claimant_page

    # Answered, it leaves the list and the count.
    claim.status = ClaimStatus.DECLINED
    db.session.commit()
    page = home(login_as(giver))
    assert TO_ANSWER not in page
    assert 'Aanvragen <span class="count">' not in page


def test_the_oldest_five_claims_show_with_a_link_to_all(make_user, make_listing, make_claim,
                                                        login_as):
    giver = dutch(make_user)
    for number in range(7):
        listing = make_listing(f"Stoel {number}", organisation=giver.organisation)
        make_claim(listing, make_user(), age=timedelta(hours=10 - number))
    page = home(login_as(giver))
    assert all(f"Stoel {number}<" in page for number in range(5))
    assert "Stoel 5<" not in page and "Stoel 6<" not in page
    assert "Alle 7 bekijken" in page
    assert 'Aanvragen <span class="count">(7)</span>' in page


def test_an_accepted_claim_picked_up_this_week_is_on_both_sides_lists(
        make_user, make_org, make_listing, make_claim, login_as):
    giver = dutch(make_user, organisation=make_org("Ziekenhuis Rivierenland"))
    claimant = dutch(make_user, organisation=make_org("Zorggroep Oost"))
    soon = make_listing("Tillift", organisation=giver.organisation)
    later = make_listing("Douchestoel", organisation=giver.organisation)
    make_claim(soon, claimant, ClaimStatus.ACCEPTED,
               agreed_pickup_date=local_today() + timedelta(days=2))
    make_claim(later, claimant, ClaimStatus.ACCEPTED,
               agreed_pickup_date=local_today() + timedelta(days=10))

    page = home(login_as(claimant))
    assert PICKUPS in page
    assert "Tillift" in page
    assert "Je haalt 1 stuk op bij Hoofdlocatie van Ziekenhuis Rivierenland" in page
    assert "Douchestoel" not in page  # not this week

    giver_page = home(login_as(giver))
    assert PICKUPS in giver_page
    assert "Zorggroep Oost haalt 1 stuk op" in giver_page


def test_a_listing_ending_in_two_days_is_on_the_list_with_a_way_to_extend_it(
        make_user, make_listing, login_as):
    poster = dutch(make_user)
    ending = make_listing("Rolstoel", organisation=poster.organisation,
                          available_until=local_today() + timedelta(days=2))
    make_listing("Bureau", organisation=poster.organisation,
                 available_until=local_today() + timedelta(days=10))
    ending.created_by = poster
    db.session.commit()

    page = home(login_as(poster))
    assert EXPIRING in page
    assert "Rolstoel" in page
    assert "Bureau" not in page.split(EXPIRING, 1)[1].split("</section>", 1)[0]
    assert f'href="/listings/{ending.id}/edit">Verlengen' in page


def test_an_organisation_admin_sees_a_colleague_waiting_for_approval(make_user, login_as):
    admin = dutch(make_user, role=Role.ORG_ADMIN)
    dutch(make_user, organisation=admin.organisation, status=UserStatus.PENDING,
          name="Eva de Vries")
    members_url = f"/organisations/{admin.organisation_id}/members"

    page = home(login_as(admin))
    assert COLLEAGUES in page
    assert "Eva de Vries" in page
    assert f'href="{members_url}">Goedkeuren of weigeren' in page
    assert 'Mijn organisatie <span class="count">(1)</span>' in page

    colleague_page = home(login_as(dutch(make_user, organisation=admin.organisation)))
    assert COLLEAGUES not in colleague_page
    assert "Eva de Vries" not in colleague_page


def test_a_platform_admin_sees_the_review_queue_reports_and_organisations(
        make_user, make_org, make_listing, login_as):
    platform_admin = dutch(make_user, role=Role.PLATFORM_ADMIN)
    waiting = make_listing("Medicijnkast", status=ListingStatus.PENDING_REVIEW,
                           submitted_at=utcnow())
    reported = make_listing("Verdachte stoel")
    db.session.add(Report(listing=reported, reporter=make_user(), reason=ReportReason.FOR_SALE))
    make_org("Stichting Nieuw", status=OrganisationStatus.PENDING)
    db.session.commit()

    page = home(login_as(platform_admin))
    assert REVIEW in page
    assert f'href="/admin/listings/{waiting.id}"' in page
    assert REPORTED in page
    assert "Verdachte stoel" in page
    assert ORGANISATIONS in page
    assert "Stichting Nieuw" in page
    assert 'Beheer <span class="count">(3)</span>' in page

    member_page = home(login_as(dutch(make_user)))
    for heading in (REVIEW, REPORTED, ORGANISATIONS):
        assert heading not in member_page


def test_an_account_waiting_for_approval_sees_what_it_waits_for(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    pending = dutch(make_user, organisation=admin.organisation, status=UserStatus.PENDING)
    page = home(login_as(pending))
    assert "Waar je account op wacht" in page
    assert f"een beheerder van {admin.organisation.name} keurt je account goed" in page
    assert TO_DO not in page
    assert NOTHING_TO_DO not in page


def test_the_navigation_counts_once_per_member_request(make_user, make_listing, make_claim,
                                                       login_as):
    giver = dutch(make_user, role=Role.ORG_ADMIN)
    make_claim(make_listing(organisation=giver.organisation), make_user())
    client = login_as(giver)
    counted = [statement for statement in statements_of(client, "/wanted/")
               if "count(claim.id)" in statement.lower()]
    assert len(counted) == 1
    # The claims' and the colleagues' counts are one statement.
    assert "count(user_account.id)" in counted[0].lower()


def test_pick_up_dates_in_the_past_still_ask_to_confirm_the_hand_over(
        make_user, make_listing, make_claim, login_as):
    giver = dutch(make_user)
    make_claim(make_listing("Rollator", organisation=giver.organisation), make_user(),
               ClaimStatus.ACCEPTED, agreed_pickup_date=local_today() - timedelta(days=1))
    page = home(login_as(giver))
    assert PICKUPS in page
    assert "Overgedragen? Bevestig het" in page



def test_a_platform_admin_without_an_organisation_and_nothing_waiting_is_sent_to_the_admin(
        make_user, login_as):
    page = home(login_as(dutch(make_user, role=Role.PLATFORM_ADMIN)))
    assert "Er wacht niets op je." in page
    assert 'button--secondary" href="/admin/">Beheer' in page
    assert NOTHING_TO_DO not in page  # about "your organisation", which they have not
    assert 'Beheer <span class="count">' not in page
