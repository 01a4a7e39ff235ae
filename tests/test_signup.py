"""Signing up: joining an organisation or registering a new one, and confirming the address."""

from __future__ import annotations

import pytest
from helpers import PASSWORD, link_in, outbox, reload
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    Organisation,
    OrganisationStatus,
    Role,
    Site,
    User,
    UserStatus,
)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def join_form(joined, **overrides):
    data = {
        "name": "Sanne de Boer",
        "email": "Sanne@Example.org",
        "password": PASSWORD,
        "language": "en",
        "organisation_choice": "existing",
        "organisation": str(joined.id),
    }
    data.update(overrides)
    return data


def new_organisation_form(**overrides):
    data = {
        "name": "Youssef Amrani",
        "email": "youssef@zorghuis.example.org",
        "password": PASSWORD,
        "language": "nl",
        "organisation_choice": "new",
        "organisation_name": "Zorghuis Het Anker",
        "organisation_kind": "elderly_care",
        "kvk_number": "4123 4567",
        "site_name": "Hoofdgebouw",
        "street": "Ankerweg 3",
        "postcode": "8011ab",
        "city": "Zwolle",
        "province": "overijssel",
    }
    data.update(overrides)
    return data


def test_joining_an_organisation_creates_a_pending_member_and_emails_a_confirmation_link(
    client, make_org
):
    organisation = make_org()
    response = client.post("/auth/signup", data=join_form(organisation))
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/check-your-inbox"
    assert "sanne@example.org" in client.get("/auth/check-your-inbox").get_data(as_text=True)

    user = db.session.scalar(select(User).where(User.email == "sanne@example.org"))
    assert user.status is UserStatus.PENDING
    assert user.role is Role.MEMBER
    assert user.organisation_id == organisation.id
    assert not user.email_confirmed
    [mail] = outbox("confirm_email")
    assert mail.recipient == "sanne@example.org"
    assert mail.subject == "Confirm your email address"
    assert "/auth/confirm/" in mail.body_html


def test_confirming_the_address_asks_the_organisation_admins_to_approve(
    client, make_org, make_user
):
    organisation = make_org()
    admin = make_user(organisation=organisation, role=Role.ORG_ADMIN)
    client.post("/auth/signup", data=join_form(organisation))
    confirm_path = link_in(outbox("confirm_email")[0], "/auth/confirm/")

    response = client.get(confirm_path, follow_redirects=True)
    assert response.status_code == 200
    assert "your email address is confirmed" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "sanne@example.org"))
    assert user.email_confirmed
    [request_mail] = outbox("member_to_approve")
    assert request_mail.recipient == admin.email
    assert "Sanne de Boer" in request_mail.subject
    assert f"/organisations/{organisation.id}/members" in request_mail.body_text

    # The link works once; a second visit says so and asks nobody again.
    again = client.get(confirm_path, follow_redirects=True)
    assert "confirmed already" in again.get_data(as_text=True)
    assert len(outbox("member_to_approve")) == 1


def test_a_member_waiting_for_approval_can_log_in_but_is_told_why_they_cannot_post(
    client, make_org
):
    organisation = make_org()
    client.post("/auth/signup", data=join_form(organisation))
    client.get(link_in(outbox("confirm_email")[0], "/auth/confirm/"))
    response = client.post("/auth/login", data={"email": "sanne@example.org",
                                                "password": PASSWORD}, follow_redirects=True)
    assert response.status_code == 200
    assert "waiting for approval by an administrator of your organisation" in \
        response.get_data(as_text=True)


