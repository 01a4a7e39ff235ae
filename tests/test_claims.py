"""The claim state machine, tested on the services: who may do what, quantities and email."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import icalendar
import pytest
from helpers import outbox, reload
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.models import (
    Claim,
    ClaimMessage,
    ClaimStatus,
    Listing,
    ListingStatus,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    Role,
    User,
    UserStatus,
)
from marketplace.models.base import utcnow
from marketplace.models.claim import CLAIM_TRANSITIONS
from marketplace.services import claim_overview, claims, medical_sign_off
from marketplace.services.errors import DomainError, PermissionDenied

TODAY = date.today()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def templates_sent() -> list[str]:
    return [message.template for message in outbox()]


@dataclass
class Scene:
    """One listing of a giving organisation, with the people around it."""

    listing: Listing
    poster: User  # listing.created_by
    giver_colleague: User
    make_member: Callable[..., User]  # a member of another (new) organisation

    @property
    def giver_org(self) -> Organisation:
        return self.listing.organisation

    def claim(self, member: User, quantity: int = 1, **kwargs: object) -> Claim:
        return claims.claim_listing(member, self.listing, quantity, **kwargs)

    def accepted(self, member: User, quantity: int = 1, **kwargs: object) -> Claim:
        claim = self.claim(member, quantity, **kwargs)
        claims.accept_claim(self.poster, claim)
        return claim


@pytest.fixture
def scene(app, make_org, make_user, make_listing) -> Callable[..., Scene]:
    def build(quantity: int = 4, *, poster: bool = True, **fields: object) -> Scene:
        organisation = make_org(name=f"Gevend Ziekenhuis {count(Organisation) + 1}")
        giver = make_user(organisation=organisation, name="Gea Gever")
        colleague = make_user(organisation=organisation, name="Carla Collega")
        listing = make_listing(organisation=organisation, quantity=quantity,
                               created_by=giver if poster else None, **fields)
        return Scene(listing=listing, poster=giver, giver_colleague=colleague,
                     make_member=make_user)

    return build


# --- claiming ---------------------------------------------------------------------------------

def test_claiming_creates_a_requested_claim_and_tells_the_poster(scene):
    s = scene(quantity=5)
    member = s.make_member(name="Mila Member")
    claim = s.claim(member, 2, message="  For our day care, thanks!  ",
                    preferred_pickup_date=TODAY + timedelta(days=3))

    claim = reload(claim)
    assert claim.status is ClaimStatus.REQUESTED
    assert claim.quantity == 2
    assert claim.claimant_id == member.id
    assert claim.claimant_organisation_id == member.organisation_id
    assert claim.message == "For our day care, thanks!"
    assert claim.preferred_pickup_date == TODAY + timedelta(days=3)
    assert claim.decided_at is None and claim.decided_by_id is None
    assert reload(s.listing).quantity_available == 5  # nothing reserved before accepting

    [mail] = outbox()
    assert mail.template == "claim_received"
    assert mail.recipient == s.poster.email
    assert "Mila Member" in mail.body_text
    assert "For our day care, thanks!" in mail.body_text
    assert f"/claims/{claim.id}" in mail.body_text
    assert s.listing.title in mail.subject


def test_a_claim_without_a_poster_goes_to_the_organisation_admins(scene, make_user):
    s = scene(poster=False)
    admin = make_user(organisation=s.giver_org, role=Role.ORG_ADMIN)
    make_user(organisation=s.giver_org, role=Role.ORG_ADMIN, status=UserStatus.DEACTIVATED)
    s.claim(s.make_member())

    assert [(m.template, m.recipient) for m in outbox()] == [("claim_received", admin.email)]


def test_a_deactivated_poster_is_replaced_by_the_admins(scene, make_user):
    s = scene()
    admin = make_user(organisation=s.giver_org, role=Role.ORG_ADMIN)
    s.poster.status = UserStatus.DEACTIVATED
    db.session.commit()
    s.claim(s.make_member())

    assert [m.recipient for m in outbox(template="claim_received")] == [admin.email]


def test_claiming_everything_that_is_available_is_allowed(scene):
    s = scene(quantity=3)
    claim = s.claim(s.make_member(), 3)
    assert reload(claim).quantity == 3


def test_a_message_of_exactly_the_maximum_length_is_allowed(scene):
    s = scene()
    claim = s.claim(s.make_member(), message="x" * claims.MAX_MESSAGE_LENGTH)
    assert len(reload(claim).message) == claims.MAX_MESSAGE_LENGTH


@pytest.mark.parametrize("days", [0, claims.MAX_PICKUP_DAYS_AHEAD])
def test_a_preferred_date_from_today_up_to_four_months_is_allowed(scene, days):
    s = scene()
    claim = s.claim(s.make_member(), preferred_pickup_date=TODAY + timedelta(days=days))
    assert reload(claim).preferred_pickup_date == TODAY + timedelta(days=days)


def test_a_listing_available_until_today_can_still_be_claimed(scene):
    s = scene(available_until=TODAY)
    assert s.claim(s.make_member()).status is ClaimStatus.REQUESTED


def test_a_listing_after_its_internal_phase_can_be_claimed(scene):
    s = scene(internal_days=2, internal_until=utcnow() - timedelta(minutes=1))
    assert s.claim(s.make_member()).status is ClaimStatus.REQUESTED


def assert_refused(action: Callable[[], object], error: type[DomainError], text: str,
                   field: str | None = None) -> DomainError:
    """The action raises `error` mentioning `text`, and writes no claim and no mail."""
    claims_before, mail_before = count(Claim), count(OutboxMessage)
    with pytest.raises(error) as raised:
        action()
    db.session.rollback()
    assert text in raised.value.message
    if field is not None:
        assert raised.value.field == field
    assert count(Claim) == claims_before
    assert count(OutboxMessage) == mail_before
    return raised.value


@pytest.mark.parametrize(("quantity", "text"), [
    (0, "at least 1"),
    (-2, "at least 1"),
    (None, "at least 1"),
    (5, "Only 4 pieces available"),
])
def test_a_claim_needs_a_quantity_that_is_available(scene, quantity, text):
    s = scene(quantity=4)
    assert_refused(lambda: s.claim(s.make_member(), quantity), DomainError, text,
                   field="quantity")


def test_a_claim_cannot_ask_more_than_is_left_after_accepts(scene):
    s = scene(quantity=4)
    s.accepted(s.make_member(), 3)
    assert_refused(lambda: s.claim(s.make_member(), 2), DomainError, "Only 1 piece available")


def test_an_organisation_cannot_claim_its_own_listing(scene):
    s = scene()
    for insider in (s.poster, s.giver_colleague):
        assert_refused(lambda insider=insider: s.claim(insider), DomainError,
                       "your own organisation's listing")


@pytest.mark.parametrize("status", [status for status in ListingStatus
                                    if status is not ListingStatus.PUBLISHED])
def test_only_a_published_listing_can_be_claimed(scene, status):
    s = scene(status=status)
    assert_refused(lambda: s.claim(s.make_member()), DomainError, "no longer on offer")


def test_a_listing_past_its_available_until_cannot_be_claimed(scene):
    s = scene(available_until=TODAY - timedelta(days=1))
    assert_refused(lambda: s.claim(s.make_member()), DomainError, "no longer on offer")


def test_a_listing_in_its_internal_phase_cannot_be_claimed_by_an_outsider(scene):
    s = scene(internal_days=3, internal_until=utcnow() + timedelta(days=3))
    assert_refused(lambda: s.claim(s.make_member()), DomainError, "no longer on offer")


def test_a_listing_of_a_suspended_organisation_cannot_be_claimed(scene):
    s = scene()
    s.giver_org.status = OrganisationStatus.SUSPENDED
    db.session.commit()
    assert_refused(lambda: s.claim(s.make_member()), DomainError, "no longer on offer")


@pytest.mark.parametrize(("organisation_status", "text"), [
    (OrganisationStatus.PENDING, "waiting for approval"),
    (OrganisationStatus.SUSPENDED, "suspended"),
])
def test_members_of_an_inactive_organisation_cannot_claim(scene, make_org, make_user,
                                                          organisation_status, text):
    s = scene()
    member = make_user(organisation=make_org(status=organisation_status))
    assert_refused(lambda: s.claim(member), PermissionDenied, text)


@pytest.mark.parametrize(("user_fields", "text"), [
    ({"status": UserStatus.PENDING}, "waiting for approval"),
    ({"status": UserStatus.DEACTIVATED}, "deactivated"),
    ({"confirmed": False}, "Confirm your email address"),
])
def test_members_who_cannot_participate_yet_cannot_claim(scene, make_user, user_fields, text):
    s = scene()
    member = make_user(**user_fields)
    assert_refused(lambda: s.claim(member), PermissionDenied, text)


@pytest.mark.parametrize("days", [-1, claims.MAX_PICKUP_DAYS_AHEAD + 1])
def test_a_preferred_date_in_the_past_or_too_far_ahead_is_refused(scene, days):
    s = scene()
    assert_refused(
        lambda: s.claim(s.make_member(), preferred_pickup_date=TODAY + timedelta(days=days)),
        DomainError, "within four months", field="preferred_pickup_date")


def test_a_message_over_the_maximum_length_is_refused(scene):
    s = scene()
    assert_refused(
        lambda: s.claim(s.make_member(), message="x" * (claims.MAX_MESSAGE_LENGTH + 1)),
        DomainError, "under 2000 characters", field="message")


@pytest.mark.parametrize("first_status", [ClaimStatus.REQUESTED, ClaimStatus.ACCEPTED])
def test_a_member_has_one_open_claim_per_listing(scene, first_status):
    s = scene()
    member = s.make_member()
    first = s.accepted(member) if first_status is ClaimStatus.ACCEPTED else s.claim(member)
    assert reload(first).status is first_status
    assert_refused(lambda: s.claim(member), DomainError, "claimed this listing already")


def test_a_colleague_of_a_claimant_may_claim_the_same_listing(scene, make_user):
    s = scene()
    member = s.make_member()
    s.claim(member)
    colleague = make_user(organisation=member.organisation)
    assert s.claim(colleague).status is ClaimStatus.REQUESTED


def test_a_member_may_claim_again_after_a_cancel(scene):
    s = scene()
    member = s.make_member()
    first = s.claim(member)
    claims.cancel_claim(member, first)
    second = s.claim(member, 2)
    assert reload(second).status is ClaimStatus.REQUESTED
    assert count(Claim) == 2


def test_the_database_refuses_a_second_open_claim_of_one_member(scene):
    s = scene()
    member = s.make_member()
    s.claim(member)
    db.session.add(Claim(listing=s.listing, claimant=member,
                         claimant_organisation_id=member.organisation_id, quantity=1,
                         status=ClaimStatus.ACCEPTED))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Closed claims are outside the partial index.
    db.session.add(Claim(listing=s.listing, claimant=member,
                         claimant_organisation_id=member.organisation_id, quantity=1,
                         status=ClaimStatus.CANCELLED))
    db.session.commit()
    assert count(Claim) == 2


def test_a_double_click_that_passes_the_check_is_stopped_by_the_unique_index(scene,
                                                                             monkeypatch):
    s = scene()
    member = s.make_member()
    s.claim(member)
    # The second click looked before the first was written: the check finds nothing.
    monkeypatch.setattr(claims, "open_claim_of", lambda user, listing: None)
    refusal = assert_refused(lambda: s.claim(member), DomainError,
                             "claimed this listing already")
    assert isinstance(refusal.__cause__, IntegrityError)
    assert len(outbox(template="claim_received")) == 1


# --- accepting --------------------------------------------------------------------------------

def test_accepting_reserves_the_quantity(scene):
    s = scene(quantity=5)
    member = s.make_member()
    preferred = TODAY + timedelta(days=4)
    claim = s.claim(member, 2, preferred_pickup_date=preferred)

    claims.accept_claim(s.poster, claim, note="  Ring at the back door.  ")

    claim = reload(claim)
    assert claim.status is ClaimStatus.ACCEPTED
    assert claim.decided_by_id == s.poster.id
    assert claim.decided_at is not None
    assert abs(claim.decided_at - utcnow()) < timedelta(minutes=1)
    assert claim.agreed_pickup_date == preferred
    assert claim.decision_note == "Ring at the back door."
    assert reload(s.listing).quantity_available == 3
    assert reload(s.listing).status is ListingStatus.PUBLISHED


def test_an_agreed_date_given_when_accepting_wins_over_the_preferred_one(scene):
    s = scene()
    claim = s.claim(s.make_member(), preferred_pickup_date=TODAY + timedelta(days=4))
    claims.accept_claim(s.poster, claim, agreed_pickup_date=TODAY + timedelta(days=9))
    assert reload(claim).agreed_pickup_date == TODAY + timedelta(days=9)


def ics_of(message: OutboxMessage) -> str:
    [attachment] = json.loads(message.attachments)
    assert attachment["filename"].endswith(".ics")
    assert attachment["content_type"].startswith("text/calendar")
    return base64.b64decode(attachment["data"]).decode()


def test_the_claimant_gets_the_pick_up_address_contact_and_a_calendar_file(scene):
    s = scene()
    member = s.make_member(name="Mila Member")
    claim = s.claim(member, preferred_pickup_date=TODAY + timedelta(days=6))
    site = s.listing.site

    claims.accept_claim(s.poster, claim, note="Use the loading dock.")

    [mail] = outbox(template="claim_accepted")
    assert mail.recipient == member.email
    assert site.address in mail.body_text  # street, postcode and city
    assert s.poster.email in mail.body_text
    assert s.poster.name in mail.body_text
    assert "Use the loading dock." in mail.body_text
    calendar = ics_of(mail)
    lines = calendar.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR"
    assert "END:VCALENDAR" in lines
    agreed = TODAY + timedelta(days=6)
    # A timed event (the site's hours are not known: the suggested 09:00-12:00), in local time.
    [event] = icalendar.Calendar.from_ical(calendar).walk("VEVENT")
    assert event.decoded("dtstart").replace(tzinfo=None) == datetime(*agreed.timetuple()[:3], 9)
    assert event.decoded("dtend").replace(tzinfo=None) == datetime(*agreed.timetuple()[:3], 12)
    assert str(event["location"]) == f"{site.name}, {site.address}"
    assert f"UID:claim-{claim.id}@" in calendar


def test_an_acceptance_without_a_date_has_no_calendar_file(scene):
    s = scene()
    claim = s.claim(s.make_member())
    claims.accept_claim(s.poster, claim)
    [mail] = outbox(template="claim_accepted")
    assert mail.attachments is None
    assert s.listing.site.address in mail.body_text


@pytest.fixture
def tokyo_time() -> Iterator[None]:
    """The server's local time zone is UTC+9 for the test."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "JST-9"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


