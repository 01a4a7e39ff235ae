"""Platform admin pages: users (routes on the admin blueprint, behind its permission check)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from ..account.views import zip_download
from ..extensions import db
from ..models import Organisation, Role, User, UserStatus
from ..models.base import escape_like
from ..organisations.forms import ConfirmForm
from ..services import accounts, personal_data
from ..web import attempt, page_number, safe_next_url
from .forms import UserDeactivateForm, UserRoleForm
from .views import PAGE_SIZE, bp

NO_ORGANISATION = "none"


@bp.route("/users")
def users() -> str:
    """Everyone with an account, newest first, searched by name or email and filtered."""
    query = request.args.get("q", "").strip()[:120]
    role = request.args.get("role", "")
    status = request.args.get("status", "")
    organisation_arg = request.args.get("organisation", "").strip()
    page = page_number()

    statement = select(User).order_by(User.created_at.desc(), User.id.desc())
    if query:
        pattern = f"%{escape_like(query)}%"
        statement = statement.where(or_(User.name.ilike(pattern, escape="\\"),
                                        User.email.ilike(pattern, escape="\\")))
    if role in {r.value for r in Role}:
        statement = statement.where(User.role == Role(role))
    else:
        role = ""
    if status in {s.value for s in UserStatus}:
        statement = statement.where(User.status == UserStatus(status))
    else:
        status = ""
    organisation: Organisation | None = None
    if organisation_arg == NO_ORGANISATION:
        statement = statement.where(User.organisation_id.is_(None))
    elif organisation_arg.isdigit() and len(organisation_arg) < 12:
        organisation = db.session.get(Organisation, int(organisation_arg))
        statement = statement.where(User.organisation_id == int(organisation_arg))
    else:
        organisation_arg = ""
    pagination = db.paginate(statement, page=page, per_page=PAGE_SIZE, error_out=False)
    filters = {"q": query, "role": role, "status": status, "organisation": organisation_arg}
    kept: dict[str, Any] = {name: value for name, value in filters.items() if value}
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name_key)).all()
    return render_template("admin/users.html", pagination=pagination, filters=filters,
                           organisation=organisation, organisations=organisations,
                           roles=list(Role), statuses=list(UserStatus),
                           no_organisation=NO_ORGANISATION,
                           page_url=lambda number: url_for("admin.users", **kept, page=number))


def _user(user_id: int) -> User:
    user = db.get_or_404(User, user_id)
    return user


@bp.route("/users/<int:user_id>")
def user_detail(user_id: int) -> str:
    user = _user(user_id)
    role_form = UserRoleForm(role=user.role.value)
    return render_template("admin/user.html", user=user, confirm_form=ConfirmForm(),
                           deactivate_form=UserDeactivateForm(), role_form=role_form,
                           delete_form=delete_form(),
                           deletion_block=personal_data.deletion_block_reason(user))


def _back_to(user: User) -> Response:
    return redirect(safe_next_url(request.args.get("next"))
                    or url_for("admin.user_detail", user_id=user.id))


def _user_action(user_id: int, form_class: Callable[[], FlaskForm],
                 change: Callable[[User, Any], object],
                 success: str, invalid: str) -> Response:
    """Check the form, run the service call (flashing its outcome) and go back."""
    user = _user(user_id)
    form = form_class()
    if form.validate_on_submit():
        attempt(lambda: change(user, form), success % {"name": user.name})
    else:
        flash(invalid, "error")
    return _back_to(user)


def _expired() -> str:
    return _("The form had expired. Please try again.")


@bp.route("/users/<int:user_id>/approve", methods=["POST"])
def approve_user(user_id: int) -> Response:
    return _user_action(
        user_id, ConfirmForm,
        lambda user, _form: accounts.approve_member(current_user, user),
        _("%(name)s has been approved and told by email."), _expired())


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
def deactivate_user(user_id: int) -> Response:
    return _user_action(
        user_id, UserDeactivateForm,
        lambda user, form: accounts.deactivate_member(current_user, user, form.reason.data),
        _("%(name)s has been deactivated and logged out."),
        _("Give a reason to deactivate an account."))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
def reactivate_user(user_id: int) -> Response:
    return _user_action(
        user_id, ConfirmForm,
        lambda user, _form: accounts.reactivate_member(current_user, user),
        _("%(name)s has been reactivated."), _expired())


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def set_user_role(user_id: int) -> Response:
    return _user_action(
        user_id, UserRoleForm,
        lambda user, form: accounts.set_role(current_user, user, form.role.data),
        _("The role of %(name)s has been changed."),
        _("Choose a role from the list."))


# --- personal data on request (see services/personal_data.py) -----------------------------

DELETE_PREFIX = "delete"  # the deletion's reason field beside the deactivation's on one page


def delete_form() -> UserDeactivateForm:
    return UserDeactivateForm(prefix=DELETE_PREFIX)


@bp.route("/users/<int:user_id>/data", methods=["POST"])
def export_user_data(user_id: int) -> Response:
    """Their data as the zip they would download themselves (audited)."""
    user = _user(user_id)
    if not ConfirmForm().validate_on_submit():
        flash(_expired(), "error")
        return _back_to(user)
    return zip_download(personal_data.export_archive(current_user, user))


@bp.route("/users/<int:user_id>/delete", methods=["POST"])
def delete_user(user_id: int) -> Response:
    return _user_action(
        user_id, delete_form,
        lambda user, form: personal_data.delete_account(current_user, user,
                                                        reason=form.reason.data),
        _("The account of %(name)s has been deleted; they have been told by email."),
        _("Give the reason for deleting the account (whose request, and when)."))
