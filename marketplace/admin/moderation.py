"""Platform admin pages: the moderation queue, decisions on listings, standard reasons and
watch-words (routes on the admin blueprint, behind its permission check)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..i18n import current_language
from ..models import Listing, ModerationReason, User, WatchWord
from ..organisations.forms import ConfirmForm
from ..services import moderation
from ..services import watch_words as watch_word_service
from ..web import attempt, page_number, refusals_on, render_form
from .moderation_forms import DecisionForm, ReasonTextsForm, WatchWordForm
from .views import bp


def _listing(listing_id: int) -> Listing:
    listing = db.get_or_404(Listing, listing_id)
    return listing


def _decision_form(listing: Listing, reasons: list[ModerationReason]) -> DecisionForm:
    form = DecisionForm(prefix=f"listing-{listing.id}")
    # Shown in the moderator's language; the poster receives the same reason in theirs.
    language = current_language()
    form.set_reason_choices([(str(reason.id), reason.text(language)) for reason in reasons])
    return form


def _review_context(listings: list[Listing],
                    forms: dict[int, DecisionForm] | None = None) -> dict[str, Any]:
    """What the review template needs for `listings` (forms given for the ones re-shown)."""
    reasons = moderation.active_reasons()
    forms = dict(forms or {})
    for listing in listings:
        forms.setdefault(listing.id, _decision_form(listing, reasons))
    return {"histories": moderation.histories(listings), "forms": forms,
            "confirm_form": ConfirmForm(), "highlight": watch_word_service.highlight,
            "held_words_of": watch_word_service.held_words_of, "rejectable": moderation.REJECTABLE,
            "changeable": moderation.CHANGEABLE, "removable": moderation.REMOVABLE}


@bp.route("/listings")
def listings() -> str:
    """Listings waiting for review, oldest first, with what a moderator needs to decide."""
    pagination = moderation.pending_listings(page_number())
    return render_template("admin/listings.html", pagination=pagination,
                           page_url=lambda number: url_for("admin.listings", page=number),
                           **_review_context(pagination.items))


@bp.route("/listings/<int:listing_id>")
def listing_review(listing_id: int) -> str:
    """One listing, whatever its status, with the decisions that fit it."""
    listing = _listing(listing_id)
    return render_template("admin/listing.html", listing=listing,
                           **_review_context([listing]))


@bp.route("/listings/<int:listing_id>/approve", methods=["POST"])
def approve_listing(listing_id: int) -> Response:
    listing = _listing(listing_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: moderation.approve_listing(current_user, listing),
            _("%(title)s is published.", title=listing.title), forbid=True)
    return redirect(url_for("admin.listings"))


def _decide(listing: Listing, decide: Callable[[User, Listing, str], None],
            success: str) -> Response | tuple[str, int]:
    """Validate the reason form, call `decide`; the form comes back (422) on any refusal."""
    form = _decision_form(listing, moderation.active_reasons())
    if form.validate_on_submit():
        with refusals_on(form, forbid=True) as call:
            reason = moderation.compose_reason(listing, form.chosen_reason_id, form.text.data)
            decide(current_user, listing, reason)
        if call.succeeded:
            flash(success, "success")
            return redirect(url_for("admin.listings"))
    return render_form("admin/listing.html", form, listing=listing,
                       **_review_context([listing], {listing.id: form}))


@bp.route("/listings/<int:listing_id>/reject", methods=["POST"])
def reject_listing(listing_id: int) -> Response | tuple[str, int]:
    listing = _listing(listing_id)
    return _decide(listing, moderation.reject_listing,
                   _("%(title)s is rejected; the poster has been emailed the reason.",
                     title=listing.title))


@bp.route("/listings/<int:listing_id>/request-changes", methods=["POST"])
def request_changes(listing_id: int) -> Response | tuple[str, int]:
    listing = _listing(listing_id)
    return _decide(listing, moderation.request_changes,
                   _("The poster of %(title)s has been asked for changes.",
                     title=listing.title))


@bp.route("/listings/<int:listing_id>/remove", methods=["POST"])
def remove_listing(listing_id: int) -> Response | tuple[str, int]:
    listing = _listing(listing_id)
    return _decide(listing, moderation.remove_listing,
                   _("%(title)s is removed; the poster and claimants have been emailed.",
                     title=listing.title))


# --- standard reasons ------------------------------------------------------------------------

def _reason(reason_id: int) -> ModerationReason:
    reason = db.get_or_404(ModerationReason, reason_id)
    return reason


@bp.route("/moderation/reasons", methods=["GET", "POST"])
def moderation_reasons() -> Response | tuple[str, int]:
    form = ReasonTextsForm()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            moderation.add_reason(current_user, form.text_nl.data, form.text_en.data,
                                  form.position.data)
        if call.succeeded:
            flash(_("The reason has been added."), "success")
            return redirect(url_for("admin.moderation_reasons"))
    return render_form("admin/moderation_reasons.html", form, reasons=moderation.all_reasons(),
                       confirm_form=ConfirmForm())


@bp.route("/moderation/reasons/<int:reason_id>", methods=["GET", "POST"])
def edit_moderation_reason(reason_id: int) -> Response | tuple[str, int]:
    reason = _reason(reason_id)
    form = ReasonTextsForm(obj=reason)
    if form.validate_on_submit():
        with refusals_on(form) as call:
            moderation.update_reason(current_user, reason, form.text_nl.data, form.text_en.data,
                                     form.position.data)
        if call.succeeded:
            flash(_("The reason has been saved."), "success")
            return redirect(url_for("admin.moderation_reasons"))
    return render_form("admin/moderation_reason.html", form, reason=reason)


def _set_active(reason_id: int, active: bool, success: str) -> Response:
    reason = _reason(reason_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: moderation.set_reason_active(current_user, reason, active), success,
            forbid=True)
    return redirect(url_for("admin.moderation_reasons"))


@bp.route("/moderation/reasons/<int:reason_id>/deactivate", methods=["POST"])
def deactivate_moderation_reason(reason_id: int) -> Response:
    return _set_active(reason_id, False, _("The reason is no longer offered."))


@bp.route("/moderation/reasons/<int:reason_id>/activate", methods=["POST"])
def activate_moderation_reason(reason_id: int) -> Response:
    return _set_active(reason_id, True, _("The reason is offered again."))


# --- watch-words -----------------------------------------------------------------------------

@bp.route("/moderation/watch-words", methods=["GET", "POST"])
def watch_words() -> Response | tuple[str, int]:
    form = WatchWordForm()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            word = watch_word_service.add_watch_word(current_user, form.word.data, form.kind.data)
        if call.succeeded:
            flash(_("“%(word)s” has been added.", word=word.word), "success")
            return redirect(url_for("admin.watch_words"))
    return render_form("admin/watch_words.html", form, words=watch_word_service.all_watch_words(),
                       confirm_form=ConfirmForm())


@bp.route("/moderation/watch-words/<int:word_id>/delete", methods=["POST"])
def delete_watch_word(word_id: int) -> Response:
    watch_word = db.get_or_404(WatchWord, word_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    word = watch_word.word
    attempt(lambda: watch_word_service.delete_watch_word(current_user, watch_word),
            _("“%(word)s” has been deleted.", word=word), forbid=True)
    return redirect(url_for("admin.watch_words"))