def test_the_calendar_stamp_is_in_utc_whatever_the_server_time_zone(scene, tokyo_time):
    s = scene()
    claim = s.claim(s.make_member(), preferred_pickup_date=TODAY + timedelta(days=2))
    claims.accept_claim(s.poster, claim)
    [stamp] = re.findall(r"^DTSTAMP:(\S+)\r?$", ics_of(outbox(template="claim_accepted")[0]),
                         flags=re.MULTILINE)
    written = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(written - datetime.now(UTC)) < timedelta(minutes=5)


def test_a_colleague_of_the_poster_may_accept(scene):
    s = scene()
    claim = s.claim(s.make_member())
    claims.accept_claim(s.giver_colleague, claim)
    claim = reload(claim)
    assert claim.status is ClaimStatus.ACCEPTED
    assert claim.decided_by_id == s.giver_colleague.id
    assert s.giver_colleague.email in outbox(template="claim_accepted")[0].body_text


@pytest.mark.parametrize("who", ["claimant", "claimant_colleague", "outsider",
                                 "deactivated_colleague"])
def test_only_an_active_member_of_the_giving_organisation_may_accept(scene, make_user, who):
    s = scene()
    member = s.make_member()
    claim = s.claim(member)
    actor = {
        "claimant": lambda: member,
        "claimant_colleague": lambda: make_user(organisation=member.organisation),
        "outsider": lambda: s.make_member(),
        "deactivated_colleague": lambda: make_user(organisation=s.giver_org,
                                                   status=UserStatus.DEACTIVATED),
    }[who]()
    mail_before = count(OutboxMessage)
    with pytest.raises(PermissionDenied, match="Only the giving organisation"):
        claims.accept_claim(actor, claim)
    assert reload(claim).status is ClaimStatus.REQUESTED
    assert reload(s.listing).quantity_available == 4
    assert count(OutboxMessage) == mail_before


