"""Posting, editing and reading listings; browsing and searching them."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from ..auth_session import request_user, signed_in
from ..claims.forms import ClaimForm
from ..confirmation import (
    ConfirmStepForm,
    confirmation_page,
    confirmed,
    withdraw_confirmation,
)
from ..errors import render_error
from ..extensions import db
from ..formats import money_text, number_text
from ..i18n import current_language
from ..models import (
    Claim,
    Listing,
    ListingStatus,
    Site,
)
from ..models.base import utcnow
from ..models.claim import claim_reached_giver
from ..models.listing import EDITABLE
from ..organisations.forms import ConfirmForm
from ..security import (
    Action,
    can,
    in_good_standing,
    is_insider,
    participation_block_reason,
    permitted,
)
from ..services import following
from ..services import listings as listing_service
from ..services.categories import category_tree
from ..services.claim_overview import listing_overview
from ..services.claims import open_claim_of
from ..services.device_passports import (
    PassportDetails,
    field_labels,
    medical_categories,
    required_fields,
)
from ..services.errors import DomainError
from ..services.listings import ListingDetails, PhotoChanges, PhotoEdit
from ..services.photos import recent_staged
from ..services.pick_up import missing_site_reason
from ..services.search import SearchQuery, searching_as
from ..services.typical_amounts import typical_amounts
from ..storage import get_storage
from ..web import attempt, member_required, refusals_on, render_form, require
from . import pages
from .drafts import form_ready
from .forms import ListingForm, RelistForm
from .kept_instructions import KeptInstructions, keep_instructions, show_refusal
from .kept_photos import REMOVE_FIELD, STAGED_FIELD, KeptPhotos, keep_photos, show_refusals
from .photo_removal import PhotoRemoval, removal_to_confirm

bp = Blueprint("listings", __name__, url_prefix="/listings")


def _category_choices() -> list[tuple[int, str]]:
    return [(choice.id, "— " * choice.depth + choice.label)
            for choice in category_tree(current_language())]


def _site_choices(organisation_id: int,
                  current_site_id: int | None = None) -> list[tuple[int, str]]:
    sites = db.session.scalars(select(Site).where(Site.organisation_id == organisation_id)
                               .order_by(Site.name))
    return [(site.id, f"{site.name} ({site.city})") for site in sites
            if site.active or site.id == current_site_id]


def _listing_or_404(listing_id: int) -> Listing:
    """The listing, or 404 when it does not exist or the user may not see it: whether a draft
    exists is nobody else's business (a 403 would tell them it does)."""
    listing = db.get_or_404(Listing, listing_id)
    if not can(current_user, Action.VIEW_LISTING, listing):
        abort(404)
    return listing


def _details(form: ListingForm, kept: KeptInstructions) -> ListingDetails:
    return ListingDetails(
        title=form.title.data or "", description=form.description.data or "",
        category_id=form.category.data, condition=form.condition.data, quantity=form.quantity.data,
        unit=form.unit.data, site_id=form.site.data, available_until=form.available_until.data,
        value_per_unit=form.value_per_unit.data, weight_per_unit_kg=form.weight_per_unit_kg.data,
        delivery_possible=bool(form.delivery_possible.data), best_before=form.best_before.data,
        batch_number=form.batch_number.data, packaging_unopened=form.packaging_unopened.data,
        storage_conditions=form.storage_conditions.data, cleaned_on=form.cleaned_on.data,
        inspected_on=form.inspected_on.data, internal_days=form.internal_days.data or 0,
        passport=_passport_details(form, kept),
    )


def _passport_details(form: ListingForm, kept: KeptInstructions) -> PassportDetails:
    return PassportDetails(
        manufacturer=form.passport_manufacturer.data, model=form.passport_model.data,
        single_use=form.passport_single_use.data, ce_marked=form.passport_ce_marked.data,
        udi_di=form.passport_udi_di.data, serial_numbers=form.passport_serial_numbers.data,
        year_of_manufacture=form.passport_year_of_manufacture.data,
        last_maintenance_on=form.passport_last_maintenance_on.data,
        last_safety_test_on=form.passport_last_safety_test_on.data,
        instructions_url=form.passport_instructions_url.data, instructions=kept.staged,
        remove_instructions=bool(form.passport_remove_instructions.data),
        history_notes=form.passport_history_notes.data,
    )


