"""Field safety notices (issue 20): a platform admin records one; it reaches exactly the
organisations that received matching devices through the platform (their admins and the member
who received them, each once), holds matching listings still on offer for review, stays on the
receivers' to-do list until one of them acknowledges it, and the admin sees who did."""

from __future__ import annotations

from datetime import date, timedelta

import builders
import pytest
from helpers import outbox, reload
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    ClaimStatus,
    DevicePassport,
    Language,
    Listing,
    ListingStatus,
    Role,
    SafetyNotice,
    SafetyNoticeRecipient,
    Transfer,
)
from marketplace.services import safety_notices
from marketplace.services.errors import DomainError
from marketplace.services.safety_notices import NoticeDetails

HOIST_GTIN = "08712345000011"  # a GTIN-14 with a valid check digit
OTHER_GTIN = "04012345000016"
NEW_NOTICE = "/admin/safety-notices/new"
TO_ACKNOWLEDGE = "Veiligheidswaarschuwingen om af te handelen"


@pytest.fixture
def platform_admin(make_user):
    return make_user(role=Role.PLATFORM_ADMIN, name="Petra Platform", language=Language.NL)


@pytest.fixture
def giver(make_org):
    return make_org("Ziekenhuis Gever")


@pytest.fixture
def receive(make_org, make_user, make_listing, make_claim, giver):
    """A receiving organisation (its admin and the member who claimed) holding one device
    collected through the platform, with a Transfer as the transfer helper makes it."""
    counter = iter(range(1, 1000))

    def build(name: str, *, manufacturer: str | None = "Arjo", model: str | None = "Maxi Move",
              udi_di: str | None = None, serials: str | None = None):
        number = next(counter)
        organisation = make_org(name)
        admin = make_user(organisation=organisation, role=Role.ORG_ADMIN, language=Language.NL,
                          name=f"Beheerder {name}")
        member = make_user(organisation=organisation, language=Language.NL,
                           name=f"Ontvanger {name}")
        listing = make_listing(f"Tillift {number}", organisation=giver,
                               status=ListingStatus.CLOSED)
        claim = make_claim(listing, member, status=ClaimStatus.COLLECTED)
        transfer = Transfer(claim_id=claim.id, reference=f"OVD-2026-{number:06d}",
                            giver_organisation_id=giver.id,
                            receiver_organisation_id=organisation.id,
                            document_key=f"transfers/{number}.pdf", document_sha256="0" * 64,
                            details={}, manufacturer=manufacturer, model=model, udi_di=udi_di,
                            serial_numbers=serials)
        db.session.add(transfer)
        db.session.commit()
        return organisation, admin, member, transfer

    return build


def record(admin, **fields: str) -> SafetyNotice:
    values = {"text": "Controleer de ophangbeugel voor gebruik.", **fields}
    return safety_notices.record_notice(admin, NoticeDetails(**values))


def told_organisations(notice: SafetyNotice) -> set[str]:
    return {recipient.organisation.name for recipient in safety_notices.recipients_of(notice)}


def test_a_notice_reaches_exactly_the_organisations_that_received_matching_devices(
        app, platform_admin, receive):
    receive("Op UDI", manufacturer=None, model=None, udi_di=HOIST_GTIN)
    # Manufacturer and model compared without case and spaces; serials in the range.
    receive("In reeks", manufacturer="ARJO ", model="maxi  move", serials="SN0999\nSN1500")
    receive("Lot", manufacturer="Arjo", model="Maxi Move", serials="L123")
    receive("Buiten reeks", manufacturer="Arjo", model="Maxi Move", serials="SN2500")
    receive("Ander model", manufacturer="Arjo", model="Sara Stedy", serials="SN1500")
    receive("Andere UDI", manufacturer=None, model=None, udi_di=OTHER_GTIN)

    notice = record(platform_admin, udi_di=HOIST_GTIN, manufacturer="Arjo", model="Maxi Move",
                    serials_from="SN1000", serials_to="SN1999", serials_listed="L123")

    assert told_organisations(notice) == {"Op UDI", "In reeks", "Lot"}
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "safety_notice.record")) == 1


def test_a_device_whose_serials_were_not_recorded_is_told_to_check(app, platform_admin,
                                                                    receive):
    receive("Onbekend nummer", serials=None)
    notice = record(platform_admin, manufacturer="Arjo", model="Maxi Move",
                    serials_from="SN1000", serials_to="SN1999")
    assert told_organisations(notice) == {"Onbekend nummer"}