def test_accepting_twice_reserves_once(scene):
    s = scene(quantity=4)
    claim = s.claim(s.make_member(), 2)
    claims.accept_claim(s.poster, claim)
    with pytest.raises(DomainError, match="answered already"):
        claims.accept_claim(s.giver_colleague, claim)
    assert reload(s.listing).quantity_available == 2
    assert reload(claim).decided_by_id == s.poster.id
    assert len(outbox(template="claim_accepted")) == 1


def test_a_second_accept_with_a_stale_claim_reserves_once(scene, app):
    """The second click loaded the claim before the first was accepted."""
    s = scene(quantity=4)
    claim = s.claim(s.make_member(), 2)
    claim_id = claim.id
    stale = reload(claim)
    assert stale.status is ClaimStatus.REQUESTED
    with app.app_context():  # the first click, in its own session
        claims.accept_claim(db.session.get(User, s.poster.id), db.session.get(Claim, claim_id))
    with pytest.raises(DomainError, match="answered already"):
        claims.accept_claim(s.poster, stale)
    db.session.expire_all()
    assert db.session.get(Listing, s.listing.id).quantity_available == 2
    assert len(outbox(template="claim_accepted")) == 1


def test_accepting_more_than_is_left_keeps_the_claim_waiting_in_line(scene):
    s = scene(quantity=4)
    first = s.claim(s.make_member(), 3)
    second = s.claim(s.make_member(), 2)
    claims.accept_claim(s.poster, first)

    with pytest.raises(DomainError) as refused:
        claims.accept_claim(s.poster, second)

    assert "Only 1 piece left" in refused.value.message
    assert "place in line" in refused.value.message
    second = reload(second)
    assert second.status is ClaimStatus.REQUESTED
    assert second.decided_at is None and second.decided_by_id is None
    assert reload(s.listing).quantity_available == 1
    assert len(outbox(template="claim_accepted")) == 1


