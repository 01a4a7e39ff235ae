"""The device passport of medical listings (issue 20): the UDI-DI's check digit, the fields a
category requires (Dutch messages, the form kept), the instructions for use as a PDF (hostile
ones refused, a good one kept across a form error and served only as a download, to whoever
may see the listing), and the admin's choice of medical categories."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import builders
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Category,
    DevicePassport,
    Language,
    Listing,
    ListingStatus,
    Role,
)
from marketplace.services import device_passports, instructions_for_use
from marketplace.services.errors import DomainError
from marketplace.storage import LocalStorage, get_storage

VALID_GTIN = "08712345000011"


# --- PDFs ------------------------------------------------------------------------------------

def pdf(text: str = "Gebruiksaanwijzing tillift") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_open_action(JavaScript("app.alert('hallo');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_launch_action() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"),
        NameObject("/F"): TextStringObject("calc.exe")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_attachment() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_attachment("setup.exe", b"MZ not really")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("geheim")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- helpers ---------------------------------------------------------------------------------

def lifting_id() -> int:
    return builders.category_id("lifting")


def passport_form(poster, **overrides: object) -> dict[str, object]:
    """A valid hoist listing with its passport (lifting asks for manufacturer, model, year and
    last maintenance)."""
    data = {
        "title": "Tillift met tilbanden",
        "category": str(lifting_id()),
        "passport_manufacturer": "LiftCare",
        "passport_model": "Mobilift P-180",
        "passport_year_of_manufacture": "2018",
        "passport_last_maintenance_on": (date.today() - timedelta(days=30)).isoformat(),
        "passport_udi_di": VALID_GTIN,
        "passport_serial_numbers": "LC-1\nLC-2",
    }
    data.update(overrides)
    return data


def post(client, poster, url: str = "/listings/new", **fields: object):
    return builders.post_listing(client, poster, url=url, **passport_form(poster, **fields))


def dutch_poster(make_user, trusted: bool = True):
    poster = make_user(language=Language.NL)
    poster.organisation.trusted = trusted
    db.session.commit()
    return poster


def error_of(body: str, field: str) -> str:
    found = re.search(rf'id="{field}-error">(.*?)</p>', body, re.S)
    assert found, f"no error on {field}"
    return found.group(1)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def staged_token(body: str) -> str:
    found = re.search(r'name="passport_instructions_staged" type="hidden" value="([^"]*)"', body) \
        or re.search(r'id="passport_instructions_staged" name="passport_instructions_staged" '
                     r'type="hidden" value="([^"]*)"', body)
    assert found, "no staged-instructions field"
    return found.group(1)


# --- the UDI-DI ------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "stored"), [
    ("08712345000011", "08712345000011"),
    ("8712345000011", "08712345000011"),  # a GTIN-13 (EAN) padded to 14
    ("(01)08712345000011", "08712345000011"),
    ("0871 2345 0000 11", "08712345000011"),
    ("96385074", "00000096385074"),  # a GTIN-8
])
def test_a_valid_gtin_is_stored_as_14_digits(app, given, stored):
    assert device_passports.normalise_gtin(given) == stored


@pytest.mark.parametrize("given", ["08712345000012", "8712345000012", "96385075"])
def test_a_wrong_check_digit_is_refused(app, given):
    with pytest.raises(DomainError) as refused:
        device_passports.normalise_gtin(given)
    assert refused.value.field == "passport_udi_di"
    assert "check digit" in refused.value.message


@pytest.mark.parametrize("given", ["0871234500001A", "GTIN08712345",
                                   "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"])
def test_letters_are_refused(app, given):
    with pytest.raises(DomainError, match="without letters"):
        device_passports.normalise_gtin(given)


def test_a_wrong_udi_di_on_the_form_is_named_in_dutch_and_the_form_kept(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    response = post(client, poster, photos=("hopper.jpg",), passport_udi_di="08712345000012")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "controlecijfer" in error_of(body, "passport_udi_di")
    assert 'value="Mobilift P-180"' in body and 'value="08712345000012"' in body
    assert count(Listing) == 0


def test_the_passport_is_saved_and_shown_on_the_listing_page(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    response = post(client, poster, photos=("hopper.jpg",),
                    passport_udi_di="8712345000011")
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = db.session.scalar(select(Listing))
    assert listing.status is ListingStatus.PUBLISHED
    passport = listing.passport
    assert (passport.manufacturer, passport.model, passport.udi_di, passport.serial_numbers) == \
        ("LiftCare", "Mobilift P-180", VALID_GTIN, "LC-1\nLC-2")
    visitor = make_user(language=Language.NL)
    page = login_as(visitor).get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "Apparaatpaspoort" in page
    assert "Mobilift P-180" in page and VALID_GTIN in page and "Fabrikant" in page


# --- required fields per category --------------------------------------------------------------

def test_the_fields_a_category_requires_are_asked_in_dutch_with_the_form_kept(make_user,
                                                                            login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    response = post(client, poster, photos=("hopper.jpg",), passport_manufacturer="",
                    passport_model="")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Deze categorie vraagt om dit veld van het apparaatpaspoort: Fabrikant." in \
        error_of(body, "passport_manufacturer")
    assert 'value="Tillift met tilbanden"' in body and 'value="2018"' in body
    assert 'name="staged_photo"' in body  # the photo is kept too
    assert count(Listing) == 0


def test_monitoring_asks_for_the_safety_test_and_mobility_does_not(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    monitoring = post(client, poster, photos=("hopper.jpg",),
                      category=str(builders.category_id("monitoring")))
    assert monitoring.status_code == 422
    assert "Laatste elektrische veiligheidstest" in error_of(
        monitoring.get_data(as_text=True), "passport_last_safety_test_on")
    mobility = post(client, poster, photos=("hopper.jpg",),
                    category=str(builders.category_id("mobility")),
                    passport_last_maintenance_on="")
    assert mobility.status_code == 302, mobility.get_data(as_text=True)


def test_a_draft_may_leave_required_fields_empty_but_not_be_wrong(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    draft = {"submit": "", "save_draft": "Opslaan als concept", "passport_manufacturer": "",
             "passport_model": ""}
    assert post(client, poster, **draft).status_code == 302
    assert db.session.scalar(select(Listing)).passport.manufacturer is None
    wrong = post(client, poster, **{**draft, "passport_year_of_manufacture": "2099"})
    assert wrong.status_code == 422
    assert "bouwjaar" in error_of(wrong.get_data(as_text=True),
                                  "passport_year_of_manufacture").lower()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("passport_year_of_manufacture", "1949", "1950"),
    ("passport_last_maintenance_on", (date.today() + timedelta(days=1)).isoformat(),
     "toekomst"),
    ("passport_instructions_url", "javascript:alert(1)", "https://"),
    ("passport_instructions_url", "ftp://example.com/ifu.pdf", "https://"),
])
def test_impossible_values_are_refused_in_dutch(make_user, login_as, field, value, words):
    poster = dutch_poster(make_user)
    response = post(login_as(poster), poster, photos=("hopper.jpg",), **{field: value})
    assert response.status_code == 422
    assert words in error_of(response.get_data(as_text=True), field)


def test_a_single_use_device_only_unopened_and_before_its_expiry(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    opened = post(client, poster, photos=("hopper.jpg",), passport_single_use="yes",
                  packaging_unopened="no")
    assert opened.status_code == 422
    assert "ongeopend" in error_of(opened.get_data(as_text=True), "packaging_unopened")
    expired = post(client, poster, photos=("hopper.jpg",), passport_single_use="yes",
                   packaging_unopened="yes",
                   best_before=(date.today() - timedelta(days=1)).isoformat())
    assert expired.status_code == 422
    assert "houdbaarheidsdatum" in error_of(expired.get_data(as_text=True), "best_before")
    fine = post(client, poster, photos=("hopper.jpg",), passport_single_use="yes",
                packaging_unopened="yes",
                best_before=(date.today() + timedelta(days=100)).isoformat())
    assert fine.status_code == 302


def test_a_listing_outside_medical_categories_keeps_no_passport(make_user, login_as):
    poster = dutch_poster(make_user)
    response = post(login_as(poster), poster, photos=("hopper.jpg",),
                    category=str(builders.category_id("office-furniture")))
    assert response.status_code == 302
    assert count(DevicePassport) == 0


# --- the instructions for use ----------------------------------------------------------------

@pytest.mark.parametrize(("content", "name", "words"), [
    (pdf_with_javascript, "handleiding.pdf", "scripts"),
    (pdf_with_launch_action, "handleiding.pdf", "scripts"),
    (pdf_with_attachment, "handleiding.pdf", "bijlagen"),
    (encrypted_pdf, "handleiding.pdf", "wachtwoord"),
    (lambda: b"Dit is gewoon tekst, geen PDF.\n", "handleiding.pdf", "geen PDF"),
    (lambda: b"%PDF-1.7\n" + b"\x00garbage" * 50, "kapot.pdf", "beschadigd"),
])
def test_hostile_pdfs_are_refused_in_dutch_and_the_rest_of_the_form_kept(
        make_user, login_as, content, name, words):
    poster = dutch_poster(make_user)
    response = post(login_as(poster), poster, photos=("hopper.jpg",),
                    passport_instructions_file=(io.BytesIO(content()), name))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert words in error_of(body, "passport_instructions_file")
    assert 'value="Mobilift P-180"' in body and 'value="Tillift met tilbanden"' in body
    assert staged_token(body) == ""
    assert count(Listing) == 0 and count(DevicePassport) == 0
    assert not [name for name in get_storage().names() if name.startswith("documents/")]


def test_an_oversize_pdf_is_refused(make_app, make_user):
    app = make_app(IFU_MAX_BYTES=2_000)
    with app.app_context():
        poster = dutch_poster(make_user)
        client = app.test_client()
        from helpers import AuthActions
        AuthActions(client).login(poster)
        big = pdf("x" * 5_000)
        response = post(client, poster, photos=("hopper.jpg",),
                        passport_instructions_file=(io.BytesIO(big), "groot.pdf"))
        assert response.status_code == 422
        assert "groter dan" in error_of(response.get_data(as_text=True),
                                        "passport_instructions_file")


def test_a_good_pdf_is_kept_across_a_form_error_and_served_as_a_download(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    document = pdf()
    response = post(client, poster, photos=("hopper.jpg",), passport_model="",
                    passport_instructions_file=(io.BytesIO(document), "IFU tillift.pdf"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "IFU tillift.pdf" in body and "bewaard" in body
    token = staged_token(body)
    assert token

    # Sent again without the file: the token brings it.
    response = post(client, poster, photos=("hopper.jpg",),
                    passport_instructions_staged=token)
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = db.session.scalar(select(Listing))
    assert listing.passport.instructions_filename == "IFU tillift.pdf"
    assert listing.passport.instructions_bytes == len(document)

    download = client.get(f"/listings/{listing.id}/instructions.pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.data == document
    assert PdfReader(io.BytesIO(download.data)).metadata.title == "Gebruiksaanwijzing tillift"


def test_another_members_token_is_worthless(make_user, login_as):
    poster = dutch_poster(make_user)
    other = dutch_poster(make_user)
    body = post(login_as(poster), poster, passport_model="", photos=("hopper.jpg",),
                passport_instructions_file=(io.BytesIO(pdf()), "ifu.pdf")).get_data(as_text=True)
    token = staged_token(body)
    response = post(login_as(other), other, photos=("hopper.jpg",),
                    passport_instructions_staged=token)
    assert response.status_code == 302
    assert db.session.scalar(select(Listing)).passport.instructions_key is None


def test_who_may_download_follows_who_may_see_the_listing(make_user, login_as, make_listing,
                                                         client):
    poster = dutch_poster(make_user)
    response = post(login_as(poster), poster, photos=("hopper.jpg",),
                    passport_instructions_file=(io.BytesIO(pdf()), "ifu.pdf"))
    assert response.status_code == 302
    listing = db.session.scalar(select(Listing))
    url = f"/listings/{listing.id}/instructions.pdf"
    member_elsewhere = make_user()
    assert login_as(member_elsewhere).get(url).status_code == 200
    visible_to_visitors = client.get(f"/listings/{listing.id}").status_code == 200
    assert client.get(url).status_code == (200 if visible_to_visitors else 404)

    listing.status = ListingStatus.DRAFT  # a draft: only its own organisation sees it
    db.session.commit()
    assert login_as(member_elsewhere).get(url).status_code == 404
    assert client.get(url).status_code == 404
    assert login_as(poster).get(url).status_code == 200


def test_a_listing_without_instructions_has_no_download(make_listing, client):
    listing = make_listing(category="lifting")
    assert client.get(f"/listings/{listing.id}/instructions.pdf").status_code == 404


def test_replacing_the_pdf_deletes_the_old_file_once_saved(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    assert post(client, poster, photos=("hopper.jpg",),
                passport_instructions_file=(io.BytesIO(pdf("oud")), "oud.pdf")
                ).status_code == 302
    listing = db.session.scalar(select(Listing))
    old_key = listing.passport.instructions_key
    response = post(client, poster, url=f"/listings/{listing.id}/edit", photos=(),
                    save_draft="Opslaan", submit="",
                    passport_instructions_file=(io.BytesIO(pdf("nieuw")), "nieuw.pdf"))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.refresh(listing.passport)
    assert listing.passport.instructions_filename == "nieuw.pdf"
    assert not get_storage().exists(old_key)
    assert get_storage().exists(listing.passport.instructions_key)


# --- the admin's choice ------------------------------------------------------------------------

def test_the_demo_categories_are_medical(app):
    medical = {category.slug: category.passport_requirements for category in
               db.session.scalars(select(Category).where(Category.medical_device))}
    assert set(medical) == {"mobility", "lifting", "monitoring", "care-beds"}
    assert "last_maintenance_on" in medical["lifting"]
    assert "last_safety_test_on" in medical["monitoring"]


def test_a_platform_admin_marks_a_category_medical_and_it_is_audited(make_user, login_as):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    category = db.session.scalar(select(Category).where(Category.slug == "medical-aids"))
    response = login_as(admin).post(f"/admin/categories/{category.id}/medical", data={
        "medical_device": "y", "requirements": ["manufacturer", "udi_di"]})
    assert response.status_code == 302
    db.session.refresh(category)
    assert category.medical_device and category.passport_requirements == "manufacturer,udi_di"
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "category.medical_device")) is not None
    page = login_as(admin).get(f"/admin/categories/{category.id}/edit").get_data(as_text=True)
    checked = re.findall(r'<input checked[^>]*name="requirements"[^>]*value="(\w+)"', page)
    assert checked == ["manufacturer", "udi_di"]


def test_a_member_cannot_mark_categories(make_user, login_as):
    member = make_user()
    category = db.session.scalar(select(Category).where(Category.slug == "medical-aids"))
    response = login_as(member).post(f"/admin/categories/{category.id}/medical",
                                     data={"medical_device": "y"})
    assert response.status_code in (403, 404)
    db.session.refresh(category)
    assert not category.medical_device


def test_the_demos_hoist_bed_and_wheelchairs_have_passports(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    passports = {listing.title: listing.passport for listing in
                 db.session.scalars(select(Listing).join(DevicePassport))}
    assert {"Tillift met tilbanden", "Elektrische hoog-laagbedden",
            "Wheelchairs, self-propelled"} <= set(passports)
    hoist = passports["Tillift met tilbanden"]
    assert hoist.last_maintenance_on and device_passports.normalise_gtin(hoist.udi_di) == \
        hoist.udi_di
    # Each demo passport has what its category requires.
    for passport in passports.values():
        for name in device_passports.required_fields(
                db.session.get(Listing, passport.listing_id).category):
            assert getattr(passport, name), (passport.listing_id, name)


def test_post_similar_takes_over_what_the_device_is_but_not_the_batch(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    assert post(client, poster, photos=("hopper.jpg",),
                passport_instructions_file=(io.BytesIO(pdf()), "ifu.pdf")).status_code == 302
    source = db.session.scalar(select(Listing))
    assert client.post(f"/listings/{source.id}/copy").status_code == 302
    copy = db.session.scalar(select(Listing).where(Listing.id != source.id))
    assert (copy.passport.manufacturer, copy.passport.udi_di) == ("LiftCare", VALID_GTIN)
    assert copy.passport.instructions_key == source.passport.instructions_key
    assert copy.passport.serial_numbers is None and copy.passport.year_of_manufacture is None
    # The copy's file is the same file: withdrawing one passport's PDF keeps it for the other.
    response = post(client, poster, url=f"/listings/{copy.id}/edit", photos=(),
                    save_draft="Opslaan", submit="", passport_remove_instructions="y")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert get_storage().exists(source.passport.instructions_key)


def test_a_storage_failure_answers_503_and_keeps_the_form(make_user, login_as, monkeypatch):
    poster = dutch_poster(make_user)
    client = login_as(poster)

    def fail(self, name: str, data: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(LocalStorage, "write", fail)
    response = post(client, poster, photos=(),
                    passport_instructions_file=(io.BytesIO(pdf()), "ifu.pdf"))
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "kon nu niet worden opgeslagen" in error_of(body, "passport_instructions_file")
    assert 'value="Mobilift P-180"' in body
    assert count(Listing) == 0


def test_housekeeping_removes_uploads_no_passport_took_over(make_user, login_as):
    poster = dutch_poster(make_user)
    client = login_as(poster)
    # One upload left on a form never sent again, one that a listing took over.
    assert post(client, poster, photos=("hopper.jpg",), passport_model="",
                passport_instructions_file=(io.BytesIO(pdf("verlaten")), "a.pdf")
                ).status_code == 422
    assert post(client, poster, photos=("hopper.jpg",),
                passport_instructions_file=(io.BytesIO(pdf("gebruikt")), "b.pdf")
                ).status_code == 302
    kept = db.session.scalar(select(Listing)).passport.instructions_key
    stored = [name for name in get_storage().names() if name.startswith("documents/")]
    assert len(stored) == 2
    assert instructions_for_use.purge_stale_instructions() == 0  # a day old at most: kept
    later = datetime.now(UTC) + timedelta(days=3)
    assert instructions_for_use.purge_stale_instructions(later) == 1
    assert [name for name in get_storage().names() if name.startswith("documents/")] == [kept]
