"""Accounts: sign-up, email confirmation, login, password reset, profile, approvals."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Language,
    NotificationPreference,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Role,
    User,
    UserStatus,
)
from ..models.base import utcnow
from ..models.states import move
from ..security import Action, can, require
from . import audit
from .errors import DomainError, InvalidToken, PermissionDenied, WrongPassword
from .mail import queue_email
from .organisations import (
    SiteDetails,
    find_organisation_by_name,
    new_organisation,
    organisation_admins,
    platform_admins,
)
from .passwords import check_password_policy, hash_password, verify_password
from .tokens import TokenPurpose, make_token, read_token
from .urls import external_url


class EmailNotConfirmed(DomainError):
    status_code = 403


class InvalidCredentials(DomainError):
    status_code = 401


def normalise_email(email: str) -> str:
    """Addresses are unique ignoring case and surrounding space; we store them lower-cased."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


@dataclass(frozen=True)
class NewOrganisationRequest:
    name: str
    kind: OrganisationKind | str
    first_site: SiteDetails
    kvk_number: str | None = None


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
    name = " ".join(name.split())
    email = normalise_email(email)
    if not name:
        raise DomainError(_("Enter your name."), field="name")
    if (organisation_id is None) == (new_organisation_request is None):
        raise DomainError(_("Choose your organisation, or ask for a new one."),
                          field="organisation")
    organisation: Organisation | None = None
    if organisation_id is not None:
        organisation = db.session.get(Organisation, organisation_id)
        if organisation is None or organisation.status is not OrganisationStatus.ACTIVE:
            raise DomainError(_("Choose an organisation from the list."), field="organisation")
    personal_words = [name, email, organisation.name if organisation else ""]
    if new_organisation_request is not None:
        personal_words.append(new_organisation_request.name)
    check_password_policy(password, personal_words)
    # Hashed before looking the address up: a known address must take as long as a new one,
    # or the time of the answer would tell which addresses have an account.
    password_hash = hash_password(password)

    # The organisation asked for is checked before the address too: a refusal of its details
    # must come whether or not the address has an account.
    with db.session.no_autoflush:
        if new_organisation_request is not None:
            request = new_organisation_request
            organisation = new_organisation(request.name, request.kind, request.first_site,
                                            kvk_number=request.kvk_number)
            role, status = Role.ORG_ADMIN, UserStatus.ACTIVE  # the organisation itself waits
        else:
            role, status = Role.MEMBER, UserStatus.PENDING
        existing = find_user_by_email(email)
    if existing is not None:
        db.session.rollback()  # the new organisation, if any, is not made
        _tell_owner_of_sign_up_attempt(existing)  # reloaded after the rollback
        return None
    user = User(
        name=name,
        email=email,
        password_hash=password_hash,
        language=Language(language),
        role=role,
        organisation=organisation,
    )
    move(user, status)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # Someone signed up with the same address a moment ago.
        db.session.rollback()
        existing = find_user_by_email(email)
        if existing is None:
            raise
        _tell_owner_of_sign_up_attempt(existing)
        return None
    _queue_confirmation(user)
    db.session.commit()
    return user


def _tell_owner_of_sign_up_attempt(user: User) -> None:
    queue_email(
        "account_exists",
        user,
        login_url=external_url("auth.login"),
        reset_url=external_url("auth.forgot_password"),
    )
    db.session.commit()


def _queue_confirmation(user: User) -> None:
    token = make_token(TokenPurpose.CONFIRM_EMAIL, {"u": user.id, "e": user.email})
    queue_email(
        "confirm_email",
        user,
        confirm_url=external_url("auth.confirm_email", token=token),
        hours=current_app.config["EMAIL_TOKEN_MAX_AGE"] // 3600,
    )


def resend_confirmation(email: str) -> None:
    """Send a fresh confirmation link if the address has an unconfirmed account."""
    user = find_user_by_email(email)
    if user is not None and not user.email_confirmed and user.is_active:
        _queue_confirmation(user)
        db.session.commit()


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
    db.session.commit()
    return user, True