def _photo_edits(listing: Listing) -> list[PhotoEdit]:
    """The gallery controls of the edit form: position, alt text, remove, per photo."""
    edits = []
    for index, listing_photo in enumerate(listing.photos, start=1):
        prefix = f"photo-{listing_photo.id}-"
        try:
            position = int(request.form.get(prefix + "position", index))
        except ValueError:
            position = index
        edits.append(PhotoEdit(
            listing_photo_id=listing_photo.id,
            position=position,
            alt_text=request.form.get(prefix + "alt", listing_photo.alt_text)[:200],
            remove=request.form.get(prefix + "remove") == "y",
        ))
    return edits


@bp.route("/")
def search() -> str:
    user = request_user()
    read = signed_in(user) if user is not None else None
    query, visibility = searching_as(user, SearchQuery.from_args(request.args),
                                     read=read.search_facts if read else None)
    return render_template("listings/search.html", query=query,
                           parts=pages.search_parts(query, visibility))


@bp.route("/new", methods=["GET", "POST"])
@member_required
def new() -> Response | tuple[str, int]:
    block = participation_block_reason(current_user)
    if block:
        flash(block, "notice")
        return redirect(url_for("main.home"))
    form = _new_form()
    kept = keep_photos(form)  # before anything else: no photo that reached us is lost
    instructions = keep_instructions(form)  # nor the instructions' PDF
    if form_ready(form, None) and not kept.refusals and not instructions.refusal:
        with refusals_on(form) as call:
            listing = listing_service.create_listing(
                current_user, _details(form, instructions), PhotoChanges(staged=kept.staged),
                submit=bool(form.submit.data),
            )
        if call.succeeded:
            flash(_status_message(listing), "success")
            return redirect(url_for("listings.show", listing_id=listing.id))
    return _form_page(form, None, kept, instructions=instructions)


def _new_form(from_request: bool = True) -> ListingForm:
    # formdata=None: a body too large to read is not read again.
    form = ListingForm() if from_request else ListingForm(formdata=None)
    form.set_choices(_category_choices(), _site_choices(current_user.organisation_id))
    if request.method == "GET" or not from_request:
        form.available_until.data = listing_service.default_available_until()
    return form


def _form_page(form: ListingForm, listing: Listing | None, kept: KeptPhotos,
               status: int | None = None, *, edits: list[PhotoEdit] | None = None,
               removal: PhotoRemoval | None = None,
               instructions: KeptInstructions | None = None) -> tuple[str, int]:
    """The form again, with the staged photos it keeps and why a photo was refused; the
    photos' posted alt texts, positions and remove ticks; a removal to confirm at the top."""
    show_refusals(form, kept)
    instructions = instructions or KeptInstructions()
    show_refusal(form, instructions)
    organisation = listing.organisation if listing else current_user.organisation
    no_site = missing_site_reason(current_user, organisation)
    if no_site and form.site.errors:  # not "required": why there is none, and who adds one
        form.site.errors = [no_site]
    # The limits the form states are the real ones (PHOTO_MAX_BYTES can be configured).
    form.photos.description = _(
        "1 to %(max)d photos: JPEG, PNG, WebP or HEIC, at most %(size)s MB each. The first one "
        "is shown on the card.", max=listing_service.MAX_PHOTOS,
        size=format_decimal(current_app.config["PHOTO_MAX_BYTES"] / 1024 / 1024,
                            format="#,##0.##"))
    page, answer = render_form("listings/form.html", form=form, listing=listing,
                               staged=kept.staged, staged_field=STAGED_FIELD,
                               remove_field=REMOVE_FIELD, no_site=no_site,
                               organisation=organisation, typical_hints=_typical_hints(),
                               photo_edits={edit.listing_photo_id: edit for edit in edits or []},
                               removal=removal, kept_instructions=instructions.staged,
                               **_passport_context(form))
    if kept.http_status and kept.http_status >= 500:
        answer = kept.http_status
    if instructions.http_status and instructions.http_status >= 500:
        answer = instructions.http_status
    return page, status or answer


def _passport_context(form: ListingForm) -> dict[str, object]:
    """What the passport fieldset needs: per medical category the fields it asks for, whether
    the fieldset shows (a medical or no category chosen, or an error in it) and the PDF's limit."""
    labels = field_labels()
    categories = {str(category.id): [labels[name] for name in required_fields(category)]
                  for category in medical_categories()}
    chosen = form.category.data
    shown = not chosen or str(chosen) in categories or any(
        name.startswith("passport_") for name in form.errors)
    return {"passport_categories": categories, "passport_shown": shown,
            "instructions_hint": _(
                "A PDF of at most %(size)s MB, without scripts or attachments. It is offered "
                "as a download.", size=format_decimal(
                    current_app.config["IFU_MAX_BYTES"] / 1024 / 1024, format="#,##0.##"))}


