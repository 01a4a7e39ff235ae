"""Signing up and confirming the email address, which asks for approval."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

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
from ...models.states import move
from ...unit_of_work import atomic, unit_of_work
from ..errors import DomainError, InvalidToken
from ..mail import queue_email
from ..organisations import SiteDetails, new_organisation, organisation_admins, platform_admins
from ..passwords import check_password_policy, hash_password
from ..tokens import TokenPurpose, make_token, read_token
from ..urls import external_url
from .addresses import find_user_by_email, normalise_email


@dataclass(frozen=True)
class NewOrganisationRequest:
    name: str
    kind: OrganisationKind | str
    first_site: SiteDetails
    kvk_number: str | None = None


class _AddressTaken(Exception):
    """Someone signed up with the address a moment ago (its unique index said so)."""

    def __init__(self, email: str) -> None:
        super().__init__(email)
        self.email = email


def sign_up(
    *,
    name: str,
    email: str,
    password: str,
    language: Language | str,
    organisation_id: int | None = None,
    new_organisation_request: NewOrganisationRequest | None = None,
) -> User | None:
    """Create an unconfirmed account and email a confirmation link.

    Joining an existing organisation makes a pending member; requesting a new organisation makes
    a pending organisation with this user as its admin. When the address has an account already,
    nothing is created and its owner is told by email instead, so the response reveals nothing
    (returns None). Raises DomainError for bad input.
    """
    try:
        return _sign_up(name=name, email=email, password=password, language=language,
                        organisation_id=organisation_id,
                        new_organisation_request=new_organisation_request)
    except _AddressTaken as taken:
        # Rolled back, a new organisation with it; the address's owner is told instead.
        with unit_of_work():
            existing = find_user_by_email(taken.email)
            if existing is None:
                raise taken.__cause__ or taken from None
            _tell_owner_of_sign_up_attempt(existing)
        return None


@atomic
def _sign_up(
    *,
    name: str,
    email: str,
    password: str,
    language: Language | str,
    organisation_id: int | None,
    new_organisation_request: NewOrganisationRequest | None,
) -> User | None:
    name = " ".join(name.split())
    email = normalise_email(email)
    if not name:
        raise DomainError(_("Enter your name."), field="name")
    organisation = _organisation_to_join(organisation_id, new_organisation_request)
    check_password_policy(password, _personal_words(name, email, organisation,
                                                    new_organisation_request))
    # Hashed before looking the address up: a known address must take as long as a new one,
    # or the time of the answer would tell which addresses have an account.
    password_hash = hash_password(password)

    # The organisation asked for is checked before the address too: a refusal of its details
    # must come whether or not the address has an account.
    with db.session.no_autoflush:
        if new_organisation_request is not None:
            organisation = _requested_organisation(new_organisation_request)
            role, status = Role.ORG_ADMIN, UserStatus.ACTIVE  # the organisation itself waits
        else:
            role, status = Role.MEMBER, UserStatus.PENDING
        existing = find_user_by_email(email)
    if existing is not None:
        if new_organisation_request is not None:
            db.session.expunge(organisation)  # the new organisation (and its site) is not made
        _tell_owner_of_sign_up_attempt(existing)
        return None
    user = User(name=name, email=email, password_hash=password_hash,
                language=Language(language), role=role, organisation=organisation)
    move(user, status)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError as error:
        raise _AddressTaken(email) from error
    _queue_confirmation(user)
    return user


def _organisation_to_join(organisation_id: int | None,
                          request: NewOrganisationRequest | None) -> Organisation | None:
    """The existing organisation chosen (None when a new one is asked for); DomainError when
    neither or both are given, or the one chosen does not take members."""
    if (organisation_id is None) == (request is None):
        raise DomainError(_("Choose your organisation, or ask for a new one."),
                          field="organisation")
    if organisation_id is None:
        return None
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or organisation.status is not OrganisationStatus.ACTIVE:
        raise DomainError(_("Choose an organisation from the list."), field="organisation")
    return organisation


def _personal_words(name: str, email: str, organisation: Organisation | None,
                    request: NewOrganisationRequest | None) -> list[str]:
    """What the password must not be made of."""
    words = [name, email, organisation.name if organisation else ""]
    if request is not None:
        words.append(request.name)
    return words


def _requested_organisation(request: NewOrganisationRequest) -> Organisation:
    return new_organisation(request.name, request.kind, request.first_site,
                            kvk_number=request.kvk_number)


def _tell_owner_of_sign_up_attempt(user: User) -> None:
    queue_email(
        "account_exists",
        user,
        login_url=external_url("auth.login"),
        reset_url=external_url("auth.forgot_password"),
    )


def _queue_confirmation(user: User) -> None:
    token = make_token(TokenPurpose.CONFIRM_EMAIL, {"u": user.id, "e": user.email})
    queue_email(
        "confirm_email",
        user,
        confirm_url=external_url("auth.confirm_email", token=token),
        hours=current_app.config["EMAIL_TOKEN_MAX_AGE"] // 3600,
    )


@atomic
def resend_confirmation(email: str) -> None:
    """Send a fresh confirmation link if the address has an unconfirmed account."""
    user = find_user_by_email(email)
    if user is not None and not user.email_confirmed and user.is_active:
        _queue_confirmation(user)


@atomic
def confirm_email(token: str) -> tuple[User, bool]:
    """Confirm the address in `token`; returns the user and whether this confirmed it just now.

    The first confirmation asks for approval: a pending member's organisation admins (or the
    platform admins, when the organisation has none) and, for a new organisation, the platform
    admins are emailed. Raises InvalidToken.
    """
    payload = read_token(TokenPurpose.CONFIRM_EMAIL, token,
                         current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload.get("u"))
    if user is None or user.email != payload.get("e"):
        raise InvalidToken(_("This link is not valid. Request a new one below."))
    if user.email_confirmed:
        return user, False
    user.email_confirmed_at = utcnow()
    _ask_for_approval(user)
    return user, True


def _ask_for_approval(user: User) -> None:
    """Email whoever approves the newly confirmed `user` (or the organisation it asked for)."""
    organisation = user.organisation
    if organisation is not None and organisation.status is OrganisationStatus.PENDING \
            and user.role is Role.ORG_ADMIN:
        for admin in platform_admins():
            queue_email(
                "organisation_to_approve", admin, organisation=organisation.name,
                requester=user, review_url=external_url("admin.organisations", status="pending"),
            )
    elif organisation is not None and user.status is UserStatus.PENDING:
        approvers = organisation_admins(organisation) or platform_admins()
        for admin in approvers:
            queue_email(
                "member_to_approve", admin, name=user.name, organisation=organisation.name,
                member=user,
                review_url=external_url("organisations.members", organisation_id=organisation.id),
            )
