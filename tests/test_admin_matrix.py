"""Every administration URL the application has, found in its URL map (so a new route cannot
be forgotten), walked by every role: the permission matrix of platform and organisation admins."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.routing import AnyConverter, Rule

from marketplace.extensions import db
from marketplace.models import (
    Category,
    Claim,
    ImpactFactor,
    ListingStatus,
    ModerationReason,
    OrganisationStatus,
    OutboxMessage,
    OutboxStatus,
    Report,
    ReportReason,
    Role,
    SafetyNotice,
    SafetyNoticeRecipient,
    SynonymGroup,
    User,
    UserStatus,
    WatchWord,
)

FORBIDDEN_PAGE = "You cannot open this page"


@dataclass
class World:
    users: dict[str, User | None]
    ids: dict[str, int]


@pytest.fixture
def world(app, make_org, make_user, make_listing) -> World:
    org_a = make_org("Zorginstelling A")
    org_b = make_org("Zorginstelling B")
    users = {
        "anonymous": None,
        "member": make_user(organisation=org_a),
        "org_admin": make_user(organisation=org_a, role=Role.ORG_ADMIN),
        "org_admin_of_another_organisation": make_user(organisation=org_b, role=Role.ORG_ADMIN),
        "platform_admin": make_user(role=Role.PLATFORM_ADMIN),
    }
    pending_user = make_user(organisation=org_a, status=UserStatus.PENDING)
    listing = make_listing(organisation=org_a, status=ListingStatus.PENDING_REVIEW)
    published = make_listing(organisation=org_a)
    claim = Claim(listing=published, claimant=users["org_admin_of_another_organisation"],
                  claimant_organisation_id=org_b.id, quantity=1)
    report = Report(listing=published, reporter=users["org_admin_of_another_organisation"],
                    reason=ReportReason.OTHER, text="Looks odd")
    failed = OutboxMessage(template="confirm_email", recipient="x@example.org", subject="x",
                           body_text="x", body_html="x", status=OutboxStatus.FAILED)
    db.session.add_all([claim, report, failed])
    make_org("Zorginstelling Wacht", status=OrganisationStatus.PENDING)
    db.session.commit()
    category = db.session.scalar(select(Category).where(Category.slug == "furniture"))
    ids = {
        "organisation_id": org_a.id,
        "user_id": pending_user.id,
        "listing_id": listing.id,
        "site_id": org_a.sites[0].id,
        "claim_id": claim.id,
        "report_id": report.id,
        "message_id": failed.id,
        "category_id": category.id,
        "reason_id": db.session.scalar(select(ModerationReason.id).limit(1)),
        "word_id": db.session.scalar(select(WatchWord.id).limit(1)),
        "watch_word_id": db.session.scalar(select(WatchWord.id).limit(1)),
        "synonym_id": db.session.scalar(select(SynonymGroup.id).limit(1)),
        "factor_id": db.session.scalar(select(ImpactFactor.id).limit(1)),
        "notice_id": _safety_notice(org_a, users["platform_admin"]),
    }
    return World(users=users, ids=ids)


def _safety_notice(organisation, admin) -> int:
    """A field safety notice sent to organisation A, for its admin page."""
    notice = SafetyNotice(udi_di="04012345000016", text="Controleer de accu.", created_by=admin)
    db.session.add_all([notice, SafetyNoticeRecipient(notice=notice,
                                                      organisation_id=organisation.id)])
    db.session.commit()
    return notice.id


def _administration_rules(app) -> list[Rule]:
    def is_administration(rule: Rule) -> bool:
        return rule.endpoint.startswith("admin.") or (
            rule.rule.startswith("/organisations/<") and rule.endpoint != "static")

    return sorted((rule for rule in app.url_map.iter_rules() if is_administration(rule)),
                  key=lambda rule: rule.rule)


def _url(rule: Rule, ids: dict[str, int]) -> str:
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        else:
            assert name in ids, f"the matrix has no id for <{name}> in {rule.rule}: add one"
            values[name] = ids[name]
    return rule.build(values, append_unknown=False)[1]


def database_state() -> dict[str, list]:
    """Every row of every table, as the requests left them."""
    db.session.commit()
    return {table.name: sorted(map(repr, db.session.execute(select(table)).all()))
            for table in db.metadata.sorted_tables}


ROLES = ["anonymous", "member", "org_admin_of_another_organisation", "org_admin",
         "platform_admin"]


# An organisation's pages that are for all its members, not its admins only: the register of
# what it gave and received (a member downloads the transfer documents of their own claims too).
FOR_ITS_MEMBERS = {"transfers.register", "transfers.register_csv"}


def _expected(rule: Rule, role: str) -> int:
    """What each role gets: platform pages are for platform admins only; an organisation's
    pages for its own admins and platform admins (FOR_ITS_MEMBERS: and its members)."""
    if role == "anonymous":
        return 302
    if role == "platform_admin":
        return 200
    if role == "org_admin" and not rule.endpoint.startswith("admin."):
        return 200
    if role == "member" and rule.endpoint in FOR_ITS_MEMBERS:
        return 200
    return 403


def test_the_matrix_covers_the_administration_routes(app):
    endpoints = {rule.endpoint for rule in _administration_rules(app)}
    assert {"admin.index", "admin.audit", "admin.organisations"} <= endpoints
    assert {"admin.impact_green_deal", "admin.update_green_deal_setting",
            "admin.update_category_material"} <= endpoints
    assert len(endpoints) >= 10


@pytest.mark.parametrize("role", ROLES)
def test_every_administration_page_answers_each_role_as_expected(app, login_as, world, role):
    user = world.users[role]
    client = app.test_client() if user is None else login_as(user)
    checked = 0
    for rule in _administration_rules(app):
        if "GET" not in rule.methods:
            continue
        url = _url(rule, world.ids)
        expected = _expected(rule, role)
        response = client.get(url)
        if expected == 200:
            assert response.status_code == 200, url
        else:
            assert response.status_code == expected, url
            if expected == 302:
                assert response.headers["Location"].startswith("/auth/login?next="), url
            else:
                assert FORBIDDEN_PAGE in response.get_data(as_text=True), url
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("role", ["anonymous", "member", "org_admin_of_another_organisation"])
def test_every_administration_action_is_refused_to_outsiders_and_changes_nothing(
    app, login_as, world, role
):
    user = world.users[role]
    client = app.test_client() if user is None else login_as(user)
    before = database_state()
    checked = 0
    for rule in _administration_rules(app):
        if "POST" not in rule.methods:
            continue
        url = _url(rule, world.ids)
        response = client.post(url, data={"reason": "x", "role": "org_admin"})
        expected = 302 if role == "anonymous" else 403
        assert response.status_code in ({expected, 404} if expected == 403 else {expected}), url
        checked += 1
    assert database_state() == before
    assert checked >= 5


def test_an_organisation_admin_cannot_use_any_platform_action(app, login_as, world):
    client = login_as(world.users["org_admin"])
    before = database_state()
    for rule in _administration_rules(app):
        if "POST" in rule.methods and rule.endpoint.startswith("admin."):
            url = _url(rule, world.ids)
            assert client.post(url, data={"reason": "x"}).status_code == 403, url
    assert database_state() == before


JUNK_FORMS = [
    {},
    {"reason": "x" * 5000, "text": "\x00<script>", "role": "emperor", "outcome": "maybe",
     "reason_id": "-1", "position": "first", "parent_id": "abc", "value": "1e400",
     "name_nl": "", "name_en": " ", "word": "???", "kind": "both", "note": "x" * 5000},
]


@pytest.mark.parametrize("data", JUNK_FORMS, ids=["empty", "junk"])
def test_no_administration_action_fails_on_bad_input(app, login_as, world, data):
    client = login_as(world.users["platform_admin"])
    for rule in _administration_rules(app):
        if "POST" in rule.methods:
            url = _url(rule, world.ids)
            response = client.post(url, data=data)
            assert response.status_code < 500, url