def authenticate(email: str, password: str) -> User:
    """The user with these credentials, or DomainError (EmailNotConfirmed when unconfirmed)."""
    user = find_user_by_email(email)
    # The hash is checked even for an unknown address, so timing does not tell which exist.
    matches = verify_password(user.password_hash if user else None, password)
    if user is None or not matches:
        raise InvalidCredentials(_("The email address or password is incorrect."),
                                 field="password")
    if user.status is UserStatus.DEACTIVATED:
        raise PermissionDenied(
            _("This account has been deactivated. Ask an administrator of your organisation.")
        )
    if not user.email_confirmed:
        raise EmailNotConfirmed(
            _("Confirm your email address first, with the link we emailed you."),
            field="email",
        )
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie of `user` (see User.get_id)."""
    user.session_version += 1


def log_out(user: User) -> None:
    end_all_sessions(user)
    db.session.commit()


def _password_fingerprint(user: User) -> str:
    # Part of the reset token: once the password changes, the token no longer matches.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email: str) -> None:
    """Email a reset link when the address has an active account; silent otherwise."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        return
    _queue_password_link(user, "reset_password")
    db.session.commit()


def _queue_password_link(user: User, template: str) -> None:
    token = make_token(TokenPurpose.RESET_PASSWORD,
                       {"u": user.id, "p": _password_fingerprint(user)})
    queue_email(
        template,
        user,
        reset_url=external_url("auth.reset_password", token=token),
        hours=max(1, current_app.config["RESET_TOKEN_MAX_AGE"] // 3600),
    )


def user_for_reset_token(token: str) -> User:
    payload = read_token(TokenPurpose.RESET_PASSWORD, token,
                         current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload.get("u"))
    if user is None or not user.is_active or payload.get("p") != _password_fingerprint(user):
        raise InvalidToken(_("This link has been used already or is no longer valid. "
                             "Request a new one below."))
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from an emailed link; ends all sessions. Raises InvalidToken."""
    user = user_for_reset_token(token)
    check_password_policy(new_password, [user.name, user.email])
    _set_password(user, new_password)
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()  # the link proved the address
    db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword(_("Your current password is not right."), field="current_password")
    try:
        check_password_policy(new_password, [user.name, user.email])
    except DomainError as error:
        raise DomainError(error.message, field="new_password") from error
    _set_password(user, new_password)
    db.session.commit()


def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    end_all_sessions(user)
    queue_email("password_changed", user, reset_url=external_url("auth.forgot_password"))


def update_profile(
    user: User,
    *,
    name: str,
    phone: str | None,
    language: Language | str,
    notifications: NotificationPreference | str,
    email_kinds: list[str] | None = None,
) -> None:
    name = " ".join(name.split())
    if not name:
        raise DomainError(_("Enter your name."), field="name")
    user.name = name
    user.phone = (phone or "").strip() or None
    user.language = Language(language)
    user.notifications = NotificationPreference(notifications)
    if email_kinds is not None:
        _set_email_kinds(user, email_kinds)
    db.session.commit()


def _set_email_kinds(user: User, wanted_kinds: list[str]) -> None:
    from .mail import email_kinds_for

    offered = set(email_kinds_for(user))
    muted = (user.muted_kinds - offered) | (offered - set(wanted_kinds))
    user.muted_email_kinds = ",".join(sorted(muted))


def set_language(user: User, language: Language | str) -> None:
    user.language = Language(language)
    db.session.commit()


def user_for_preferences_token(token: str) -> User:
    # No expiry: the link in an old email must still let its reader unsubscribe.
    payload = read_token(TokenPurpose.PREFERENCES, token, max_age=None)
    user = db.session.get(User, payload.get("u"))
    if user is None:
        raise InvalidToken(_("This link is not valid."))
    return user


def set_notification_preference(user: User, preference: NotificationPreference | str,
                                email_kinds: list[str] | None = None) -> None:
    user.notifications = NotificationPreference(preference)
    if email_kinds is not None:
        _set_email_kinds(user, email_kinds)
    db.session.commit()


# --- approvals by organisation admins (and platform admins) ---------------------------------

def _require_manager(actor: User, member: User) -> Organisation | None:
    """The member's organisation, when `actor` may manage its people; accounts without an
    organisation (platform staff) are managed by platform admins only."""
    require(actor, Action.MANAGE_MEMBER, member,
            _("Only platform admins can change platform admin accounts.")
            if member.is_platform_admin else None)
    return member.organisation


def approve_member(actor: User, member: User) -> None:
    _require_manager(actor, member)
    if member.status is not UserStatus.PENDING:
        raise DomainError(_("Only accounts awaiting approval can be approved."))
    move(member, UserStatus.ACTIVE)
    audit.record(actor, "user.approve", member)
    queue_email("account_approved", member, organisation=_organisation_name(member),
                login_url=external_url("auth.login"))
    db.session.commit()


def _organisation_name(member: User) -> str:
    # Platform staff may have no organisation: their account is for the marketplace itself.
    return member.organisation.name if member.organisation else "Surplus Marketplace"


def _is_last_org_admin(member: User) -> bool:
    organisation = member.organisation
    return (
        member.role is Role.ORG_ADMIN
        and organisation is not None
        and all(admin.id == member.id for admin in organisation_admins(organisation))
    )


def deactivate_member(actor: User, member: User, reason: str | None = None) -> None:
    organisation = _require_manager(actor, member)
    if member.id == actor.id:
        raise DomainError(_("You cannot deactivate your own account here."))
    if member.status is UserStatus.DEACTIVATED:
        raise DomainError(_("This account is deactivated already."))
    if _is_last_org_admin(member) and organisation is not None \
            and organisation.status is OrganisationStatus.ACTIVE \
            and not actor.is_platform_admin:
        raise DomainError(_("Make a colleague organisation admin first."))
    move(member, UserStatus.DEACTIVATED)
    end_all_sessions(member)
    audit.record(actor, "user.deactivate", member, reason=(reason or "").strip() or None)
    db.session.commit()


def reactivate_member(actor: User, member: User) -> None:
    _require_manager(actor, member)
    if member.status is not UserStatus.DEACTIVATED or member.is_deleted:
        raise DomainError(_("Only deactivated accounts can be reactivated."))
    move(member, UserStatus.ACTIVE)
    audit.record(actor, "user.reactivate", member)
    queue_email("account_approved", member, organisation=_organisation_name(member),
                login_url=external_url("auth.login"))
    db.session.commit()


def set_member_role(actor: User, member: User, role: Role | str) -> None:
    """Organisation admins make colleagues admin or member; never platform admin."""
    _require_manager(actor, member)
    role = Role(role)
    if role is Role.PLATFORM_ADMIN or member.role is Role.PLATFORM_ADMIN:
        raise PermissionDenied(_("Only platform admins can change platform admin roles."))
    if role is member.role:
        return
    if role is Role.MEMBER and _is_last_org_admin(member):
        raise DomainError(_("Make a colleague organisation admin first."))
    if member.status is not UserStatus.ACTIVE:
        raise DomainError(_("Approve or reactivate this account first."))
    member.role = role
    audit.record(actor, f"user.role.{role.value}", member)
    db.session.commit()


# --- roles set by platform admins ----------------------------------------------------------

def active_platform_admin_count() -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.role == Role.PLATFORM_ADMIN, User.status == UserStatus.ACTIVE)) or 0


def set_role(actor: User, user: User, role: Role | str) -> None:
    """Platform admins make anyone member, organisation admin or platform admin.

    Refused (DomainError) for an unknown role, an unchanged role, a change of one's own role,
    removing the last active platform admin, an account that is not active, and making
    someone without an organisation a member or organisation admin. PermissionDenied for
    everyone but platform admins.
    """
    if not can(actor, Action.ADMINISTER_PLATFORM):
        raise PermissionDenied(_("You are not allowed to do that."))
    try:
        role = Role(role)
    except ValueError as error:
        raise DomainError(_("Choose a role from the list."), field="role") from error
    if role is user.role:
        raise DomainError(_("%(name)s is %(role)s already.", name=user.name, role=role.label),
                          field="role")
    if user.is_platform_admin and user.status is UserStatus.ACTIVE \
            and active_platform_admin_count() <= 1:
        raise DomainError(_("Make someone else platform admin first: there must always be "
                            "one."), field="role")
    if user.id == actor.id:
        raise DomainError(_("You cannot change your own role. Ask another platform admin."),
                          field="role")
    if user.status is not UserStatus.ACTIVE:
        raise DomainError(_("Approve or reactivate this account first."), field="role")
    if role is not Role.PLATFORM_ADMIN and user.organisation is None:
        raise DomainError(_("This account has no organisation, so it can only be a platform "
                            "admin."), field="role")
    user.role = role
    audit.record(actor, f"user.role.{role.value}", user)
    db.session.commit()


# --- accounts made by operators (CLI) ------------------------------------------------------

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
        _queue_password_link(user, "reset_password")
    db.session.commit()
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