def test_registering_a_new_organisation_makes_it_pending_with_its_first_site(
    client, make_user
):
    platform_admin = make_user(role=Role.PLATFORM_ADMIN)
    response = client.post("/auth/signup", data=new_organisation_form())
    assert response.status_code == 302

    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == "Zorghuis Het Anker"))
    assert organisation.status is OrganisationStatus.PENDING
    [site] = organisation.sites
    assert (site.name, site.postcode, site.city) == ("Hoofdgebouw", "8011 AB", "Zwolle")
    assert organisation.kvk_number == "41234567"
    [requester] = organisation.users
    assert requester.role is Role.ORG_ADMIN
    assert requester.language.value == "nl"

    # Platform admins hear of it once the requester has confirmed the address.
    assert outbox("organisation_to_approve") == []
    client.get(link_in(outbox("confirm_email")[0], "/auth/confirm/"))
    [review] = outbox("organisation_to_approve")
    assert review.recipient == platform_admin.email
    assert "Zorghuis Het Anker" in review.subject


def test_signing_up_with_a_registered_address_reveals_nothing_and_tells_the_owner(
    client, make_org, make_user
):
    organisation = make_org()
    owner = make_user("sanne@example.org", organisation=organisation)
    users_before = count(User)

    response = client.post("/auth/signup", data=join_form(organisation,
                                                           email="  SANNE@example.ORG "))
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/check-your-inbox"
    assert count(User) == users_before
    assert outbox("confirm_email") == []
    [warning] = outbox("account_exists")
    assert warning.recipient == owner.email
    assert "/auth/forgot-password" in warning.body_text