def test_an_agreed_date_in_the_past_is_refused(scene):
    s = scene()
    claim = s.claim(s.make_member())
    with pytest.raises(DomainError) as refused:
        claims.accept_claim(s.poster, claim, agreed_pickup_date=TODAY - timedelta(days=1))
    assert refused.value.field == "agreed_pickup_date"
    assert reload(claim).status is ClaimStatus.REQUESTED
    assert reload(s.listing).quantity_available == 4


def test_an_agreed_date_more_than_four_months_ahead_is_refused(scene):
    s = scene()
    claim = s.claim(s.make_member())
    with pytest.raises(DomainError) as refused:
        claims.accept_claim(s.poster, claim, agreed_pickup_date=TODAY + timedelta(days=121))
    assert refused.value.field == "agreed_pickup_date"
    assert reload(claim).status is ClaimStatus.REQUESTED
    claims.accept_claim(s.poster, claim, agreed_pickup_date=TODAY + timedelta(days=120))
    assert reload(claim).status is ClaimStatus.ACCEPTED


@pytest.mark.parametrize("status", [OrganisationStatus.SUSPENDED, OrganisationStatus.PENDING])
def test_a_claim_of_an_organisation_no_longer_active_waits_unanswered(scene, status):
    s = scene()
    claim = s.claim(s.make_member())
    claim.claimant_organisation.status = status
    db.session.commit()
    assert_refused(lambda: claims.accept_claim(s.poster, claim), DomainError,
                   "cannot be accepted now")
    assert reload(claim).status is ClaimStatus.REQUESTED
    assert reload(s.listing).quantity_available == 4


@pytest.mark.parametrize("status", [ListingStatus.WITHDRAWN, ListingStatus.REMOVED,
                                    ListingStatus.EXPIRED])
