"""Transfers of ownership (issue 20): collecting a claim makes a document in Dutch and English,
kept unchanged with its SHA-256 in the audit log, downloadable by both organisations and
platform admins, listed in each organisation's register and its CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
from helpers import link_in, outbox, reload
from pypdf import PdfReader
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.localtime import local_time
from marketplace.models import (
    AuditEvent,
    ClaimStatus,
    DevicePassport,
    Language,
    Role,
    Transfer,
)
from marketplace.models.base import utcnow
from marketplace.services import claims, housekeeping, transfers
from marketplace.storage import get_storage
from marketplace.unit_of_work import unit_of_work

GTIN = "08712345678906"


@dataclass
class Handover:
    giver: object
    receiver: object
    claim: object


@pytest.fixture
def handover(make_org, make_user, make_listing, make_claim):
    """An accepted claim for two hoists with a device passport, between two organisations
    with KvK numbers; `collect()` confirms the hand-over as the receiver."""

    def build(medical: bool = True, receiver_language: Language = Language.EN) -> Handover:
        giving = make_org("Zorggroep De Linde")
        giving.kvk_number = "41234567"
        receiving = make_org("Ziekenhuis Rivierenland")
        receiving.kvk_number = "59876543"
        db.session.commit()
        giver = make_user(organisation=giving, name="Gerda Gever", role=Role.ORG_ADMIN)
        receiver = make_user(organisation=receiving, name="Rob Ontvanger",
                             language=receiver_language)
        listing = make_listing("Tillift Molift Smart", organisation=giving,
                               category="lifting" if medical else "furniture",
                               cleaned_on=date(2026, 11, 30))
        if medical:
            db.session.add(DevicePassport(
                listing_id=listing.id, manufacturer="Etac", model="Molift Smart 150",
                udi_di=GTIN, serial_numbers="SN-4711\nSN-4712", year_of_manufacture=2019,
                last_maintenance_on=date(2026, 6, 1), last_safety_test_on=date(2026, 6, 2),
                ce_marked=True, single_use=False))
            db.session.commit()
        claim = make_claim(listing, receiver, ClaimStatus.ACCEPTED, quantity=2,
                           decided_by=giver, decided_at=utcnow())
        return Handover(giver, receiver, claim)

    return build


def collect(handover: Handover) -> Transfer:
    claims.mark_collected(handover.receiver, handover.claim)
    transfer = db.session.scalar(select(Transfer).where(Transfer.claim_id == handover.claim.id))
    assert transfer is not None
    return transfer


def pdf_text(data: bytes) -> str:
    """The PDF's text with whitespace made single spaces (lines wrap anywhere)."""
    assert data.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def test_collecting_a_claim_makes_a_document_with_both_sides_the_items_and_declarations(
        app, handover):
    transfer = collect(handover())

    # The year of the hand-over where it happened, and a sequence from the row's id.
    assert re.fullmatch(rf"OVD-{local_time(utcnow()).year}-\d{{6}}", transfer.reference)
    text = pdf_text(get_storage().read(transfer.document_key))
    for words in ("Eigendomsoverdracht / Transfer of ownership", transfer.reference,
                  "Zorggroep De Linde", "41234567", "Ziekenhuis Rivierenland", "59876543",
                  "Hoofdlocatie", "Utrecht",
                  "Tillift Molift Smart", "2 stuks / 2 pieces", "Goed / Good",
                  "Etac", "Molift Smart 150", GTIN, "SN-4711", "SN-4712", "2019",
                  "2026-06-01", "2026-06-02", "2026-11-30",
                  "Gerda Gever", "Rob Ontvanger",
                  "De gever draagt de spullen over zoals ze zijn",
                  "The giver hands the items over as they are and gives no warranty",
                  "De ontvanger controleert de spullen voor gebruik",
                  "The receiver checks the items before use and is responsible for their safe "
                  "use"):
        assert words in text, words
    # The passport is copied for safety notices, and the data kept as the document says it.
    assert (transfer.manufacturer, transfer.model, transfer.udi_di) == \
        ("Etac", "Molift Smart 150", GTIN)
    assert transfer.serial_numbers == "SN-4711\nSN-4712"
    assert transfer.details["receiver"]["kvk_number"] == "59876543"
    assert transfer.details["collected_by"]["name"] == "Rob Ontvanger"
    assert transfer.details["accepted_by"]["name"] == "Gerda Gever"
    assert transfer.details["accepted_by"]["at"] and transfer.details["collected_by"]["at"]


def test_a_listing_without_passport_gets_a_document_too(app, handover):
    transfer = collect(handover(medical=False))

    text = pdf_text(get_storage().read(transfer.document_key))
    assert "Tillift Molift Smart" in text and "Zorggroep De Linde" in text
    assert "Fabrikant" not in text
    assert transfer.manufacturer is None and transfer.udi_di is None


def test_names_beyond_latin_1_are_written_on_the_document(app, handover):
    """Helvetica, xhtml2pdf's own font, has no "ł" or "ő": the document embeds DejaVu Sans."""
    scene = handover()
    scene.receiver.name = "Łukasz Kővári"
    db.session.commit()
    transfer = collect(scene)

    assert "Łukasz Kővári" in pdf_text(get_storage().read(transfer.document_key))


def test_the_documents_sha256_is_on_the_row_and_in_the_audit_log(app, handover):
    transfer = collect(handover())

    data = get_storage().read(transfer.document_key)
    digest = hashlib.sha256(data).hexdigest()
    assert transfer.document_sha256 == digest
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "transfer.document"))
    assert event.target_id == transfer.id and event.target_label == transfer.reference
    assert event.reason == f"SHA-256 {digest}"


