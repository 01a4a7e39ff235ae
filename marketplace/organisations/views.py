"""Organisation admins manage their colleagues and pick-up sites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..confirmation import confirmation_page, confirmed, deactivate_confirmation
from ..extensions import db
from ..models import Organisation, Site, User, UserStatus
from ..security import Action
from ..services import accounts, medical_technology, organisations
from ..services.opening_hours import HOURS_FIELDS, day_texts
from ..services.organisations import SiteDetails
from ..web import attempt, member_required, refusals_on, render_form, require
from .forms import (
    ConfirmForm,
    DeactivateForm,
    DeactivateStepForm,
    MedicalSignOffForm,
    MedicalTechnologyForm,
    NotificationEmailForm,
    RoleForm,
    SiteForm,
)

bp = Blueprint("organisations", __name__, url_prefix="/organisations")


def _managed_organisation(organisation_id: int) -> Organisation:
    organisation = db.get_or_404(Organisation, organisation_id)
    require(Action.MANAGE_ORGANISATION, organisation)
    return organisation


def _member_of(organisation: Organisation, user_id: int) -> User:
    member = db.session.get(User, user_id)
    if member is None or member.organisation_id != organisation.id:
        abort(404)
    return member


def _site_of(organisation: Organisation, site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or site.organisation_id != organisation.id:
        abort(404)
    return site


@bp.route("/mine")
@member_required
def mine() -> Response:
    if current_user.organisation_id is None:
        abort(404)
    return redirect(url_for("organisations.members",
                            organisation_id=current_user.organisation_id))


@bp.route("/<int:organisation_id>/members")
@login_required
def members(organisation_id: int) -> str:
    organisation = _managed_organisation(organisation_id)
    by_status: dict[UserStatus, list[User]] = {status: [] for status in UserStatus}
    for member in organisation.users:
        by_status[member.status].append(member)
    return render_template(
        "organisations/members.html",
        organisation=organisation,
        pending=by_status[UserStatus.PENDING],
        active=by_status[UserStatus.ACTIVE],
        # Deleted accounts are no one to reactivate (services/personal_data.py).
        deactivated=[member for member in by_status[UserStatus.DEACTIVATED]
                     if not member.is_deleted],
        confirm_form=ConfirmForm(),
        deactivate_form=DeactivateForm(),
        role_form=RoleForm(),
        medical_technology_form=MedicalTechnologyForm(),
    )


def _member_action(organisation_id: int, user_id: int, form_class: type,
                   action: Callable[[Organisation, User, Any], object],
                   success: str) -> Response:
    organisation = _managed_organisation(organisation_id)
    member = _member_of(organisation, user_id)
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    attempt(lambda: action(organisation, member, form), success % {"name": member.name})
    return redirect(url_for("organisations.members", organisation_id=organisation.id))


@bp.route("/<int:organisation_id>/members/<int:user_id>/approve", methods=["POST"])
@login_required
def approve_member(organisation_id: int, user_id: int) -> Response:
    return _member_action(
        organisation_id, user_id, ConfirmForm,
        lambda _org, member, _form: accounts.approve_member(current_user, member),
        _("%(name)s has been approved and told by email."),
    )


@bp.route("/<int:organisation_id>/members/<int:user_id>/deactivate", methods=["GET", "POST"])
@login_required
def deactivate_member(organisation_id: int, user_id: int) -> Response | tuple[str, int]:
    """GET, or a POST without the confirmation (the reason it brings is kept), says what
    deactivating means; the confirmation acts."""
    organisation = _managed_organisation(organisation_id)
    member = _member_of(organisation, user_id)
    form = DeactivateStepForm()
    if not confirmed(form):
        return confirmation_page(form, deactivate_confirmation(member))
    attempt(lambda: accounts.deactivate_member(current_user, member, form.reason.data),
            _("%(name)s has been deactivated and logged out.") % {"name": member.name})
    return redirect(url_for("organisations.members", organisation_id=organisation.id))


@bp.route("/<int:organisation_id>/members/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate_member(organisation_id: int, user_id: int) -> Response:
    return _member_action(
        organisation_id, user_id, ConfirmForm,
        lambda _org, member, _form: accounts.reactivate_member(current_user, member),
        _("%(name)s has been reactivated."),
    )


@bp.route("/<int:organisation_id>/members/<int:user_id>/role", methods=["POST"])
@login_required
def set_member_role(organisation_id: int, user_id: int) -> Response:
    return _member_action(
        organisation_id, user_id, RoleForm,
        lambda _org, member, form: accounts.set_member_role(current_user, member,
                                                           form.role.data),
        _("The role of %(name)s has been changed."),
    )


@bp.route("/<int:organisation_id>/members/<int:user_id>/medical-technology",
          methods=["POST"])
@login_required
def set_medical_technology(organisation_id: int, user_id: int) -> Response:
    return _member_action(
        organisation_id, user_id, MedicalTechnologyForm,
        lambda _org, member, form: medical_technology.set_medical_technology(
            current_user, member, form.medical_technology.data == "on"),
        _("%(name)s: medical technology changed."),
    )


@bp.route("/<int:organisation_id>/medical-sign-off", methods=["GET", "POST"])
@login_required
def medical_sign_off(organisation_id: int) -> Response | tuple[str, int]:
    """Whether claims for medical devices wait for the organisation's medical technology."""
    organisation = _managed_organisation(organisation_id)
    form = MedicalSignOffForm(
        data={"requires_medical_sign_off": organisation.requires_medical_sign_off})
    if form.validate_on_submit():
        with refusals_on(form) as call:
            medical_technology.set_requires_medical_sign_off(
                current_user, organisation, bool(form.requires_medical_sign_off.data))
        if call.succeeded:
            flash(_("The setting has been saved."), "success")
            return redirect(url_for("organisations.medical_sign_off",
                                    organisation_id=organisation.id))
    return render_form("organisations/medical_sign_off.html", form=form,
                       organisation=organisation,
                       approvers=medical_technology.approvers_of(organisation.id))


