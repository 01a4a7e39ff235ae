"""Every page each role can open, and every email, speaks one language: a Dutch page shows no
English text of the message catalogue (option lists, buttons and attributes included) and an
English page no Dutch text. Driven by the catalogue and the URL map, not by a list of strings:
tests/language_leaks.py says which phrases count and what text is visible.

What members typed (names, titles, messages) is theirs, not the page's language: every string
the database holds, but for codes (enums, slugs, audit actions) and reference rows kept in both
languages (`*_nl`, `*_en`), is taken out of a page's text before it is read.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterable, Iterator

import pytest
from flask_wtf import FlaskForm
from language_leaks import leaks, plain_text, visible_text
from security_world import (
    ROLES,
    Answer,
    World,
    build_world,
    client_for,
    fetch,
    rules_with,
    url_for_rule,
    variants,
)
from sqlalchemy import Enum, String, select
from test_mail import ALL_TEMPLATES, context_for
from wtforms import SelectChoice

import marketplace
from marketplace.extensions import db
from marketplace.i18n import LANGUAGE_COOKIE
from marketplace.models import Language, OutboxMessage
from marketplace.services.mail import queue_email

LANGUAGES = ("nl", "en")


@pytest.fixture
def world(app, make_org, make_user, make_listing) -> World:
    return build_world(make_org, make_user, make_listing)


# Codes the application writes (slugs, audit actions, tokens) are not what anyone typed: a page
# that shows one shows a word of the interface, and must say it in the page's language.
CODE = re.compile(r"[a-z0-9_.:/-]+")


def typed_texts(extra: Iterable[str] = (), leaving_out: str = "") -> re.Pattern[str] | None:
    """Every string value in the database (and in `extra`) that is data rather than a word of
    the interface, as one pattern of whole words."""
    texts = {" ".join(text.split()) for text in extra if len(text) >= 3}
    for table in db.metadata.sorted_tables:
        if table.name == leaving_out:
            continue
        columns = [column for column in table.columns
                   if isinstance(column.type, String) and not isinstance(column.type, Enum)
                   and not column.name.endswith(("_nl", "_en"))]
        if columns:
            for row in db.session.execute(select(*columns)):
                texts.update(" ".join(value.split()) for value in row
                             if isinstance(value, str) and len(value) >= 3
                             and not CODE.fullmatch(value))
    if not texts:
        return None
    alternatives = "|".join(re.escape(text) for text in sorted(texts, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def reference_pairs() -> tuple[tuple[str, str], ...]:
    """(English, Dutch) of every row that keeps a text in both languages (`x_en`, `x_nl`)."""
    pairs: set[tuple[str, str]] = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_en") and f"{column.name[:-3]}_nl" in table.columns:
                dutch = table.columns[f"{column.name[:-3]}_nl"]
                pairs.update((english, nl) for english, nl in db.session.execute(
                    select(column, dutch)) if english and nl)
    return tuple(sorted(pairs))


def without(typed: re.Pattern[str] | None, chunks: list[str]) -> list[str]:
    return chunks if typed is None else [typed.sub(" ¦ ", chunk) for chunk in chunks]


def speak(client, world: World, language: str) -> None:
    """The browser asks for `language`, and so does every member's saved setting (the pages a
    signed email link opens speak its recipient's)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    client.delete_cookie(LANGUAGE_COOKIE)
    if language != LANGUAGES[0]:
        with client.session_transaction() as session:
            session.pop("_flashes", None)  # said in the language before, by redirects not followed
    for user in world.users.values():
        user.language = Language(language)
    db.session.commit()


def describe(found: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"{where}: {phrase!r} in {text[:120]!r}" for where, phrase, text in found)


# Not posted in the walk of forms: they end the session the walk uses.
ENDING_THE_SESSION = frozenset({"auth.logout", "account.delete"})


