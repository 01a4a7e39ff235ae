"""A user's own profile, password and email preferences."""

from __future__ import annotations

from helpers import PASSWORD, AuthActions, link_in, outbox, reload

from marketplace.models import Language, NotificationPreference

NEW_PASSWORD = "herfst-bladeren-wind-31"


def test_the_profile_is_saved(make_user, login_as):
    user = make_user()
    client = login_as(user)
    response = client.post("/account/", data={
        "name": "Iris van Dijk", "phone": "+31 6 1234 5678", "language": "nl",
        "notifications": "daily",
    }, follow_redirects=True)
    assert response.status_code == 200
    user = reload(user)
    assert (user.name, user.phone) == ("Iris van Dijk", "+31 6 1234 5678")
    assert user.language is Language.NL
    assert user.notifications is NotificationPreference.DAILY
    # The page now speaks the user's language.
    assert 'lang="nl"' in response.get_data(as_text=True)


def test_a_bad_phone_number_is_explained_and_the_rest_kept(make_user, login_as):
    user = make_user(name="Iris")
    client = login_as(user)
    response = client.post("/account/", data={
        "name": "Iris van Dijk", "phone": "call me maybe", "language": "en",
        "notifications": "instant",
    })
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Use digits, spaces, +, - and brackets only." in body
    assert 'value="Iris van Dijk"' in body
    assert reload(user).name == "Iris"


def test_an_unknown_language_is_refused(make_user, login_as):
    client = login_as(make_user())
    response = client.post("/account/", data={"name": "Iris", "language": "fr",
                                              "notifications": "instant"})
    assert response.status_code == 422


def test_changing_the_password_keeps_this_session_and_ends_the_others(make_user, login_as):
    user = make_user()
    client, elsewhere = login_as(user), login_as(user)
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 200
    assert elsewhere.get("/account/").status_code == 302
    assert outbox("password_changed", to=user.email)


def test_changing_the_password_needs_the_current_one(make_user, login_as, app):
    user = make_user()
    client = login_as(user)
    response = client.post("/account/password", data={"current_password": "not-it-at-all",
                                                      "new_password": NEW_PASSWORD})
    assert response.status_code == 422
    assert "Your current password is not right." in response.get_data(as_text=True)
    assert AuthActions(app.test_client()).login(user, PASSWORD).status_code == 302


def test_a_weak_new_password_is_refused_on_the_new_password_field(make_user, login_as):
    client = login_as(make_user())
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                      "new_password": "qwertyuiop"})
    assert response.status_code == 422
    assert 'id="new_password-error"' in response.get_data(as_text=True)


def test_email_preferences_open_from_an_email_without_logging_in(client, make_user):
    user = make_user()
    client.post("/auth/forgot-password", data={"email": user.email})
    path = link_in(outbox("reset_password")[0], "/account/email-preferences/")
    page = client.get(path)
    assert page.status_code == 200
    assert user.email in page.get_data(as_text=True)
    client.post(path, data={"notifications": "off"})
    assert reload(user).notifications is NotificationPreference.OFF


def test_a_tampered_preferences_link_is_refused(client):
    assert client.get("/account/email-preferences/not-a-token").status_code == 400


def test_each_kind_of_optional_email_can_be_switched_off(make_user, login_as, make_listing):
    from marketplace.extensions import db
    from marketplace.services.mail import queue_email

    user = make_user()
    client = login_as(user)
    response = client.post("/account/", data={
        "name": user.name, "language": "en", "notifications": "instant",
        "email_kinds": ["claims", "matches", "listings", "approvals"],  # not "messages"
    })
    assert response.status_code == 302
    assert reload(user).muted_kinds == {"messages"}
    page = client.get("/account/").get_data(as_text=True)
    assert 'type="checkbox" value="messages"' in page
    assert 'checked id="email_kinds-0" name="email_kinds" type="checkbox" value="claims"' in page
    listing = make_listing()
    assert queue_email("claim_message", user, title="x", claim=None, listing=listing) is None
    assert queue_email("reset_password", user, reset_url="http://x", hours=2) is not None
    db.session.commit()
    assert [mail.template for mail in outbox(to=user.email)] == ["reset_password"]


def test_the_preferences_link_switches_kinds_off_without_logging_in(client, make_user):
    user = make_user()
    client.post("/auth/forgot-password", data={"email": user.email})
    path = link_in(outbox("reset_password")[0], "/account/email-preferences/")
    client.post(path, data={"notifications": "instant", "email_kinds": ["claims"]})
    assert reload(user).muted_kinds == {"messages", "matches", "listings", "approvals"}


def test_a_nul_character_in_what_is_typed_is_dropped_not_an_error(make_user, login_as):
    # PostgreSQL refuses NUL in text; nobody types one, but a broken client or a probe might.
    user = make_user()
    response = login_as(user).post("/account/?x=%00", data={
        "name": "Iris\x00 van Dijk", "phone": "", "language": "en\x00", "notifications": "daily",
    })
    assert response.status_code == 302
    assert reload(user).name == "Iris van Dijk"
