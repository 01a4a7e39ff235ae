"""Whose language a page speaks: a member's own saved language, whatever the browser asks for
(also in the greeting after logging in and the message after logging out); on a page a signed
email link opens, its recipient's; and option lists in the language of the request, though
their forms are built at import; and what a flash names (a category) in the reader's
language."""

from __future__ import annotations

import pytest
from helpers import AuthActions, link_in, outbox
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Category, Language, Role
from marketplace.services import accounts
from marketplace.services.mail import queue_email
from marketplace.services.tokens import TokenPurpose, make_token


@pytest.fixture
def english_browser(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    return client


@pytest.fixture
def dutch_browser(app):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"
    return client


def page(client, path: str) -> str:
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_dutch_member_logging_in_from_an_english_browser_is_greeted_in_dutch(
        english_browser, make_user):
    member = make_user(language=Language.NL, name="Sanne")
    response = AuthActions(english_browser).login(member)
    assert response.status_code == 302
    body = page(english_browser, response.headers["Location"])
    assert '<html lang="nl"' in body
    assert "Welkom, Sanne." in body


def test_a_dutch_member_is_told_in_dutch_that_they_logged_out(english_browser, make_user):
    member = make_user(language=Language.NL)
    AuthActions(english_browser).login(member)
    english_browser.get("/")  # the greeting is shown
    response = AuthActions(english_browser).logout()
    body = page(english_browser, response.headers["Location"])
    assert "Je bent uitgelogd." in body
    assert '<html lang="nl"' in body  # the browser keeps the language of its last member


@pytest.mark.parametrize("recipient, browser, expected", [
    (Language.NL, "english_browser", "Meteen, één e-mail per gebeurtenis"),
    (Language.EN, "dutch_browser", "Right away, one email per event"),
])
def test_the_preferences_page_of_an_email_link_speaks_the_recipients_language(
        app, request, make_user, recipient, browser, expected):
    user = make_user(language=recipient)
    queue_email("reset_password", user, reset_url="http://localhost/x", hours=2)
    db.session.commit()
    path = link_in(outbox(to=user.email)[0], "/account/email-preferences/")
    client = request.getfixturevalue(browser)

    body = page(client, path)
    assert f'<html lang="{recipient.value}"' in body
    assert expected in body
    response = client.post(path, data={"notifications": "daily"})
    assert response.status_code == 302
    saved = page(client, response.headers["Location"])
    assert f'<html lang="{recipient.value}"' in saved
    if recipient is Language.NL:
        assert "Je e-mailvoorkeuren zijn opgeslagen." in saved


def test_a_password_reset_link_speaks_the_recipients_language(english_browser, make_user):
    user = make_user(language=Language.NL)
    accounts.request_password_reset(user.email)
    path = link_in(outbox("reset_password", to=user.email)[-1], "/auth/reset/")
    body = page(english_browser, path)
    assert '<html lang="nl"' in body
    assert "Kies een nieuw wachtwoord" in body


def test_a_confirmation_link_speaks_the_recipients_language_on_the_login_page_it_opens(
        english_browser, make_user):
    user = make_user(language=Language.NL, confirmed=False)
    token = make_token(TokenPurpose.CONFIRM_EMAIL, {"u": user.id, "e": user.email})
    body = page(english_browser, f"/auth/confirm/{token}")
    assert '<html lang="nl"' in body
    assert "Bedankt, je e-mailadres is bevestigd." in body


# --- option lists: built at import, read in the request's language ---------------------------

def test_the_posting_form_offers_conditions_and_units_in_dutch(make_user, login_as):
    client = login_as(make_user(language=Language.NL))
    body = page(client, "/listings/new")
    assert '<option value="as_new">Zo goed als nieuw</option>' in body
    assert '<option value="piece">stuks</option>' in body
    assert ">As new<" not in body and ">pieces<" not in body


def test_sign_up_offers_the_kinds_of_organisation_in_dutch(dutch_browser):
    body = page(dutch_browser, "/auth/signup")
    assert '<option value="hospital">Ziekenhuis</option>' in body
    assert ">Hospital<" not in body


def test_the_profile_offers_the_email_frequency_in_dutch(make_user, login_as):
    client = login_as(make_user(language=Language.NL))
    body = page(client, "/account/")
    assert "Meteen, één e-mail per gebeurtenis" in body
    assert "Right away, one email per event" not in body


def test_the_same_option_list_follows_each_request(make_user, login_as, english_browser):
    """One form class, two requests in two languages: each gets its own (no language kept
    from the first request that built it)."""
    dutch = login_as(make_user(language=Language.NL))
    assert "Zo goed als nieuw" in page(dutch, "/listings/new")
    english = login_as(make_user(language=Language.EN))
    assert '<option value="as_new">As new</option>' in page(english, "/listings/new")
    assert "Zo goed als nieuw" in page(dutch, "/listings/new")


def test_a_dutch_admin_is_told_the_dutch_name_of_the_category_given_a_factor(make_user,
                                                                             login_as):
    ovens = Category(slug="ovens", name_nl="Bakovens", name_en="Baking ovens",
                     parent=db.session.scalar(select(Category).where(Category.slug == "kitchen")))
    db.session.add(ovens)
    db.session.commit()
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN, language=Language.NL))
    response = admin.post("/admin/impact/factors/new", data={
        "new-category": str(ovens.id), "new-value": "4.5", "new-source": "LCA"})
    assert response.status_code == 302
    body = page(admin, response.headers["Location"])
    assert "Bakovens" in body
    assert "Baking ovens" not in body
