"""Platform admins keep groups of synonyms (handschoenen = gloves), seeded for the demo
categories; `alternatives` gives a word's synonyms, by the word itself or by its stems."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, func, select
from test_migrations import empty_database_url  # noqa: F401  (a fixture)

from marketplace.extensions import db
from marketplace.models import AuditEvent, Language, Role, SynonymGroup, SynonymWord
from marketplace.services import synonyms
from marketplace.services.errors import DomainError, PermissionDenied


def group_of(word: str) -> SynonymGroup:
    found = db.session.scalar(select(SynonymGroup).join(SynonymWord)
                              .where(SynonymWord.word == word))
    assert found is not None, word
    return found


def audit_log() -> list[tuple[str, str]]:
    return [tuple(row) for row in db.session.execute(
        select(AuditEvent.action, AuditEvent.target_label)
        .where(AuditEvent.target_type == "synonymgroup").order_by(AuditEvent.id))]


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.PLATFORM_ADMIN)


# --- alternatives ----------------------------------------------------------------------------

@pytest.mark.parametrize(("word", "expected"), [
    ("handschoenen", {"handschoen", "gloves", "glove"}),  # Dutch to English
    ("gloves", {"handschoenen", "handschoen", "glove"}),  # English to Dutch
    ("Rolstoel", {"rolstoelen", "wheelchair", "wheelchairs"}),  # folded: capitals ignored
    ("rollator", {"rollators", "walker", "walkers", "looprek"}),
    ("tillift", {"tilliften", "patientenlift", "hoist", "patient hoist"}),
])
def test_the_seeded_groups_give_a_words_synonyms_both_ways(app, word, expected):
    assert set(synonyms.alternatives(word)) == expected


def test_a_word_finds_its_group_by_its_stem(app, admin):
    synonyms.add_group(admin, "douchekruk, shower stools")
    assert synonyms.alternatives("shower stool") == ["douchekruk", "shower stools"]  # English
    assert synonyms.alternatives("douchekrukken") == ["douchekruk", "shower stools"]  # Dutch
    assert synonyms.alternatives("wheelchairs ") == ["rolstoel", "rolstoelen", "wheelchair"]
    assert "gloves" in synonyms.alternatives("Handschoentje")  # Dutch stem: handschoen
    assert synonyms.alternatives("fietsbel") == []


def test_a_word_without_synonyms_has_none_and_costs_one_query(app):
    statements: list[str] = []
    record = lambda _c, _cur, statement, *_a: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert synonyms.alternatives("fietsbel") == []
        assert synonyms.alternatives("gloves")
        assert synonyms.alternatives("") == []
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 2


# --- the service -----------------------------------------------------------------------------

def test_adding_editing_and_deleting_a_group_is_logged_in_words(app, admin):
    group = synonyms.add_group(admin, "Verbandschaar, bandage scissors;\nverbandscharen")
    assert group.text == "verbandschaar, bandage scissors, verbandscharen"
    assert synonyms.alternatives("verbandschaar") == ["bandage scissors", "verbandscharen"]
    synonyms.update_group(admin, group, "verbandschaar, bandage scissors, scissors")
    assert synonyms.alternatives("scissors") == ["verbandschaar", "bandage scissors"]
    assert synonyms.alternatives("verbandscharen") == ["verbandschaar", "bandage scissors",
                                                       "scissors"]  # by its stem still
    synonyms.delete_group(admin, group)
    assert synonyms.alternatives("verbandschaar") == []
    assert audit_log() == [
        ("synonym_group.add", "verbandschaar, bandage scissors, verbandscharen"),
        ("synonym_group.update", "verbandschaar, bandage scissors, verbandscharen → "
                                 "verbandschaar, bandage scissors, scissors"),
        ("synonym_group.delete", "verbandschaar, bandage scissors, scissors"),
    ]


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Enter at least two words"),
    (" , ; ", "Enter at least two words"),
    ("handschoen", "Enter at least two words"),
    ("a" * 61 + ", b", "is too long"),
    ("bakje, <script>", "Use letters, digits, spaces and hyphens only"),
    ("kast, Kast", "“kast” is in the list twice."),
    ("vuilniszak, gloves", "“gloves” is in another group already"),
    (", ".join(f"woord{number}" for number in range(21)), "at most 20 words"),
])
def test_a_bad_group_is_refused_with_words_and_changes_nothing(app, admin, typed, message):
    before = db.session.scalar(select(func.count(SynonymWord.id)))
    with pytest.raises(DomainError, match=message) as refusal:
        synonyms.add_group(admin, typed)
    assert refusal.value.field == "words"
    assert db.session.scalar(select(func.count(SynonymWord.id))) == before
    assert audit_log() == []


def test_an_edit_may_keep_its_own_words_but_not_take_another_groups(app, admin):
    gloves = group_of("gloves")
    synonyms.update_group(admin, gloves, "gloves, handschoenen, werkhandschoenen")
    assert group_of("werkhandschoenen") == gloves
    assert db.session.scalar(select(func.count()).select_from(SynonymWord)
                             .where(SynonymWord.word == "handschoen")) == 0
    with pytest.raises(DomainError, match="“rolstoel” is in another group already"):
        synonyms.update_group(admin, gloves, "gloves, rolstoel")
    assert group_of("gloves").text == "gloves, handschoenen, werkhandschoenen"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_only_platform_admins_change_synonyms(app, make_user, role):
    user = make_user(role=role)
    with pytest.raises(PermissionDenied):
        synonyms.add_group(user, "bakje, tray")
    with pytest.raises(PermissionDenied):
        synonyms.delete_group(user, group_of("gloves"))
    assert group_of("gloves") is not None


# --- the pages -------------------------------------------------------------------------------

def test_an_admin_adds_edits_and_deletes_a_group_through_the_pages(app, admin, login_as):
    client = login_as(admin)
    page = client.get("/admin/synonyms").get_data(as_text=True)
    assert "handschoenen, handschoen, gloves, glove" in page
    answer = client.post("/admin/synonyms", data={
        "words": "Fietsbel, bicycle bell"})
    assert answer.status_code == 302
    group = group_of("fietsbel")
    page = client.get("/admin/synonyms").get_data(as_text=True)
    assert "The synonyms have been added." in page
    edit = client.get(f"/admin/synonyms/{group.id}/edit").get_data(as_text=True)
    assert "fietsbel, bicycle bell</textarea>" in edit
    answer = client.post(f"/admin/synonyms/{group.id}/edit", data={
        "words": "fietsbel, bell"})
    assert answer.status_code == 302
    assert synonyms.alternatives("bell") == ["fietsbel"]
    answer = client.post(f"/admin/synonyms/{group.id}/delete",
                         data={})
    assert answer.status_code == 302
    assert synonyms.alternatives("bell") == []
    assert [action for action, _label in audit_log()] == [
        "synonym_group.add", "synonym_group.update", "synonym_group.delete"]
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "Synonyms added" in log and "Synonyms changed" in log and "Synonyms deleted" in log


@pytest.mark.parametrize(("language", "typed", "message"), [
    (Language.EN, "rolstoel", "Enter at least two words that mean the same"),
    (Language.NL, "rolstoel", "Vul minstens twee woorden in die hetzelfde betekenen"),
    (Language.EN, "bakje, bakjes, Bakje", "“bakje” is in the list twice."),
    (Language.NL, "bakje, bakjes, Bakje", "“bakje” staat twee keer in de lijst."),
    (Language.NL, "fietsbel, wheelchair", "“wheelchair” staat al in een andere groep"),
])
def test_a_mistake_is_shown_in_the_admins_language_and_keeps_what_was_typed(
        app, make_user, login_as, language, typed, message):
    client = login_as(make_user(role=Role.PLATFORM_ADMIN, language=language))
    answer = client.post("/admin/synonyms", data={"words": typed})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert message in html
    assert f"{typed}</textarea>" in html
    answer = client.post(f"/admin/synonyms/{group_of('gloves').id}/edit", data={"words": typed})
    assert answer.status_code == 422 and f"{typed}</textarea>" in answer.get_data(as_text=True)
    assert group_of("gloves").text == "handschoenen, handschoen, gloves, glove"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_members_and_organisation_admins_get_403(app, make_user, login_as, role):
    client = login_as(make_user(role=role))
    group = group_of("gloves")
    assert client.get("/admin/synonyms").status_code == 403
    assert client.get(f"/admin/synonyms/{group.id}/edit").status_code == 403
    for url in ("/admin/synonyms", f"/admin/synonyms/{group.id}/edit",
                f"/admin/synonyms/{group.id}/delete"):
        assert client.post(url, data={"words": "bakje, tray"}).status_code == 403
    assert group_of("gloves").text == "handschoenen, handschoen, gloves, glove"
    assert audit_log() == []


def test_an_unknown_group_is_not_found(app, admin, login_as):
    client = login_as(admin)
    assert client.get("/admin/synonyms/99999/edit").status_code == 404
    assert client.get(f"/admin/synonyms/{2**40}/edit").status_code == 404


# --- the seed --------------------------------------------------------------------------------

def seeded_words() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(SynonymWord.word, SynonymWord.dutch_stem, SynonymWord.english_stem,
               SynonymWord.position).order_by(SynonymWord.word))]


def test_the_migration_seeds_the_groups_tests_start_with(
        make_app, empty_database_url):  # noqa: F811  (the fixture imported above)
    """Migration 0018 copies the groups and the stemming (it may not import the application):
    a real database starts with what the tests start with."""
    expected_app = make_app()
    with expected_app.app_context():
        expected = seeded_words()
        groups = db.session.scalar(select(func.count(SynonymGroup.id)))
    migrated = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with migrated.app_context():
        upgrade()
        assert seeded_words() == expected
        assert db.session.scalar(select(func.count(SynonymGroup.id))) == groups
        assert set(synonyms.alternatives("handschoenen")) == {"handschoen", "gloves", "glove"}
        db.session.remove()
        db.engine.dispose()
