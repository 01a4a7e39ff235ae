"""Sign-off by the receiver's medical technology (issue 20): a claim for a medical device by
an organisation that requires it waits for a medical-technology colleague's approval before
the giver hears of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from helpers import link_in, outbox, reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Category,
    Claim,
    ClaimStatus,
    DevicePassport,
    Language,
    Listing,
    Role,
    User,
)
from marketplace.models.base import utcnow
from marketplace.services import claim_overview, claims, housekeeping, medical_sign_off
from marketplace.services.errors import DomainError, PermissionDenied
from marketplace.services.todo import to_do_for


@dataclass
class World:
    hoist: Listing
    giver: User
    claimant: User
    approver: User  # medical technology of the claimant's organisation
    colleague: User  # a plain colleague of the claimant

    def claim(self, listing: Listing | None = None) -> Claim:
        return claims.claim_listing(self.claimant, listing or self.hoist, 1)


@pytest.fixture
def world(app, make_org, make_user, make_listing) -> World:
    lifting = db.session.scalar(select(Category).where(Category.slug == "lifting"))
    lifting.medical_device = True
    giving = make_org(name="Ziekenhuis Gevers")
    giver = make_user(organisation=giving, name="Gea Gever", language=Language.NL)
    hoist = make_listing("Tillift Maxi Move", organisation=giving, category="lifting",
                         created_by=giver)
    db.session.add(DevicePassport(listing_id=hoist.id, manufacturer="Arjo", model="Maxi Move",
                                  udi_di="07322930000012", year_of_manufacture=2018))
    receiving = make_org(name="Zorggroep Ontvangers")
    receiving.requires_medical_sign_off = True
    claimant = make_user(organisation=receiving, name="Olga Ontvanger", language=Language.NL)
    approver = make_user(organisation=receiving, name="Mees Medtech", language=Language.NL)
    approver.medical_technology = True
    colleague = make_user(organisation=receiving, name="Cor Collega", language=Language.NL)
    db.session.commit()
    return World(hoist, giver, claimant, approver, colleague)


def test_a_claim_for_a_hoist_waits_for_medical_technology_and_the_giver_hears_nothing(world):
    claim = reload(world.claim())

    assert claim.status is ClaimStatus.AWAITING_SIGN_OFF
    assert claim.needs_sign_off
    assert outbox("claim_received") == []
    [asked] = outbox("claim_sign_off_requested")
    assert asked.recipient == world.approver.email
    assert "Tillift Maxi Move" in asked.body_text and "Olga Ontvanger" in asked.body_text
    assert link_in(asked, "/claims/") == f"/claims/{claim.id}"
    [told] = outbox("claim_sign_off_waiting")
    assert told.recipient == world.claimant.email
    assert "medische technologie" in told.body_text
    assert reload(world.hoist).quantity_available == 4  # nothing reserved while waiting


def test_claiming_a_hoist_on_the_page_leads_to_the_waiting_claim(world, login_as):
    claimant = login_as(world.claimant)

    response = claimant.post(f"/listings/{world.hoist.id}/claim", data={"quantity": "1"})

    # On to the claim (a reload of the form must not claim again), saying who decides now.
    claim = db.session.scalar(select(Claim).where(Claim.claimant_id == world.claimant.id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/claims/{claim.id}")
    page = claimant.get(response.headers["Location"]).get_data(as_text=True)
    assert "medische technologie" in page


def test_the_approver_sees_the_passport_and_approving_sends_the_claim_to_the_giver(
        world, login_as):
    claim = world.claim()
    approver = login_as(world.approver)

    page = approver.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "Wacht op akkoord medische technologie" in page
    assert "Apparaatpaspoort" in page and "Arjo" in page and "07322930000012" in page
    assert "Niet akkoord (met reden)" in page
    home = approver.get("/").get_data(as_text=True)
    assert "Wacht op jouw akkoord" in home and "Tillift Maxi Move" in home
    assert "Tillift Maxi Move" in approver.get("/claims/").get_data(as_text=True)

    response = approver.post(f"/claims/{claim.id}/sign-off")
    assert response.status_code == 302
    claim = reload(claim)
    assert claim.status is ClaimStatus.REQUESTED
    assert claim.signed_off_by_id == world.approver.id and claim.signed_off_at is not None
    [received] = outbox("claim_received")
    assert received.recipient == world.giver.email
    [approved] = outbox("claim_signed_off")
    assert approved.recipient == world.claimant.email
    giver = login_as(world.giver)
    assert giver.get(f"/claims/{claim.id}").status_code == 200
    assert "Tillift Maxi Move" in giver.get("/claims/").get_data(as_text=True)
    # A second click finds it answered: nothing more is sent.
    approver.post(f"/claims/{claim.id}/sign-off")
    assert len(outbox("claim_received")) == 1


def test_refusing_needs_a_reason_and_tells_only_the_claimant(world, login_as):
    claim = world.claim()
    approver = login_as(world.approver)

    response = approver.post(f"/claims/{claim.id}/sign-off/refuse", data={"reason": "  "})
    assert response.status_code == 422
    assert "Schrijf waarom" in response.get_data(as_text=True)
    assert reload(claim).status is ClaimStatus.AWAITING_SIGN_OFF

    response = approver.post(f"/claims/{claim.id}/sign-off/refuse",
                             data={"reason": "Geen onderhoudshistorie bekend"})
    assert response.status_code == 302
    claim = reload(claim)
    assert claim.status is ClaimStatus.NOT_SIGNED_OFF
    assert claim.sign_off_note == "Geen onderhoudshistorie bekend"
    [refused] = outbox("claim_not_signed_off")
    assert refused.recipient == world.claimant.email
    assert "Geen onderhoudshistorie bekend" in refused.body_text
    assert outbox("claim_received") == [] and outbox(to=world.giver.email) == []
    page = login_as(world.claimant).get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "Geen akkoord medische technologie" in page
    assert login_as(world.giver).get(f"/claims/{claim.id}").status_code == 404


def test_only_the_claimants_medical_technology_may_sign_off(world, make_user, login_as):
    claim = world.claim()
    elsewhere = make_user(name="Andere Medtech")
    elsewhere.medical_technology = True
    giver_colleague = make_user(organisation=world.giver.organisation)
    giver_colleague.medical_technology = True
    db.session.commit()

    # Those who may not even see it get 404; the claimant sees it, and is refused (403).
    for outsider in (world.giver, giver_colleague, elsewhere, world.colleague):
        client = login_as(outsider)
        assert client.get(f"/claims/{claim.id}").status_code == 404
        assert client.post(f"/claims/{claim.id}/sign-off").status_code == 404
        with pytest.raises(PermissionDenied):
            medical_sign_off.sign_off_claim(outsider, claim)
    claimant = login_as(world.claimant)
    assert claimant.get(f"/claims/{claim.id}").status_code == 200
    assert claimant.post(f"/claims/{claim.id}/sign-off").status_code == 403
    assert claimant.post(f"/claims/{claim.id}/sign-off/refuse",
                         data={"reason": "zelf"}).status_code == 403
    # Nor may the giver decide, nor the claimant write to a giver who has not heard of it.
    with pytest.raises(DomainError):
        claims.accept_claim(world.giver, claim)
    with pytest.raises(DomainError):
        claims.post_message(world.claimant, claim, "Hallo?")
    assert reload(claim).status is ClaimStatus.AWAITING_SIGN_OFF
    assert outbox(to=world.giver.email) == []


def test_the_giving_side_sees_nothing_of_a_claim_awaiting_sign_off(world, login_as):
    claim = world.claim()
    giver = login_as(world.giver)
    assert world.claimant.organisation.name not in giver.get(
        f"/listings/{world.hoist.id}").get_data(as_text=True)
    assert "Tillift Maxi Move" not in giver.get("/claims/").get_data(as_text=True)
    assert to_do_for(world.giver).claims_to_answer.total == 0
    assert not claim_overview.claim_overview(world.giver).waiting_for_us
    # The approver has it to answer; the claimant and colleagues see it running.
    assert [row.claim.id for row in claim_overview.claim_overview(world.approver)
            .waiting_for_us] == [claim.id]
    assert [row.claim.id for row in claim_overview.claim_overview(world.colleague)
            .running] == [claim.id]


def test_cancelling_while_it_waits_tells_nobody_at_the_giver(world):
    claim = world.claim()
    claims.cancel_claim(world.claimant, claim)
    assert reload(claim).status is ClaimStatus.CANCELLED
    assert outbox(to=world.giver.email) == []
    with pytest.raises(DomainError):
        medical_sign_off.sign_off_claim(world.approver, claim)


def test_without_the_setting_or_for_other_categories_claims_go_straight_to_the_giver(
        world, make_listing):
    chair = make_listing("Bureaustoel", organisation=world.giver.organisation,
                         category="furniture", created_by=world.giver)
    assert world.claim(chair).status is ClaimStatus.REQUESTED
    world.claimant.organisation.requires_medical_sign_off = False
    db.session.commit()
    assert world.claim().status is ClaimStatus.REQUESTED
    assert len(outbox("claim_received")) == 2
    assert outbox("claim_sign_off_requested") == []


def test_an_unanswered_sign_off_expires_after_a_week_and_the_giver_clock_starts_at_approval(
        world, make_listing):
    waiting = world.claim()
    waiting.created_at = utcnow() - timedelta(days=8)
    other = make_listing("Tillift 2", organisation=world.giver.organisation, category="lifting")
    approved = world.claim(other)
    approved.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    medical_sign_off.sign_off_claim(world.approver, approved)

    assert housekeeping.expire_unanswered_claims(utcnow()) == 1
    assert reload(waiting).status is ClaimStatus.EXPIRED
    assert reload(approved).status is ClaimStatus.REQUESTED  # the giver had it only just
    [expired] = outbox("claim_sign_off_expired")
    assert expired.recipient == world.claimant.email
    assert outbox("claim_expired") == []


def test_the_organisation_admin_names_medical_technology_and_requires_sign_off(
        app, make_org, make_user, login_as):
    organisation = make_org(name="Zorggroep Instellingen")
    admin = make_user(organisation=organisation, role=Role.ORG_ADMIN, language=Language.NL)
    member = make_user(organisation=organisation, name="Tess Technicus")
    client = login_as(admin)

    response = client.post(f"/organisations/{organisation.id}/medical-sign-off",
                           data={"requires_medical_sign_off": "y"})
    assert response.status_code == 422
    assert "Markeer eerst minstens één collega" in response.get_data(as_text=True)
    assert not reload(organisation).requires_medical_sign_off

    assert client.post(f"/organisations/{organisation.id}/members/{member.id}/"
                       "medical-technology", data={"medical_technology": "on"}).status_code == 302
    assert reload(member).medical_technology
    assert client.post(f"/organisations/{organisation.id}/medical-sign-off",
                       data={"requires_medical_sign_off": "y"}).status_code == 302
    assert reload(organisation).requires_medical_sign_off
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.medical_technology.on", "organisation.medical_sign_off.on"} <= actions
    page = client.get(f"/organisations/{organisation.id}/medical-sign-off").get_data(
        as_text=True)
    assert "Tess Technicus" in page
    # A plain member may change neither.
    plain = login_as(member)
    assert plain.post(f"/organisations/{organisation.id}/medical-sign-off",
                      data={}).status_code in (403, 404)
    assert reload(organisation).requires_medical_sign_off


def test_a_refused_or_waiting_claim_never_reached_the_giver(world):
    claim = world.claim()
    assert not claim.reached_giver
    medical_sign_off.sign_off_claim(world.approver, claim)
    assert reload(claim).reached_giver
    assert date.today() <= reload(claim).signed_off_at.date() + timedelta(days=1)
