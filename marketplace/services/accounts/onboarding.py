"""Accounts and organisations made by operators (the CLI), who vouch for them."""

from __future__ import annotations

import secrets

from flask_babel import gettext as _

from ...extensions import db
from ...models import (
    Language,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Role,
    User,
    UserStatus,
)
from ...models.base import utcnow
from ...unit_of_work import atomic
from ..errors import DomainError
from ..organisations import SiteDetails, find_organisation_by_name, new_organisation
from ..passwords import check_password_policy, hash_password
from .addresses import find_user_by_email, normalise_email
from .password_links import queue_password_link


@atomic
def create_account(
    email: str,
    *,
    name: str | None = None,
    password: str | None = None,
    role: Role | str = Role.MEMBER,
    organisation: Organisation | None = None,
    language: Language | str = Language.NL,
    check_policy: bool = True,
) -> User:
    """An active, confirmed account made by an operator; the operator vouches for the address.

    Without a password the account gets an unusable one and an email with a link to choose one.
    Raises DomainError when the address is taken or the password is weak.
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise DomainError(_("Enter a valid email address."), field="email")
    if find_user_by_email(email) is not None:
        raise DomainError(_("An account with this email address exists already."),
                          field="email")
    name = " ".join((name or email.split("@")[0]).split())
    if password is not None and check_policy:
        check_password_policy(password, [name, email])
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password or secrets.token_urlsafe(32)),
        role=Role(role),
        status=UserStatus.ACTIVE,
        organisation=organisation,
        language=Language(language),
        email_confirmed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    if password is None:
        queue_password_link(user, "reset_password")
    return user


def organisation_for_onboarding(name: str, kind: OrganisationKind | str,
                                first_site: SiteDetails | None) -> Organisation:
    """The named organisation, created active when it is new (bulk onboarding by operators)."""
    if not name.strip():
        raise DomainError(_("Enter the name of the organisation."), field="organisation_name")
    existing = find_organisation_by_name(name)
    if existing is not None:
        return existing
    if first_site is None:
        organisation = Organisation(name=name, kind=OrganisationKind(kind),
                                    status=OrganisationStatus.ACTIVE, approved_at=utcnow())
        db.session.add(organisation)
        return organisation
    return new_organisation(name, kind, first_site, status=OrganisationStatus.ACTIVE)
