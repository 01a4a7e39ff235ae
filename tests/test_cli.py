"""Operator commands: create-admin, create-user, seed-demo."""

from __future__ import annotations

import pytest
from flask_babel import gettext
from helpers import PASSWORD, link_in, outbox
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Organisation, OrganisationStatus, Role, User, UserStatus
from marketplace.services.accounts import find_user_by_email
from marketplace.services.demo import DEMO_PASSWORD

TOO_WEAK = ("This password is too common or too easy to guess. A few unrelated words together "
            "make a strong password that is easy to remember.")
TAKEN = "An account with this email address exists already."


def said(result, message: str) -> bool:
    """Whether the command printed `message`, in the language commands speak."""
    return f"Error: {gettext(message)}" in result.output


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def organisations_named(name: str) -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    ))


def logs_in(app, email: str, password: str) -> bool:
    with app.test_client().post("/auth/login",
                                data={"email": email, "password": password}) as response:
        return response.status_code == 302


# --- create-admin -------------------------------------------------------------------------

def test_create_admin_makes_an_active_confirmed_platform_admin_who_can_log_in(app, runner):
    result = runner.invoke(args=["create-admin", "Beheer@Example.ORG", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert "Created platform admin beheer@example.org." in result.output
    admin = find_user_by_email("beheer@example.org")
    assert admin is not None
    assert admin.email == "beheer@example.org"
    assert admin.role is Role.PLATFORM_ADMIN
    assert admin.status is UserStatus.ACTIVE
    assert admin.email_confirmed_at is not None
    assert admin.organisation is None
    assert logs_in(app, "beheer@example.org", PASSWORD)
    assert not logs_in(app, "beheer@example.org", PASSWORD + "x")


def test_create_admin_prompts_for_the_password_when_none_is_given(app, runner):
    result = runner.invoke(args=["create-admin", "beheer@example.org"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert PASSWORD not in result.output  # typed, not echoed
    assert find_user_by_email("beheer@example.org") is not None
    assert logs_in(app, "beheer@example.org", PASSWORD)


def test_create_admin_creates_nobody_when_the_typed_passwords_differ(app, runner):
    result = runner.invoke(args=["create-admin", "beheer@example.org"],
                           input=f"{PASSWORD}\n{PASSWORD}-typo\n")

    assert result.exit_code != 0
    assert "do not match" in result.output
    assert find_user_by_email("beheer@example.org") is None


def test_create_admin_refuses_a_weak_password(app, runner):
    result = runner.invoke(args=["create-admin", "beheer@example.org", "--password", "password1"])

    assert result.exit_code != 0
    assert said(result, TOO_WEAK)
    assert find_user_by_email("beheer@example.org") is None
    assert count(User) == 0


@pytest.mark.parametrize("address", ["not-an-address", "  ", "x" * 250 + "@example.org"])
def test_create_admin_refuses_an_invalid_address(app, runner, address):
    result = runner.invoke(args=["create-admin", address, "--password", PASSWORD])

    assert result.exit_code != 0
    assert said(result, "Enter a valid email address.")
    assert count(User) == 0


@pytest.mark.parametrize("address", ["taken@example.org", "Taken@EXAMPLE.org"])
def test_create_admin_refuses_an_address_that_has_an_account(app, runner, make_user, address):
    existing = make_user(email="taken@example.org")

    result = runner.invoke(args=["create-admin", address, "--password", PASSWORD])

    assert result.exit_code != 0
    assert said(result, TAKEN)
    assert count(User) == 1
    assert db.session.get(User, existing.id).role is Role.MEMBER


# --- create-user ----------------------------------------------------------------------------

def test_create_user_creates_a_new_organisation_active_with_the_user_in_it(app, runner):
    result = runner.invoke(args=["create-user", "Nina@Example.org", "--organisation",
                                 "Huisartsen Oost", "--role", "org_admin", "--password",
                                 PASSWORD])

    assert result.exit_code == 0, result.output
    assert "Created organisation Huisartsen Oost" in result.output
    [organisation] = organisations_named("Huisartsen Oost")
    assert "still needs a pick-up site" in result.output
    assert f"/organisations/{organisation.id}/sites/new" in result.output
    assert organisation.status is OrganisationStatus.ACTIVE
    assert organisation.approved_at is not None
    user = find_user_by_email("nina@example.org")
    assert user.email == "nina@example.org"
    assert user.organisation_id == organisation.id
    assert user.role is Role.ORG_ADMIN
    assert user.status is UserStatus.ACTIVE
    assert user.email_confirmed_at is not None
    assert logs_in(app, "nina@example.org", PASSWORD)


def test_create_user_joins_an_existing_organisation_whatever_the_case_of_its_name(app, runner):
    runner.invoke(args=["create-user", "nina@example.org", "--organisation", "Huisartsen Oost",
                        "--role", "org_admin", "--password", PASSWORD])

    result = runner.invoke(args=["create-user", "olaf@example.org", "--organisation",
                                 "huisartsen OOST", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert "Created organisation" not in result.output
    [organisation] = organisations_named("Huisartsen Oost")
    assert organisation.name == "Huisartsen Oost"
    user = find_user_by_email("olaf@example.org")
    assert user.organisation_id == organisation.id
    assert user.role is Role.MEMBER
    assert count(Organisation) == 1


def test_create_user_joins_an_organisation_made_through_the_app(app, runner, make_org):
    organisation = make_org(name="Zorggroep De Linde")

    result = runner.invoke(args=["create-user", "daan@example.org", "--organisation",
                                 "Zorggroep De Linde", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert find_user_by_email("daan@example.org").organisation_id == organisation.id
    assert count(Organisation) == 1


def test_create_user_joins_an_organisation_whose_name_was_typed_with_extra_spaces(app, runner):
    runner.invoke(args=["create-user", "nina@example.org", "--organisation", "Huisartsen Oost",
                        "--password", PASSWORD])

    result = runner.invoke(args=["create-user", "olaf@example.org", "--organisation",
                                 "Huisartsen   Oost", "--password", PASSWORD])

    assert result.exit_code == 0, repr(result.exception)
    [organisation] = organisations_named("Huisartsen Oost")
    assert find_user_by_email("olaf@example.org").organisation_id == organisation.id


def test_create_user_matches_organisation_names_ignoring_case_beyond_ascii(app, runner):
    runner.invoke(args=["create-user", "nina@example.org", "--organisation", "Zorggroep Één",
                        "--password", PASSWORD])

    result = runner.invoke(args=["create-user", "olaf@example.org", "--organisation",
                                 "zorggroep één", "--password", PASSWORD])

    assert result.exit_code == 0, repr(result.exception)
    assert "Created organisation" not in result.output
    assert count(Organisation) == 1


def test_create_user_refuses_a_blank_organisation_name(app, runner):
    result = runner.invoke(args=["create-user", "nina@example.org", "--organisation", "   ",
                                 "--password", PASSWORD])

    assert result.exit_code != 0
    assert count(Organisation) == 0
    assert count(User) == 0


def test_a_refused_create_user_leaves_no_new_organisation_behind(app, runner):
    result = runner.invoke(args=["create-user", "nina@example.org", "--organisation",
                                 "Huisartsen Oost", "--password", "password1"])

    assert result.exit_code != 0
    assert said(result, TOO_WEAK)
    assert count(Organisation) == 0
    assert count(User) == 0


def test_create_user_refuses_an_address_that_has_an_account(app, runner, make_user):
    make_user(email="taken@example.org")

    result = runner.invoke(args=["create-user", "TAKEN@example.org", "--organisation",
                                 "Huisartsen Oost", "--password", PASSWORD])

    assert result.exit_code != 0
    assert said(result, TAKEN)
    assert count(User) == 1
    assert organisations_named("Huisartsen Oost") == []


def test_create_user_without_a_password_emails_a_link_to_choose_one(app, runner):
    result = runner.invoke(args=["create-user", "piet@example.org", "--organisation",
                                 "Huisartsen Oost"])

    assert result.exit_code == 0, repr(result.exception)
    assert "a link to choose a password has been emailed" in result.output
    user = find_user_by_email("piet@example.org")
    assert user is not None
    [invitation] = outbox(template="reset_password", to="piet@example.org")
    assert invitation.recipient_user_id == user.id
    with app.test_client().get(link_in(invitation, "/auth/reset/")) as response:
        assert response.status_code == 200


def test_create_user_with_a_password_sends_no_email(app, runner):
    result = runner.invoke(args=["create-user", "piet@example.org", "--organisation",
                                 "Huisartsen Oost", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert "emailed" not in result.output
    assert outbox() == []


# --- seed-demo ----------------------------------------------------------------------------

def test_seed_demo_creates_demo_data_and_prints_the_logins(app, runner):
    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "records created" in result.output
    assert "admin@example.org" in result.output
    assert DEMO_PASSWORD in result.output
    assert count(User) > 1
    assert count(Organisation) > 1
    admin = find_user_by_email("admin@example.org")
    assert admin.role is Role.PLATFORM_ADMIN
    assert logs_in(app, "admin@example.org", DEMO_PASSWORD)
    assert outbox() == []  # demo accounts get no mail


def test_seed_demo_a_second_time_creates_nothing_and_says_so(app, runner):
    runner.invoke(args=["seed-demo"])
    users, organisations = count(User), count(Organisation)

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "present already" in result.output
    assert "records created" not in result.output
    assert "admin@example.org" in result.output
    assert (count(User), count(Organisation)) == (users, organisations)


def test_seed_demo_fills_in_only_what_is_missing(app, runner):
    runner.invoke(args=["seed-demo"])
    users, organisations = count(User), count(Organisation)
    db.session.delete(find_user_by_email("bram@rivierenland.example.org"))
    db.session.commit()

    result = runner.invoke(args=["seed-demo"])

    assert "Demo data: 1 records created" in result.output
    assert (count(User), count(Organisation)) == (users, organisations)