def test_a_weak_password_is_refused_and_everything_else_typed_is_kept(client, make_org):
    make_org()
    response = client.post("/auth/signup",
                           data=new_organisation_form(password="password1"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "too common or too easy to guess" in body
    assert 'value="Youssef Amrani"' in body
    assert 'value="Zorghuis Het Anker"' in body
    assert 'value="Ankerweg 3"' in body
    assert "password1" not in body  # passwords are never echoed back
    assert count(Organisation) == 1  # only make_org's
    assert count(Site) == 1
    assert count(User) == 0


def test_a_short_password_is_refused_with_the_minimum_length(client, make_org):
    response = client.post("/auth/signup", data=join_form(make_org(), password="kort"))
    assert response.status_code == 422
    assert "at least 8 characters" in response.get_data(as_text=True)


def test_a_long_passphrase_of_64_characters_is_accepted(client, make_org):
    passphrase = "zeven blauwe kikkers dansen op het dak van de oude molen in maart"[:64]
    assert len(passphrase) == 64
    response = client.post("/auth/signup", data=join_form(make_org(), password=passphrase))
    assert response.status_code == 302


def test_an_unknown_organisation_is_refused_with_a_message(client, make_org):
    make_org()
    response = client.post("/auth/signup", data=join_form(make_org(), organisation="999999"))
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert count(User) == 0


def test_a_pending_organisation_cannot_be_joined(client, make_org):
    pending = make_org(status=OrganisationStatus.PENDING)
    response = client.post("/auth/signup", data=join_form(pending))
    assert response.status_code == 422
    assert count(User) == 0


def test_registering_an_organisation_needs_its_details_and_keeps_the_rest(client):
    response = client.post("/auth/signup", data=new_organisation_form(street=""))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the street and number." in body
    assert 'value="Zorghuis Het Anker"' in body
    assert count(Organisation) == 0 and count(User) == 0


def test_an_invalid_postcode_is_explained(client):
    response = client.post("/auth/signup", data=new_organisation_form(postcode="12345"))
    assert response.status_code == 422
    assert "Enter a Dutch postcode such as 1234 AB." in response.get_data(as_text=True)


def test_an_existing_organisation_name_cannot_be_registered_again(client, make_org):
    make_org(name="Zorghuis Het Anker")
    response = client.post("/auth/signup",
                           data=new_organisation_form(organisation_name="zorghuis het  anker"))
    assert response.status_code == 422
    assert "registered already" in response.get_data(as_text=True)
    assert count(User) == 0


def test_oversize_fields_get_a_message_not_an_error(client, make_org):
    response = client.post("/auth/signup", data=join_form(make_org(), name="x" * 500,
                                                           email="a" * 300 + "@example.org"))
    assert response.status_code == 422
    assert "Field cannot be longer than" in response.get_data(as_text=True)
    assert count(User) == 0


def test_an_invalid_email_address_is_refused(client, make_org):
    response = client.post("/auth/signup", data=join_form(make_org(), email="not-an-address"))
    assert response.status_code == 422
    assert "Enter an email address like name@example.org" in response.get_data(as_text=True)


def test_a_tampered_confirmation_link_is_refused_with_a_way_to_get_a_new_one(client, make_org):
    client.post("/auth/signup", data=join_form(make_org()))
    path = link_in(outbox("confirm_email")[0], "/auth/confirm/")
    response = client.get(path[:-3] + "xyz")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "This link is not valid" in body
    assert "Send a new link" in body


def test_an_expired_confirmation_link_is_refused(make_app, make_org):
    app = make_app(EMAIL_TOKEN_MAX_AGE=-1)  # every token is older than that
    with app.app_context():
        client = app.test_client()
        client.post("/auth/signup", data=join_form(make_org()))
        response = client.get(link_in(outbox("confirm_email")[0], "/auth/confirm/"))
        assert response.status_code == 400
        assert "This link has expired" in response.get_data(as_text=True)
        assert not db.session.scalar(select(User)).email_confirmed


def test_login_before_confirming_is_refused_with_a_link_to_resend(client, make_org):
    client.post("/auth/signup", data=join_form(make_org()))
    response = client.post("/auth/login", data={"email": "sanne@example.org",
                                                "password": PASSWORD})
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Confirm your email address first" in body
    assert "/auth/confirm?email=" in body

    resend = client.post("/auth/confirm", data={"email": "sanne@example.org"})
    assert resend.status_code == 302
    assert len(outbox("confirm_email")) == 2


def test_resending_to_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post("/auth/confirm", data={"email": "nobody@example.org"},
                           follow_redirects=True)
    assert "If that address has an account waiting for confirmation" in \
        response.get_data(as_text=True)
    assert outbox() == []


def test_a_logged_in_user_visiting_signup_goes_home(make_user, login_as):
    client = login_as(make_user())
    assert client.get("/auth/signup").headers["Location"] == "/"


def test_the_signup_form_lists_only_active_organisations(client, make_org):
    make_org(name="Actief Ziekenhuis")
    make_org(name="Wachtend Zorghuis", status=OrganisationStatus.PENDING)
    body = client.get("/auth/signup").get_data(as_text=True)
    assert "Actief Ziekenhuis" in body
    assert "Wachtend Zorghuis" not in body


def test_the_confirmation_link_confirms_only_the_address_it_was_sent_to(client, make_org):
    client.post("/auth/signup", data=join_form(make_org()))
    path = link_in(outbox("confirm_email")[0], "/auth/confirm/")
    user = db.session.scalar(select(User))
    user.email = "changed@example.org"
    db.session.commit()
    assert client.get(path).status_code == 400
    assert not reload(user).email_confirmed


@pytest.mark.parametrize("kvk_number", ["", "1234567", "123456789", "abcdefgh"])
def test_a_new_organisation_needs_a_kvk_number_of_eight_digits(client, kvk_number):
    response = client.post("/auth/signup", data=new_organisation_form(kvk_number=kvk_number))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the 8 digits of the KvK number." in body
    assert 'value="Zorghuis Het Anker"' in body
    assert count(Organisation) == 0 and count(User) == 0


def test_the_approving_admin_sees_the_kvk_number(client, make_user, login_as):
    client.post("/auth/signup", data=new_organisation_form())
    organisation = db.session.scalar(select(Organisation))
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    assert "41234567" in admin.get(f"/admin/organisations/{organisation.id}").get_data(
        as_text=True)
    assert "41234567" in admin.get("/admin/organisations?status=pending").get_data(as_text=True)
