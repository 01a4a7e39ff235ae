"""The receiver's medical technology (issue 20): who approves an organisation's claims for
medical devices, whether a claim needs it, asking them, and the two settings behind it.

Below services/claims.py (which asks here when a claim is made); the approving step itself,
which tells the giver, is above it in services/medical_sign_off.py.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import Claim, Listing, Organisation, User, UserStatus
from ..security import Action, is_medical_technology_of, require
from ..unit_of_work import atomic
from . import audit
from .errors import DomainError
from .mail import queue_email
from .urls import external_url


def approvers_of(organisation_id: int) -> list[User]:
    """The organisation's medical-technology colleagues in good standing, by name."""
    people = db.session.scalars(
        select(User).where(User.organisation_id == organisation_id, User.medical_technology,
                           User.status == UserStatus.ACTIVE)
        .order_by(User.name, User.id))
    return [user for user in people if is_medical_technology_of(user, organisation_id)]


def needs_sign_off(claimant: User, listing: Listing) -> bool:
    """A claim for a medical device by a member of an organisation that requires approval."""
    organisation = claimant.organisation
    return (listing.category is not None and listing.category.medical_device
            and organisation is not None and organisation.requires_medical_sign_off)


def sign_off_context(claim: Claim) -> dict[str, Any]:
    """What the sign-off emails say. No `claim` key: a reply to them would reach nobody (the
    giver has not heard of it; queue_email offers replies only on a claim's thread)."""
    return {"title": claim.listing.title, "listing": claim.listing,
            "organisation": claim.claimant_organisation.name,
            "giver_organisation": claim.listing.organisation.name,
            "claimant_name": claim.claimant.name if claim.claimant else "",
            "quantity": claim.listing.unit.quantity(claim.quantity),
            "claim_url": external_url("claims.show", claim_id=claim.id)}


def ask_for_sign_off(claim: Claim) -> None:
    """The new claim waits: its organisation's medical technology is emailed the link, the
    claimant told who has it now."""
    context = sign_off_context(claim)
    for approver in approvers_of(claim.claimant_organisation_id):
        if approver.id != claim.claimant_id:
            queue_email("claim_sign_off_requested", approver, **context)
    if claim.claimant is not None:
        queue_email("claim_sign_off_waiting", claim.claimant, **context)


@atomic
def set_medical_technology(actor: User, member: User, on: bool) -> None:
    """An organisation admin names a colleague one of its medical technology (or no longer)."""
    require(actor, Action.MANAGE_MEMBER, member)
    if member.organisation_id is None:
        raise DomainError(_("Only a member of an organisation can approve its claims."))
    if member.medical_technology is on:
        return
    member.medical_technology = on
    audit.record(actor, "user.medical_technology.on" if on else "user.medical_technology.off",
                 member)


@atomic
def set_requires_medical_sign_off(actor: User, organisation: Organisation, on: bool) -> None:
    """Whether the organisation's claims for medical devices wait for its medical technology;
    refused (DomainError) while nobody of it could approve them."""
    require(actor, Action.MANAGE_ORGANISATION, organisation)
    if organisation.requires_medical_sign_off is on:
        return
    if on and not approvers_of(organisation.id):
        raise DomainError(_("Mark at least one colleague as medical technology first, on the "
                            "colleagues page."), field="requires_medical_sign_off")
    organisation.requires_medical_sign_off = on
    audit.record(actor, "organisation.medical_sign_off.on" if on
                 else "organisation.medical_sign_off.off", organisation)
