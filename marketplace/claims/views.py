"""Claiming a listing, deciding on claims, messages and the hand-over."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from ..confirmation import ConfirmStepForm, cancel_claim_confirmation, confirmation_page, confirmed
from ..extensions import db, limiter
from ..localtime import local_time
from ..models import Claim, Listing
from ..organisations.forms import ConfirmForm
from ..security import Action, can, is_giver
from ..services import claims as claim_service
from ..services import medical_sign_off, opening_hours, pick_up_calendar, pick_up_times
from ..services.claim_overview import claim_overview, reliability_of
from ..web import (
    INVALID_FORM_STATUS,
    attempt,
    member_required,
    page_number,
    refusals_on,
    render_form,
    require,
)
from .forms import (
    AcceptForm,
    ClaimForm,
    DeclineForm,
    MessageForm,
    ProposeTimeForm,
    RefuseSignOffForm,
)

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
        if call.succeeded:  # on to the claim either way: a reload must not claim again
            flash(_("Your claim waits for approval by medical technology of your "
                    "organisation; they have been emailed. The giver receives it once they "
                    "approve.") if claim.needs_sign_off
                  else _("Your claim has been sent. The giver has been emailed; you hear from "
                         "them by email."), "success")
            return redirect(url_for("claims.show", claim_id=claim.id))
    return render_form("claims/claim_form.html", form=form, listing=listing)


def _time_form_defaults(claim: Claim, day: date | None) -> dict[str, Any]:
    """A pick-up form's first values: `day`, and the site's hours that day or 09:00-12:00."""
    window = opening_hours.suggested_window(claim.listing.site, day)
    return {"agreed_pickup_date": day, "pickup_from": f"{window.opens:%H:%M}",
            "pickup_until": f"{window.closes:%H:%M}"}


def _claim_page(claim: Claim, status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    """The claim page; a form given (submitted, with its errors) replaces its empty one."""
    giver = is_giver(current_user, claim)
    agreed_day = local_time(claim.pickup_starts_at).date() if claim.pickup_starts_at \
        else claim.agreed_pickup_date
    context: dict[str, Any] = {
        "accept_form": AcceptForm(data=_time_form_defaults(claim, claim.preferred_pickup_date)),
        "propose_form": ProposeTimeForm(data=_time_form_defaults(claim, agreed_day)),
        "decline_form": DeclineForm(), "message_form": MessageForm(),
        "confirm_form": ConfirmForm(), "refuse_sign_off_form": RefuseSignOffForm(),
    }
    context.update(forms)
    return render_template(
        "claims/show.html", claim=claim, giver=giver,
        reliability=reliability_of(claim.claimant_organisation_id)
        if giver else None,
        site_hours=opening_hours.week_of(claim.listing.site),
        weekday_names=opening_hours.WEEKDAY_NAMES, **context,
    ), status


@bp.route("/claims/<int:claim_id>")
@login_required
def show(claim_id: int) -> tuple[str, int]:
    return _claim_page(_claim_or_404(claim_id))


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
def accept(claim_id: int) -> Response | tuple[str, int]:
    """A refused day or window shows the page again (422) with what was typed and the error
    on its field."""
    return _on_claim_page(
        _claim_or_404(claim_id), "accept_form", AcceptForm(),
        lambda claim, form: claim_service.accept_claim(
            current_user, claim, form.note.data or "", form.agreed_pickup_date.data,
            form.pickup_from.data, form.pickup_until.data),
        _("The claim is accepted; the claimant has been sent the pick-up details."))


def _on_claim_page(claim: Claim, form_name: str, form: FlaskForm,
                   action: Callable[[Claim, Any], object],
                   success: str) -> Response | tuple[str, int]:
    """A form on the claim page: done, on to the claim; refused, the page again (422) with
    what was typed and the reason on its field."""
    if form.validate_on_submit():
        with refusals_on(form, forbid=True) as call:
            action(claim, form)
        if call.succeeded:
            flash(success, "success")
            return redirect(url_for("claims.show", claim_id=claim.id))
    db.session.refresh(claim)  # as it is now, after the refusal's rollback
    return _claim_page(claim, INVALID_FORM_STATUS, **{form_name: form})


@bp.route("/claims/<int:claim_id>/sign-off", methods=["POST"])
@login_required
def sign_off(claim_id: int) -> Response:
    """Medical technology approves: the claim goes to the giver."""
    return _act(claim_id, ConfirmForm,
                lambda claim, _form: medical_sign_off.sign_off_claim(current_user, claim),
                _("Approved: the giver has received the claim, and your colleague has been "
                  "told."))


@bp.route("/claims/<int:claim_id>/sign-off/refuse", methods=["POST"])
@login_required
def refuse_sign_off(claim_id: int) -> Response | tuple[str, int]:
    """Medical technology refuses, with a reason; without one the page comes back (422)."""
    claim = _claim_or_404(claim_id)
    require(Action.SIGN_OFF_CLAIM, claim)
    return _on_claim_page(
        claim, "refuse_sign_off_form", RefuseSignOffForm(),
        lambda claim, form: medical_sign_off.refuse_sign_off(current_user, claim,
                                                             form.reason.data or ""),
        _("Not approved: your colleague has been told why. The giver never received the "
          "claim."))


@bp.route("/claims/<int:claim_id>/pick-up-time", methods=["POST"])
@login_required
def propose_time(claim_id: int) -> Response | tuple[str, int]:
    return _on_claim_page(
        _claim_or_404(claim_id), "propose_form", ProposeTimeForm(),
        lambda claim, form: pick_up_times.propose_pickup_time(
            current_user, claim, form.agreed_pickup_date.data, form.pickup_from.data,
            form.pickup_until.data),
        _("Your proposal has been sent; the agreed time stays until the other side agrees."))


@bp.route("/claims/<int:claim_id>/pick-up-time/<any(agree, decline):answer>",
          methods=["POST"])
@login_required
def answer_time(claim_id: int, answer: str) -> Response:
    agree = answer == "agree"
    return _act(claim_id, ConfirmForm,
                lambda claim, _form: pick_up_times.answer_pickup_time(current_user, claim,
                                                                      agree),
                _("The pick-up has moved to the new time; both sides have been emailed.")
                if agree else _("The agreed time stays; the other side has been told."))


@bp.route("/claims/<int:claim_id>/pick-up.ics")
@login_required
def pickup_calendar(claim_id: int) -> Response:
    """The appointment as it is now (withdrawn once the claim ended without a hand-over)."""
    claim = _claim_or_404(claim_id)
    if not pick_up_calendar.has_appointment(claim):
        abort(404)
    response = Response(pick_up_calendar.calendar_file(
                            claim, cancelled=claim.status.ended_without_hand_over),
                        content_type=pick_up_calendar.CONTENT_TYPE)
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{pick_up_calendar.FILENAME}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
            _("Your claim is cancelled; the giver has been told.") if claim.reached_giver
            else _("Your claim is cancelled."), forbid=True)
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
    """Claims the user's organisation made, and claims on its listings, grouped by who acts
    next; to a member not in good standing (a suspended organisation's) only their own claims,
    which they may cancel."""
    if current_user.organisation_id is None:
        abort(404)
    overview = claim_overview(current_user, finished_page=page_number())
    if overview.only_own and overview.is_empty:
        return redirect(url_for("account.waiting"))
    return render_template("claims/index.html", overview=overview)
