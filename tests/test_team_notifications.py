"""The whole giving team hears of claims (issue 19): the poster, colleagues who follow the
listing (or all their organisation's listings), and the organisation's shared notification
address, each once; any colleague in good standing answers."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from helpers import PASSWORD, outbox, reload
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    ClaimMessage,
    ClaimStatus,
    Language,
    ListingFollower,
    ListingStatus,
    Role,
    UserStatus,
)
from marketplace.models.base import utcnow
from marketplace.services import personal_data
from marketplace.services.claims import post_message
from marketplace.services.housekeeping import remind_unanswered_claims
from marketplace.services.replies import Outcome, receive_reply

DOMAIN = "reply.example.org"
FACILITIES = "facilitair@zorginstelling.example.org"


@pytest.fixture
def app(make_app):
    """Replies by email on, so that claim mail to members carries their reply address."""
    application = make_app(REPLY_DOMAIN=DOMAIN)
    with application.app_context():
        yield application


@pytest.fixture
def team(make_org, make_user, make_listing):
    """A giving organisation: the poster, a colleague, an admin; a listing; a claimant."""
    giving = make_org("Zorggroep De Linde")
    poster = make_user(organisation=giving, name="Petra Plaatser", language=Language.NL)
    colleague = make_user(organisation=giving, name="Cor Collega", language=Language.NL)
    admin = make_user(organisation=giving, role=Role.ORG_ADMIN, name="Anne Beheer",
                      language=Language.NL)
    listing = make_listing("Tillift", organisation=giving, created_by=poster)
    claimant = make_user(name="Kees Krijger")
    return {"organisation": giving, "poster": poster, "colleague": colleague, "admin": admin,
            "listing": listing, "claimant": claimant}


def follow(client, listing, change="follow"):
    return client.post(f"/listings/{listing.id}/{change}")


def claim_it(login_as, team) -> None:
    response = login_as(team["claimant"]).post(f"/listings/{team['listing'].id}/claim",
                                               data={"quantity": "1"})
    assert response.status_code == 302


def received_by() -> list[str]:
    return [message.recipient for message in outbox("claim_received")]


def test_a_claim_reaches_the_poster_a_follower_and_the_notification_address_once_each(
        app, team, login_as):
    team["organisation"].notification_email = FACILITIES
    db.session.commit()
    colleague_client = login_as(team["colleague"])
    assert follow(colleague_client, team["listing"]).status_code == 302
    assert "Niet meer volgen" in colleague_client.get(
        f"/listings/{team['listing'].id}").get_data(as_text=True)

    claim_it(login_as, team)

    assert sorted(received_by()) == sorted(
        [team["poster"].email, team["colleague"].email, FACILITIES])
    [to_follower] = outbox("claim_received", to=team["colleague"].email)
    assert "omdat je deze advertentie volgt" in to_follower.body_text
    assert to_follower.reply_to and to_follower.reply_to.endswith("@" + DOMAIN)
    [to_poster] = outbox("claim_received", to=team["poster"].email)
    assert "omdat je deze advertentie hebt geplaatst" in to_poster.body_text
    [to_address] = outbox("claim_received", to=FACILITIES)
    # A shared mailbox: in Dutch, greeted as the team, told why, no member to reply as.
    assert "Hallo collega's van Zorggroep De Linde," in to_address.body_text
    assert "het centrale mailadres van Zorggroep De Linde" in to_address.body_text
    assert "Nieuwe aanvraag" in to_address.body_text
    assert to_address.reply_to is None
    assert "/claims/" in to_address.body_text
    # Nobody else: the organisation admin is not needed when others hear of it.
    assert team["admin"].email not in received_by()


def test_an_address_that_is_a_followers_own_counts_once(app, team, login_as):
    team["organisation"].notification_email = team["colleague"].email.upper()
    db.session.commit()
    follow(login_as(team["colleague"]), team["listing"])

    claim_it(login_as, team)

    assert sorted(received_by()) == sorted([team["poster"].email, team["colleague"].email])


def test_after_unfollowing_a_colleague_no_longer_hears_of_claims(app, team, login_as):
    colleague_client = login_as(team["colleague"])
    follow(colleague_client, team["listing"])
    assert follow(colleague_client, team["listing"], "unfollow").status_code == 302
    assert "Volgen" in colleague_client.get(f"/listings/{team['listing'].id}").get_data(
        as_text=True)
    assert db.session.scalar(select(func.count(ListingFollower.id))) == 0

    claim_it(login_as, team)

    assert received_by() == [team["poster"].email]


def test_a_follower_who_switched_claim_mail_off_gets_none(app, team, login_as):
    follow(login_as(team["colleague"]), team["listing"])
    team["colleague"].muted_email_kinds = "claims"
    db.session.commit()

    claim_it(login_as, team)

    assert received_by() == [team["poster"].email]


def test_a_member_who_follows_all_listings_hears_of_every_claim(app, team, login_as):
    response = login_as(team["colleague"]).post("/account/", data={
        "name": team["colleague"].name, "language": "nl", "notifications": "instant",
        "email_kinds": ["claims", "messages"], "follows_organisation_listings": "y"})
    assert response.status_code == 302
    assert reload(team["colleague"]).follows_organisation_listings

    claim_it(login_as, team)

    [to_colleague] = outbox("claim_received", to=team["colleague"].email)
    assert "omdat je alle advertenties van Zorggroep De Linde volgt" in to_colleague.body_text


def test_when_the_poster_has_left_the_follower_and_address_hear_and_not_the_admins(
        app, team, login_as):
    team["poster"].status = UserStatus.DEACTIVATED
    team["organisation"].notification_email = FACILITIES
    db.session.commit()

    claim_it(login_as, team)

    assert received_by() == [FACILITIES]


def test_with_nobody_else_the_organisation_admins_hear_as_before(app, team, login_as):
    team["poster"].status = UserStatus.DEACTIVATED
    db.session.commit()

    claim_it(login_as, team)

    assert received_by() == [team["admin"].email]


def test_a_colleague_who_is_not_the_poster_accepts_from_the_claim_page(
        app, team, login_as, make_claim):
    claim = make_claim(team["listing"], team["claimant"])
    colleague_client = login_as(team["colleague"])
    page = colleague_client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "Accepteren" in page and "Afwijzen" in page

    assert colleague_client.post(f"/claims/{claim.id}/accept", data={}).status_code == 302

    assert reload(claim).status is ClaimStatus.ACCEPTED
    assert claim.decided_by_id == team["colleague"].id
    assert outbox("claim_accepted", to=team["claimant"].email)


def test_the_claimants_message_reaches_the_followers_and_a_followers_email_reply_is_stored(
        app, team, login_as, make_claim):
    claim = make_claim(team["listing"], team["claimant"])
    follow(login_as(team["colleague"]), team["listing"])
    post_message(team["claimant"], claim, "Kan ik donderdag komen?")
    [to_colleague] = outbox("claim_message", to=team["colleague"].email)
    assert outbox("claim_message", to=team["poster"].email)

    answer = EmailMessage()
    answer["From"], answer["To"] = team["colleague"].email, to_colleague.reply_to
    answer["Subject"], answer["Message-ID"] = "Re: Aanvraag", "<antwoord@example.org>"
    answer.set_content("Donderdag is goed, tot dan.")
    received = receive_reply(to_colleague.reply_to, answer, team["colleague"].email)

    assert received.outcome is Outcome.STORED
    stored = db.session.scalar(select(ClaimMessage).where(
        ClaimMessage.source_message_id == "<antwoord@example.org>"))
    assert stored.author_id == team["colleague"].id
    [to_claimant] = outbox("claim_message", to=team["claimant"].email)
    assert "Donderdag is goed" in to_claimant.body_text


def test_the_reminder_of_an_unanswered_claim_reaches_the_followers_and_the_address(
        app, team, login_as, make_claim):
    team["organisation"].notification_email = FACILITIES
    db.session.commit()
    follow(login_as(team["colleague"]), team["listing"])
    make_claim(team["listing"], team["claimant"], age=timedelta(days=3, hours=1))

    remind_unanswered_claims(utcnow())

    assert sorted(message.recipient for message in outbox("claim_reminder")) == sorted(
        [team["poster"].email, team["colleague"].email, FACILITIES])


def test_an_organisation_admin_sets_the_notification_address(app, team, login_as):
    admin_client = login_as(team["admin"])
    path = f"/organisations/{team['organisation'].id}/notifications"
    assert "Centraal mailadres" in admin_client.get(path).get_data(as_text=True)

    refused = admin_client.post(path, data={"notification_email": "facilitair@@zorg"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Vul een e-mailadres in zoals naam@voorbeeld.nl" in page
    assert 'value="facilitair@@zorg"' in page
    assert reload(team["organisation"]).notification_email is None

    saved = admin_client.post(path, data={"notification_email": " Facilitair@Zorg.example.org "})
    assert saved.status_code == 302
    assert reload(team["organisation"]).notification_email == "facilitair@zorg.example.org"
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.organisation_id == team["organisation"].id)) == \
        "organisation.notification_email"

    assert admin_client.post(path, data={"notification_email": ""}).status_code == 302
    assert reload(team["organisation"]).notification_email is None


def test_a_member_is_not_the_one_to_set_the_notification_address(app, team, login_as):
    path = f"/organisations/{team['organisation'].id}/notifications"
    response = login_as(team["colleague"]).post(path, data={"notification_email": FACILITIES})
    assert response.status_code == 403
    assert reload(team["organisation"]).notification_email is None


def test_a_member_of_another_organisation_cannot_follow(app, team, login_as, make_listing):
    outsider_client = login_as(team["claimant"])
    page = outsider_client.get(f"/listings/{team['listing'].id}").get_data(as_text=True)
    assert "/follow" not in page
    assert follow(outsider_client, team["listing"]).status_code == 403
    draft = make_listing(organisation=team["organisation"], status=ListingStatus.DRAFT)
    assert follow(outsider_client, draft).status_code == 404
    assert db.session.scalar(select(func.count(ListingFollower.id))) == 0


def test_what_a_member_follows_is_in_their_data_and_goes_with_their_account(
        app, team, login_as):
    follow(login_as(team["colleague"]), team["listing"])
    data = personal_data.personal_data(team["colleague"])
    assert data["following"]["listings"] == [{"id": team["listing"].id, "title": "Tillift"}]

    personal_data.delete_account(team["colleague"], team["colleague"], password=PASSWORD)
    assert db.session.scalar(select(func.count(ListingFollower.id))) == 0
