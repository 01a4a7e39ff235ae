"""Who may do what: the rules in marketplace.security, and the organisation and admin actions
tried by everyone who might (every page of them as every role: test_admin_matrix.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask_babel import force_locale
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Organisation,
    OrganisationStatus,
    OutboxMessage,
    Province,
    Role,
    Site,
    User,
    UserStatus,
)
from marketplace.security import Action, can, participation_block_reason

pytestmark = pytest.mark.usefixtures("app")  # the builders need the app and its database

FORBIDDEN_PAGE = "You cannot open this page"

# --- security.can and participation_block_reason ------------------------------------------


@dataclass(frozen=True)
class Person:
    """Who tries: their role and state, and the state of their organisation."""

    role: Role = Role.MEMBER
    status: UserStatus = UserStatus.ACTIVE
    confirmed: bool = True
    organisation: OrganisationStatus | None = OrganisationStatus.ACTIVE


MEMBER = Person()
ORG_ADMIN = Person(role=Role.ORG_ADMIN)
PLATFORM_ADMIN = Person(role=Role.PLATFORM_ADMIN, organisation=None)


def build_person(make_org, make_user, person: Person) -> User:
    organisation = make_org(status=person.organisation) if person.organisation else None
    user = make_user(organisation=organisation, role=person.role, status=person.status,
                     confirmed=person.confirmed)
    if organisation is None and user.organisation is not None:  # make_user gave one
        user.organisation = None
        db.session.commit()
    return user


PARTICIPATE_CASES = {
    "an active member of an active organisation": (MEMBER, True),
    "an organisation admin": (ORG_ADMIN, True),
    "a member with an unconfirmed address": (Person(confirmed=False), False),
    "a member awaiting approval": (Person(status=UserStatus.PENDING), False),
    "a deactivated member": (Person(status=UserStatus.DEACTIVATED), False),
    "a member of a pending organisation":
        (Person(organisation=OrganisationStatus.PENDING), False),
    "a member of a suspended organisation":
        (Person(organisation=OrganisationStatus.SUSPENDED), False),
    "an admin of a suspended organisation":
        (Person(role=Role.ORG_ADMIN, organisation=OrganisationStatus.SUSPENDED), False),
    "a member without an organisation": (Person(organisation=None), False),
    "a platform admin without an organisation": (PLATFORM_ADMIN, False),
    "a platform admin of an active organisation":
        (Person(role=Role.PLATFORM_ADMIN), True),
}


@pytest.mark.parametrize(("person", "allowed"), PARTICIPATE_CASES.values(),
                         ids=PARTICIPATE_CASES.keys())
def test_who_may_post_and_claim(make_org, make_user, person, allowed):
    user = build_person(make_org, make_user, person)
    assert can(user, Action.PARTICIPATE) is allowed
    assert (participation_block_reason(user) is None) is allowed


# (person, which organisation: "own", "other" or None, allowed)
MANAGE_CASES = {
    "a member, of their own organisation": (MEMBER, "own", False),
    "an org admin, of their own organisation": (ORG_ADMIN, "own", True),
    "an org admin, of another organisation": (ORG_ADMIN, "other", False),
    "an org admin, of no organisation in particular": (ORG_ADMIN, None, False),
    "an org admin awaiting approval": (Person(role=Role.ORG_ADMIN, status=UserStatus.PENDING),
                                       "own", False),
    "a deactivated org admin": (Person(role=Role.ORG_ADMIN, status=UserStatus.DEACTIVATED),
                                "own", False),
    "an org admin with an unconfirmed address": (Person(role=Role.ORG_ADMIN, confirmed=False),
                                                 "own", False),
    # Until the platform approves an organisation (and while it is suspended) its admin sees
    # what a visitor sees: the waiting page says so.
    "an org admin of a pending organisation, of it":
        (Person(role=Role.ORG_ADMIN, organisation=OrganisationStatus.PENDING), "own", False),
    "an org admin of a suspended organisation, of it":
        (Person(role=Role.ORG_ADMIN, organisation=OrganisationStatus.SUSPENDED), "own", False),
    "a platform admin, of any organisation": (PLATFORM_ADMIN, "other", True),
    "a deactivated platform admin":
        (Person(role=Role.PLATFORM_ADMIN, status=UserStatus.DEACTIVATED, organisation=None),
         "other", False),
}


@pytest.mark.parametrize(("person", "which", "allowed"), MANAGE_CASES.values(),
                         ids=MANAGE_CASES.keys())
def test_who_may_manage_an_organisation(make_org, make_user, person, which, allowed):
    user = build_person(make_org, make_user, person)
    target = {"own": user.organisation, "other": make_org(), None: None}[which]
    assert can(user, Action.MANAGE_ORGANISATION, target) is allowed


ADMINISTER_CASES = {
    "a member": (MEMBER, False),
    "an organisation admin": (ORG_ADMIN, False),
    "a platform admin": (PLATFORM_ADMIN, True),
    "a platform admin with an unconfirmed address":
        (Person(role=Role.PLATFORM_ADMIN, confirmed=False, organisation=None), False),
    "a deactivated platform admin":
        (Person(role=Role.PLATFORM_ADMIN, status=UserStatus.DEACTIVATED, organisation=None),
         False),
}


@pytest.mark.parametrize(("person", "allowed"), ADMINISTER_CASES.values(),
                         ids=ADMINISTER_CASES.keys())
def test_who_may_administer_the_platform(make_org, make_user, person, allowed):
    user = build_person(make_org, make_user, person)
    assert can(user, Action.ADMINISTER_PLATFORM) is allowed


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("nobody", [None, AnonymousUserMixin()], ids=["none", "anonymous"])
def test_nobody_logged_in_may_do_anything(make_org, nobody, action):
    assert can(nobody, action, make_org()) is False


REASON_CASES = {
    "an active member of an active organisation": (MEMBER, None),
    "a member with an unconfirmed address":
        (Person(confirmed=False), "Confirm your email address to start posting and claiming."),
    "an unconfirmed member awaiting approval, who must confirm first":
        (Person(confirmed=False, status=UserStatus.PENDING), "Confirm your email address"),
    "a member awaiting approval":
        (Person(status=UserStatus.PENDING),
         "Your account is waiting for approval by an administrator of your organisation."),
    "a deactivated member":
        (Person(status=UserStatus.DEACTIVATED), "Your account has been deactivated."),
    "a member without an organisation":
        (Person(organisation=None), "Your account is not linked to an organisation."),
    "a platform admin without an organisation":
        (PLATFORM_ADMIN, "Platform admins without an organisation cannot post or claim."),
    "a member of a pending organisation":
        (Person(organisation=OrganisationStatus.PENDING),
         "Your organisation is waiting for approval by the platform administrators."),
    "a member of a suspended organisation":
        (Person(organisation=OrganisationStatus.SUSPENDED),
         "Your organisation has been suspended by the platform administrators"),
}


@pytest.mark.parametrize(("person", "expected"), REASON_CASES.values(),
                         ids=REASON_CASES.keys())
def test_why_someone_cannot_post_or_claim_yet(make_org, make_user, person, expected):
    user = build_person(make_org, make_user, person)
    with force_locale("en"):
        reason = participation_block_reason(user)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None
        assert expected in reason


# --- organisation and admin pages ----------------------------------------------------------

@dataclass
class World:
    """Organisation A (the one the URLs are about), another organisation B, and the rest."""

    users: dict[str, User | None]
    ids: dict[str, int]
    other_ids: dict[str, int]  # B's own ids, for URLs of B holding ids of A

    def url(self, template: str) -> str:
        return template.format(**self.ids)


@pytest.fixture
def world(make_org, make_user) -> World:
    org_a = make_org("Zorginstelling A")
    spare_site = Site(name="Magazijn", street="Havenstraat 1", postcode="3811 AA",
                      city="Amersfoort", province=Province.UTRECHT)
    archived_site = Site(name="Oude locatie", street="Oudeweg 2", postcode="3811 AB",
                         city="Amersfoort", province=Province.UTRECHT, active=False)
    org_a.sites.extend([spare_site, archived_site])
    db.session.commit()
    org_b = make_org("Zorginstelling B")
    pending_org = make_org("Zorginstelling Wacht", status=OrganisationStatus.PENDING)
    suspended_org = make_org("Zorginstelling Geschorst", status=OrganisationStatus.SUSPENDED)
    users = {
        "anonymous": None,
        "member": make_user(organisation=org_a),
        "org_admin": make_user(organisation=org_a, role=Role.ORG_ADMIN),
        "org_admin_of_another_organisation": make_user(organisation=org_b, role=Role.ORG_ADMIN),
        "platform_admin": make_user(role=Role.PLATFORM_ADMIN),
    }
    pending = make_user(organisation=org_a, status=UserStatus.PENDING)
    deactivated = make_user(organisation=org_a, status=UserStatus.DEACTIVATED)
    ids = {
        "org": org_a.id,
        "member": users["member"].id,
        "pending": pending.id,
        "deactivated": deactivated.id,
        "site": next(site.id for site in org_a.sites if site.name == "Hoofdlocatie"),
        "spare_site": spare_site.id,
        "archived_site": archived_site.id,
        "pending_org": pending_org.id,
        "suspended_org": suspended_org.id,
    }
    return World(users=users, ids=ids, other_ids={"org": org_b.id})


def client_for(app, login_as, user: User | None):
    return app.test_client() if user is None else login_as(user)


def assert_refused(response, expected: int, path: str) -> None:
    assert response.status_code == expected, path
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login?next="), path
    elif expected == 403:
        assert FORBIDDEN_PAGE in response.get_data(as_text=True), path
    elif expected == 404:
        assert "Page not found" in response.get_data(as_text=True), path


# Who may open each organisation and administration page is walked, route by route from the URL
# map, by test_admin_matrix.py (and test_security_routes.py); what it cannot vary is the state of
# the object a page is about, so these two are opened here.
@pytest.mark.parametrize(("role", "path"), [
    ("org_admin", "/organisations/{org}/sites/{archived_site}/edit"),
    ("platform_admin", "/organisations/{org}/sites/{archived_site}/edit"),
    ("platform_admin", "/admin/organisations/{pending_org}"),
])
def test_an_archived_site_and_a_pending_organisation_open_for_who_manages_them(
    login_as, world, role, path
):
    assert login_as(world.users[role]).get(world.url(path)).status_code == 200


def test_my_organisation_leads_each_role_to_the_right_place(app, login_as, world):
    anonymous = app.test_client().get("/organisations/mine")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/auth/login?next=")
    expected = {"member": 403, "org_admin": 200, "org_admin_of_another_organisation": 200,
                "platform_admin": 404}  # platform admins have no organisation of their own
    for role, status in expected.items():
        response = login_as(world.users[role]).get("/organisations/mine", follow_redirects=True)
        assert response.status_code == status, role
    response = login_as(world.users["org_admin_of_another_organisation"]) \
        .get("/organisations/mine", follow_redirects=True)
    assert "Zorginstelling B" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/organisations/{other_org}/sites/{site}/edit",
    "/organisations/{other_org}/sites/{archived_site}/edit",
])
def test_an_org_admin_gets_404_for_another_organisations_site_in_their_own_urls(
    login_as, world, path
):
    client = login_as(world.users["org_admin_of_another_organisation"])
    response = client.get(path.format(other_org=world.other_ids["org"], **world.ids))
    assert_refused(response, 404, path)


@pytest.mark.parametrize("path", [
    "/organisations/999/members",
    "/organisations/999/sites",
    "/organisations/{org}/sites/999/edit",
    "/admin/organisations/999",
])
def test_unknown_ids_give_404_to_a_platform_admin(login_as, world, path):
    response = login_as(world.users["platform_admin"]).get(world.url(path))
    assert_refused(response, 404, path)


# --- every POST route, tried by everyone who should not succeed ---------------------------

SITE_FORM = {"site_name": "Nieuw magazijn", "street": "Havenstraat 12", "postcode": "1234ab",
             "city": "Amersfoort", "province": "utrecht"}

# route and form data; the organisation routes are about organisation A
ORGANISATION_ACTIONS = [
    ("/organisations/{org}/members/{pending}/approve", {}),
    ("/organisations/{org}/members/{member}/deactivate", {"reason": "Left", "confirmed": "yes"}),
    ("/organisations/{org}/members/{deactivated}/reactivate", {}),
    ("/organisations/{org}/members/{member}/role", {"role": "org_admin"}),
    ("/organisations/{org}/sites/new", SITE_FORM),
    ("/organisations/{org}/sites/{site}/edit", SITE_FORM),
    ("/organisations/{org}/sites/{spare_site}/archive", {}),
    ("/organisations/{org}/sites/{archived_site}/restore", {}),
]
ADMIN_ACTIONS = [
    ("/admin/organisations/{pending_org}/approve", {}),
    ("/admin/organisations/{org}/suspend", {"reason": "Resold donations"}),
    ("/admin/organisations/{suspended_org}/reactivate", {}),
]

POST_CASES = [
    pytest.param(path, data, role, expected, "org_admin",
                 id=f"{role}-{path}")
    for path, data in ORGANISATION_ACTIONS
    for role, expected in [("anonymous", 302), ("member", 403),
                           ("org_admin_of_another_organisation", 403)]
] + [
    pytest.param(path, data, role, expected, "platform_admin", id=f"{role}-{path}")
    for path, data in ADMIN_ACTIONS
    for role, expected in [("anonymous", 302), ("member", 403),
                           ("org_admin_of_another_organisation", 403), ("org_admin", 403)]
]


def database_state() -> tuple:
    """Everything these routes could change, read straight from the database."""
    db.session.commit()  # end the test's transaction: read what the requests committed
    return (
        db.session.execute(select(User.id, User.status, User.role, User.session_version)
                           .order_by(User.id)).all(),
        db.session.execute(select(Site.id, Site.organisation_id, Site.name, Site.street,
                                  Site.postcode, Site.city, Site.province, Site.active)
                           .order_by(Site.id)).all(),
        db.session.execute(select(Organisation.id, Organisation.status,
                                  Organisation.approved_at).order_by(Organisation.id)).all(),
        db.session.scalar(select(func.count()).select_from(AuditEvent)),
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
    )


@pytest.mark.parametrize(("path", "data", "role", "expected", "rightful"), POST_CASES)
def test_outsiders_cannot_post_to_an_organisation_or_admin_route(
    app, login_as, world, path, data, role, expected, rightful
):
    before = database_state()

    response = client_for(app, login_as, world.users[role]).post(world.url(path), data=data)

    assert_refused(response, expected, path)
    assert database_state() == before
    # The same request by someone allowed does change something: the refusal was the role's.
    response = login_as(world.users[rightful]).post(world.url(path), data=data)
    assert response.status_code == 302
    assert database_state() != before


FOREIGN_ID_ACTIONS = [(path, data) for path, data in ORGANISATION_ACTIONS
                      if path != "/organisations/{org}/sites/new"]


@pytest.mark.parametrize(("path", "data"), FOREIGN_ID_ACTIONS,
                         ids=[path for path, _data in FOREIGN_ID_ACTIONS])
def test_an_org_admin_gets_404_for_ids_of_another_organisation_in_their_own_urls(
    login_as, world, path, data
):
    before = database_state()
    client = login_as(world.users["org_admin_of_another_organisation"])
    url = path.format(**{**world.ids, "org": world.other_ids["org"]})

    response = client.post(url, data=data)

    assert_refused(response, 404, url)
    assert database_state() == before