def answers(app, client, world: World, method: str) -> Iterator[tuple[str, Answer]]:
    """(URL, answer) for every route of `method` in the URL map, with organisation A's ids; an
    empty form is posted, and a redirect followed once (the page that shows its message)."""
    for rule in rules_with(app, method):
        if method == "POST" and rule.endpoint in ENDING_THE_SESSION:
            continue
        for variant in variants(rule):
            url = url_for_rule(rule, world, variant)
            answer = fetch(client, method, url, **({"data": {}} if method == "POST" else {}))
            location = answer.headers.get("Location", "")
            if method == "POST" and answer.status in (302, 303) and location.startswith("/"):
                answer = fetch(client, "GET", location)
            # Refusals too: an error page speaks the language of who meets it.
            if answer.status not in (301, 302, 303) and answer.headers.get(
                    "Content-Type", "").startswith("text/html"):
                yield url, answer


def walk_in_both_languages(app, world: World, role: str, method: str) -> None:
    # Members speak the first language; their browser asks for English when they log in.
    speak(app.test_client(), world, LANGUAGES[0])
    client = client_for(app, role, world)
    typed, reference = typed_texts(), reference_pairs()
    found: list[tuple[str, str, str]] = []
    pages = 0
    for language in LANGUAGES:
        speak(client, world, language)
        for url, answer in answers(app, client, world, method):
            where = f"{language} {method} {url}"
            if f'<html lang="{language}"' not in answer.body:
                found.append((where, "<html lang>", answer.body[:120]))
            chunks = without(typed, visible_text(answer.body, language))
            found += [(where, phrase, text)
                      for phrase, text in leaks(chunks, language, reference)]
            pages += 1
    assert pages >= 20
    assert not found, "text of the other language:\n" + describe(found)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_speaks_one_language(app, world, role):
    walk_in_both_languages(app, world, role, "GET")


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_to_a_form_speaks_one_language(app, world, role):
    """Form errors, and the messages (flashes) on the page an action redirects to."""
    walk_in_both_languages(app, world, role, "POST")


def test_every_email_speaks_the_recipients_language(app, make_user, make_listing):
    messages, data = [], set()
    for template in ALL_TEMPLATES:
        for language in LANGUAGES:
            recipient = make_user(language=Language(language))
            context = context_for(template, make_user, make_listing)
            data.update(value for value in context.values() if isinstance(value, str))
            messages.append((language, queue_email(template, recipient, **context)))
    db.session.commit()
    # What the mail itself says is not data here (its subject is stored in the outbox).
    typed = typed_texts(extra=data, leaving_out=OutboxMessage.__tablename__)
    reference = reference_pairs()
    found: list[tuple[str, str, str]] = []
    for language, message in messages:
        for part, chunks in (("subject", [message.subject]),
                             ("text", plain_text(message.body_text)),
                             ("html", visible_text(message.body_html, language))):
            found += [(f"{language} {message.template} ({part})", phrase, text)
                      for phrase, text in leaks(without(typed, chunks), language, reference)]
    assert len(messages) == 2 * len(ALL_TEMPLATES) and all(message for _, message in messages)
    assert not found, "text of the other language:\n" + describe(found)


def all_form_classes() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        importlib.import_module(module.name)
    found, todo = [], [FlaskForm]
    while todo:
        for subclass in todo.pop().__subclasses__():
            found.append(subclass)
            todo.append(subclass)
    return sorted(found, key=lambda form: form.__qualname__)


def required_arguments(form_class: type[FlaskForm]) -> dict[str, object]:
    """An id for each argument a form needs (ResolveForm: the listing it is about)."""
    parameters = inspect.signature(form_class.__init__).parameters.values()
    return {parameter.name: 1 for parameter in parameters
            if parameter.default is parameter.empty and parameter.name != "self"
            and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_option_list_speaks_the_language_of_the_request(app, language):
    """The option lists forms build when their class is defined (at import, before any request)
    are read in the request that shows them: every form of the application, made in a request
    in `language`, offers its options in that language."""
    found: list[tuple[str, str, str]] = []
    forms = all_form_classes()
    with app.test_request_context(headers={"Accept-Language": language}):
        for form_class in forms:
            form = form_class(**required_arguments(form_class), meta={"csrf": False})
            for field in form:
                choices = getattr(field, "choices", None) or []
                labels = [str(choice.label if isinstance(choice, SelectChoice) else choice[1])
                          for choice in choices]
                found += [(f"{form_class.__qualname__}.{field.name}", phrase, text)
                          for phrase, text in leaks(labels, language)]
    assert len(forms) >= 20
    assert not found, "options in the other language:\n" + describe(found)
