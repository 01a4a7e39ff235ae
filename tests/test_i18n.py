"""Dutch and English: the user's setting, else the footer switch, else the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from helpers import outbox

from marketplace.models import Language

TRANSLATIONS = Path(__file__).resolve().parents[1] / "marketplace" / "translations"


def test_every_dutch_message_is_translated_with_the_same_placeholders():
    import re

    with (TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file)
    placeholder = re.compile(r"%\(\w+\)[sd]")
    untranslated = [message.id for message in catalog
                    if message.id and not all(_forms(message.string))]
    assert untranslated == []
    for message in catalog:
        if not message.id:
            continue
        # Every form is given the same values: each may name only those (a singular may leave
        # out the count, "De foto"), and the plural names all that the English plural names.
        expected = sorted(placeholder.findall(_forms(message.id)[-1]))
        forms = _forms(message.string)
        for translated in forms:
            assert set(placeholder.findall(translated)) <= set(expected), message.id
        assert sorted(placeholder.findall(forms[-1])) == expected, message.id


def _forms(text) -> tuple[str, ...]:
    """Singular and plural entries alike: all their forms."""
    return tuple(text) if isinstance(text, tuple | list) else (text,)


@pytest.fixture
def browser(app):
    """A client whose browser states no language preference."""
    client = app.test_client()
    client.environ_base.pop("HTTP_ACCEPT_LANGUAGE", None)
    return client


def test_pages_speak_dutch_by_default(browser):
    body = browser.get("/auth/login").get_data(as_text=True)
    assert 'lang="nl"' in body
    assert "Inloggen" in body


@pytest.mark.parametrize("accept_language, expected", [
    ("en-GB,en;q=0.9", "en"),
    ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
    ("de-DE,de;q=0.9,en;q=0.5", "en"),
    ("fr-FR", "nl"),
])
def test_the_browser_language_is_followed_when_it_asks_for_english(browser, accept_language,
                                                                    expected):
    body = browser.get("/", headers={"Accept-Language": accept_language}).get_data(as_text=True)
    assert f'lang="{expected}"' in body


def test_the_footer_switch_changes_the_language_and_returns_to_the_page(browser):
    response = browser.post("/language", data={"language": "en", "next": "/auth/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    body = browser.get("/auth/login").get_data(as_text=True)
    assert 'lang="en"' in body
    assert "Forgot your password?" in body


def test_the_footer_switch_never_redirects_off_site(browser):
    response = browser.post("/language", data={"language": "en",
                                               "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_an_unknown_language_in_the_switch_changes_nothing(browser):
    browser.post("/language", data={"language": "xx", "next": "/"})
    assert 'lang="nl"' in browser.get("/").get_data(as_text=True)


def test_a_logged_in_user_sees_their_own_language_and_the_switch_updates_it(make_user,
                                                                             login_as):
    from helpers import reload

    user = make_user(language=Language.NL)
    client = login_as(user)
    assert 'lang="nl"' in client.get("/").get_data(as_text=True)
    client.post("/language", data={"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    assert reload(user).language is Language.EN


def test_emails_are_written_in_the_recipients_language(app, make_user):
    from marketplace.extensions import db
    from marketplace.services.mail import queue_email

    dutch = make_user(language=Language.NL)
    english = make_user(language=Language.EN)
    for user in (dutch, english):
        queue_email("reset_password", user, reset_url="http://localhost/x", hours=2)
    db.session.commit()
    assert outbox(to=dutch.email)[0].subject == "Stel je wachtwoord opnieuw in"
    assert outbox(to=english.email)[0].subject == "Reset your password"
    assert 'lang="nl"' in outbox(to=dutch.email)[0].body_html
    assert "Hallo" in outbox(to=dutch.email)[0].body_text


def test_signup_in_dutch_shows_dutch_errors(browser, make_org):
    response = browser.post("/auth/signup", data={
        "name": "Sanne", "email": "sanne@example.org", "password": "kort",
        "language": "nl", "organisation_choice": "existing",
        "organisation": str(make_org().id),
    })
    assert response.status_code == 422
    assert "tekens" in response.get_data(as_text=True)


def test_a_templates_texts_are_translated_and_escape_their_values_in_html_only(app):
    """Templates' `_()` (i18n._template_gettext): the page's language, the values put in
    escaped where the template escapes (HTML) and as given where it does not (text mail), and
    "%%" written as "%" as in every Jinja newstyle text."""
    name = "Jansen & <Zn>"
    source = '{{ _("Approve %(name)s", name=name) }}|{{ _("100%% free") }}'
    with app.test_request_context("/", headers={"Accept-Language": "nl"}):
        html = app.jinja_env.from_string(source).render(name=name)
        text = app.jinja_env.from_string(
            "{% autoescape false %}" + source + "{% endautoescape %}").render(name=name)
    assert html == "Jansen &amp; &lt;Zn&gt; goedkeuren|100% free"
    assert text == "Jansen & <Zn> goedkeuren|100% free"