def _typical_hints() -> dict[str, dict[str, str]]:
    """Per category id, what its earlier listings were worth and weighed, in words: shown under
    the value and weight fields for the chosen category (and swapped by app.js on a change)."""
    hints: dict[str, dict[str, str]] = {}
    for category_id, typical in typical_amounts().items():
        words = {}
        if typical.value is not None:
            words["value"] = _("Listings in this category are usually worth about %(amount)s "
                               "per unit.", amount=money_text(typical.value))
        if typical.weight is not None:
            words["weight"] = _("Listings in this category usually weigh about %(kilograms)s "
                                "kg per unit.", kilograms=number_text(typical.weight))
        hints[str(category_id)] = words
    return hints


def _status_message(listing: Listing) -> str:
    if listing.status is ListingStatus.PUBLISHED:
        return _("Your listing is published.")
    if listing.status is ListingStatus.PENDING_REVIEW and listing.held_words:
        return _("Your listing waits for review because it mentions %(words)s. We email you "
                 "when it is published.", words=listing.held_words)
    if listing.status is ListingStatus.PENDING_REVIEW:
        return _("Your listing has been sent for review. We email you when it is published.")
    return _("Your listing has been saved as a draft.")


@bp.route("/<int:listing_id>")
def show(listing_id: int) -> str:
    listing = _listing_or_404(listing_id)
    claim_form = own_claim = claim_block = None
    listing_claims: list[Claim] = []
    if current_user.is_authenticated:
        if is_insider(current_user, listing.organisation_id):
            listing_claims = list(db.session.scalars(
                select(Claim).where(Claim.listing_id == listing.id, claim_reached_giver())
                .order_by(Claim.created_at)))
        else:
            own_claim = open_claim_of(current_user, listing)
            claim_block = participation_block_reason(current_user)
            if own_claim is None and claim_block is None:
                claim_form = ClaimForm()
    return render_template("listings/show.html", listing=listing, now=utcnow(),
                           claim_form=claim_form, own_claim=own_claim,
                           claim_block=claim_block, listing_claims=listing_claims,
                           can_edit=permitted(current_user, Action.EDIT_LISTING, listing),
                           following=following.is_following(current_user, listing),
                           confirm_form=ConfirmForm(), relist_form=RelistForm(
                               available_until=listing_service.default_available_until()))


@bp.route("/<int:listing_id>/instructions.pdf")
def instructions(listing_id: int) -> Response:
    """The device passport's instructions for use, to whoever may see the listing: always a
    download (a PDF shown inline could run in the site's origin), never sniffed."""
    listing = _listing_or_404(listing_id)
    passport = listing.passport
    if passport is None or not passport.instructions_key:
        abort(404)
    try:
        data = get_storage().read(passport.instructions_key)
    except FileNotFoundError:
        abort(404)
    except OSError:
        current_app.logger.exception("Could not read instructions %s", passport.instructions_key)
        abort(503)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=passport.instructions_filename or "instructions.pdf",
                         etag=passport.instructions_sha256 or True, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Whatever a browser might still do with it: no scripts, no plugins, its own origin.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<int:listing_id>/edit", methods=["GET", "POST"])
@login_required
def edit(listing_id: int) -> Response | tuple[str, int]:
    listing = _listing_or_404(listing_id)
    require(Action.EDIT_LISTING, listing)
    if listing.status not in EDITABLE:
        flash(_("A listing that is %(status)s cannot be edited.", status=listing.status.label),
              "error")
        return redirect(url_for("listings.show", listing_id=listing.id))
    form = _edit_form(listing)
    kept = keep_photos(form)  # before anything else: no photo that reached us is lost
    instructions = keep_instructions(form)  # nor the instructions' PDF
    edits = _photo_edits(listing) if request.method == "POST" else []
    if form_ready(form, listing) and not kept.refusals and not instructions.refusal:
        removal = removal_to_confirm(listing, edits, kept)
        if removal:  # named and confirmed first, with everything posted kept
            return _form_page(form, listing, kept, edits=edits, removal=removal,
                              instructions=instructions)
        with refusals_on(form) as call:
            listing_service.update_listing(
                current_user, listing, _details(form, instructions),
                PhotoChanges(edits=edits, staged=kept.staged), submit=bool(form.submit.data),
            )
        if call.succeeded:
            flash(_status_message(listing) if form.submit.data else
                  _("Your changes have been saved."), "success")
            return redirect(url_for("listings.show", listing_id=listing.id))
    return _form_page(form, listing, kept, edits=edits, instructions=instructions)