def test_the_organisation_admins_and_the_receiving_member_are_emailed_once(
        app, platform_admin, receive, make_listing, make_claim, giver):
    organisation, admin, member, first = receive("Zorggroep Noord", serials="SN1001")
    # A second matching device for the same organisation, received by the same member.
    claim = make_claim(make_listing("Tillift", organisation=giver,
                                    status=ListingStatus.CLOSED),
                       member, status=ClaimStatus.COLLECTED)
    db.session.add(Transfer(claim_id=claim.id, reference="OVD-2026-000999",
                            giver_organisation_id=giver.id,
                            receiver_organisation_id=organisation.id, document_key="x.pdf",
                            document_sha256="0" * 64, details={}, manufacturer="Arjo",
                            model="Maxi Move", serial_numbers="SN1002"))
    db.session.commit()

    notice = record(platform_admin, manufacturer="Arjo", model="Maxi Move",
                    serials_from="SN1000", serials_to="SN1999",
                    link="https://www.arjo.com/fsn-2026-01")

    mail = outbox("safety_notice")
    assert sorted(message.recipient for message in mail) == sorted([admin.email, member.email])
    assert mail[0].subject == "Veiligheidswaarschuwing: Arjo Maxi Move"
    body = mail[0].body_text
    assert first.reference in body and "OVD-2026-000999" in body
    assert "Controleer de ophangbeugel voor gebruik." in body
    assert "https://www.arjo.com/fsn-2026-01" in body
    assert "controleer of het serie- of lotnummer eronder valt" in body
    [recipient] = notice.recipients
    assert recipient.transfer_id == first.id
    assert f"/safety-notices/{recipient.id}" in body


def test_a_matching_listing_on_offer_is_held_for_review_and_its_giver_told(
        app, platform_admin, make_user, make_listing, giver):
    poster = make_user(organisation=giver, language=Language.NL, name="Gerrit Gever")
    offered = make_listing("Tillift Maxi Move", organisation=giver, created_by=poster)
    waiting = make_listing("Tweede tillift", organisation=giver, created_by=poster,
                           status=ListingStatus.PENDING_REVIEW)
    other_serial = make_listing("Derde tillift", organisation=giver, created_by=poster)
    for listing, serials in ((offered, "SN1500"), (waiting, "SN1501"), (other_serial, "SN5")):
        db.session.add(DevicePassport(listing_id=listing.id, manufacturer="Arjo",
                                      model="Maxi Move", serial_numbers=serials))
    db.session.commit()

    record(platform_admin, manufacturer="arjo", model="MaxiMove", serials_from="SN1000",
           serials_to="SN1999")

    assert reload(offered).status is ListingStatus.PENDING_REVIEW
    assert "Veiligheidswaarschuwing voor arjo MaxiMove" in offered.moderation_reason
    assert reload(waiting).status is ListingStatus.PENDING_REVIEW
    assert reload(other_serial).status is ListingStatus.PUBLISHED
    mail = outbox("listing_held_safety_notice", to=poster.email)
    assert sorted(message.subject for message in mail) == [
        "Je advertentie wordt aangehouden voor controle: Tillift Maxi Move",
        "Je advertentie wordt aangehouden voor controle: Tweede tillift"]
    assert "wordt daarom aangehouden voor controle" in mail[0].body_text


def test_the_notice_stays_on_the_to_do_list_until_a_colleague_acknowledges_it(
        app, platform_admin, receive, login_as):
    _organisation, admin, member, transfer = receive("Zorggroep Noord")
    notice = record(platform_admin, manufacturer="Arjo", model="Maxi Move")
    [recipient] = notice.recipients

    for person in (admin, member):
        page = login_as(person).get("/").get_data(as_text=True)
        assert TO_ACKNOWLEDGE in page
        assert "Veiligheidswaarschuwing: Arjo Maxi Move" in page

    client = login_as(member)
    page = client.get(f"/safety-notices/{recipient.id}").get_data(as_text=True)
    assert "Controleer de ophangbeugel voor gebruik." in page
    assert transfer.reference in page
    response = client.post(f"/safety-notices/{recipient.id}/acknowledge")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "de veiligheidswaarschuwing staat voor je organisatie als afgehandeld" in page
    assert f"Afgehandeld door {member.name}" in page

    assert TO_ACKNOWLEDGE not in login_as(admin).get("/").get_data(as_text=True)
    # Once is enough: a second acknowledgement changes nothing and says who did it.
    response = login_as(admin).post(f"/safety-notices/{recipient.id}/acknowledge",
                                    follow_redirects=True)
    assert f"{member.name} heeft deze veiligheidswaarschuwing al afgehandeld." in \
        response.get_data(as_text=True)
    assert reload(recipient).acknowledged_by_id == member.id


