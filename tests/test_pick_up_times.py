"""Pick-up times (issue 19): a site's opening hours and instructions, a date and time window
when accepting, moving it by proposal and answer, and the calendar file that follows along."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from babel import dates
from helpers import outbox, reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, Language, Listing, OutboxMessage, Role, User
from marketplace.models.base import utcnow
from marketplace.security import Action, can
from marketplace.services import claims, housekeeping, opening_hours, pick_up_times
from marketplace.services.errors import DomainError

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Monday to Friday 08:00-16:30, closed at the weekend.
OFFICE_HOURS = "08:00-16:30|08:00-16:30|08:00-16:30|08:00-16:30|08:00-16:30||"
INSTRUCTIONS = "Laadperron achterzijde, vraag naar Kees."


def next_weekday(weekday: int, at_least: int = 2) -> date:
    """The first `weekday` (0 = Monday) at least `at_least` days from today."""
    day = date.today() + timedelta(days=at_least)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def dutch_window(day: date, starts: str, ends: str) -> str:
    """How a Dutch page or email writes a window: "di 8 dec, 09:30-11:00", an en dash."""
    weekday = dates.format_date(day, "EEE d MMM", locale="nl_NL").replace(".", "")
    return f"{weekday}, {starts}\u2013{ends}"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)


def calendar_of(message: OutboxMessage) -> icalendar.Calendar:
    [attachment] = json.loads(message.attachments)
    assert attachment["filename"] == "pick-up.ics"
    assert attachment["content_type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(base64.b64decode(attachment["data"]))


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    [event] = calendar.walk("VEVENT")
    return event


@dataclass
class Scene:
    giver: User
    claimant: User
    listing: Listing
    claim: Claim


@pytest.fixture
def scene(app, make_org, make_user, make_listing, make_claim) -> Scene:
    organisation = make_org()
    site = organisation.sites[0]
    site.opening_hours, site.pickup_instructions = OFFICE_HOURS, INSTRUCTIONS
    giver = make_user(organisation=organisation, role=Role.ORG_ADMIN, language=Language.NL,
                      name="Gerda Gever")
    listing = make_listing("Rolstoelen", organisation=organisation, created_by_id=giver.id)
    claimant = make_user(language=Language.NL, name="Karim Klant")
    claim = make_claim(listing, claimant, preferred_pickup_date=next_weekday(1))
    return Scene(giver, claimant, listing, claim)


def accept(scene: Scene, day: date, starts: str, ends: str) -> None:
    claims.accept_claim(scene.giver, scene.claim, agreed_pickup_date=day, pickup_from=starts,
                        pickup_until=ends)
    db.session.commit()


# --- opening hours on the site form ----------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    (["08:00-16:30"] * 5 + ["", ""], OFFICE_HOURS),
    (["8.00 tot 12", "", "", "", "", "", "9:30 \u2013 10:15"], "08:00-12:00||||||09:30-10:15"),
    (["13:00-16:30, 08:00-12:00"] + [""] * 6, "08:00-12:00,13:00-16:30||||||"),
    ([""] * 7, None),  # nothing typed: the hours are not known
])
def test_opening_hours_are_read_as_people_type_them(typed, stored):
    assert opening_hours.parse_week(typed) == stored


@pytest.mark.parametrize("bad", ["8-", "16:30-08:00", "25:00-26:00", "morgens",
                                 "08:00-12:00, 11:00-14:00"])
def test_unreadable_hours_are_refused_on_their_day(bad):
    with pytest.raises(DomainError) as refused:
        opening_hours.parse_week(["08:00-16:30", bad, "", "", "", "", ""])
    assert refused.value.field == "hours_1"


def test_an_admin_sets_opening_hours_and_instructions_on_the_site_form(app, make_org, make_user,
                                                                      login_as):
    organisation = make_org()
    admin = make_user(organisation=organisation, role=Role.ORG_ADMIN, language=Language.NL)
    site = organisation.sites[0]
    path = f"/organisations/{organisation.id}/sites/{site.id}/edit"
    browser = login_as(admin)
    sites_page = f"/organisations/{organisation.id}/sites"
    assert "Openingstijden onbekend" in browser.get(sites_page).get_data(as_text=True)
    fields = {"site_name": site.name, "street": site.street, "postcode": site.postcode,
              "city": site.city, "province": site.province.value,
              "pickup_instructions": INSTRUCTIONS,
              **{f"hours_{day}": "08:00-16:30" for day in range(5)}, "hours_6": "9 tot"}

    refused = browser.post(path, data=fields)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Schrijf de tijden als 08:00-16:30" in page
    assert 'value="9 tot"' in page and INSTRUCTIONS in page  # what was typed stays
    assert reload(site).opening_hours is None

    fields["hours_6"] = ""
    assert browser.post(path, data=fields).status_code == 302
    site = reload(site)
    assert site.opening_hours == OFFICE_HOURS
    assert site.pickup_instructions == INSTRUCTIONS
    form = browser.get(path).get_data(as_text=True)
    assert 'value="08:00-16:30"' in form and "maandag" in form
    assert "Openingstijden onbekend" not in browser.get(sites_page).get_data(as_text=True)


# --- accepting with a time window ------------------------------------------------------------

def test_a_window_outside_the_opening_hours_is_refused_in_dutch_and_the_input_kept(
        scene, login_as):
    tuesday = next_weekday(1)
    browser = login_as(scene.giver)
    response = browser.post(f"/claims/{scene.claim.id}/accept", data={
        "agreed_pickup_date": tuesday.isoformat(), "pickup_from": "07:00",
        "pickup_until": "09:00", "note": "Bel even aan"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Kies een tijd binnen de openingstijden op dinsdag: 08:00\u201316:30." in page
    assert 'value="07:00"' in page and 'value="09:00"' in page and "Bel even aan" in page
    assert reload(scene.claim).status is ClaimStatus.REQUESTED
    assert outbox("claim_accepted") == []


@pytest.mark.parametrize(("day", "starts", "ends", "message"), [
    (6, "10:00", "11:00", "is op zondag gesloten. Kies een andere dag."),
    (1, "11:00", "10:00", "De eindtijd moet later zijn dan de begintijd."),
    (1, "elf uur", "12:00", "Vul een tijd in, zoals 09:00."),
])
def test_other_bad_windows_are_refused_with_their_reason(scene, login_as, day, starts, ends,
                                                         message):
    response = login_as(scene.giver).post(f"/claims/{scene.claim.id}/accept", data={
        "agreed_pickup_date": next_weekday(day).isoformat(), "pickup_from": starts,
        "pickup_until": ends})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert reload(scene.claim).status is ClaimStatus.REQUESTED


def test_accepting_within_the_hours_sends_a_timed_calendar_file(scene, login_as):
    tuesday = next_weekday(1)
    response = login_as(scene.giver).post(f"/claims/{scene.claim.id}/accept", data={
        "agreed_pickup_date": tuesday.isoformat(), "pickup_from": "9:30",
        "pickup_until": "11:00"})
    assert response.status_code == 302

    claim = reload(scene.claim)
    assert claim.status is ClaimStatus.ACCEPTED
    assert claim.pickup_starts_at == local(tuesday, 9, 30)
    assert claim.pickup_ends_at == local(tuesday, 11)
    assert claim.agreed_pickup_date == tuesday
    [mail] = outbox("claim_accepted", to=scene.claimant.email)
    assert dutch_window(tuesday, "09:30", "11:00") in mail.body_text
    assert INSTRUCTIONS in mail.body_text
    calendar = calendar_of(mail)
    assert str(calendar["method"]) == "PUBLISH"
    event = event_of(calendar)
    assert event.decoded("dtstart") == local(tuesday, 9, 30)
    assert event.decoded("dtstart").tzinfo.key == "Europe/Amsterdam"  # written with its zone
    # A calendar program without the zone database reads the zone from the file: one
    # VTIMEZONE under that name, whose rules give the appointment's offset.
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["tzid"]) == event["dtstart"].params["TZID"] == "Europe/Amsterdam"
    for month, hours in ((1, 1), (7, 2)):  # winter and summer time of the appointment's year
        assert zone.to_tz().utcoffset(datetime(tuesday.year, month, 15, 12)) \
            == timedelta(hours=hours)
    assert event.decoded("dtend") == local(tuesday, 11)
    assert event.decoded("sequence") == 0
    assert str(event["uid"]) == f"claim-{claim.id}@surplus-marketplace"
    site = scene.listing.site
    assert str(event["location"]) == f"{site.name}, {site.address}"
    assert INSTRUCTIONS in str(event["description"])
    assert f"/claims/{claim.id}" in str(event["description"])

    page = login_as(scene.claimant).get(f"/claims/{claim.id}").get_data(as_text=True)
    assert dutch_window(tuesday, "09:30", "11:00") in page
    assert INSTRUCTIONS in page


def test_without_times_the_window_is_the_sites_hours_that_day(scene):
    tuesday = next_weekday(1)
    accept(scene, tuesday, "", "")
    claim = reload(scene.claim)
    assert (claim.pickup_starts_at, claim.pickup_ends_at) == (local(tuesday, 8),
                                                              local(tuesday, 16, 30))


def test_a_site_without_known_hours_allows_any_window_and_says_so(scene, login_as):
    scene.listing.site.opening_hours = None
    db.session.commit()
    page = login_as(scene.giver).get(f"/claims/{scene.claim.id}").get_data(as_text=True)
    assert "Openingstijden onbekend" in page
    sunday = next_weekday(6)
    accept(scene, sunday, "19:00", "20:00")
    assert reload(scene.claim).pickup_starts_at == local(sunday, 19)


# --- moving the pick-up ----------------------------------------------------------------------

def test_the_claimant_proposes_and_the_giver_agrees_the_pick_up_moves(scene, login_as):
    tuesday, thursday = next_weekday(1), next_weekday(3)
    accept(scene, tuesday, "09:30", "11:00")
    claimant_browser, giver_browser = login_as(scene.claimant), login_as(scene.giver)

    response = claimant_browser.post(f"/claims/{scene.claim.id}/pick-up-time", data={
        "agreed_pickup_date": thursday.isoformat(), "pickup_from": "14:00",
        "pickup_until": "15:00"})
    assert response.status_code == 302
    [proposed] = outbox("claim_pickup_proposed")
    assert proposed.recipient == scene.giver.email
    assert dutch_window(thursday, "14:00", "15:00") in proposed.body_text
    page = giver_browser.get(f"/claims/{scene.claim.id}").get_data(as_text=True)
    assert "Nieuwe tijd voorgesteld:" in page and "Niet akkoord" in page
    assert dutch_window(tuesday, "09:30", "11:00") in page  # the agreed time, until answered

    assert giver_browser.post(
        f"/claims/{scene.claim.id}/pick-up-time/agree").status_code == 302
    claim = reload(scene.claim)
    assert claim.status is ClaimStatus.ACCEPTED
    assert claim.pickup_starts_at == local(thursday, 14)
    assert claim.agreed_pickup_date == thursday
    assert claim.pickup_sequence == 1
    assert not claim.has_proposal
    assert {mail.recipient for mail in outbox("claim_pickup_answered")} == {
        scene.claimant.email, scene.giver.email}
    [to_claimant] = outbox("claim_pickup_answered", to=scene.claimant.email)
    assert "gaat akkoord met de nieuwe tijd" in to_claimant.body_text
    event = event_of(calendar_of(to_claimant))
    assert event.decoded("sequence") == 1
    assert event.decoded("dtstart") == local(thursday, 14)
    assert event.decoded("dtend") == local(thursday, 15)
    assert str(event["uid"]) == f"claim-{claim.id}@surplus-marketplace"


def test_declining_a_proposal_keeps_the_agreed_time(scene, login_as):
    tuesday = next_weekday(1)
    accept(scene, tuesday, "09:30", "11:00")
    pick_up_times.propose_pickup_time(scene.giver, scene.claim, next_weekday(4), "10:00",
                                      "12:00")
    db.session.commit()
    [proposed] = outbox("claim_pickup_proposed")
    assert proposed.recipient == scene.claimant.email

    assert login_as(scene.claimant).post(
        f"/claims/{scene.claim.id}/pick-up-time/decline").status_code == 302
    claim = reload(scene.claim)
    assert claim.pickup_starts_at == local(tuesday, 9, 30)
    assert claim.pickup_sequence == 0
    assert not claim.has_proposal
    mails = outbox("claim_pickup_answered")
    assert {mail.recipient for mail in mails} == {scene.claimant.email, scene.giver.email}
    assert all(mail.attachments is None for mail in mails)
    assert "gaat niet akkoord" in mails[0].body_text


def test_only_the_other_side_answers_a_proposal(scene, login_as, make_user):
    accept(scene, next_weekday(1), "09:30", "11:00")
    pick_up_times.propose_pickup_time(scene.claimant, scene.claim, next_weekday(2), "10:00",
                                      "11:00")
    db.session.commit()
    assert not can(scene.claimant, Action.ANSWER_PICKUP_TIME, scene.claim)
    assert can(scene.giver, Action.ANSWER_PICKUP_TIME, scene.claim)

    path = f"/claims/{scene.claim.id}/pick-up-time/agree"
    assert login_as(scene.claimant).post(path).status_code == 403
    assert login_as(make_user()).post(path).status_code == 404
    assert reload(scene.claim).has_proposal
    assert reload(scene.claim).pickup_sequence == 0


def test_a_time_is_proposed_only_on_an_accepted_claim(scene, login_as):
    assert not can(scene.claimant, Action.PROPOSE_PICKUP_TIME, scene.claim)
    with pytest.raises(DomainError):
        pick_up_times.propose_pickup_time(scene.claimant, scene.claim, next_weekday(1),
                                          "10:00", "11:00")
    db.session.rollback()
    accept(scene, next_weekday(1), "09:30", "11:00")
    response = login_as(scene.claimant).post(f"/claims/{scene.claim.id}/pick-up-time", data={
        "agreed_pickup_date": next_weekday(5).isoformat(), "pickup_from": "10:00",
        "pickup_until": "11:00"})
    assert response.status_code == 422
    assert "is op zaterdag gesloten" in response.get_data(as_text=True)
    assert not reload(scene.claim).has_proposal
    assert outbox("claim_pickup_proposed") == []


# --- the calendar file after the appointment --------------------------------------------------

def test_cancelling_sends_the_claimant_a_cancelling_calendar_file(scene):
    accept(scene, next_weekday(1), "09:30", "11:00")
    claims.cancel_claim(scene.claimant, scene.claim)
    db.session.commit()
    [mail] = outbox("claim_withdrawn")
    assert mail.recipient == scene.claimant.email
    calendar = calendar_of(mail)
    assert str(calendar["method"]) == "CANCEL"
    event = event_of(calendar)
    assert str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == f"claim-{scene.claim.id}@surplus-marketplace"


def test_a_removed_listing_withdraws_the_appointment_too(scene):
    accept(scene, next_weekday(1), "09:30", "11:00")
    claims.cancel_claims_for_removed_listing(scene.listing)
    db.session.commit()
    [mail] = outbox("claim_listing_removed")
    assert str(calendar_of(mail)["method"]) == "CANCEL"


def test_the_download_gives_the_current_file_to_both_sides_only(scene, login_as, make_user):
    path = f"/claims/{scene.claim.id}/pick-up.ics"
    assert login_as(scene.claimant).get(path).status_code == 404  # no time agreed yet
    thursday = next_weekday(3)
    accept(scene, next_weekday(1), "09:30", "11:00")
    pick_up_times.propose_pickup_time(scene.giver, scene.claim, thursday, "13:00", "14:00")
    pick_up_times.answer_pickup_time(scene.claimant, scene.claim, agree=True)
    db.session.commit()

    for member in (scene.claimant, scene.giver):
        response = login_as(member).get(path)
        assert response.status_code == 200
        assert response.content_type.startswith("text/calendar")
        event = event_of(icalendar.Calendar.from_ical(response.data))
        assert event.decoded("dtstart") == local(thursday, 13)
        assert event.decoded("sequence") == 1
    assert login_as(make_user()).get(path).status_code == 404


@pytest.mark.parametrize("ending", ["cancelled", "collected"])
def test_the_download_after_the_claim_ended_withdraws_only_a_hand_over_that_never_was(
        scene, login_as, ending):
    accept(scene, next_weekday(1), "09:30", "11:00")
    if ending == "cancelled":
        claims.cancel_claim(scene.claimant, scene.claim)
    else:
        claims.mark_collected(scene.giver, scene.claim)
    db.session.commit()
    response = login_as(scene.claimant).get(f"/claims/{scene.claim.id}/pick-up.ics")
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["method"]) == ("CANCEL" if ending == "cancelled" else "PUBLISH")


# --- the reminder ----------------------------------------------------------------------------

def test_the_reminder_the_day_before_says_the_time(scene):
    tomorrow = date.today() + timedelta(days=1)
    scene.listing.site.opening_hours = None  # tomorrow may be a Sunday
    db.session.commit()
    accept(scene, tomorrow, "10:15", "11:45")
    assert housekeeping.remind_pickups_tomorrow(date.today(), utcnow()) == 1
    [mail] = outbox("claim_pickup_tomorrow")
    assert mail.recipient == scene.claimant.email
    assert dutch_window(tomorrow, "10:15", "11:45") in mail.body_text
    assert INSTRUCTIONS in mail.body_text


def test_claims_without_a_window_still_read_as_a_day(scene):
    claims.accept_claim(scene.giver, scene.claim)  # the preferred day, the site's hours
    db.session.commit()
    claim = db.session.scalar(select(Claim).where(Claim.id == scene.claim.id))
    assert claim.pickup_starts_at is not None
    claim.pickup_starts_at = claim.pickup_ends_at = None  # as an older claim has it
    db.session.commit()
    assert claims.pick_up_calendar.cancellation_attachments(claim) is None
