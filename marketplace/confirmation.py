"""A confirmation step before what cannot be undone (the GOV.UK pattern): a page that names the
consequence, then a POST from it. It works without JavaScript: GET shows the page, and so does a
POST without the page's `confirmed` field (the old one-tap buttons post that way)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import HiddenField

from .models import Claim, ClaimStatus, Listing, User
from .services.claim_overview import open_claims_on
from .web import render_form

CONFIRMED = "yes"


class ConfirmStepForm(FlaskForm):
    """The confirmation page's form. `confirmed` has no default: WTForms would keep a default
    for a POST that lacks the field, and act on a tap that never saw the page."""

    confirmed = HiddenField()


@dataclass(frozen=True)
class Confirmation:
    title: str  # a question naming the act: "Withdraw “12 rollators”?"
    consequences: list[str]  # what happens, who is told, with the counts
    button: str  # "Yes, withdraw it"
    back_url: str  # where "No, go back" leads


def confirmed(form: ConfirmStepForm) -> bool:
    """Whether this request is the POST from the confirmation page (with a valid token)."""
    return form.validate_on_submit() and form.confirmed.data == CONFIRMED


def confirmation_page(form: ConfirmStepForm, confirmation: Confirmation) -> tuple[str, int]:
    """The page that names the consequence; its button posts back to the same address."""
    return render_form("confirm.html", form=form, confirmation=confirmation,
                       confirmed_value=CONFIRMED)


# --- the steps ---------------------------------------------------------------------------------

def withdraw_confirmation(listing: Listing) -> Confirmation:
    """Withdrawing a listing closes its waiting claims and tells their claimants."""
    claims = open_claims_on(listing)
    consequences = [_("Nobody can find or claim it any more. You can offer it again later.")]
    if claims.waiting:
        consequences.append(ngettext(
            "%(num)d claimant is told it is gone, and their claim is closed.",
            "%(num)d claimants are told it is gone, and their claims are closed.",
            claims.waiting))
    else:
        consequences.append(_("Nobody is waiting for it: nobody needs to be told."))
    if claims.accepted:
        consequences.append(ngettext(
            "%(num)d accepted claim stays: its hand-over goes ahead.",
            "%(num)d accepted claims stay: their hand-overs go ahead.", claims.accepted))
    return Confirmation(
        title=_("Withdraw “%(title)s”?", title=listing.title), consequences=consequences,
        button=_("Yes, withdraw it"),
        back_url=url_for("listings.show", listing_id=listing.id))


def cancel_claim_confirmation(claim: Claim) -> Confirmation:
    """Cancelling a claim gives back what was reserved and tells the giver."""
    if claim.status is ClaimStatus.ACCEPTED:
        reserved = ngettext(
            "The %(num)d item reserved for you goes back to the listing, for others to claim.",
            "The %(num)d items reserved for you go back to the listing, for others to claim.",
            claim.quantity)
    else:
        reserved = _("Nothing was reserved for you yet: your request for %(num)d is withdrawn.",
                     num=claim.quantity)
    # One still waiting for medical technology never reached the giver: nobody there is told.
    told = _("%(organisation)s is told by email.", organisation=claim.listing.organisation.name) \
        if claim.reached_giver else _("%(organisation)s never received it.",
                                      organisation=claim.listing.organisation.name)
    return Confirmation(
        title=_("Cancel your claim for “%(title)s”?", title=claim.listing.title),
        consequences=[reserved, told],
        button=_("Yes, cancel my claim"),
        back_url=url_for("claims.show", claim_id=claim.id))


def deactivate_confirmation(member: User) -> Confirmation:
    """Deactivating a colleague ends their sessions; what they posted stays."""
    organisation = member.organisation.name if member.organisation else ""
    return Confirmation(
        title=_("Deactivate %(name)s?", name=member.name),
        consequences=[
            _("%(name)s can no longer log in, and is logged out now.", name=member.name),
            _("The listings and claims of %(name)s stay with %(organisation)s.",
              name=member.name, organisation=organisation),
            _("You can reactivate the account later."),
        ],
        button=_("Yes, deactivate %(name)s", name=member.name),
        back_url=url_for("organisations.members", organisation_id=member.organisation_id))
