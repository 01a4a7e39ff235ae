"""Organisation admins manage their colleagues and pick-up sites, through the web pages."""

from __future__ import annotations

from helpers import PASSWORD, outbox, reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Province,
    Role,
    Site,
    UserStatus,
)
from marketplace.security import Action, can

PENDING_BANNER = "Your account is waiting for approval by an administrator of your organisation."
LAST_ADMIN = "Make a colleague organisation admin first."


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ))


def members_url(organisation, user=None, action=None) -> str:
    url = f"/organisations/{organisation.id}/members"
    return f"{url}/{user.id}/{action}" if user is not None else url


def sites_url(organisation, suffix: str = "") -> str:
    return f"/organisations/{organisation.id}/sites{suffix}"


def site_form(**overrides: str) -> dict[str, str]:
    data = {
        "site_name": "Magazijn Noord",
        "street": "Havenstraat 12",
        "postcode": "1234ab",
        "city": "Amersfoort",
        "province": "utrecht",
    }
    data.update(overrides)
    return data


def add_second_site(organisation, name: str = "Magazijn") -> Site:
    site = Site(name=name, street="Havenstraat 1", postcode="3811 AA", city="Amersfoort",
                province=Province.UTRECHT)
    organisation.sites.append(site)
    db.session.commit()
    return site


# --- colleagues ---------------------------------------------------------------------------

def test_an_org_admin_sees_pending_and_active_colleagues_on_the_members_page(
    make_user, login_as
):
    admin = make_user(role=Role.ORG_ADMIN, name="Anna Admin")
    organisation = admin.organisation
    make_user(organisation=organisation, name="Piet Pending", status=UserStatus.PENDING)
    make_user(organisation=organisation, name="Mila Member")
    response = login_as(admin).get(members_url(organisation))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Approve Piet Pending" in html
    assert "Deactivate Mila Member" in html
    assert "Deactivate Anna Admin" not in html  # no button to deactivate yourself