def test_a_claim_on_a_listing_no_longer_on_offer_cannot_be_accepted(scene, status):
    s = scene()
    claim = s.claim(s.make_member())
    s.listing.status = status
    db.session.commit()
    with pytest.raises(DomainError, match="no longer on offer"):
        claims.accept_claim(s.poster, claim)
    assert reload(claim).status is ClaimStatus.REQUESTED
    assert reload(s.listing).quantity_available == 4


# --- declining --------------------------------------------------------------------------------

def test_declining_emails_the_reason_and_reserves_nothing(scene):
    s = scene()
    member = s.make_member()
    claim = s.claim(member, 2)
    claims.decline_claim(s.giver_colleague, claim, note="  Promised to our own wards.  ")

    claim = reload(claim)
    assert claim.status is ClaimStatus.DECLINED
    assert claim.decided_by_id == s.giver_colleague.id
    assert claim.decided_at is not None and claim.closed_at is not None
    assert claim.decision_note == "Promised to our own wards."
    assert reload(s.listing).quantity_available == 4
    [mail] = outbox(template="claim_declined")
    assert mail.recipient == member.email
    assert "Promised to our own wards." in mail.body_text


def test_only_the_giving_organisation_may_decline(scene):
    s = scene()
    member = s.make_member()
    claim = s.claim(member)
    for actor in (member, s.make_member()):
        with pytest.raises(PermissionDenied):
            claims.decline_claim(actor, claim)
    assert reload(claim).status is ClaimStatus.REQUESTED
    assert outbox(template="claim_declined") == []


# --- every transition -------------------------------------------------------------------------

def needing_sign_off(s: Scene, member: User) -> User:
    """The listing becomes a medical device and the member's organisation requires its
    medical technology's approval: the approver returned."""
    approver = s.make_member(organisation=member.organisation, name="Mieke Medtech")
    approver.medical_technology = True
    s.listing.category.medical_device = True
    member.organisation.requires_medical_sign_off = True
    db.session.commit()
    return approver


def put_in_status(s: Scene, member: User, status: ClaimStatus) -> Claim:
    """A claim of 1 brought into `status` the way the product gets there."""
    if status in (ClaimStatus.AWAITING_SIGN_OFF, ClaimStatus.NOT_SIGNED_OFF):
        approver = needing_sign_off(s, member)
    claim = s.claim(member)
    if status is ClaimStatus.NOT_SIGNED_OFF:
        medical_sign_off.refuse_sign_off(approver, claim, "Geen onderhoudshistorie")
    if status in (ClaimStatus.ACCEPTED, ClaimStatus.COLLECTED):
        claims.accept_claim(s.poster, claim)
    if status is ClaimStatus.COLLECTED:
        claims.mark_collected(member, claim)
    if status is ClaimStatus.DECLINED:
        claims.decline_claim(s.poster, claim)
    if status is ClaimStatus.CANCELLED:
        claims.cancel_claim(member, claim)
    if status is ClaimStatus.EXPIRED:
        claims.tell_waiting_claimants(s.listing)
        db.session.commit()
    claim = reload(claim)
    assert claim.status is status
    return claim


ALLOWED = {
    "accept": ({ClaimStatus.REQUESTED}, ClaimStatus.ACCEPTED),
    "decline": ({ClaimStatus.REQUESTED}, ClaimStatus.DECLINED),
    "cancel": ({ClaimStatus.AWAITING_SIGN_OFF, ClaimStatus.REQUESTED, ClaimStatus.ACCEPTED},
               ClaimStatus.CANCELLED),
    "collect": ({ClaimStatus.ACCEPTED}, ClaimStatus.COLLECTED),
    "sign_off": ({ClaimStatus.AWAITING_SIGN_OFF}, ClaimStatus.REQUESTED),
    "refuse_sign_off": ({ClaimStatus.AWAITING_SIGN_OFF}, ClaimStatus.NOT_SIGNED_OFF),
}


@pytest.mark.parametrize("action", list(ALLOWED))
def test_each_member_action_is_allowed_from_what_the_transition_table_says(action):
    allowed_from, to = ALLOWED[action]
    assert CLAIM_TRANSITIONS.sources_of(to) == allowed_from


@pytest.mark.parametrize("status", list(ClaimStatus))
@pytest.mark.parametrize("action", list(ALLOWED))
def test_every_transition_is_allowed_only_from_its_states(scene, action, status):
    s = scene(quantity=4)
    member = s.make_member()
    claim = put_in_status(s, member, status)
    # The claimant organisation's medical technology (a new one where the claim needed none).
    approver = db.session.scalar(select(User).where(
        User.organisation_id == member.organisation_id, User.medical_technology))
    if approver is None:
        approver = s.make_member(organisation=member.organisation)
        approver.medical_technology = True
        db.session.commit()
    available = reload(s.listing).quantity_available
    do = {
        "accept": lambda: claims.accept_claim(s.poster, claim),
        "decline": lambda: claims.decline_claim(s.poster, claim),
        "cancel": lambda: claims.cancel_claim(member, claim),
        "collect": lambda: claims.mark_collected(member, claim),
        "sign_off": lambda: medical_sign_off.sign_off_claim(approver, claim),
        "refuse_sign_off": lambda: medical_sign_off.refuse_sign_off(approver, claim, "Te oud"),
    }[action]
    allowed_from, to = ALLOWED[action]
    if status in allowed_from:
        do()
        assert reload(claim).status is to
    else:
        mail_before = count(OutboxMessage)
        with pytest.raises(DomainError):
            do()
        db.session.rollback()
        assert reload(claim).status is status
        assert reload(s.listing).quantity_available == available
        assert count(OutboxMessage) == mail_before


