"""The sign-off step (issue 20): a medical-technology colleague of the claimant's organisation
approves a claim for a medical device, and only then does the giver hear of it, or refuses it
with a reason, and the giver never does.

awaiting_sign_off → requested (approved: the giving side gets the usual claim_received) or
not_signed_off (refused; the claimant is told why). The claimant may cancel meanwhile and
housekeeping expires what waits too long (services/housekeeping); who approves and the
settings are in services/medical_technology.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask_babel import gettext as _

from ..extensions import db
from ..models import Claim, ClaimStatus, ListingStatus, User
from ..models.base import utcnow
from ..models.states import transition_update
from ..security import Action, require
from ..unit_of_work import atomic
from .claims import claim_email_context, mail_giving_side
from .errors import DomainError
from .mail import queue_email
from .medical_technology import sign_off_context

if TYPE_CHECKING:
    from sqlalchemy import CursorResult

MAX_REASON_LENGTH = 1000


def _answer(claim: Claim, to: ClaimStatus, **values: object) -> bool:
    """Move the waiting claim to `to` as the database sees it; False when it waits no more."""
    result = cast("CursorResult[Any]", db.session.execute(transition_update(
        Claim, to, Claim.id == claim.id, only_from=ClaimStatus.AWAITING_SIGN_OFF, **values)))
    if result.rowcount != 1:
        return False
    db.session.refresh(claim)
    return True


def _refusal() -> str:
    return _("Only a colleague of medical technology of the claiming organisation can approve "
             "this claim.")


@atomic
def sign_off_claim(actor: User, claim: Claim) -> None:
    """Approve: the claim goes to the giver, who is emailed as for any new claim; the claimant
    is told. DomainError when it waits no more or the listing is gone."""
    require(actor, Action.SIGN_OFF_CLAIM, claim, _refusal())
    if claim.status is not ClaimStatus.AWAITING_SIGN_OFF:
        raise DomainError(_("This claim has been answered already."))
    if claim.listing.status is not ListingStatus.PUBLISHED:
        raise DomainError(_("The listing is no longer on offer."))
    if not _answer(claim, ClaimStatus.REQUESTED, signed_off_by_id=actor.id,
                   signed_off_at=utcnow()):
        raise DomainError(_("This claim has been answered already."))
    context = claim_email_context(claim)
    if claim.claimant is not None:
        queue_email("claim_signed_off", claim.claimant, **context, approver=actor.name)
    mail_giving_side("claim_received", context)


@atomic
def refuse_sign_off(actor: User, claim: Claim, reason: str) -> None:
    """Refuse, with a reason for the claimant; the giver never hears of the claim.
    DomainError(field='reason') without a reason, or when it waits no more."""
    require(actor, Action.SIGN_OFF_CLAIM, claim, _refusal())
    if claim.status is not ClaimStatus.AWAITING_SIGN_OFF:
        raise DomainError(_("This claim has been answered already."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Write why, for your colleague who asked."), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(_("Keep the message under %(max)d characters.",
                            max=MAX_REASON_LENGTH), field="reason")
    now = utcnow()
    if not _answer(claim, ClaimStatus.NOT_SIGNED_OFF, signed_off_by_id=actor.id,
                   signed_off_at=now, closed_at=now, sign_off_note=reason):
        raise DomainError(_("This claim has been answered already."))
    if claim.claimant is not None:
        queue_email("claim_not_signed_off", claim.claimant, **sign_off_context(claim),
                    approver=actor.name, note=reason)
