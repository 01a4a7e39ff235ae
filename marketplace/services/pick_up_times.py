"""Moving an agreed pick-up: one side proposes a new day and window, the other agrees (the
pick-up moves, the claimant gets the updated calendar file) or not (the old time stays).

The claim stays accepted throughout: the proposal is a few fields on it, open until answered
(a new proposal replaces an open one).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _

from ..localtime import local_time, local_today
from ..models import Claim, ClaimStatus, User
from ..security import Action, is_giver, require
from ..unit_of_work import atomic
from . import opening_hours, pick_up_calendar
from .claims import MAX_PICKUP_DAYS_AHEAD, claim_email_context, mail_giving_side
from .errors import DomainError
from .mail import queue_email


@atomic
def propose_pickup_time(actor: User, claim: Claim, day: date | None, pickup_from: str | None,
                        pickup_until: str | None) -> None:
    """Propose `day` from `pickup_from` until `pickup_until` (HH:MM, the platform's time) for
    an accepted claim; the other side is emailed. Raises DomainError on the field at fault
    (the same rules as accepting) and when the claim is no longer accepted."""
    require(actor, Action.PROPOSE_PICKUP_TIME, claim,
            _("Only the giver and the claimant can agree on the pick-up time."))
    if claim.status is not ClaimStatus.ACCEPTED:
        raise DomainError(_("The pick-up time can only be changed while the claim is "
                            "accepted and not yet collected."))
    if day is None:
        raise DomainError(_("Choose a pick-up date."), field=opening_hours.DATE_FIELD)
    if not local_today() <= day <= local_today() + timedelta(days=MAX_PICKUP_DAYS_AHEAD):
        raise DomainError(_("Choose a date from today on, within four months."),
                          field=opening_hours.DATE_FIELD)
    starts, ends = opening_hours.pickup_window(claim.listing.site, day, pickup_from,
                                               pickup_until)
    if (starts, ends) == (claim.pickup_starts_at, claim.pickup_ends_at):
        raise DomainError(_("That is the time agreed already."),
                          field=opening_hours.STARTS_FIELD)
    giver_side = is_giver(actor, claim)
    claim.proposed_starts_at, claim.proposed_ends_at = starts, ends
    claim.proposed_by, claim.proposed_by_giver = actor, giver_side
    if not giver_side:
        mail_giving_side("claim_pickup_proposed", claim_email_context(claim), proposer=actor)
    elif claim.claimant is not None:
        queue_email("claim_pickup_proposed", claim.claimant, **claim_email_context(claim),
                    proposer=actor)


@atomic
def answer_pickup_time(actor: User, claim: Claim, agree: bool) -> None:
    """The other side agrees to the proposed time (the pick-up moves: a new SEQUENCE for the
    calendar file, and the day-before reminder is due again) or not (the agreed time stays).
    Both sides are emailed; the claimant's mail has the calendar file when the time moved."""
    require(actor, Action.ANSWER_PICKUP_TIME, claim,
            _("The other side answers this proposal."))
    if claim.status is not ClaimStatus.ACCEPTED or not claim.has_proposal:
        raise DomainError(_("There is no proposed time to answer any more."))
    if agree:
        starts = claim.proposed_starts_at
        claim.pickup_starts_at, claim.pickup_ends_at = starts, claim.proposed_ends_at
        claim.agreed_pickup_date = local_time(starts).date()  # type: ignore[arg-type]
        claim.pickup_sequence += 1
        claim.pickup_reminded_at = None
    claim.proposed_starts_at = claim.proposed_ends_at = None
    claim.proposed_by, claim.proposed_by_giver = None, None
    context = claim_email_context(claim)
    if claim.claimant is not None:
        queue_email("claim_pickup_answered", claim.claimant, **context, agreed=agree,
                    answered_by=actor, site=claim.listing.site,
                    attachments=[pick_up_calendar.calendar_attachment(claim)] if agree else None)
    mail_giving_side("claim_pickup_answered", context, agreed=agree, answered_by=actor,
                     site=claim.listing.site)