# --- cancelling -------------------------------------------------------------------------------

def test_cancelling_a_requested_claim_leaves_the_quantity_alone(scene):
    s = scene(quantity=4)
    member = s.make_member()
    claim = s.claim(member, 2)
    claims.cancel_claim(member, claim)

    claim = reload(claim)
    assert claim.status is ClaimStatus.CANCELLED
    assert claim.closed_at is not None
    assert reload(s.listing).quantity_available == 4
    [mail] = outbox(template="claim_cancelled")
    assert mail.recipient == s.poster.email
    assert member.organisation.name in mail.body_text


def test_cancelling_an_accepted_claim_gives_the_quantity_back(scene):
    s = scene(quantity=4)
    member = s.make_member()
    claim = s.accepted(member, 3)
    assert reload(s.listing).quantity_available == 1
    claims.cancel_claim(member, claim)
    assert reload(claim).status is ClaimStatus.CANCELLED
    assert reload(s.listing).quantity_available == 4
    assert [m.recipient for m in outbox(template="claim_cancelled")] == [s.poster.email]


@pytest.mark.parametrize("who", ["poster", "giver_colleague", "claimant_colleague", "outsider"])
def test_only_the_claimant_may_cancel(scene, make_user, who):
    s = scene()
    member = s.make_member()
    claim = s.accepted(member, 2)
    actor = {
        "poster": lambda: s.poster,
        "giver_colleague": lambda: s.giver_colleague,
        "claimant_colleague": lambda: make_user(organisation=member.organisation),
        "outsider": lambda: s.make_member(),
    }[who]()
    with pytest.raises(PermissionDenied, match="Only the one who claimed"):
        claims.cancel_claim(actor, claim)
    assert reload(claim).status is ClaimStatus.ACCEPTED
    assert reload(s.listing).quantity_available == 2
    assert outbox(template="claim_cancelled") == []


def test_freed_quantity_tells_the_oldest_waiting_claim_that_fits_once(scene):
    s = scene(quantity=4)
    first, big, small, medium = (s.make_member(name=name) for name in
                                 ("First", "Big Waiting", "Small", "Medium Waiting"))
    first_claim = s.claim(first, 3)
    big_claim = s.claim(big, 3)  # oldest waiting
    small_claim = s.claim(small, 1)
    medium_claim = s.claim(medium, 2)
    claims.accept_claim(s.poster, first_claim)
    claims.accept_claim(s.poster, small_claim)
    assert reload(s.listing).quantity_available == 0
    db.session.execute(OutboxMessage.__table__.delete())
    db.session.commit()

    claims.cancel_claim(first, first_claim)  # 3 come free: the big claim is oldest and fits

    assert reload(s.listing).quantity_available == 3
    assert [(m.template, m.recipient) for m in outbox()
            if m.template.startswith("claim_quantity_freed")] == [
        ("claim_quantity_freed", big.email),
        ("claim_quantity_freed_giver", s.poster.email),
    ]
    assert reload(big_claim).next_in_line_notified_at is not None
    assert reload(medium_claim).next_in_line_notified_at is None
    assert "3 pieces for" in outbox(template="claim_quantity_freed_giver")[0].body_text

    claims.cancel_claim(small, small_claim)  # 1 more: the big claim is not told again

    assert reload(s.listing).quantity_available == 4
    assert [m.recipient for m in outbox(template="claim_quantity_freed")] == [
        big.email, medium.email]
    assert len(outbox(template="claim_quantity_freed_giver")) == 2
    assert reload(big_claim).status is ClaimStatus.REQUESTED  # told, not accepted


def test_freed_quantity_skips_a_waiting_claim_that_still_does_not_fit(scene):
    s = scene(quantity=3)
    taker, big, small = s.make_member(), s.make_member(), s.make_member()
    taker_claim = s.claim(taker, 1)
    s.claim(big, 3)
    small_claim = s.claim(small, 1)
    claims.accept_claim(s.poster, s.claim(s.make_member(), 2))
    claims.accept_claim(s.poster, taker_claim)

    claims.cancel_claim(taker, taker_claim)  # 1 free: the big claim (3) does not fit

    assert [m.recipient for m in outbox(template="claim_quantity_freed")] == [small.email]
    assert reload(small_claim).next_in_line_notified_at is not None


def test_cancelling_a_requested_claim_tells_nobody_in_line(scene):
    s = scene(quantity=2)
    member = s.make_member()
    claim = s.claim(member, 1)
    s.claim(s.make_member(), 2)
    claims.cancel_claim(member, claim)
    assert outbox(template="claim_quantity_freed") == []