def _edit_form(listing: Listing, from_request: bool = True) -> ListingForm:
    shown = request.method == "GET" or not from_request  # what the listing has, not a post
    # formdata=None: a body too large to read is not read again.
    form = ListingForm(obj=listing if shown else None) if from_request else \
        ListingForm(formdata=None, obj=listing)
    form.set_choices(_category_choices(), _site_choices(listing.organisation_id,
                                                        listing.site_id))
    if shown:
        form.category.data = listing.category_id
        form.site.data = listing.site_id
        form.condition.data = listing.condition.value if listing.condition else ""
        form.unit.data = listing.unit.value
        form.packaging_unopened.data = listing.packaging_unopened
        _fill_passport(form, listing)
    return form


def _fill_passport(form: ListingForm, listing: Listing) -> None:
    """The passport the listing has, in the form's passport_* fields."""
    passport = listing.passport
    if passport is None:
        return
    for name in ("manufacturer", "model", "single_use", "ce_marked", "udi_di",
                 "serial_numbers", "year_of_manufacture", "last_maintenance_on",
                 "last_safety_test_on", "instructions_url", "history_notes"):
        form[f"passport_{name}"].data = getattr(passport, name)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """A posting form too large to read (the request limit): the form again, with the
    member's staged photos, saying what happened; anywhere else the error page."""
    if request.endpoint not in ("listings.new", "listings.edit") or \
            not in_good_standing(current_user):
        return render_error(413)  # type: ignore[return-value]
    if request.endpoint == "listings.edit":
        listing = _listing_or_404((request.view_args or {}).get("listing_id", 0))
        require(Action.EDIT_LISTING, listing)
        form = _edit_form(listing, from_request=False)
    else:
        listing, form = None, _new_form(from_request=False)
    form.form_errors.append(_(
        "What you sent was too large for us to receive (more than %(size)s MB at once), so "
        "nothing you typed has reached us. The photos we received before are kept below. "
        "Send fewer photos at a time: add two or three, save, then add the next ones.",
        size=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)))
    return _form_page(form, listing, KeptPhotos(staged=recent_staged(current_user)), 413)


@bp.route("/<int:listing_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(listing_id: int) -> Response | tuple[str, int]:
    """GET, or a POST without the confirmation, names who is told; the confirmation acts."""
    listing = _listing_or_404(listing_id)
    require(Action.EDIT_LISTING, listing)
    form = ConfirmStepForm()
    if not confirmed(form):
        return confirmation_page(form, withdraw_confirmation(listing))
    attempt(lambda: listing_service.withdraw_listing(current_user, listing),
            _("The listing has been withdrawn."))
    return redirect(url_for("listings.show", listing_id=listing.id))


@bp.route("/<int:listing_id>/copy", methods=["POST"])
@login_required
def copy(listing_id: int) -> Response:
    """"Post similar": a draft with this listing's text and photos, opened for editing."""
    listing = _listing_or_404(listing_id)
    require(Action.COPY_LISTING, listing)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    draft = listing_service.copy_as_draft(current_user, listing)
    flash(_("A copy is saved as a draft. Check the quantity and the dates, then publish it."),
          "success")
    return redirect(url_for("listings.edit", listing_id=draft.id))


@bp.route("/<int:listing_id>/<any(follow, unfollow):change>", methods=["POST"])
@member_required
def follow(listing_id: int, change: str) -> Response:
    """A colleague hears of this listing's claims (or no longer does)."""
    listing = _listing_or_404(listing_id)
    require(Action.FOLLOW_LISTING, listing)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if change == "follow":
        attempt(lambda: following.follow_listing(current_user, listing),
                _("You follow this listing: you receive the emails about its claims."))
    else:
        attempt(lambda: following.unfollow_listing(current_user, listing),
                _("You no longer follow this listing."))
    return redirect(url_for("listings.show", listing_id=listing.id))


@bp.route("/<int:listing_id>/relist", methods=["POST"])
@login_required
def relist(listing_id: int) -> Response:
    listing = _listing_or_404(listing_id)
    require(Action.EDIT_LISTING, listing)
    form = RelistForm()
    if not form.validate_on_submit():
        flash(_("Choose until when it is available."), "error")
        return redirect(url_for("listings.show", listing_id=listing.id))
    try:
        listing_service.relist_listing(current_user, listing, form.available_until.data)
    except DomainError as error:
        flash(error.message, "error")
    else:  # the message depends on where the listing went: review or published
        flash(_status_message(listing), "success")
    return redirect(url_for("listings.show", listing_id=listing.id))


@bp.route("/mine")
@member_required
def mine() -> str:
    if current_user.organisation_id is None:
        abort(404)
    overview = listing_overview(current_user.organisation_id, request.args.get("status"))
    return render_template("listings/mine.html", overview=overview)
