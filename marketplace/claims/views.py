"""Claiming a listing, deciding on claims, messages and the hand-over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..confirmation import ConfirmStepForm, cancel_claim_confirmation, confirmation_page, confirmed
from ..extensions import db, limiter
from ..models import Claim, ClaimStatus, Listing
from ..organisations.forms import ConfirmForm
from ..security import Action, can, in_good_standing, is_giver
from ..services import claims as claim_service
from ..web import attempt, member_required, refusals_on, render_form
from .forms import AcceptForm, ClaimForm, DeclineForm, MessageForm

bp = Blueprint("claims", __name__)


def _claim_or_404(claim_id: int) -> Claim:
    claim = db.session.get(Claim, claim_id)
    if claim is None or not can(current_user, Action.VIEW_CLAIM, claim):
        abort(404)
    return claim


def _claims_per_member() -> str:
    """Counted per member, wherever they claim from (a shared office address is not one
    member); login_required runs first, the address is only a fallback."""
    if current_user.is_authenticated:
        return f"claim:user:{current_user.id}"
    return f"claim:address:{get_remote_address()}"


@bp.route("/listings/<int:listing_id>/claim", methods=["POST"])
@member_required
@limiter.limit(lambda: current_app.config["CLAIM_RATE_LIMIT"], key_func=_claims_per_member)
def create(listing_id: int) -> Response | tuple[str, int]:
    listing = db.get_or_404(Listing, listing_id)
    if not can(current_user, Action.VIEW_LISTING, listing):
        abort(404)  # the refusal page would show a draft's title to anyone guessing its id
    form = ClaimForm()
    if form.validate_on_submit():
        with refusals_on(form, forbid=True) as call:
            claim = claim_service.claim_listing(
                current_user, listing, form.quantity.data, form.message.data or "",
                form.preferred_pickup_date.data)
        if call.succeeded:
            flash(_("Your claim has been sent. The giver has been emailed; you hear from "
                    "them by email."), "success")
            return redirect(url_for("claims.show", claim_id=claim.id))
    return render_form("claims/claim_form.html", form=form, listing=listing)


@bp.route("/claims/<int:claim_id>")
@login_required
def show(claim_id: int) -> str:
    claim = _claim_or_404(claim_id)
    giver = is_giver(current_user, claim)
    return render_template(
        "claims/show.html", claim=claim, giver=giver,
        reliability=claim_service.reliability_of(claim.claimant_organisation_id)
        if giver else None,
        accept_form=AcceptForm(agreed_pickup_date=claim.preferred_pickup_date),
        decline_form=DeclineForm(), message_form=MessageForm(), confirm_form=ConfirmForm(),
    )


def _act(claim_id: int, form_class: type, action: Callable[[Claim, Any], object],
         success: str) -> Response:
    claim = _claim_or_404(claim_id)
    form = form_class()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("claims.show", claim_id=claim.id))
    attempt(lambda: action(claim, form), success, forbid=True)
    return redirect(url_for("claims.show", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>/accept", methods=["POST"])
@login_required
def accept(claim_id: int) -> Response:
    return _act(claim_id, AcceptForm,
                lambda claim, form: claim_service.accept_claim(
                    current_user, claim, form.note.data or "", form.agreed_pickup_date.data),
                _("The claim is accepted; the claimant has been sent the pick-up details."))


@bp.route("/claims/<int:claim_id>/decline", methods=["POST"])
@login_required
def decline(claim_id: int) -> Response:
    return _act(claim_id, DeclineForm,
                lambda claim, form: claim_service.decline_claim(current_user, claim,
                                                                form.note.data or ""),
                _("The claim is declined; the claimant has been told."))


@bp.route("/claims/<int:claim_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(claim_id: int) -> Response | tuple[str, int]:
    """GET, or a POST without the confirmation, says what happens to the reserved quantity
    and who is told; the confirmation acts."""
    claim = _claim_or_404(claim_id)
    form = ConfirmStepForm()
    if not confirmed(form):
        return confirmation_page(form, cancel_claim_confirmation(claim))
    attempt(lambda: claim_service.cancel_claim(current_user, claim),
            _("Your claim is cancelled; the giver has been told."), forbid=True)
    return redirect(url_for("claims.show", claim_id=claim.id))


@bp.route("/claims/<int:claim_id>/collected", methods=["POST"])
@login_required
def collected(claim_id: int) -> Response:
    return _act(claim_id, ConfirmForm,
                lambda claim, _form: claim_service.mark_collected(current_user, claim),
                _("Marked as collected. Thank you for giving it a second life!"))


@bp.route("/claims/<int:claim_id>/messages", methods=["POST"])
@login_required
def message(claim_id: int) -> Response:
    return _act(claim_id, MessageForm,
                lambda claim, form: claim_service.post_message(current_user, claim,
                                                               form.body.data or ""),
                _("Your message has been sent."))


@bp.route("/claims/")
@login_required
def index() -> str | Response:
    """Claims the user's organisation made, and claims on its listings; to a member not in
    good standing (a suspended organisation's) only their own claims, which they may cancel."""
    if current_user.organisation_id is None:
        abort(404)
    if not in_good_standing(current_user):
        own = db.session.scalars(select(Claim).where(Claim.claimant_id == current_user.id)
                                 .order_by(Claim.created_at.desc()).limit(200)).all()
        if not own:
            return redirect(url_for("account.waiting"))
        return render_template("claims/index.html", made=own, received=[], tab="made")
    made = db.session.scalars(
        select(Claim).where(Claim.claimant_organisation_id == current_user.organisation_id)
        .order_by(Claim.created_at.desc()).limit(200)).all()
    received = db.session.scalars(
        select(Claim).join(Listing).where(Listing.organisation_id
                                          == current_user.organisation_id)
        .order_by(Claim.status != ClaimStatus.REQUESTED, Claim.created_at.desc())
        .limit(200)).all()
    tab = request.args.get("tab", "received" if any(
        claim.status is ClaimStatus.REQUESTED for claim in received) else "made")
    return render_template("claims/index.html", made=made, received=received, tab=tab)