# --- collecting -------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["claimant", "poster", "giver_colleague"])
def test_either_side_may_mark_a_claim_collected(scene, who):
    s = scene(quantity=4)
    member = s.make_member()
    claim = s.accepted(member, 2)
    actor = {"claimant": member, "poster": s.poster, "giver_colleague": s.giver_colleague}[who]

    claims.mark_collected(actor, claim)

    claim = reload(claim)
    assert claim.status is ClaimStatus.COLLECTED
    assert claim.collected_at is not None
    listing = reload(s.listing)
    assert listing.quantity_available == 2  # reserved at accepting, stays given away
    assert listing.status is ListingStatus.PUBLISHED  # 2 of 4 collected
    assert sorted(m.recipient for m in outbox(template="claim_collected")) == sorted(
        [member.email, s.poster.email])


@pytest.mark.parametrize("who", ["outsider", "claimant_colleague"])
def test_others_may_not_mark_a_claim_collected(scene, make_user, who):
    s = scene()
    member = s.make_member()
    claim = s.accepted(member)
    actor = s.make_member() if who == "outsider" else make_user(organisation=member.organisation)
    with pytest.raises(PermissionDenied):
        claims.mark_collected(actor, claim)
    assert reload(claim).status is ClaimStatus.ACCEPTED
    assert outbox(template="claim_collected") == []


def test_collecting_everything_closes_the_listing_and_expires_the_waiting_claims(scene):
    s = scene(quantity=4)
    a, b, waiting = s.make_member(), s.make_member(), s.make_member(name="Wanda Waiting")
    claim_a = s.claim(a, 3)
    waiting_claim = s.claim(waiting, 2)
    claim_b = s.claim(b, 1)
    claims.accept_claim(s.poster, claim_a)
    claims.accept_claim(s.poster, claim_b)

    claims.mark_collected(a, claim_a)
    assert reload(s.listing).status is ListingStatus.PUBLISHED
    assert reload(waiting_claim).status is ClaimStatus.REQUESTED
    assert outbox(template="claim_listing_gone") == []

    claims.mark_collected(s.poster, claim_b)

    listing = reload(s.listing)
    assert listing.status is ListingStatus.CLOSED
    assert listing.quantity_available == 0
    waiting_claim = reload(waiting_claim)
    assert waiting_claim.status is ClaimStatus.EXPIRED
    assert waiting_claim.closed_at is not None
    assert waiting_claim.decided_at is None  # not a no-show: it was never accepted
    [gone] = outbox(template="claim_listing_gone")
    assert gone.recipient == waiting.email
    assert listing.title in gone.body_text
    assert_refused(lambda: s.claim(s.make_member()), DomainError, "no longer on offer")


def test_the_hand_over_email_tells_what_was_saved(scene):
    s = scene(quantity=5, weight_per_unit_kg=Decimal("1.5"), value_per_unit=Decimal("12.50"))
    member = s.make_member()
    claim = s.accepted(member, 3)
    claims.mark_collected(member, claim)

    mails = outbox(template="claim_collected")
    assert len(mails) == 2
    for mail in mails:
        assert "4.5 kg" in mail.body_text
        assert "37.50" in mail.body_text
        assert "4.5" in mail.body_html and "37.50" in mail.body_html


def test_the_hand_over_email_without_weight_or_value_claims_no_savings(scene):
    s = scene()
    member = s.make_member()
    claims.mark_collected(member, s.accepted(member, 2))
    for mail in outbox(template="claim_collected"):
        assert "saved about" not in mail.body_text
        assert "saved about" not in mail.body_html


def test_the_hand_over_email_writes_round_kilograms_plainly(scene):
    s = scene(quantity=4, weight_per_unit_kg=Decimal("2.5"))
    member = s.make_member()
    claims.mark_collected(member, s.accepted(member, 4))
    mail = outbox(template="claim_collected", to=member.email)[0]
    assert "about 10 kg" in mail.body_text, mail.body_text  # not "1E+1" (Decimal.normalize)


def test_impact_counts_items_kilograms_and_euros(scene):
    s = scene(quantity=6, weight_per_unit_kg=Decimal("2.250"), value_per_unit=Decimal("19.99"))
    member = s.make_member()
    claim = s.accepted(member, 4)
    impact = claims.impact_of(reload(claim))
    assert impact.items == 4
    assert impact.kilograms == Decimal("9")
    assert impact.euros == Decimal("79.96")


def test_impact_without_weight_or_value_is_zero(scene):
    s = scene()
    impact = claims.impact_of(s.claim(s.make_member(), 3))
    assert (impact.items, impact.kilograms, impact.euros) == (3, 0, 0)


# --- messages ---------------------------------------------------------------------------------

def test_a_claimants_message_is_emailed_to_the_giver_side_only(scene):
    s = scene()
    member = s.make_member(name="Mila Member")
    claim = s.claim(member)
    claims.accept_claim(s.giver_colleague, claim)  # the colleague who decided hears it too

    message = claims.post_message(member, claim, "  Can we come at 10:00?  ")

    message = reload(message)
    assert message.body == "Can we come at 10:00?"
    assert message.author_id == member.id
    mails = outbox(template="claim_message")
    assert sorted(m.recipient for m in mails) == sorted([s.poster.email,
                                                         s.giver_colleague.email])
    for mail in mails:
        assert "Can we come at 10:00?" in mail.body_text
        assert "Mila Member" in mail.body_text


