"""Wanted posts: ask for what you need; answer with a listing; claim in one click."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..extensions import db
from ..i18n import current_language
from ..models import Listing, ListingStatus, Province, Wanted, WantedStatus
from ..security import Action, can
from ..services import wanted as wanted_service
from ..services.categories import category_tree
from ..services.errors import DomainError
from ..services.wanted import WantedDetails
from ..web import attempt, id_value, member_required, render_form, show_domain_error
from .forms import AnswerForm, WantedForm

bp = Blueprint("wanted", __name__, url_prefix="/wanted")


def _categories() -> list[tuple[int, str]]:
    return [(choice.id, "— " * choice.depth + choice.label)
            for choice in category_tree(current_language())]


def _wanted_or_404(wanted_id: int) -> Wanted:
    """The post, or 404 when it does not exist or is not for this member's eyes (a closed
    post of another organisation, or one of an organisation that is not active)."""
    wanted = db.session.get(Wanted, wanted_id)
    if wanted is None or not can(current_user, Action.VIEW_WANTED, wanted):
        abort(404)
    return wanted


@bp.route("/")
@member_required
def index() -> str:
    category = id_value(request.args, "category")
    province = request.args.get("province", "")
    province_filter = Province(province) if province in {p.value for p in Province} else None
    posts = wanted_service.open_wanted(category, province_filter)
    return render_template("wanted/index.html", posts=posts, categories=category_tree(
        current_language()), category=category, province=province_filter,
        provinces=list(Province))


@bp.route("/new", methods=["GET", "POST"])
@member_required
def new() -> Response | tuple[str, int]:
    form = WantedForm()
    form.set_choices(_categories())
    if request.method == "GET":
        form.needed_by.data = wanted_service.default_needed_by()
        sites = current_user.organisation.active_sites if current_user.organisation else []
        form.province.data = sites[0].province.value if sites else ""
    if form.validate_on_submit():
        try:
            wanted = wanted_service.post_wanted(current_user, WantedDetails(
                title=form.title.data or "", description=form.description.data or "",
                quantity=form.quantity.data, needed_by=form.needed_by.data,
                category_id=form.category.data, province=form.province.data or None))
        except DomainError as error:
            if error.status_code == 403:
                flash(error.message, "notice")
                return redirect(url_for("wanted.index"))
            show_domain_error(form, error)
        else:
            flash(_("Your request is posted. Givers who have it can offer it to you."),
                  "success")
            return redirect(url_for("wanted.show", wanted_id=wanted.id))
    return render_form("wanted/form.html", form=form)


@bp.route("/<int:wanted_id>")
@member_required
def show(wanted_id: int) -> str:
    wanted = _wanted_or_404(wanted_id)
    answer_form = None
    if (wanted.status is WantedStatus.OPEN and current_user.organisation_id
            and current_user.organisation_id != wanted.organisation_id):
        own = db.session.scalars(select(Listing).where(
            Listing.organisation_id == current_user.organisation_id,
            Listing.status == ListingStatus.PUBLISHED).order_by(Listing.title)).all()
        if own:
            answer_form = AnswerForm()
            answer_form.listing.choices = [(listing.id, listing.title) for listing in own]
    return render_template("wanted/show.html", wanted=wanted, answer_form=answer_form,
                           confirm_form=FlaskForm(),
                           is_author=wanted.author_id == current_user.id)


@bp.route("/<int:wanted_id>/answer", methods=["POST"])
@member_required
def answer(wanted_id: int) -> Response:
    wanted = _wanted_or_404(wanted_id)
    form = AnswerForm()
    listing_id = id_value(request.form, "listing")
    listing = db.session.get(Listing, listing_id) if listing_id else None
    form.listing.choices = [(listing.id, listing.title)] if listing else []
    if not form.validate_on_submit() or listing is None:
        flash(_("Choose one of your organisation's published listings."), "error")
        return redirect(url_for("wanted.show", wanted_id=wanted.id))
    attempt(lambda: wanted_service.answer_wanted(current_user, wanted, listing),
            _("Your listing has been offered; the requester has been emailed."))
    return redirect(url_for("wanted.show", wanted_id=wanted.id))


@bp.route("/<int:wanted_id>/<any(fulfilled, withdraw):change>", methods=["POST"])
@member_required
def close(wanted_id: int, change: str) -> Response:
    wanted = _wanted_or_404(wanted_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    attempt(lambda: wanted_service.close_wanted(current_user, wanted,
                                                fulfilled=change == "fulfilled"),
            _("The request is closed."), forbid=True)
    return redirect(url_for("wanted.show", wanted_id=wanted.id))