def test_an_org_admin_approves_a_pending_colleague_who_is_emailed(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    organisation = admin.organisation
    colleague = make_user(organisation=organisation, status=UserStatus.PENDING,
                          name="Piet Pending")
    assert not can(colleague, Action.PARTICIPATE)

    response = login_as(admin).post(members_url(organisation, colleague, "approve"),
                                    follow_redirects=True)

    assert response.status_code == 200
    assert "Piet Pending has been approved and told by email." in response.get_data(as_text=True)
    assert reload(colleague).status is UserStatus.ACTIVE
    assert can(colleague, Action.PARTICIPATE)
    [event] = audit_events("user.approve")
    assert (event.actor_id, event.target_id, event.organisation_id) == \
        (admin.id, colleague.id, organisation.id)
    [mail] = outbox(template="account_approved")
    assert mail.recipient == colleague.email
    assert organisation.name in mail.body_text


def test_a_pending_colleague_sees_the_approval_banner_until_approved(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=admin.organisation, status=UserStatus.PENDING)
    colleague_client = login_as(colleague)
    assert PENDING_BANNER in colleague_client.get("/").get_data(as_text=True)

    login_as(admin).post(members_url(admin.organisation, colleague, "approve"))

    home = colleague_client.get("/")
    assert home.status_code == 200
    assert PENDING_BANNER not in home.get_data(as_text=True)


def test_approving_an_active_colleague_again_changes_nothing(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=admin.organisation)
    response = login_as(admin).post(members_url(admin.organisation, colleague, "approve"),
                                    follow_redirects=True)
    assert "Only accounts awaiting approval can be approved." in response.get_data(as_text=True)
    assert outbox(template="account_approved") == []
    assert audit_events("user.approve") == []


def test_deactivating_a_colleague_ends_their_sessions_and_reactivating_restores_login(
    make_user, login_as, app
):
    admin = make_user(role=Role.ORG_ADMIN)
    organisation = admin.organisation
    colleague = make_user(organisation=organisation, name="Mila Member")
    colleague_client = login_as(colleague)
    assert colleague_client.get("/account/").status_code == 200
    admin_client = login_as(admin)

    response = admin_client.post(members_url(organisation, colleague, "deactivate"),
                                 data={"reason": "Left the organisation", "confirmed": "yes"},
                                 follow_redirects=True)

    assert "Mila Member has been deactivated and logged out." in response.get_data(as_text=True)
    assert reload(colleague).status is UserStatus.DEACTIVATED
    [event] = audit_events("user.deactivate")
    assert event.reason == "Left the organisation"
    kicked_out = colleague_client.get("/account/")
    assert kicked_out.status_code == 302
    assert kicked_out.headers["Location"].startswith("/auth/login")
    refused = app.test_client().post(
        "/auth/login", data={"email": colleague.email, "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert refused.status_code != 302
    assert "This account has been deactivated." in refused.get_data(as_text=True)

    response = admin_client.post(members_url(organisation, colleague, "reactivate"),
                                 follow_redirects=True)

    assert "Mila Member has been reactivated." in response.get_data(as_text=True)
    assert reload(colleague).status is UserStatus.ACTIVE
    assert audit_events("user.reactivate")
    assert colleague_client.get("/account/").status_code == 302  # the old session stays ended
    assert login_as(colleague).get("/account/").status_code == 200


def test_an_org_admin_refuses_a_pending_colleague(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=admin.organisation, status=UserStatus.PENDING,
                          name="Piet Pending")
    response = login_as(admin).post(members_url(admin.organisation, colleague, "deactivate"),
                                    data={"confirmed": "yes"}, follow_redirects=True)
    assert "Piet Pending has been deactivated and logged out." in response.get_data(as_text=True)
    assert reload(colleague).status is UserStatus.DEACTIVATED
    assert outbox(template="account_approved") == []


def test_an_org_admin_cannot_deactivate_themselves(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    make_user(organisation=admin.organisation, role=Role.ORG_ADMIN)  # not the last admin
    admin_client = login_as(admin)
    response = admin_client.post(members_url(admin.organisation, admin, "deactivate"),
                                 data={"confirmed": "yes"}, follow_redirects=True)
    assert response.status_code == 200
    assert "You cannot deactivate your own account here." in response.get_data(as_text=True)
    assert reload(admin).status is UserStatus.ACTIVE
    assert audit_events("user.deactivate") == []
    assert admin_client.get("/account/").status_code == 200  # still logged in


def test_the_last_org_admin_cannot_be_made_a_member(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    make_user(organisation=admin.organisation)  # a plain colleague does not count
    response = login_as(admin).post(members_url(admin.organisation, admin, "role"),
                                    data={"role": "member"}, follow_redirects=True)
    assert response.status_code == 200
    assert LAST_ADMIN in response.get_data(as_text=True)
    assert reload(admin).role is Role.ORG_ADMIN
    assert audit_events("user.role.member") == []


def test_a_platform_admin_cannot_make_the_last_org_admin_a_member_either(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    platform_admin = make_user(role=Role.PLATFORM_ADMIN)
    response = login_as(platform_admin).post(members_url(admin.organisation, admin, "role"),
                                             data={"role": "member"}, follow_redirects=True)
    assert LAST_ADMIN in response.get_data(as_text=True)
    assert reload(admin).role is Role.ORG_ADMIN


def test_an_org_admin_makes_a_colleague_admin_and_back(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    organisation = admin.organisation
    colleague = make_user(organisation=organisation, name="Mila Member")
    colleague_client = login_as(colleague)
    assert colleague_client.get(members_url(organisation)).status_code == 403
    admin_client = login_as(admin)

    response = admin_client.post(members_url(organisation, colleague, "role"),
                                 data={"role": "org_admin"}, follow_redirects=True)

    assert "The role of Mila Member has been changed." in response.get_data(as_text=True)
    assert reload(colleague).role is Role.ORG_ADMIN
    assert audit_events("user.role.org_admin")
    assert colleague_client.get(members_url(organisation)).status_code == 200

    response = admin_client.post(members_url(organisation, colleague, "role"),
                                 data={"role": "member"}, follow_redirects=True)

    assert "The role of Mila Member has been changed." in response.get_data(as_text=True)
    assert reload(colleague).role is Role.MEMBER
    assert audit_events("user.role.member")
    assert colleague_client.get(members_url(organisation)).status_code == 403


def test_with_two_admins_one_can_step_down(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    make_user(organisation=admin.organisation, role=Role.ORG_ADMIN)
    admin_client = login_as(admin)
    response = admin_client.post(members_url(admin.organisation, admin, "role"),
                                 data={"role": "member"})
    assert response.status_code == 302
    assert reload(admin).role is Role.MEMBER
    assert admin_client.get(members_url(admin.organisation)).status_code == 403


def test_an_org_admin_cannot_make_anyone_platform_admin(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=admin.organisation)
    response = login_as(admin).post(members_url(admin.organisation, colleague, "role"),
                                    data={"role": "platform_admin"})
    assert response.status_code == 400
    assert reload(colleague).role is Role.MEMBER


def test_a_pending_colleague_cannot_be_made_admin_before_approval(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=admin.organisation, status=UserStatus.PENDING)
    response = login_as(admin).post(members_url(admin.organisation, colleague, "role"),
                                    data={"role": "org_admin"}, follow_redirects=True)
    assert "Approve or reactivate this account first." in response.get_data(as_text=True)
    assert reload(colleague).role is Role.MEMBER


def test_an_org_admin_cannot_deactivate_a_platform_admin_linked_to_their_organisation(
    make_user, login_as
):
    admin = make_user(role=Role.ORG_ADMIN)
    staff = make_user(role=Role.PLATFORM_ADMIN, organisation=admin.organisation)
    staff_client = login_as(staff)
    login_as(admin).post(members_url(admin.organisation, staff, "deactivate"),
                         data={"confirmed": "yes"})
    assert reload(staff).status is UserStatus.ACTIVE
    assert staff_client.get("/admin/").status_code == 200


# --- sites --------------------------------------------------------------------------------

def test_an_org_admin_adds_a_site_with_the_postcode_normalised(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    organisation = admin.organisation
    admin_client = login_as(admin)
    form_page = admin_client.get(sites_url(organisation, "/new"))
    assert form_page.status_code == 200
    assert 'name="postcode"' in form_page.get_data(as_text=True)

    response = admin_client.post(sites_url(organisation, "/new"), data=site_form(),
                                 follow_redirects=True)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The site has been added." in html
    assert "Havenstraat 12, 1234 AB Amersfoort" in html
    site = db.session.scalar(select(Site).where(Site.name == "Magazijn Noord"))
    assert site is not None
    assert (site.organisation_id, site.postcode, site.province, site.active) == \
        (organisation.id, "1234 AB", Province.UTRECHT, True)
    assert audit_events("site.add")[0].target_id == site.id


def test_an_invalid_postcode_shows_the_form_again_with_what_was_typed(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    organisation = admin.organisation
    response = login_as(admin).post(sites_url(organisation, "/new"),
                                    data=site_form(postcode="12345"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter a Dutch postcode such as 1234 AB." in html
    assert 'value="Magazijn Noord"' in html
    assert 'value="Havenstraat 12"' in html
    assert 'value="12345"' in html
    assert 'value="Amersfoort"' in html
    assert '<option selected value="utrecht">' in html
    assert len(reload(organisation).sites) == 1


def test_a_site_without_a_province_is_refused(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    response = login_as(admin).post(sites_url(admin.organisation, "/new"),
                                    data=site_form(province=""))
    assert response.status_code == 422
    assert "Choose a province." in response.get_data(as_text=True)
    assert len(reload(admin.organisation).sites) == 1


def test_an_org_admin_edits_a_site(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    organisation = admin.organisation
    site = organisation.sites[0]
    admin_client = login_as(admin)
    form_page = admin_client.get(sites_url(organisation, f"/{site.id}/edit"))
    assert form_page.status_code == 200
    assert f'value="{site.street}"' in form_page.get_data(as_text=True)

    response = admin_client.post(
        sites_url(organisation, f"/{site.id}/edit"),
        data=site_form(site_name="Hoofdgebouw", street="Nieuwe  Weg 3", postcode=" 9711ZZ ",
                       city="Groningen", province="groningen"),
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "The site has been saved." in response.get_data(as_text=True)
    site = reload(site)
    assert (site.name, site.street, site.postcode, site.city, site.province) == \
        ("Hoofdgebouw", "Nieuwe Weg 3", "9711 ZZ", "Groningen", Province.GRONINGEN)
    assert audit_events("site.update")[0].target_id == site.id


def test_editing_a_site_with_a_bad_postcode_keeps_the_old_address(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    site = admin.organisation.sites[0]
    response = login_as(admin).post(sites_url(admin.organisation, f"/{site.id}/edit"),
                                    data=site_form(postcode="AB 1234"))
    assert response.status_code == 422
    assert "Enter a Dutch postcode such as 1234 AB." in response.get_data(as_text=True)
    assert reload(site).postcode == "3511 AB"
    assert reload(site).name == "Hoofdlocatie"


def test_the_last_active_site_cannot_be_archived(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    site = admin.organisation.sites[0]
    response = login_as(admin).post(sites_url(admin.organisation, f"/{site.id}/archive"),
                                    follow_redirects=True)
    assert response.status_code == 200
    assert "An organisation needs at least one site. Add another one first." in \
        response.get_data(as_text=True)
    assert reload(site).active is True
    assert audit_events("site.archive") == []


def test_one_of_two_sites_can_be_archived_and_restored(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    organisation = admin.organisation
    second = add_second_site(organisation, name="Magazijn")
    admin_client = login_as(admin)

    response = admin_client.post(sites_url(organisation, f"/{second.id}/archive"),
                                 follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "The site has been archived." in html
    assert "Restore Magazijn" in html
    assert reload(second).active is False
    assert audit_events("site.archive")[0].target_id == second.id
    # The remaining site is now the last active one.
    first = organisation.sites[0] if organisation.sites[0].id != second.id \
        else organisation.sites[1]
    response = admin_client.post(sites_url(organisation, f"/{first.id}/archive"),
                                 follow_redirects=True)
    assert "An organisation needs at least one site." in response.get_data(as_text=True)
    assert reload(first).active is True

    response = admin_client.post(sites_url(organisation, f"/{second.id}/restore"),
                                 follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "The site has been restored." in html
    assert "Archive Magazijn" in html
    assert reload(second).active is True
    assert audit_events("site.restore")[0].target_id == second.id


# --- who may manage which organisation ----------------------------------------------------

def test_a_plain_member_cannot_manage_their_organisation(make_user, login_as):
    member = make_user()
    organisation = member.organisation
    colleague = make_user(organisation=organisation, status=UserStatus.PENDING)
    member_client = login_as(member)
    assert member_client.get(members_url(organisation)).status_code == 403
    assert member_client.get(sites_url(organisation)).status_code == 403
    assert member_client.post(members_url(organisation, colleague, "approve")).status_code == 403
    response = member_client.post(sites_url(organisation, "/new"), data=site_form())
    assert response.status_code == 403
    assert reload(colleague).status is UserStatus.PENDING
    assert len(reload(organisation).sites) == 1


def test_an_admin_of_another_organisation_gets_403(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    outsider = make_user(role=Role.ORG_ADMIN)
    colleague = make_user(organisation=admin.organisation, status=UserStatus.PENDING)
    site = admin.organisation.sites[0]
    outsider_client = login_as(outsider)
    assert outsider_client.get(members_url(admin.organisation)).status_code == 403
    assert outsider_client.get(sites_url(admin.organisation)).status_code == 403
    response = outsider_client.post(members_url(admin.organisation, colleague, "approve"))
    assert response.status_code == 403
    response = outsider_client.post(sites_url(admin.organisation, f"/{site.id}/edit"),
                                    data=site_form())
    assert response.status_code == 403
    assert reload(colleague).status is UserStatus.PENDING
    assert reload(site).name == "Hoofdlocatie"


def test_ids_of_another_organisation_in_your_own_urls_give_404(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    stranger = make_user(status=UserStatus.PENDING)
    foreign_site = stranger.organisation.sites[0]
    admin_client = login_as(admin)
    own = admin.organisation
    assert admin_client.post(members_url(own, stranger, "approve")).status_code == 404
    assert admin_client.post(members_url(own, stranger, "deactivate")).status_code == 404
    assert admin_client.post(members_url(own, stranger, "role"),
                             data={"role": "org_admin"}).status_code == 404
    assert admin_client.get(sites_url(own, f"/{foreign_site.id}/edit")).status_code == 404
    assert admin_client.post(sites_url(own, f"/{foreign_site.id}/edit"),
                             data=site_form()).status_code == 404
    assert admin_client.post(sites_url(own, f"/{foreign_site.id}/archive")).status_code == 404
    assert reload(stranger).status is UserStatus.PENDING
    assert reload(stranger).role is Role.MEMBER
    assert reload(foreign_site).name == "Hoofdlocatie"
    assert reload(foreign_site).active is True
    assert outbox(template="account_approved") == []


def test_my_organisation_leads_an_org_admin_to_their_colleagues(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    response = login_as(admin).get("/organisations/mine")
    assert response.status_code == 302
    assert response.headers["Location"] == members_url(admin.organisation)


def test_the_home_page_links_org_admins_to_their_organisation(make_user, login_as):
    admin = make_user(role=Role.ORG_ADMIN)
    member = make_user(organisation=admin.organisation)
    assert members_url(admin.organisation) in login_as(admin).get("/").get_data(as_text=True)
    assert members_url(admin.organisation) not in login_as(member).get("/").get_data(as_text=True)
