"""Posting a hoist with its device passport in a Dutch browser: the "Apparaatpaspoort" fieldset
follows the chosen category (JavaScript on), the instructions PDF survives a form error, and the
published listing shows the passport with the PDF as a download."""

from __future__ import annotations

import io
import os

from browser_helpers import VIEWPORTS, assert_fits_the_screen, keep_artifacts, log_in
from helpers import SHARED_TESTDATA
from pypdf import PdfWriter
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Category, Listing

PHOTO = SHARED_TESTDATA / "images" / "good" / "hopper.jpg"


def category_value(app, slug: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Category.id).where(Category.slug == slug)))


def test_posting_a_hoist_with_its_passport_and_instructions(request, live_server, browser,
                                                          poster, tmp_path):
    base_url, app = live_server
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    pdf = tmp_path / "IFU tillift.pdf"
    out = io.BytesIO()
    writer.write(out)
    pdf.write_bytes(out.getvalue())
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORTS["phone"])
    page = context.new_page()
    try:
        log_in(page, base_url, poster, "nl")
        page.goto(f"{base_url}/listings/new")
        passport = page.locator("#passport-fieldset")
        assert passport.is_visible()  # no category yet: shown, with the hint
        assert page.get_by_text("Alleen voor medische hulpmiddelen").is_visible()

        category = page.get_by_label("Categorie", exact=True)
        category.select_option(category_value(app, "kitchen"))
        assert not passport.is_visible()
        lifting = category_value(app, "lifting")
        category.select_option(lifting)
        assert passport.is_visible()
        required = page.locator(f'[data-passport-required="{lifting}"]')
        assert required.is_visible()
        assert "Fabrikant, Model, Bouwjaar, Laatste onderhoud" in required.inner_text()
        assert not page.get_by_text("Alleen voor medische hulpmiddelen").is_visible()

        page.get_by_label("Beschrijving", exact=True).fill("Mobiele tillift, twee tilbanden.")
        page.get_by_label("Staat", exact=True).select_option(index=1)
        page.get_by_label("Aantal", exact=True).fill("1")
        page.get_by_label("Foto's", exact=True).set_input_files(str(PHOTO))
        page.get_by_label("Fabrikant", exact=True).fill("LiftCare")
        page.get_by_label("Model", exact=True).fill("Mobilift P-180")
        page.get_by_label("Bouwjaar", exact=True).fill("2018")
        page.get_by_label("UDI-DI (GTIN)", exact=True).fill("(01)08712345000011")
        page.get_by_label("Gebruiksaanwijzing (PDF)", exact=True).set_input_files(str(pdf))
        page.get_by_role("button", name="Publiceren").click()  # no title, no maintenance date

        page.get_by_text("Je gebruiksaanwijzing is bewaard.").wait_for()
        assert page.get_by_text("IFU tillift.pdf").count() >= 1
        assert passport.is_visible()
        assert_fits_the_screen(page)
        page.get_by_label("Titel", exact=True).fill("Tillift met tilbanden")
        page.get_by_role("button", name="Publiceren").click()
        page.locator("#passport_last_maintenance_on-error").wait_for()
        page.get_by_text("Je gebruiksaanwijzing is bewaard.").wait_for()
        page.get_by_label("Laatste onderhoud op", exact=True).fill("2026-01-15")
        page.get_by_role("button", name="Publiceren").click()

        page.get_by_text("Je advertentie is gepubliceerd.").wait_for()
        section = page.locator(".listing-passport")
        assert "Mobilift P-180" in section.inner_text()
        assert "08712345000011" in section.inner_text()
        if os.environ.get("PASSPORT_SCREENSHOT"):
            section.scroll_into_view_if_needed()
            page.screenshot(path=os.environ["PASSPORT_SCREENSHOT"], full_page=True)
        with page.expect_download() as download:
            section.get_by_role("link", name="Gebruiksaanwijzing downloaden").click()
        assert download.value.suggested_filename == "IFU tillift.pdf"
        with app.app_context():
            listing = db.session.scalars(select(Listing)).one()
            assert listing.passport.instructions_filename == "IFU tillift.pdf"
    finally:
        keep_artifacts(request, [page])
        context.close()
