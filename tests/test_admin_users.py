"""Platform admins trust and suspend organisations and manage everyone's accounts."""

from __future__ import annotations

import re

import builders
import pytest
from builders import impact_fields
from helpers import PASSWORD, SHARED_TESTDATA, AuthActions, csrf_token, outbox, reload
from sqlalchemy import func, select

from marketplace.admin.views import PAGE_SIZE
from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Claim,
    ClaimStatus,
    Listing,
    ListingStatus,
    Role,
    UserStatus,
)
from marketplace.services import accounts, organisations
from marketplace.services import claims as claim_service
from marketplace.services.errors import DomainError, PermissionDenied

PHOTO = SHARED_TESTDATA / "images" / "good" / "hopper.jpg"


@pytest.fixture
def staff(app, make_user):
    return make_user(role=Role.PLATFORM_ADMIN, name="Petra Platform")


@pytest.fixture
def admin_client(staff, login_as):
    return login_as(staff)


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def listed_user_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'href="/admin/users/(\d+)"', html)]


def listed_organisation_ids(html: str) -> list[int]:
    return [int(number) for number in re.findall(r'href="/admin/organisations/(\d+)"', html)]


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def post_listing(client, user, title: str = "Rollators, inklapbaar"):
    return builders.post_listing(client, user, title=title, **impact_fields())


def listing_titled(title: str) -> Listing | None:
    return db.session.scalar(select(Listing).where(Listing.title == title))


# --- trusted organisations -------------------------------------------------------------------

