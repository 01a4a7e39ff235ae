"""Issue 20 in a real Dutch browser, from a hoist posted with its passport to a safety notice
acknowledged by the hospital that received it.

A care home posts a hoist ("lifting") with its device passport and instructions PDF. A hospital
that wants its medical technology to approve such claims receives the purchaser's claim: the
giver hears nothing until the medical-technology colleague, emailed, has seen the passport and
approved. The giver accepts with a day and a time window; the purchaser marks it collected and
both sides download the transfer document (a PDF naming both organisations and the UDI-DI).
A platform admin then records a field safety notice for that model and serial range: it is on
the hospital's to-do home until a colleague acknowledges it, and the admin sees who did.
Mail is read from a real SMTP server on loopback.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from browser_helpers import VIEWPORTS, assert_fits_the_screen, keep_artifacts, link_in, log_in
from helpers import SHARED_TESTDATA
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.localtime import local_time
from marketplace.models import Category, Language, OrganisationKind, Role
from marketplace.models.base import utcnow

PHOTO = SHARED_TESTDATA / "images" / "good" / "hopper.jpg"
GIVER = "gea@dehaven.example.org"  # care home De Haven
PURCHASER = "paul@noord.example.org"  # purchasing, Ziekenhuis Noord
MEDTECH = "mira@noord.example.org"  # medical technology, Ziekenhuis Noord
ADMIN = "beheer@platform.example.org"
UDI_DI = "08712345000011"
TITLE = "Mobiele tillift met twee tilbanden"


def dutch_page(browser, viewport: str, pages: list):
    page = browser.new_context(locale="nl-NL", viewport=VIEWPORTS[viewport],
                               accept_downloads=True).new_page()
    pages.append(page)
    return page


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_hoist_from_passport_to_acknowledged_safety_notice(
        request, live_server, mailbox, browser, make_user, make_org, tmp_path, viewport):
    base_url, app = live_server
    with app.app_context():
        care_home = make_org(name="Zorgcentrum De Haven", kind=OrganisationKind.ELDERLY_CARE)
        care_home.trusted = True
        make_user(GIVER, organisation=care_home, name="Gea Gever", language=Language.NL)
        hospital = make_org(name="Ziekenhuis Noord")
        hospital.requires_medical_sign_off = True  # the set-up: the hospital's own settings
        make_user(PURCHASER, organisation=hospital, name="Paul Inkoop", language=Language.NL)
        make_user(MEDTECH, organisation=hospital, name="Mira Medtech",
                  language=Language.NL).medical_technology = True
        make_user(ADMIN, role=Role.PLATFORM_ADMIN, name="Bea Beheer", language=Language.NL)
        lifting = str(db.session.scalar(select(Category.id).where(Category.slug == "lifting")))
        db.session.commit()
        pick_up_day = (local_time(utcnow()) + timedelta(days=3)).date()
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    instructions = io.BytesIO()
    writer.write(instructions)
    pdf = tmp_path / "Gebruiksaanwijzing tillift.pdf"
    pdf.write_bytes(instructions.getvalue())

    pages: list = []
    try:
        # 1. The care home posts the hoist with its passport and instructions.
        giver = dutch_page(browser, viewport, pages)
        log_in(giver, base_url, GIVER, "nl")
        giver.goto(f"{base_url}/listings/new")
        giver.get_by_label("Titel", exact=True).fill(TITLE)
        giver.get_by_label("Beschrijving", exact=True).fill("Elektrische tillift, nagekeken.")
        giver.get_by_label("Categorie", exact=True).select_option(lifting)
        giver.get_by_label("Staat", exact=True).select_option(index=1)
        giver.get_by_label("Aantal", exact=True).fill("1")
        giver.get_by_label("Foto's", exact=True).set_input_files(str(PHOTO))
        giver.get_by_label("Fabrikant", exact=True).fill("LiftCare")
        giver.get_by_label("Model", exact=True).fill("Mobilift P-180")
        giver.get_by_label("UDI-DI (GTIN)", exact=True).fill(UDI_DI)
        giver.get_by_label("Serie- of lotnummers", exact=True).fill("SN1234\nSN1235")
        giver.get_by_label("Bouwjaar", exact=True).fill("2018")
        giver.get_by_label("Laatste onderhoud op", exact=True).fill("2026-01-15")
        giver.get_by_label("Gebruiksaanwijzing (PDF)", exact=True).set_input_files(str(pdf))
        giver.get_by_role("button", name="Publiceren").click()
        giver.get_by_text("Je advertentie is gepubliceerd.").wait_for()
        listing_url = giver.url
        assert UDI_DI in giver.locator(".listing-passport").inner_text()

        # 2. The purchaser claims it: it waits for their own medical technology.
        purchaser = dutch_page(browser, viewport, pages)
        log_in(purchaser, base_url, PURCHASER, "nl")
        purchaser.goto(listing_url)
        purchaser.get_by_label("Hoeveel heb je nodig?").fill("1")
        purchaser.get_by_role("button", name="Aanvragen").click()
        purchaser.get_by_text("Je aanvraag wacht op akkoord van medische technologie").wait_for()
        purchaser.wait_for_url(f"{base_url}/claims/*")
        mailbox.wait_for(PURCHASER, "Je aanvraag wacht op medische technologie")

        # The medical-technology colleague is emailed, sees the passport, approves.
        ask = mailbox.wait_for(MEDTECH, "Akkoord gevraagd voor een aanvraag")
        # The giver has heard nothing: no email, nothing on their claims page.
        assert not [m for m in mailbox.messages if GIVER in m["To"]]
        giver.goto(f"{base_url}/claims/")
        assert "Ziekenhuis Noord" not in giver.content()
        medtech = dutch_page(browser, viewport, pages)
        log_in(medtech, base_url, MEDTECH, "nl")
        medtech.goto(link_in(ask, "/claims/"))
        sign_off = medtech.locator("#sign-off")
        facts = sign_off.inner_text()
        assert "Apparaatpaspoort" in facts and "Mobilift P-180" in facts and UDI_DI in facts
        assert_fits_the_screen(medtech)
        sign_off.get_by_role("button", name="Akkoord", exact=True).click()
        medtech.get_by_text("Akkoord: de gever heeft de aanvraag ontvangen").wait_for()
        mailbox.wait_for(PURCHASER, "Medische technologie gaf akkoord")

        # The giver is emailed now and accepts with a day and a time window.
        received = mailbox.wait_for(GIVER, "Nieuwe aanvraag voor " + TITLE)
        giver.goto(link_in(received, "/claims/"))
        giver.get_by_label("Afgesproken ophaaldatum", exact=True).fill(pick_up_day.isoformat())
        giver.get_by_label("Ophalen vanaf", exact=True).fill("10:00")
        giver.get_by_label("Ophalen tot", exact=True).fill("11:30")
        giver.get_by_role("button", name="Accepteren", exact=True).click()
        giver.get_by_text("De aanvraag is geaccepteerd").wait_for()
        accepted = mailbox.wait_for(PURCHASER, "Je aanvraag is geaccepteerd")

        # The purchaser marks it collected; the transfer document names both and the UDI-DI.
        purchaser.goto(link_in(accepted, "/claims/"))
        assert "11:30" in purchaser.content()
        purchaser.get_by_role("button", name="Markeren als opgehaald").click()
        purchaser.get_by_text("Gemarkeerd als opgehaald.").wait_for()
        mailbox.wait_for(GIVER, "Overgedragen: " + TITLE)
        for page in (purchaser, giver):
            page.reload()
            with page.expect_download() as download:
                page.get_by_role("link", name="Download het overdrachtsdocument (pdf)").click()
            document = download.value.path().read_bytes()
            assert document.startswith(b"%PDF")
            text = " ".join(page_.extract_text() for page_ in PdfReader(io.BytesIO(document)).pages)
            for expected in ("Zorgcentrum De Haven", "Ziekenhuis Noord", UDI_DI):
                assert expected in text, f"{expected!r} not in the transfer document"

        # 3. A platform admin records a field safety notice for the model and a serial range.
        admin = dutch_page(browser, viewport, pages)
        log_in(admin, base_url, ADMIN, "nl")
        admin.goto(f"{base_url}/admin/safety-notices/new")
        admin.get_by_label("Fabrikant", exact=True).fill("LiftCare")
        admin.get_by_label("Model", exact=True).fill("mobilift p-180")
        admin.get_by_label("Serie- of lotnummers van", exact=True).fill("SN1000")
        admin.get_by_label("Serie- of lotnummers tot en met", exact=True).fill("SN1999")
        admin.get_by_label("Wat de waarschuwing zegt en wat je moet doen", exact=True).fill(
            "Controleer de ophangbeugel vóór gebruik; vervang hem bij scheurtjes.")
        admin.get_by_role("button", name="Vastleggen en versturen").click()
        admin.get_by_text("vastgelegd en naar 1 organisatie gestuurd").wait_for()
        notice_url = admin.url
        told = admin.locator("table.data-table")
        assert "Ziekenhuis Noord" in told.inner_text() and "nog niet" in told.inner_text()
        notice_mail = mailbox.wait_for(PURCHASER, "Veiligheidswaarschuwing")
        assert "Controleer de ophangbeugel" in notice_mail.get_body(
            preferencelist=("plain",)).get_content()

        # The hospital's to-do home shows it until a colleague acknowledges it.
        medtech.goto(f"{base_url}/")
        todo = medtech.locator("section", has=medtech.locator("#todo-safety"))
        todo.get_by_text("Veiligheidswaarschuwing: LiftCare").wait_for()
        todo.get_by_role("link", name="Lezen en afhandelen").click()
        # Reading the page while the link's navigation commits gave an empty document (CI, stop 27).
        medtech.wait_for_url(f"{base_url}/safety-notices/*")
        assert "SN1234" in medtech.content()
        assert_fits_the_screen(medtech)
        medtech.get_by_role("button", name="Afhandelen: gecontroleerd en opgevolgd").click()
        medtech.get_by_text("Dank je: de veiligheidswaarschuwing staat voor je organisatie "
                            "als afgehandeld.").wait_for()
        medtech.goto(f"{base_url}/")
        assert medtech.locator("#todo-safety").count() == 0

        # The admin's notice page shows who acknowledged it.
        admin.goto(notice_url)
        row = admin.locator("table.data-table tr", has_text="Ziekenhuis Noord")
        assert "Mira Medtech" in row.inner_text()
        assert "nog niet" not in row.inner_text()
        assert_fits_the_screen(admin)
    except BaseException:
        keep_artifacts(request, pages)
        raise