def test_another_organisations_member_finds_nothing(app, platform_admin, receive, login_as,
                                                    make_user):
    receive("Zorggroep Noord")
    notice = record(platform_admin, manufacturer="Arjo", model="Maxi Move")
    [recipient] = notice.recipients
    stranger = make_user(language=Language.NL)
    client = login_as(stranger)
    assert client.get(f"/safety-notices/{recipient.id}").status_code == 404
    assert client.post(f"/safety-notices/{recipient.id}/acknowledge").status_code == 404
    assert reload(recipient).acknowledged_at is None
    assert TO_ACKNOWLEDGE not in client.get("/").get_data(as_text=True)


def test_the_admin_sees_who_acknowledged_and_who_not_yet(app, platform_admin, receive,
                                                         login_as):
    _org, _admin, member, _transfer = receive("Zorggroep Noord")
    receive("Zorggroep Zuid")
    notice = record(platform_admin, manufacturer="Arjo", model="Maxi Move")
    north = next(recipient for recipient in notice.recipients
                 if recipient.organisation.name == "Zorggroep Noord")
    safety_notices.acknowledge(member, north)

    page = login_as(platform_admin).get(f"/admin/safety-notices/{notice.id}").get_data(
        as_text=True)
    assert "Zorggroep Noord" in page and "Zorggroep Zuid" in page
    assert member.name in page
    assert "nog niet" in page
    listing = login_as(platform_admin).get("/admin/safety-notices").get_data(as_text=True)
    assert "afgehandeld door 1 van 2 organisaties" in listing


def test_the_admin_records_a_notice_through_the_form(app, platform_admin, receive, login_as):
    receive("Zorggroep Noord", udi_di=HOIST_GTIN)
    client = login_as(platform_admin)
    assert client.get(NEW_NOTICE).status_code == 200
    response = client.post(NEW_NOTICE, data={"udi_di": HOIST_GTIN, "text": "Niet gebruiken."},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "De veiligheidswaarschuwing is vastgelegd en naar 1 organisatie gestuurd." in page
    assert "Zorggroep Noord" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"udi_di": "08712345000012", "text": "x"}, "kloppend controlecijfer"),
    ({"manufacturer": "Arjo", "text": "x"}, "Vul de UDI-DI in, of de fabrikant en het model."),
    ({"udi_di": HOIST_GTIN, "serials_from": "SN2000", "serials_to": "SN1000", "text": "x"},
     "Vul beide kanten van de reeks in"),
    ({"udi_di": HOIST_GTIN, "serials_from": "SN1000", "serials_to": "LT1999", "text": "x"},
     "Vul beide kanten van de reeks in"),
    ({"udi_di": HOIST_GTIN, "text": ""}, "Schrijf wat de waarschuwing zegt"),
    ({"udi_di": HOIST_GTIN, "text": "x", "link": "javascript:alert(1)"},
     "begint met https:// of http://"),
])
def test_a_wrong_notice_is_refused_with_words_and_the_input_kept(app, platform_admin,
                                                                 login_as, data, message):
    response = login_as(platform_admin).post(NEW_NOTICE, data={"manufacturer": "Arjo", **data})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="Arjo"' in page
    assert db.session.scalar(select(func.count(SafetyNotice.id))) == 0


def test_only_platform_admins_record_notices(app, receive):
    _org, admin, _member, _transfer = receive("Zorggroep Noord")
    with pytest.raises(DomainError):
        record(admin, manufacturer="Arjo", model="Maxi Move")
    assert db.session.scalar(select(func.count(SafetyNoticeRecipient.id))) == 0


@pytest.mark.parametrize(("serials", "status"), [("LC-1", ListingStatus.PENDING_REVIEW),
                                                  ("LC-9", ListingStatus.PUBLISHED)])
def test_a_trusted_organisations_new_listing_of_a_device_under_a_notice_waits_for_review(
        app, platform_admin, make_user, login_as, serials, status):
    record(platform_admin, manufacturer="LiftCare", model="Mobilift P-180",
           serials_listed=serials)
    poster = make_user(language=Language.NL)
    poster.organisation.trusted = True
    db.session.commit()
    response = builders.post_listing(
        login_as(poster), poster, photos=("hopper.jpg",), title="Tillift met tilbanden",
        category=str(builders.category_id("lifting")), passport_manufacturer="liftcare",
        passport_model="Mobilift  P-180", passport_year_of_manufacture="2018",
        passport_last_maintenance_on=(date.today() - timedelta(days=30)).isoformat(),
        passport_serial_numbers="LC-1\nLC-2")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(Listing.status)) is status