@bp.route("/<int:organisation_id>/sites")
@login_required
def sites(organisation_id: int) -> str:
    organisation = _managed_organisation(organisation_id)
    return render_template("organisations/sites.html", organisation=organisation,
                           confirm_form=ConfirmForm())


def _site_details(form: SiteForm) -> SiteDetails:
    return SiteDetails(name=form.site_name.data or "", street=form.street.data or "",
                       postcode=form.postcode.data or "", city=form.city.data or "",
                       province=form.province.data or "",
                       opening_hours=tuple(field.data or "" for field in form.hours_fields),
                       pickup_instructions=form.pickup_instructions.data or "")


@bp.route("/<int:organisation_id>/sites/new", methods=["GET", "POST"])
@login_required
def add_site(organisation_id: int) -> Response | tuple[str, int]:
    organisation = _managed_organisation(organisation_id)
    form = SiteForm()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            organisations.add_site(current_user, organisation, _site_details(form))
        if call.succeeded:
            flash(_("The site has been added."), "success")
            return redirect(url_for("organisations.sites", organisation_id=organisation.id))
    return render_form("organisations/site_form.html", form=form, organisation=organisation,
                       site=None)


@bp.route("/<int:organisation_id>/sites/<int:site_id>/edit", methods=["GET", "POST"])
@login_required
def edit_site(organisation_id: int, site_id: int) -> Response | tuple[str, int]:
    organisation = _managed_organisation(organisation_id)
    site = _site_of(organisation, site_id)
    form = SiteForm(data={"site_name": site.name, "street": site.street,
                          "postcode": site.postcode, "city": site.city,
                          "province": site.province.value,
                          "pickup_instructions": site.pickup_instructions,
                          **dict(zip(HOURS_FIELDS, day_texts(site), strict=True))})
    if form.validate_on_submit():
        with refusals_on(form) as call:
            organisations.update_site(current_user, site, _site_details(form))
        if call.succeeded:
            flash(_("The site has been saved."), "success")
            return redirect(url_for("organisations.sites", organisation_id=organisation.id))
    return render_form("organisations/site_form.html", form=form, organisation=organisation,
                       site=site)


@bp.route("/<int:organisation_id>/sites/<int:site_id>/<any(archive, restore):change>",
          methods=["POST"])
@login_required
def change_site(organisation_id: int, site_id: int, change: str) -> Response:
    organisation = _managed_organisation(organisation_id)
    site = _site_of(organisation, site_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: organisations.set_site_active(current_user, site,
                                                  active=change == "restore"),
            _("The site has been restored.") if change == "restore"
            else _("The site has been archived."))
    return redirect(url_for("organisations.sites", organisation_id=organisation.id))


@bp.route("/<int:organisation_id>/notifications", methods=["GET", "POST"])
@login_required
def notifications(organisation_id: int) -> Response | tuple[str, int]:
    """Where the organisation's claim mail goes besides the poster: a shared address."""
    organisation = _managed_organisation(organisation_id)
    form = NotificationEmailForm(data={"notification_email": organisation.notification_email})
    if form.validate_on_submit():
        with refusals_on(form) as call:
            organisations.set_notification_email(current_user, organisation,
                                                 form.notification_email.data)
        if call.succeeded:
            flash(_("The notification address has been saved."), "success")
            return redirect(url_for("organisations.notifications",
                                    organisation_id=organisation.id))
    return render_form("organisations/notifications.html", form=form,
                       organisation=organisation)