def test_both_organisations_and_a_platform_admin_download_it_and_nobody_else(
        app, handover, make_user, login_as):
    case = handover()
    transfer = collect(case)
    colleague_of_receiver = make_user(organisation=case.receiver.organisation)
    admin = make_user(role=Role.PLATFORM_ADMIN)
    outsider = make_user()
    url = f"/claims/{case.claim.id}/transfer.pdf"
    stored = get_storage().read(transfer.document_key)

    for user in (case.giver, case.receiver, colleague_of_receiver, admin):
        response = login_as(user).get(url)
        assert response.status_code == 200, user.name
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"] == \
            f"attachment; filename={transfer.reference}.pdf"
        assert response.data == stored
    assert login_as(outsider).get(url).status_code == 404
    assert app.test_client().get(url).status_code == 302  # to the login page


def test_the_claim_page_and_the_collected_mail_give_the_reference_and_link(
        app, handover, login_as):
    case = handover(receiver_language=Language.NL)
    transfer = collect(case)

    page = login_as(case.giver).get(f"/claims/{case.claim.id}").get_data(as_text=True)
    assert transfer.reference in page
    assert f"/claims/{case.claim.id}/transfer.pdf" in page
    mail = outbox("claim_collected", to=case.receiver.email)[0]
    assert f"De eigendomsoverdracht heeft kenmerk {transfer.reference}." in mail.body_text
    link = link_in(mail, "/transfer.pdf")
    assert login_as(case.receiver).get(link).status_code == 200


def test_the_register_lists_it_on_both_sides(app, handover, make_user, login_as):
    case = handover(receiver_language=Language.NL)
    transfer = collect(case)
    giving, receiving = case.giver.organisation, case.receiver.organisation

    dutch = login_as(case.receiver).get(f"/organisations/{receiving.id}/transfers")
    assert dutch.status_code == 200
    page = dutch.get_data(as_text=True)
    assert "Overdrachten" in page and transfer.reference in page
    assert "ontvangen" in page and "Zorggroep De Linde" in page
    assert "2 stuks Tillift Molift Smart" in page
    english = login_as(case.giver).get(f"/organisations/{giving.id}/transfers")
    page = english.get_data(as_text=True)
    assert transfer.reference in page and "given" in page and "Ziekenhuis Rivierenland" in page
    # Another organisation's register is not for outsiders.
    outsider = make_user()
    assert login_as(outsider).get(f"/organisations/{giving.id}/transfers").status_code == 403
    assert login_as(outsider).get(
        f"/organisations/{giving.id}/transfers.csv").status_code == 403
    assert login_as(outsider).get("/organisations/999999/transfers").status_code == 404


def test_the_register_csv_has_one_row_per_item_for_an_asset_system(app, handover, login_as):
    case = handover()
    transfer = collect(case)
    receiving = case.receiver.organisation

    response = login_as(case.receiver).get(f"/organisations/{receiving.id}/transfers.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["reference", "date", "direction", "other_organisation",
                       "other_kvk_number", "title", "quantity", "unit", "manufacturer",
                       "model", "udi_di", "serial_numbers", "year_of_manufacture"]
    assert rows[1:] == [[transfer.reference, transfer.details["date"], "received",
                         "Zorggroep De Linde", "41234567", "Tillift Molift Smart", "2",
                         "piece", "Etac", "Molift Smart 150", GTIN, "SN-4711; SN-4712",
                         "2019"]]
    assert date.fromisoformat(rows[1][1])


def test_when_the_pdf_cannot_be_made_the_collection_stands_and_housekeeping_makes_it_later(
        app, handover, login_as, monkeypatch):
    def broken(details):
        raise RuntimeError("the PDF library fell over")

    monkeypatch.setattr(transfers, "render_document", broken)
    case = handover()
    transfer = collect(case)

    assert reload(case.claim).status is ClaimStatus.COLLECTED
    assert transfer.reference.startswith("OVD-") and transfer.udi_di == GTIN
    assert transfer.document_key is None and transfer.document_sha256 is None
    url = f"/claims/{case.claim.id}/transfer.pdf"
    assert login_as(case.receiver).get(url).status_code == 404
    page = login_as(case.receiver).get(f"/claims/{case.claim.id}").get_data(as_text=True)
    assert "The transfer document is being made" in page
    mail = outbox("claim_collected", to=case.receiver.email)[0]
    assert transfer.reference in mail.body_text

    assert transfers.make_missing_documents() == 0  # still broken: left for the next run
    monkeypatch.undo()
    assert "transfers: 1 documents made that a hand-over could not" in housekeeping.run()
    db.session.expire_all()
    transfer = db.session.get(Transfer, transfer.id)
    assert transfer.document_sha256 == hashlib.sha256(
        get_storage().read(transfer.document_key)).hexdigest()
    assert "Etac" in pdf_text(login_as(case.receiver).get(url).data)
    assert transfers.make_missing_documents() == 0


def test_a_rolled_back_collection_leaves_no_document_behind(app, handover):
    case = handover()
    storage = get_storage()
    before = set(storage.names())

    with pytest.raises(RuntimeError), unit_of_work():
        claims.mark_collected(case.receiver, case.claim)
        raise RuntimeError("something later in the same unit failed")

    assert set(storage.names()) == before
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0
    assert reload(case.claim).status is ClaimStatus.ACCEPTED
