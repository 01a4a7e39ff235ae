"""Posting, editing and reading listings; browsing and searching them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from ..claims.forms import ClaimForm
from ..extensions import db
from ..i18n import current_language
from ..models import (
    Claim,
    Listing,
    ListingStatus,
    Site,
)
from ..models.base import utcnow
from ..models.listing import EDITABLE
from ..organisations.forms import ConfirmForm
from ..security import Action, can, is_insider, participation_block_reason, permitted
from ..services import listings as listing_service
from ..services.categories import category_tree
from ..services.claims import open_claim_of
from ..services.errors import DomainError
from ..services.listings import ListingDetails, PhotoChanges, PhotoEdit, Upload
from ..services.search import SearchQuery
from ..web import attempt, member_required, refusals_on, render_form, require
from . import pages
from .forms import ListingForm, RelistForm

bp = Blueprint("listings", __name__, url_prefix="/listings")

STATUS_TABS = (ListingStatus.PUBLISHED, ListingStatus.PENDING_REVIEW, ListingStatus.DRAFT,
               ListingStatus.REJECTED, ListingStatus.EXPIRED, ListingStatus.WITHDRAWN,
               ListingStatus.CLOSED, ListingStatus.REMOVED)



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


def _details(form: ListingForm) -> ListingDetails:
    return ListingDetails(
        title=form.title.data or "", description=form.description.data or "",
        category_id=form.category.data, condition=form.condition.data, quantity=form.quantity.data,
        unit=form.unit.data, site_id=form.site.data, available_until=form.available_until.data,
        value_per_unit=form.value_per_unit.data, weight_per_unit_kg=form.weight_per_unit_kg.data,
        delivery_possible=bool(form.delivery_possible.data), best_before=form.best_before.data,
        batch_number=form.batch_number.data, packaging_unopened=form.packaging_unopened.data,
        storage_conditions=form.storage_conditions.data, cleaned_on=form.cleaned_on.data,
        inspected_on=form.inspected_on.data, internal_days=form.internal_days.data or 0,
    )


def _uploads(form: ListingForm) -> list[Upload]:
    files: list[FileStorage] = [item for item in (form.photos.data or [])
                                if isinstance(item, FileStorage) and item.filename]
    return [Upload(filename=item.filename or "", data=item.read()) for item in files]


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
    query = SearchQuery.from_args(request.args)
    return render_template("listings/search.html", query=query,
                           parts=pages.search_parts(current_user, query))


@bp.route("/new", methods=["GET", "POST"])
@member_required
def new() -> Response | tuple[str, int]:
    block = participation_block_reason(current_user)
    if block:
        flash(block, "notice")
        return redirect(url_for("main.home"))
    form = ListingForm()
    form.set_choices(_category_choices(), _site_choices(current_user.organisation_id))
    if request.method == "GET":
        form.available_until.data = listing_service.default_available_until()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            listing = listing_service.create_listing(
                current_user, _details(form), PhotoChanges(uploads=_uploads(form)),
                submit=bool(form.submit.data),
            )
        if call.succeeded:
            flash(_status_message(listing), "success")
            return redirect(url_for("listings.show", listing_id=listing.id))
    return render_form("listings/form.html", form=form, listing=None)


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
                select(Claim).where(Claim.listing_id == listing.id)
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
                           confirm_form=ConfirmForm(), relist_form=RelistForm(
                               available_until=listing_service.default_available_until()))


@bp.route("/<int:listing_id>/edit", methods=["GET", "POST"])
@login_required
def edit(listing_id: int) -> Response | tuple[str, int]:
    listing = _listing_or_404(listing_id)
    require(Action.EDIT_LISTING, listing)
    if listing.status not in EDITABLE:
        flash(_("A listing that is %(status)s cannot be edited.", status=listing.status.label),
              "error")
        return redirect(url_for("listings.show", listing_id=listing.id))
    form = ListingForm(obj=listing if request.method == "GET" else None)
    form.set_choices(_category_choices(), _site_choices(listing.organisation_id,
                                                        listing.site_id))
    if request.method == "GET":
        form.category.data = listing.category_id
        form.site.data = listing.site_id
        form.condition.data = listing.condition.value
        form.unit.data = listing.unit.value
        form.packaging_unopened.data = listing.packaging_unopened
    if form.validate_on_submit():
        with refusals_on(form) as call:
            listing_service.update_listing(
                current_user, listing, _details(form),
                PhotoChanges(uploads=_uploads(form), edits=_photo_edits(listing)),
                submit=bool(form.submit.data),
            )
        if call.succeeded:
            flash(_status_message(listing) if form.submit.data else
                  _("Your changes have been saved."), "success")
            return redirect(url_for("listings.show", listing_id=listing.id))
    return render_form("listings/form.html", form=form, listing=listing)


@bp.route("/<int:listing_id>/withdraw", methods=["POST"])
@login_required
def withdraw(listing_id: int) -> Response:
    listing = _listing_or_404(listing_id)
    require(Action.EDIT_LISTING, listing)
    attempt(lambda: listing_service.withdraw_listing(current_user, listing),
            _("The listing has been withdrawn."))
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
    status = request.args.get("status", ListingStatus.PUBLISHED.value)
    if status not in {tab.value for tab in STATUS_TABS}:
        status = ListingStatus.PUBLISHED.value
    counts = dict(db.session.execute(
        select(Listing.status, func.count(Listing.id))
        .where(Listing.organisation_id == current_user.organisation_id)
        .group_by(Listing.status)).all())
    listings = db.session.scalars(
        select(Listing).where(Listing.organisation_id == current_user.organisation_id,
                              Listing.status == ListingStatus(status))
        .order_by(Listing.updated_at.desc()).limit(200)).all()
    return render_template("listings/mine.html", tabs=STATUS_TABS, counts=counts,
                           status=ListingStatus(status), listings=listings)
