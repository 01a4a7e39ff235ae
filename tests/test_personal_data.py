"""Personal data (issue 6): the privacy page, the export, account deletion (by the member and by
a platform admin on request), the photos of refused listings purged after a grace period, and
logs without passwords, tokens or email bodies."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import threading
import urllib.request
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import PASSWORD, SHARED_TESTDATA, AuthActions, csrf_token, outbox, reload
from sqlalchemy import func, select, update
from werkzeug.serving import make_server

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AuditEvent,
    Claim,
    ClaimMessage,
    ClaimStatus,
    Language,
    Listing,
    ListingPhoto,
    ListingStatus,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    Photo,
    Role,
    User,
    UserStatus,
    Wanted,
)
from marketplace.models.base import utcnow
from marketplace.services import accounts, housekeeping
from marketplace.services.claims import accept_claim, claim_listing, mark_collected, post_message
from marketplace.services.errors import DomainError, PermissionDenied
from marketplace.services.mail import deliver_pending
from marketplace.services.personal_data import (
    delete_account,
    forget_mail_of_deleted_accounts,
)
from marketplace.services.photos import (
    FULL,
    VARIANTS,
    photo_file_name,
    prepare_photo,
    purge_refused_listing_photos,
    save_prepared,
)
from marketplace.services.wanted import answer_wanted

IMAGES = SHARED_TESTDATA / "images" / "good"
ZIP_NAME = re.compile(r'^attachment; filename="surplus-marketplace-\d{4}-\d{2}-\d{2}\.zip"$')


def add_photo(listing: Listing, filename: str = "hopper.jpg") -> Photo:
    photo = save_prepared(prepare_photo((IMAGES / filename).read_bytes(), filename))
    listing.photos.append(ListingPhoto(photo=photo, position=len(listing.photos)))
    db.session.commit()
    return photo


def photo_files(app, photo: Photo) -> list[Path]:
    root = Path(app.config["UPLOAD_FOLDER"])
    return [root / photo_file_name(photo, variant) for variant in VARIANTS]


def open_zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/zip"
    assert ZIP_NAME.match(response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    content = response.get_data()
    response.close()  # as a WSGI server does: closes the temporary file
    return zipfile.ZipFile(io.BytesIO(content))


def delete_form(password: str = PASSWORD, understood: bool = True) -> dict[str, str]:
    data = {"password": password}
    if understood:
        data["understood"] = "y"
    return data


@pytest.fixture
def giver(app, make_user, make_org):
    return make_user("gerda@oost.example.org", organisation=make_org(name="Ziekenhuis Oost"),
                     name="Gerda Gever")


@pytest.fixture
def member(app, make_user, make_org):
    user = make_user("tim@west.example.org", organisation=make_org(name="Zorg West"),
                     name="Tim Nemer")
    user.phone = "06 1234 5678"
    db.session.commit()
    return user


# --- the privacy page -------------------------------------------------------------------------

def test_the_privacy_page_is_public_and_linked_from_every_page(client):
    page = client.get("/privacy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for words in ("controller", "legitimate interest", "EXIF", "30 days", "Audit events",
                  "Mail log", "platform admin"):
        assert words in text
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)


def test_the_privacy_page_shows_the_configured_contact_and_grace_period(make_app):
    app = make_app(PRIVACY_CONTACT="privacy@coop.example.org", PHOTO_GRACE_DAYS=14)
    text = app.test_client().get("/privacy").get_data(as_text=True)
    assert 'href="mailto:privacy@coop.example.org"' in text
    assert "14 days" in text


def test_the_profile_links_to_the_data_page(member, login_as):
    text = login_as(member).get("/account/").get_data(as_text=True)
    assert 'href="/account/data"' in text and 'href="/privacy"' in text


# --- export -----------------------------------------------------------------------------------

def test_the_export_holds_the_members_data_and_photos_and_nothing_of_others(
        app, member, giver, make_user, make_listing, login_as):
    colleague = make_user("carla@west.example.org", organisation=member.organisation,
                          name="Carla Collega")
    own = make_listing("Rollators", organisation=member.organisation, created_by=member)
    first, second = add_photo(own, "hopper.jpg"), add_photo(own, "hopper.png")
    colleagues = make_listing("Bedden", organisation=member.organisation, created_by=colleague)
    not_mine = add_photo(colleagues, "hopper_gray.jpg")
    offered = make_listing("Rolstoelen", organisation=giver.organisation, created_by=giver)
    claim = claim_listing(member, offered, 2, "Voor locatie West")
    post_message(giver, claim, "Komt donderdag goed uit")
    post_message(member, claim, "Dan kom ik om tien uur")
    db.session.add_all([Alert(user=member, words="rolstoel"), Alert(user=giver, words="bed"),
                        Wanted(author=member, organisation=member.organisation,
                               title="Tillift gezocht", needed_by=own.available_until)])
    db.session.commit()

    client = login_as(member)
    assert "Download my data" in client.get("/account/data").get_data(as_text=True)
    archive = open_zip(client.post("/account/data"))

    data = json.loads(archive.read("data.json"))
    assert {"profile", "organisation", "email_preferences", "listings", "claims",
            "messages_on_other_claims", "alerts", "wanted_posts", "reports", "audit_events",
            "email_sent", "notes"} <= set(data)
    assert data["profile"]["email"] == "tim@west.example.org"
    assert data["profile"]["phone"] == "06 1234 5678"
    assert data["organisation"] == {"name": "Zorg West"}
    [listing] = data["listings"]
    assert listing["title"] == "Rollators"
    names = [photo["file"] for photo in listing["photos"]]
    assert names == [f"photos/{first.content_hash}.jpg", f"photos/{second.content_hash}.jpg"]
    for photo, name in ((first, names[0]), (second, names[1])):
        stored = Path(app.config["UPLOAD_FOLDER"]) / photo_file_name(photo, FULL)
        assert archive.read(name) == stored.read_bytes()
    assert f"photos/{not_mine.content_hash}.jpg" not in archive.namelist()
    [made] = data["claims"]
    assert made["listing_title"] == "Rolstoelen" and made["message"] == "Voor locatie West"
    assert [(m["body"], m["written_by_you"]) for m in made["messages"]] == [
        ("Komt donderdag goed uit", False), ("Dan kom ik om tien uur", True)]
    assert [alert["words"] for alert in data["alerts"]] == ["rolstoel"]
    assert [post["title"] for post in data["wanted_posts"]] == ["Tillift gezocht"]
    assert {mail["template"] for mail in data["email_sent"]} == {"claim_message"}
    assert "body_text" not in json.dumps(data["email_sent"])
    everything = archive.read("data.json").decode()
    for others in ("gerda@oost.example.org", "Gerda Gever", "carla@", "Carla Collega", "Bedden",
                   '"bed"'):
        assert others not in everything


def test_the_export_holds_the_givers_decisions_on_claims_and_answers_to_wanted_posts(
        app, member, giver, make_listing, login_as):
    offered = make_listing("Rolstoelen", organisation=giver.organisation, created_by=giver)
    accept_claim(giver, claim_listing(member, offered, 1, "Voor West"),
                 note="Ophalen bij de achteringang")
    wanted = Wanted(author=member, organisation=member.organisation, title="Tillift gezocht",
                    needed_by=offered.available_until)
    db.session.add(wanted)
    db.session.commit()
    answer_wanted(giver, wanted, offered)

    data = json.loads(open_zip(login_as(giver).post("/account/data")).read("data.json"))
    [decision] = data["claim_decisions"]
    assert (decision["listing_title"], decision["decision_note"], decision["status"]) == (
        "Rolstoelen", "Ophalen bij de achteringang", "accepted")
    assert [(answer["wanted_title"], answer["listing_title"])
            for answer in data["wanted_answers"]] == [("Tillift gezocht", "Rolstoelen")]
    mine = json.loads(open_zip(login_as(member).post("/account/data")).read("data.json"))
    assert mine["claim_decisions"] == [] and mine["wanted_answers"] == []


def test_the_data_page_needs_a_login_and_the_download_a_post(client, member, login_as):
    assert client.get("/account/data").status_code == 302
    assert client.post("/account/delete").status_code == 302
    assert login_as(member).get("/account/data").status_code == 200


def test_the_download_is_refused_without_the_csrf_token(make_app, member):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = client.get("/auth/login").get_data(as_text=True)
    token = csrf_token(login_page)
    client.post("/auth/login", data={"email": member.email, "password": PASSWORD,
                                     "csrf_token": token})
    response = client.post("/account/data")
    assert response.status_code == 400
    assert response.mimetype == "text/html"  # no zip


def test_downloads_are_rate_limited_per_member(make_app, member):
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    AuthActions(client).login(member)
    statuses = []
    for _ in range(11):
        response = client.post("/account/data")
        statuses.append(response.status_code)
        response.close()
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


# --- deletion by the member -------------------------------------------------------------------

@dataclass
class Claims:
    waiting: Claim
    accepted: Claim
    collected: Claim
    listings: list[Listing] = field(default_factory=list)


def claims_of(member, giver, make_listing) -> Claims:
    listings = [make_listing(title, organisation=giver.organisation, created_by=giver,
                             quantity=5) for title in ("Rolstoelen", "Bedden", "Tilliften")]
    waiting = claim_listing(member, listings[0], 1, "Graag")
    accepted = claim_listing(member, listings[1], 2, "Graag")
    accept_claim(giver, accepted)
    collected = claim_listing(member, listings[2], 1)
    accept_claim(giver, collected)
    mark_collected(giver, collected)
    post_message(member, accepted, "Ik bel nog even")
    return Claims(waiting, accepted, collected, listings)


def test_deleting_the_account_anonymises_it_and_cancels_its_open_claims(
        app, member, giver, make_listing, login_as):
    claims = claims_of(member, giver, make_listing)
    assert reload(claims.listings[1]).quantity_available == 3
    own = make_listing("Rollators", organisation=member.organisation, created_by=member)
    db.session.add(Alert(user=member, words="rolstoel"))
    db.session.commit()
    member_id, old_version = member.id, member.session_version
    client = login_as(member)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "Your 2 open claims are cancelled" in page
    assert "Your alert is deleted" in page

    response = client.post("/account/delete", data=delete_form())
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/deleted"
    assert "Your account has been deleted" in client.get("/account/deleted").get_data(
        as_text=True)
    assert client.get("/account/").status_code == 302  # logged out

    db.session.expire_all()
    user = db.session.get(User, member_id)
    assert (user.name, user.email, user.phone) == ("Deleted user",
                                                   f"deleted-{member_id}@invalid", None)
    assert user.status is UserStatus.DEACTIVATED and user.is_deleted
    assert user.session_version == old_version + 1
    assert user.notifications is NotificationPreference.OFF and user.muted_kinds
    assert db.session.scalar(select(func.count(Alert.id))) == 0
    assert reload(claims.waiting).status is ClaimStatus.CANCELLED
    assert reload(claims.accepted).status is ClaimStatus.CANCELLED
    assert reload(claims.collected).status is ClaimStatus.COLLECTED
    assert reload(claims.listings[1]).quantity_available == 5  # given back
    assert reload(own).created_by_id == member_id  # the organisation keeps its listing
    message = db.session.scalar(select(ClaimMessage).where(ClaimMessage.author_id == member_id))
    assert (message.body, message.author.name) == ("Ik bel nog even", "Deleted user")
    cancelled = outbox("claim_cancelled", to="gerda@oost.example.org")
    assert {mail.subject for mail in cancelled} == {"Claim for Rolstoelen", "Claim for Bedden"}
    assert {mail.body_text.splitlines()[0] for mail in cancelled} == {
        "A claim was cancelled: Rolstoelen", "A claim was cancelled: Bedden"}
    [goodbye] = outbox("account_deleted")
    assert goodbye.recipient == "tim@west.example.org"
    assert "Tim Nemer" in goodbye.body_text and "2 open claims" in goodbye.body_text
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.delete"))
    assert (event.actor_id, event.target_id, event.target_label) == \
        (member_id, member_id, f"Deleted user #{member_id}")


def test_a_deleted_account_cannot_log_in_and_its_address_can_sign_up_again(
        app, member, client, make_org):
    delete_account(member, member, password=PASSWORD)
    assert AuthActions(client).login("tim@west.example.org").status_code == 401
    with pytest.raises(DomainError):
        accounts.authenticate(f"deleted-{member.id}@invalid", PASSWORD)
    again = accounts.sign_up(name="Tim Nemer", email="tim@west.example.org",
                             password="nieuwe-fiets-onder-de-regen", language=Language.EN,
                             organisation_id=make_org().id)
    assert again is not None and again.id != member.id


def test_mail_to_a_deleted_account_is_not_sent_and_the_mail_log_forgets_its_address(
        app, member, giver, make_listing):
    offered = make_listing("Rolstoelen", organisation=giver.organisation, created_by=giver)
    claim = claim_listing(member, offered, 1)
    post_message(giver, claim, "Komt donderdag goed uit")  # to the member, not sent yet
    delete_account(member, member, password=PASSWORD)
    [unsent] = outbox("claim_message")
    assert unsent.status is OutboxStatus.FAILED
    assert deliver_pending().sent >= 1  # the confirmation and the giver's mail
    [goodbye] = outbox("account_deleted")
    assert goodbye.status is OutboxStatus.SENT
    assert forget_mail_of_deleted_accounts() == 1  # the confirmation, once it was sent
    assert forget_mail_of_deleted_accounts() == 0
    for mail in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient_user_id == member.id)):
        db.session.refresh(mail)
        assert (mail.recipient, mail.body_text, mail.body_html) == \
            (f"deleted-{member.id}@invalid", "", "")


@pytest.mark.parametrize("data", [delete_form(password="not-my-password"),
                                  delete_form(understood=False), {}])
def test_without_the_password_and_the_tick_the_account_stays(member, login_as, data):
    response = login_as(member).post("/account/delete", data=data)
    assert response.status_code == 422
    assert not reload(member).is_deleted
    assert outbox("account_deleted") == []


def test_the_last_organisation_admin_with_colleagues_appoints_another_first(
        member, make_user, login_as):
    member.role = Role.ORG_ADMIN
    db.session.commit()
    colleague = make_user(organisation=member.organisation)
    client = login_as(member)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "last organisation admin of Zorg West" in page
    assert 'name="password"' not in page
    assert client.post("/account/delete", data=delete_form()).status_code == 200
    assert not reload(member).is_deleted

    colleague.role = Role.ORG_ADMIN
    db.session.commit()
    assert client.post("/account/delete", data=delete_form()).status_code == 302
    assert reload(member).is_deleted and reload(member).role is Role.MEMBER


def test_the_only_person_of_an_organisation_can_delete_their_account(member, login_as):
    member.role = Role.ORG_ADMIN
    db.session.commit()
    assert login_as(member).post("/account/delete", data=delete_form()).status_code == 302
    assert reload(member).is_deleted


def test_the_last_platform_admin_cannot_delete_their_account(make_user, login_as):
    admin = make_user("admin@coop.example.org", role=Role.PLATFORM_ADMIN)
    with pytest.raises(DomainError, match="last platform admin"):
        delete_account(admin, admin, password=PASSWORD)
    db.session.rollback()
    make_user("second@coop.example.org", role=Role.PLATFORM_ADMIN)
    delete_account(admin, admin, password=PASSWORD)
    assert reload(admin).is_deleted


def test_an_account_is_deleted_once(member):
    delete_account(member, member, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        delete_account(member, member, password=PASSWORD)


# --- on request, by a platform admin ----------------------------------------------------------

@pytest.fixture
def admin(app, make_user):
    return make_user("admin@coop.example.org", role=Role.PLATFORM_ADMIN, name="Ada Admin")


def test_a_platform_admin_downloads_someones_data_on_request(member, admin, login_as):
    client = login_as(admin)
    page = client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert "Download their data" in page and "Delete their account" in page
    archive = open_zip(client.post(f"/admin/users/{member.id}/data"))
    assert json.loads(archive.read("data.json"))["profile"]["email"] == member.email
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.export"))
    assert (event.actor_id, event.target_id) == (admin.id, member.id)


def test_a_platform_admin_deletes_an_account_on_request_with_a_reason(
        member, giver, admin, make_listing, login_as):
    claims = claims_of(member, giver, make_listing)
    client = login_as(admin)
    refused = client.post(f"/admin/users/{member.id}/delete", data={"delete-reason": ""})
    assert refused.status_code == 302
    assert not reload(member).is_deleted

    response = client.post(f"/admin/users/{member.id}/delete",
                           data={"delete-reason": "Asked by phone on 3 March"},
                           follow_redirects=True)
    assert "The account of Tim Nemer has been deleted" in response.get_data(as_text=True)
    assert reload(member).is_deleted
    assert reload(claims.accepted).status is ClaimStatus.CANCELLED
    [goodbye] = outbox("account_deleted", to="tim@west.example.org")
    assert "a platform administrator has deleted" in goodbye.body_text
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.delete"))
    assert (event.actor_id, event.reason) == (admin.id, "Asked by phone on 3 March")
    page = client.get(f"/admin/users/{member.id}").get_data(as_text=True)
    assert "This account was deleted on" in page and "Reactivate" not in page


def test_a_platform_admin_cannot_delete_the_last_platform_admin(admin, make_user):
    other = make_user("ops@coop.example.org", role=Role.PLATFORM_ADMIN)
    delete_account(admin, other, reason="Left the cooperative")
    with pytest.raises(DomainError, match="last platform admin"):
        delete_account(admin, admin, password=PASSWORD)


@pytest.mark.parametrize("action", ["data", "delete"])
def test_members_may_not_use_the_admin_personal_data_routes(member, make_user, login_as,
                                                             action):
    other = make_user()
    response = login_as(member).post(f"/admin/users/{other.id}/{action}",
                                     data={"delete-reason": "x"})
    assert response.status_code == 403
    assert not reload(other).is_deleted


def test_a_member_cannot_delete_or_export_someone_else(member, make_user):
    other = make_user()
    with pytest.raises(PermissionDenied):
        delete_account(member, other, password=PASSWORD)
    from marketplace.services.personal_data import export_archive

    with pytest.raises(PermissionDenied):
        export_archive(member, other)


# --- photos of refused listings ---------------------------------------------------------------

def age(listing: Listing, days: int) -> None:
    """Pretend the listing last changed `days` ago (updated_at given explicitly: no onupdate)."""
    db.session.execute(update(Listing).where(Listing.id == listing.id)
                       .values(updated_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def test_photos_of_refused_listings_are_removed_after_the_grace_period(app, make_listing):
    rejected = make_listing("Afgekeurd", status=ListingStatus.REJECTED)
    only_here = add_photo(rejected, "hopper.jpg")
    shared = add_photo(rejected, "hopper.png")
    removed = make_listing("Verwijderd", status=ListingStatus.REMOVED)
    removed_photo = add_photo(removed, "hopper_gray.jpg")
    published = make_listing("Gepubliceerd")
    add_photo(published, "hopper.png")  # the same picture as `shared`
    recent = make_listing("Net afgekeurd", status=ListingStatus.REJECTED)
    recent_photo = add_photo(recent, "hopper.webp")
    withdrawn = make_listing("Ingetrokken", status=ListingStatus.WITHDRAWN)
    withdrawn_photo = add_photo(withdrawn, "exif_gps.jpg")
    for listing, days in ((rejected, 31), (removed, 45), (recent, 29), (withdrawn, 200)):
        age(listing, days)

    assert purge_refused_listing_photos() == 2
    assert purge_refused_listing_photos() == 0  # a second run finds nothing to do
    assert reload(rejected).photos == [] and reload(removed).photos == []
    assert not any(path.exists() for path in photo_files(app, only_here))
    assert not any(path.exists() for path in photo_files(app, removed_photo))
    assert all(path.exists() for path in photo_files(app, shared))
    assert len(reload(published).photos) == 1
    for photo in (recent_photo, withdrawn_photo):
        assert all(path.exists() for path in photo_files(app, photo))
    remaining = set(db.session.scalars(select(Photo.id)))
    assert remaining == {shared.id, recent_photo.id, withdrawn_photo.id}


def test_a_rejected_listing_edited_within_the_period_keeps_its_photos(app, make_listing):
    rejected = make_listing("Afgekeurd", status=ListingStatus.REJECTED)
    photo = add_photo(rejected)
    age(rejected, 25)
    rejected.title = "Afgekeurd, nu met betere beschrijving"  # an edit restarts the period
    db.session.commit()
    assert purge_refused_listing_photos(utcnow() + timedelta(days=10)) == 0
    assert all(path.exists() for path in photo_files(app, photo))
    assert purge_refused_listing_photos(utcnow() + timedelta(days=31)) == 1


def test_the_grace_period_is_a_setting(make_app, make_listing):
    app = make_app(PHOTO_GRACE_DAYS=7)
    with app.app_context():
        removed = make_listing(status=ListingStatus.REMOVED)
        add_photo(removed)
        age(removed, 8)
        lines = list(housekeeping.run())
        assert "personal data: photos of 1 refused listings deleted, 0 mails to deleted " \
            "accounts cleared" in lines
        assert reload(removed).photos == []


# --- logs -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_through_a_real_server(app, path: str) -> int:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def secrets_in_mail() -> tuple[set[str], set[str]]:
    """The tokens in the links of every queued mail, and every line of their bodies."""
    tokens, lines = set(), set()
    for message in outbox():
        for url in re.findall(r"https?://\S+", message.body_text):
            tokens.update(part for part in url.split("/") if len(part) > 20)
        lines.update(line.strip() for line in message.body_text.splitlines()
                     if len(line.strip()) > 15 and "http" not in line)
    return tokens, lines


def test_logs_never_contain_passwords_tokens_or_mail_bodies(make_app, make_org, caplog):
    from aiosmtpd.controller import Controller

    caplog.set_level(logging.DEBUG)
    received: list[object] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # the name aiosmtpd calls
            received.append(envelope)
            return "250 OK"

    folder_app = make_app()
    new_password = "zomer-appel-trein-77"
    with folder_app.app_context():
        organisation_id = make_org(name="Zorg Noord").id
        client = folder_app.test_client()
        client.post("/auth/signup", data={
            "name": "Lotte Logboek", "email": "lotte@noord.example.org", "password": PASSWORD,
            "language": "en", "organisation_choice": "existing",
            "organisation": organisation_id})
        [confirm] = outbox("confirm_email")
        client.get(re.search(r"http://localhost(/auth/confirm/\S+)", confirm.body_text)[1])
        AuthActions(client).login("lotte@noord.example.org", password="wrong-password-123")
        client.post("/auth/forgot-password", data={"email": "lotte@noord.example.org"})
        [reset] = outbox("reset_password")
        reset_path = re.search(r"http://localhost(/auth/reset/\S+)", reset.body_text)[1]
        preferences_path = re.search(r"http://localhost(/account/email-preferences/\S+)",
                                     reset.body_text)[1]
        # Werkzeug's server logs every request line: the links' tokens must not be in them.
        assert get_through_a_real_server(folder_app, reset_path) == 200
        assert get_through_a_real_server(folder_app, preferences_path) == 200
        client.post(reset_path, data={"password": new_password, "confirm": new_password})
        assert deliver_pending().sent >= 2  # to files, and said so in the log
        assert db.session.scalar(select(func.count(OutboxMessage.id))) >= 3
        user = db.session.scalar(select(User).where(User.email == "lotte@noord.example.org"))
        for message in outbox():
            message.status, message.next_attempt_at = OutboxStatus.PENDING, utcnow()
        db.session.commit()
        assert user is not None

    port = free_port()
    down = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_PASSWORD="smtp-secret-9")
    with down.app_context():
        assert deliver_pending().retried >= 3  # nothing listens: every send fails, logged
        for message in outbox():
            message.next_attempt_at = utcnow()
        db.session.commit()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        up = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        with up.app_context():
            assert deliver_pending().sent >= 3
            tokens, lines = secrets_in_mail()
    finally:
        controller.stop()
    assert received and tokens and lines

    secrets = {PASSWORD, new_password, "wrong-password-123", "smtp-secret-9", *tokens, *lines}
    ours = [record for record in caplog.records
            if not record.name.startswith("mail.log")]  # aiosmtpd: the test's own server
    assert any("Mail to" in record.getMessage() for record in ours)
    assert any("failed, retry" in record.getMessage() for record in ours)
    assert any("/auth/reset/[token]" in record.getMessage() for record in ours)
    for record in ours:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{record.name}: {text!r} contains {leaked}"