def test_a_trusted_organisation_publishes_without_review_until_trust_is_taken_away(
    admin_client, make_org, make_user, login_as
):
    organisation = make_org("Zorggroep Vertrouwd")
    poster = make_user(organisation=organisation)

    response = admin_client.post(f"/admin/organisations/{organisation.id}/trust",
                                 data={"trust-reason": "Ten years a member"},
                                 follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Zorggroep Vertrouwd is trusted: its listings are published without review." in html
    assert "Stop trusting Zorggroep Vertrouwd" in html
    assert reload(organisation).trusted is True
    [event] = audit_events("organisation.trust")
    assert (event.target_id, event.reason) == (organisation.id, "Ten years a member")
    post_listing(login_as(poster), poster, "Rollators direct")
    assert listing_titled("Rollators direct").status is ListingStatus.PUBLISHED

    admin_client.post(f"/admin/organisations/{organisation.id}/distrust")

    assert reload(organisation).trusted is False
    [event] = audit_events("organisation.distrust")
    assert event.reason is None
    post_listing(login_as(poster), poster, "Rollators ter beoordeling")
    assert listing_titled("Rollators ter beoordeling").status is ListingStatus.PENDING_REVIEW


def test_trusting_a_trusted_organisation_again_says_so_and_records_nothing(admin_client,
                                                                            make_org):
    organisation = make_org("Zorggroep Vertrouwd")
    organisation.trusted = True
    db.session.commit()
    response = admin_client.post(f"/admin/organisations/{organisation.id}/trust",
                                 follow_redirects=True)
    assert "Zorggroep Vertrouwd is trusted already." in response.get_data(as_text=True)
    untrusted = make_org("Zorggroep Nieuw")
    response = admin_client.post(f"/admin/organisations/{untrusted.id}/distrust",
                                 follow_redirects=True)
    assert "Zorggroep Nieuw is not trusted." in response.get_data(as_text=True)
    assert audit_events("organisation.trust") == audit_events("organisation.distrust") == []


def test_only_platform_admins_may_trust(app, make_org, make_user):
    organisation = make_org()
    org_admin = make_user(organisation=organisation, role=Role.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        organisations.set_trusted(org_admin, organisation, True)
    assert reload(organisation).trusted is False


def test_the_organisations_list_shows_trust_and_filters_on_it_across_pages(admin_client,
                                                                            make_org):
    trusted = [make_org(f"Vertrouwd {number}") for number in range(PAGE_SIZE + 1)]
    for organisation in trusted:
        organisation.trusted = True
    db.session.commit()
    untrusted = make_org("Gewoon Zorghuis")

    everything = page(admin_client, "/admin/organisations")
    assert 'badge--trusted">Trusted</span>' in everything
    first = page(admin_client, "/admin/organisations?trusted=1&q=vertrouwd")
    assert 'id="trusted" name="trusted" value="1" checked' in first
    assert untrusted.id not in listed_organisation_ids(first)
    [next_link] = re.findall(r'href="([^"]+)">Next</a>', first)
    next_link = next_link.replace("&amp;", "&")
    assert "trusted=1" in next_link and "q=vertrouwd" in next_link and "page=2" in next_link
    second = page(admin_client, next_link)
    assert len(listed_organisation_ids(second)) == 1
    assert set(listed_organisation_ids(first) + listed_organisation_ids(second)) == \
        {organisation.id for organisation in trusted}


def test_the_organisation_page_shows_people_activity_trust_and_recent_events(
    admin_client, staff, make_org, make_user, make_listing
):
    organisation = make_org("Zorghuis Het Anker")
    organisation.kvk_number = "12345678"
    db.session.commit()
    anna = make_user(organisation=organisation, role=Role.ORG_ADMIN, name="Anna Admin")
    make_listing(organisation=organisation)
    make_listing(organisation=organisation, status=ListingStatus.DRAFT)
    given = make_listing(organisation=organisation)
    taker = make_user()
    claim_service.claim_listing(taker, given, 1)
    other = make_listing()
    claim_service.claim_listing(anna, other, 2)
    organisations.set_trusted(staff, organisation, True, "Betrouwbaar")

    html = page(admin_client, f"/admin/organisations/{organisation.id}")

    assert "12345678" in html
    assert f'href="/admin/users/{anna.id}"' in html
    assert "Hoofdlocatie" in html
    assert re.search(r"<dt>Listings</dt>\s*<dd>3:", html)
    assert re.search(r"<dt>Claims on its listings</dt>\s*<dd>1:", html)
    assert re.search(r"<dt>Claims it made</dt>\s*<dd>1:", html)
    assert "publish" in html and "watch-word" in html  # what trusted means
    assert "<strong>Organisation trusted (no review)</strong>" in html and "Betrouwbaar" in html
    assert 'badge--trusted">Trusted</span>' in html
    assert f'href="/admin/users?organisation={organisation.id}"' in html


# --- suspension ------------------------------------------------------------------------------

def test_a_suspended_organisations_listings_disappear_until_it_is_reactivated(
    admin_client, make_org, make_user, make_listing, login_as, client
):
    organisation = make_org("Kliniek Geschorst")
    listing = make_listing("Hoog-laag bed Geschorst", organisation=organisation)
    colleague = make_user(organisation=organisation)
    outsider = login_as(make_user())
    assert "Hoog-laag bed Geschorst" in page(client, "/listings/?q=bed")

    admin_client.post(f"/admin/organisations/{organisation.id}/suspend",
                      data={"reason": "Resold items"})

    for visitor in (client, outsider):
        assert "Hoog-laag bed Geschorst" not in page(visitor, "/listings/?q=bed")
        assert "Hoog-laag bed Geschorst" not in page(visitor, "/listings/")
        assert "Hoog-laag bed Geschorst" not in page(visitor, "/")
        assert visitor.get(f"/listings/{listing.id}").status_code == 404
    # Its own people see what a visitor sees while it is suspended (security.in_good_standing)
    assert login_as(colleague).get(f"/listings/{listing.id}").status_code == 404

    admin_client.post(f"/admin/organisations/{organisation.id}/reactivate")

    assert "Hoog-laag bed Geschorst" in page(client, "/listings/?q=bed")
    assert "Hoog-laag bed Geschorst" in page(client, "/")
    assert client.get(f"/listings/{listing.id}").status_code == 200


def test_members_of_a_suspended_organisation_cannot_post_or_claim(
    admin_client, make_org, make_user, make_listing, login_as
):
    organisation = make_org("Kliniek Geschorst")
    member = make_user(organisation=organisation)
    listing = make_listing()
    admin_client.post(f"/admin/organisations/{organisation.id}/suspend",
                      data={"reason": "Resold items"})
    member_client = login_as(member)

    post_listing(member_client, member, "Verboden rollators")
    member_client.post(f"/listings/{listing.id}/claim", data={"quantity": "1"})

    assert listing_titled("Verboden rollators") is None
    assert db.session.scalar(select(func.count(Claim.id))) == 0
    db.session.expire_all()
    with pytest.raises(PermissionDenied, match="suspended"):
        claim_service.claim_listing(member, listing, 1)


@pytest.mark.parametrize("suspended_side", ["giver", "claimant"])
def test_a_claim_waits_while_either_organisation_is_suspended(
    staff, make_org, make_user, make_listing, login_as, suspended_side
):
    giver_org, taker_org = make_org("Gever"), make_org("Nemer")
    giver = make_user(organisation=giver_org)
    taker = make_user(organisation=taker_org)
    listing = make_listing(organisation=giver_org)
    claim = claim_service.claim_listing(taker, listing, 2)
    suspended = giver_org if suspended_side == "giver" else taker_org
    organisations.suspend_organisation(staff, suspended, "Onderzoek")

    response = login_as(giver).post(f"/claims/{claim.id}/accept", data={},
                                    follow_redirects=True)

    if suspended_side == "giver":  # a suspended organisation's people answer nothing
        assert response.status_code == 404
    else:
        assert "This claim cannot be accepted now" in response.get_data(as_text=True)
    assert reload(claim).status is ClaimStatus.REQUESTED  # open claims stay
    assert reload(listing).quantity_available == 4
    with pytest.raises(DomainError, match="suspended" if suspended_side == "claimant"
                       else "Only the giving organisation"):
        claim_service.accept_claim(reload(giver), reload(claim))

    organisations.reactivate_organisation(staff, reload(suspended))
    claim_service.accept_claim(reload(giver), reload(claim))
    assert reload(claim).status is ClaimStatus.ACCEPTED


# --- the users list --------------------------------------------------------------------------

def test_the_users_list_searches_by_name_or_email_and_filters(admin_client, staff, make_org,
                                                              make_user):
    anker = make_org("Zorghuis Het Anker")
    anna = make_user("anna@anker.nl", organisation=anker, role=Role.ORG_ADMIN,
                     name="Anna de Vries")
    piet = make_user("piet@anker.nl", organisation=anker, name="Piet Jansen",
                     status=UserStatus.PENDING)
    wildcard = make_user("a_b@elders.nl", name="Bea 100% Zorg")
    make_user("axb@elders.nl", name="Kees 1000 Zorg")

    assert listed_user_ids(page(admin_client, "/admin/users?q=ANNA")) == [anna.id]
    assert listed_user_ids(page(admin_client, "/admin/users?q=piet@anker")) == [piet.id]
    assert listed_user_ids(page(admin_client, "/admin/users?q=a_b")) == [wildcard.id]
    assert listed_user_ids(page(admin_client, "/admin/users?q=100%25")) == [wildcard.id]
    assert listed_user_ids(page(admin_client, "/admin/users?role=org_admin")) == [anna.id]
    pending = page(admin_client, "/admin/users?status=pending")
    assert listed_user_ids(pending) == [piet.id]
    assert "Approve Piet Jansen" in pending
    by_organisation = page(admin_client, f"/admin/users?organisation={anker.id}")
    assert listed_user_ids(by_organisation) == [piet.id, anna.id]  # newest first
    assert "Showing the people of Zorghuis Het Anker." in by_organisation
    assert listed_user_ids(page(admin_client, "/admin/users?organisation=none")) == [staff.id]
    assert listed_user_ids(page(admin_client, "/admin/users?q=nobody-at-all")) == []


def test_the_users_list_is_paginated_newest_first_and_keeps_its_filters(admin_client,
                                                                        make_org, make_user):
    organisation = make_org("Grote Zorggroep")
    people = [make_user(f"medewerker{number}@groot.nl", organisation=organisation)
              for number in range(30)]
    make_user("buiten@elders.nl")

    first = page(admin_client, f"/admin/users?organisation={organisation.id}&role=member")
    assert "Page 1 of 2" in first
    assert listed_user_ids(first)[0] == people[-1].id
    [next_link] = re.findall(r'href="([^"]+)">Next</a>', first)
    next_link = next_link.replace("&amp;", "&")
    assert f"organisation={organisation.id}" in next_link and "role=member" in next_link
    second = page(admin_client, next_link)
    assert "Page 2 of 2" in second
    assert len(listed_user_ids(second)) == 5
    assert sorted(listed_user_ids(first) + listed_user_ids(second)) == \
        sorted(person.id for person in people)


@pytest.mark.parametrize("query", [
    "page=abc", "page=-4", "page=99999", "role=overlord", "status=%00", "organisation=abc",
    "organisation=99999999999999999999", "q=" + "x" * 500,
])
def test_odd_filters_on_the_users_list_never_fail(admin_client, query):
    assert admin_client.get(f"/admin/users?{query}").status_code == 200


# --- acting on accounts ----------------------------------------------------------------------

def test_approving_a_pending_member_activates_them_with_an_email_and_an_audit_row(
    admin_client, make_user
):
    member = make_user(name="Piet Jansen", status=UserStatus.PENDING)
    listing_url = "/admin/users?status=pending"
    response = admin_client.post(f"/admin/users/{member.id}/approve?next={listing_url}")
    assert response.status_code == 302
    assert response.headers["Location"] == listing_url
    assert reload(member).status is UserStatus.ACTIVE
    assert [mail.recipient for mail in outbox("account_approved")] == [member.email]
    [event] = audit_events("user.approve")
    assert event.target_id == member.id


def test_an_offsite_next_is_ignored(admin_client, make_user):
    member = make_user(status=UserStatus.PENDING)
    response = admin_client.post(f"/admin/users/{member.id}/approve?next=//evil.example/x")
    assert response.headers["Location"] == f"/admin/users/{member.id}"


def test_deactivating_needs_a_reason_and_ends_every_session_until_reactivated(
    admin_client, make_user, login_as, app
):
    member = make_user(name="Piet Jansen")
    member_client = login_as(member)
    assert member_client.get("/account/").status_code == 200

    response = admin_client.post(f"/admin/users/{member.id}/deactivate", data={"reason": " "},
                                 follow_redirects=True)
    assert "Give a reason to deactivate an account." in response.get_data(as_text=True)
    assert reload(member).status is UserStatus.ACTIVE

    response = admin_client.post(f"/admin/users/{member.id}/deactivate",
                                 data={"reason": "Left the organisation"},
                                 follow_redirects=True)

    assert "Piet Jansen has been deactivated and logged out." in response.get_data(as_text=True)
    assert reload(member).status is UserStatus.DEACTIVATED
    [event] = audit_events("user.deactivate")
    assert (event.target_id, event.reason) == (member.id, "Left the organisation")
    assert member_client.get("/account/").status_code == 302  # logged out
    assert AuthActions(app.test_client()).login(member).status_code != 302

    response = admin_client.post(f"/admin/users/{member.id}/reactivate", follow_redirects=True)

    assert "Piet Jansen has been reactivated." in response.get_data(as_text=True)
    assert reload(member).status is UserStatus.ACTIVE
    assert audit_events("user.reactivate")
    assert AuthActions(app.test_client()).login(member, PASSWORD).status_code == 302


def test_a_platform_admin_cannot_deactivate_themselves(admin_client, staff):
    response = admin_client.post(f"/admin/users/{staff.id}/deactivate",
                                 data={"reason": "Oops"}, follow_redirects=True)
    assert "You cannot deactivate your own account here." in response.get_data(as_text=True)
    assert reload(staff).status is UserStatus.ACTIVE


def test_platform_admins_change_roles_including_platform_admin(admin_client, make_user):
    person = make_user(name="Piet Jansen")
    for role in ("org_admin", "platform_admin", "member"):
        response = admin_client.post(f"/admin/users/{person.id}/role", data={"role": role},
                                     follow_redirects=True)
        assert "The role of Piet Jansen has been changed." in response.get_data(as_text=True)
        assert reload(person).role is Role(role)
        assert audit_events(f"user.role.{role}")[-1].target_id == person.id


def test_an_unknown_or_unchanged_role_is_refused_politely(admin_client, make_user):
    person = make_user(name="Piet Jansen")
    response = admin_client.post(f"/admin/users/{person.id}/role", data={"role": "overlord"},
                                 follow_redirects=True)
    assert response.status_code == 200
    assert "Choose a role from the list." in response.get_data(as_text=True)
    response = admin_client.post(f"/admin/users/{person.id}/role", data={"role": "member"},
                                 follow_redirects=True)
    assert "Piet Jansen is Member already." in response.get_data(as_text=True)
    assert reload(person).role is Role.MEMBER
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_nobody_changes_their_own_role_and_the_last_platform_admin_stays(staff, make_user,
                                                                         make_org):
    with pytest.raises(DomainError, match="there must always be one"):
        accounts.set_role(staff, staff, Role.MEMBER)
    colleague = make_user(role=Role.PLATFORM_ADMIN, organisation=make_org())
    with pytest.raises(DomainError, match="your own role"):
        accounts.set_role(staff, staff, Role.MEMBER)
    accounts.set_role(staff, colleague, Role.ORG_ADMIN)  # the actor stays platform admin
    assert reload(colleague).role is Role.ORG_ADMIN
    assert reload(staff).role is Role.PLATFORM_ADMIN


def test_demoting_yourself_through_the_page_is_refused(admin_client, staff):
    response = admin_client.post(f"/admin/users/{staff.id}/role", data={"role": "member"},
                                 follow_redirects=True)
    assert "there must always be one" in response.get_data(as_text=True)
    assert reload(staff).role is Role.PLATFORM_ADMIN


def test_organisation_admins_cannot_grant_roles_through_set_role(app, make_user):
    org_admin = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=org_admin.organisation)
    with pytest.raises(PermissionDenied):
        accounts.set_role(org_admin, colleague, Role.ORG_ADMIN)
    assert reload(colleague).role is Role.MEMBER


def test_a_platform_admin_without_organisation_is_shown_and_managed(admin_client, make_user):
    other = make_user(role=Role.PLATFORM_ADMIN, name="Olga Operator", status=UserStatus.PENDING)
    assert other.organisation is None

    html = page(admin_client, f"/admin/users/{other.id}")
    assert "No organisation (platform staff)" in html
    assert "Approve Olga Operator" in html
    assert "No organisation" in page(admin_client, "/admin/users")

    admin_client.post(f"/admin/users/{other.id}/approve")
    assert reload(other).status is UserStatus.ACTIVE
    response = admin_client.post(f"/admin/users/{other.id}/role", data={"role": "member"},
                                 follow_redirects=True)
    assert "can only be a platform admin" in response.get_data(as_text=True)
    admin_client.post(f"/admin/users/{other.id}/deactivate", data={"reason": "Left"})
    assert reload(other).status is UserStatus.DEACTIVATED
    admin_client.post(f"/admin/users/{other.id}/reactivate")
    assert reload(other).status is UserStatus.ACTIVE
    assert page(admin_client, f"/admin/users/{other.id}")


def test_a_user_page_links_to_the_organisation_and_back(admin_client, make_org, make_user):
    organisation = make_org("Zorghuis Het Anker")
    person = make_user(organisation=organisation, name="Anna de Vries")
    html = page(admin_client, f"/admin/users/{person.id}")
    assert f'href="/admin/organisations/{organisation.id}"' in html
    assert "Change the role of Anna de Vries" in html
    assert "Deactivate Anna de Vries" in html
    assert "never" in html  # last login
    assert f'href="/admin/users/{person.id}"' in page(
        admin_client, f"/admin/organisations/{organisation.id}")


def test_the_overview_links_to_people_waiting_for_approval(admin_client, make_user):
    make_user(status=UserStatus.PENDING)
    html = page(admin_client, "/admin/")
    assert re.search(r'href="/admin/users\?status=pending">\s*'
                     r'<span class="figure-number">1</span>', html)


# --- who may -------------------------------------------------------------------------------

ROUTES = [
    ("get", "/admin/users"),
    ("get", "/admin/users/{user}"),
    ("post", "/admin/users/{user}/approve"),
    ("post", "/admin/users/{user}/deactivate"),
    ("post", "/admin/users/{user}/reactivate"),
    ("post", "/admin/users/{user}/role"),
    ("post", "/admin/organisations/{organisation}/trust"),
    ("post", "/admin/organisations/{organisation}/distrust"),
]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_members_and_organisation_admins_are_refused(make_user, login_as, role, method, path):
    person = make_user(role=role)
    target = make_user(organisation=person.organisation, status=UserStatus.PENDING)
    url = path.format(user=target.id, organisation=person.organisation_id)
    response = getattr(login_as(person), method)(url, data={"role": "org_admin",
                                                            "reason": "x"})
    assert response.status_code == 403
    assert reload(target).status is UserStatus.PENDING
    assert reload(target).role is Role.MEMBER
    assert reload(person.organisation).trusted is False


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(client, make_user, method, path):
    target = make_user()
    url = path.format(user=target.id, organisation=target.organisation_id)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "path"), ROUTES[1:])
def test_unknown_ids_give_404(admin_client, method, path):
    assert getattr(admin_client, method)(path.format(user=9999, organisation=9999)) \
        .status_code == 404


def test_forms_without_a_csrf_token_change_nothing(make_app, make_user, login_as):
    from marketplace.models import User

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        staff = make_user(role=Role.PLATFORM_ADMIN)
        member = make_user(status=UserStatus.PENDING)
        client = app.test_client()
        login_page = client.get("/auth/login").get_data(as_text=True)
        client.post("/auth/login", data={"email": staff.email, "password": PASSWORD,
                                         "csrf_token": csrf_token(login_page)})
        for action, data in (("approve", {}), ("role", {"role": "org_admin"}),
                             ("deactivate", {"reason": "x"})):
            response = client.post(f"/admin/users/{member.id}/{action}", data=data)
            assert response.status_code == 400
        organisation_id = member.organisation_id
        client.post(f"/admin/organisations/{organisation_id}/trust")
        db.session.expire_all()
        member = db.session.get(User, member.id)
        assert member.status is UserStatus.PENDING and member.role is Role.MEMBER
        assert member.organisation.trusted is False
        assert audit_events("user.approve") == []