def test_a_givers_message_is_emailed_to_the_claimant_only(scene):
    s = scene()
    member = s.make_member()
    claim = s.claim(member)
    claims.post_message(s.giver_colleague, claim, "Sure, see you then.")
    [mail] = outbox(template="claim_message")
    assert mail.recipient == member.email
    assert "Sure, see you then." in mail.body_text
    assert s.giver_colleague.name in mail.body_text


def test_the_poster_does_not_get_their_own_message(scene):
    s = scene()
    member = s.make_member()
    claim = s.accepted(member)
    claims.post_message(s.poster, claim, "Loading dock B.")
    assert [m.recipient for m in outbox(template="claim_message")] == [member.email]


@pytest.mark.parametrize(("body", "text"), [
    ("", "Write a message first"),
    ("   \n ", "Write a message first"),
    (None, "Write a message first"),
    ("x" * (claims.MAX_MESSAGE_LENGTH + 1), "under 2000 characters"),
])
def test_an_empty_or_too_long_message_is_refused(scene, body, text):
    s = scene()
    member = s.make_member()
    claim = s.claim(member)
    mail_before = count(OutboxMessage)
    with pytest.raises(DomainError, match=text) as refused:
        claims.post_message(member, claim, body)
    assert refused.value.field == "body"
    db.session.rollback()
    assert count(ClaimMessage) == 0
    assert count(OutboxMessage) == mail_before


def test_outsiders_cannot_write_on_a_claim(scene, make_user):
    s = scene()
    member = s.make_member()
    claim = s.claim(member)
    for outsider in (s.make_member(), make_user(organisation=member.organisation)):
        with pytest.raises(PermissionDenied):
            claims.post_message(outsider, claim, "Hello")
    db.session.rollback()
    assert count(ClaimMessage) == 0
    assert outbox(template="claim_message") == []


# --- reliability and waiting claims -----------------------------------------------------------

def test_reliability_counts_collected_claims_and_no_shows(scene, make_org, make_user):
    claimant_org = make_org()
    members = [make_user(organisation=claimant_org) for _ in range(3)]
    for member in members[:2]:
        s = scene()
        claims.mark_collected(member, s.accepted(member))
    # Accepted and never collected: housekeeping expires it, a no-show.
    s = scene()
    no_show = s.accepted(members[2])
    no_show.status = ClaimStatus.EXPIRED
    no_show.closed_at = utcnow()
    # Never answered: expired without a decision, not a no-show.
    s = scene()
    unanswered = s.claim(members[0])
    unanswered.status = ClaimStatus.EXPIRED
    unanswered.closed_at = utcnow()
    # Declined, cancelled and open claims say nothing about reliability.
    s = scene()
    claims.decline_claim(s.poster, s.claim(members[0]))
    claims.cancel_claim(members[1], s.accepted(members[1]))
    s.accepted(members[2])
    db.session.commit()

    reliability = claim_overview.reliability_of(claimant_org.id)
    assert (reliability.collected, reliability.no_shows) == (2, 1)
    assert reliability.known
    # The giving organisations' own record is empty.
    assert not claim_overview.reliability_of(s.giver_org.id).known


def test_reliability_outlives_a_deleted_account(scene, make_org, make_user):
    claimant_org = make_org()
    member = make_user(organisation=claimant_org)
    s = scene()
    claim = s.accepted(member)
    claims.mark_collected(member, claim)
    claim.claimant_id = None  # the account is gone; the organisation's record stays
    db.session.commit()
    assert claim_overview.reliability_of(claimant_org.id).collected == 1


def test_telling_waiting_claimants_expires_requested_claims_only(scene):
    s = scene(quantity=5)
    waiting_a, waiting_b, accepted = s.make_member(), s.make_member(), s.make_member()
    claim_a = s.claim(waiting_a, 1)
    claim_b = s.claim(waiting_b, 2)
    claim_gone_member = s.claim(s.make_member(), 1)
    claim_accepted = s.accepted(accepted, 2)
    claim_gone_member.claimant_id = None  # a deleted account: nobody to tell
    s.listing.status = ListingStatus.WITHDRAWN
    db.session.commit()

    told = claims.tell_waiting_claimants(s.listing)
    db.session.commit()

    assert told == 3
    for claim in (claim_a, claim_b, claim_gone_member):
        claim = reload(claim)
        assert claim.status is ClaimStatus.EXPIRED
        assert claim.closed_at is not None
    assert reload(claim_accepted).status is ClaimStatus.ACCEPTED
    assert sorted(m.recipient for m in outbox(template="claim_listing_gone")) == sorted(
        [waiting_a.email, waiting_b.email])
    assert reload(s.listing).quantity_available == 3

    assert claims.tell_waiting_claimants(s.listing) == 0
    db.session.commit()
    assert len(outbox(template="claim_listing_gone")) == 2
