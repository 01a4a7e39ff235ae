"""Managing people: approvals and deactivation by organisation admins (and platform admins),
roles set by organisation admins for colleagues and by platform admins for anyone."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ...extensions import db
from ...models import Organisation, OrganisationStatus, Role, User, UserStatus
from ...models.states import move
from ...security import Action, can, require
from ...unit_of_work import atomic
from .. import audit
from ..errors import DomainError, PermissionDenied
from ..mail import queue_email
from ..organisations import organisation_admins
from ..urls import external_url
from .sessions import end_all_sessions

# --- approvals by organisation admins (and platform admins) ---------------------------------


def _require_manager(actor: User, member: User) -> Organisation | None:
    """The member's organisation, when `actor` may manage its people; accounts without an
    organisation (platform staff) are managed by platform admins only."""
    require(actor, Action.MANAGE_MEMBER, member,
            _("Only platform admins can change platform admin accounts.")
            if member.is_platform_admin else None)
    return member.organisation


@atomic
def approve_member(actor: User, member: User) -> None:
    _require_manager(actor, member)
    if member.status is not UserStatus.PENDING:
        raise DomainError(_("Only accounts awaiting approval can be approved."))
    _let_in(actor, member, "user.approve")


def _let_in(actor: User, member: User, event: str) -> None:
    """Make the account active, record it, and tell its owner they can log in."""
    move(member, UserStatus.ACTIVE)
    audit.record(actor, event, member)
    queue_email("account_approved", member, organisation=_organisation_name(member),
                login_url=external_url("auth.login"))


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


@atomic
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


@atomic
def reactivate_member(actor: User, member: User) -> None:
    _require_manager(actor, member)
    if member.status is not UserStatus.DEACTIVATED or member.is_deleted:
        raise DomainError(_("Only deactivated accounts can be reactivated."))
    _let_in(actor, member, "user.reactivate")


@atomic
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


# --- roles set by platform admins ----------------------------------------------------------

def active_platform_admin_count() -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.role == Role.PLATFORM_ADMIN, User.status == UserStatus.ACTIVE)) or 0


@atomic
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
