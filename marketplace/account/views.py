"""A user's own profile, password and email preferences."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from .. import rate_limits
from ..extensions import csrf, limiter
from ..i18n import speak_as
from ..models import User
from ..security import in_good_standing, participation_block_reason
from ..services import accounts, personal_data
from ..services.errors import InvalidToken, WrongPassword
from ..services.mail import KIND_LABELS, email_kinds_for
from ..web import refusals_on, render_form
from .forms import (
    ChangePasswordForm,
    DeleteAccountForm,
    ExportForm,
    PreferencesForm,
    ProfileForm,
)

bp = Blueprint("account", __name__, url_prefix="/account")


def _wanted_kinds(user: User) -> list[str]:
    return [kind for kind in email_kinds_for(user) if kind not in user.muted_kinds]


def _offer_kinds_of(user: User, form: ProfileForm | PreferencesForm) -> None:
    offered = email_kinds_for(user)
    form.email_kinds.choices = [choice for choice in form.email_kinds.choices
                                if choice.value in offered]


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile() -> Response | tuple[str, int]:
    form = ProfileForm(obj=current_user)
    _offer_kinds_of(current_user, form)
    if request.method == "GET":
        form.language.data = current_user.language.value
        form.notifications.data = current_user.notifications.value
        form.email_kinds.data = _wanted_kinds(current_user)
        form.follows_organisation_listings.data = current_user.follows_organisation_listings
    if form.validate_on_submit():
        with refusals_on(form) as call:
            accounts.update_profile(
                current_user,
                name=form.name.data,
                phone=form.phone.data,
                language=form.language.data,
                notifications=form.notifications.data,
                email_kinds=form.email_kinds.data or [],
                follows_organisation_listings=bool(form.follows_organisation_listings.data),
            )
        if call.succeeded:
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("account.profile"))
    return render_form("account/profile.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
@rate_limits.failed_password_checks
def change_password() -> Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with refusals_on(form) as call, rate_limits.failures_counted(WrongPassword):
            accounts.change_password(current_user, form.current_password.data,
                                     form.new_password.data)
        if call.succeeded:
            # Every other session ended with the change; this one carries on with a new id.
            login_user(current_user._get_current_object(), fresh=True)
            flash(_("Your password has been changed. Other devices have been logged out."),
                  "success")
            return redirect(url_for("account.profile"))
    return render_form("account/change_password.html", form=form)


@bp.route("/email-preferences/<token>", methods=["GET", "POST"])
def email_preferences(token: str) -> Response | tuple[str, int]:
    """The unsubscribe link in every email: works without logging in."""
    try:
        user = accounts.user_for_preferences_token(token)
    except InvalidToken as error:
        return render_template("errors/error.html", status=400, title=_("Link not valid"),
                               explanation=error.message), 400
    speak_as(user)  # the recipient's language, logged in or not, whatever the browser asks
    form = PreferencesForm()
    _offer_kinds_of(user, form)
    if request.method == "GET":
        form.notifications.data = user.notifications.value
        form.email_kinds.data = _wanted_kinds(user)
    if form.validate_on_submit():
        accounts.set_notification_preference(user, form.notifications.data,
                                             form.email_kinds.data or [])
        flash(_("Your email preferences have been saved."), "success")
        return redirect(url_for("account.email_preferences", token=token))
    return render_form("account/email_preferences.html", form=form, user=user)


ONE_CLICK = ("List-Unsubscribe", "One-Click")  # the form field RFC 8058 has providers post


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail providers post the one click without a token: the signed link is the key
def unsubscribe(token: str) -> tuple[str, int]:
    """The List-Unsubscribe link of optional email, without logging in: a page that names the
    kind of email with a button, and the one-click POST that switches it off."""
    try:
        user, kind = accounts.unsubscribe_request(token)
    except InvalidToken as error:
        return render_template("errors/error.html", status=400, title=_("Link not valid"),
                               explanation=error.message), 400
    status = 200
    if request.method == "POST":
        if request.form.get(ONE_CLICK[0]) == ONE_CLICK[1]:
            accounts.unsubscribe(user, kind)
        else:
            status = 400  # not the one click: nothing changes, the page offers the button
    with force_locale(user.language.value):  # the recipient's, whoever follows the link
        page = render_template("account/unsubscribe.html", user=user, label=KIND_LABELS[kind],
                               switched_off=kind in user.muted_kinds, one_click=ONE_CLICK,
                               preferences_token=accounts.preferences_token(user))
    return page, status


# --- personal data: download and delete (see services/personal_data.py) ------------------

EXPORT_RATE_LIMIT = "10 per hour"
CHUNK_BYTES = 64 * 1024


def _per_user() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else get_remote_address()


def _chunks_of(archive: IO[bytes]) -> Iterator[bytes]:
    # The file is closed when it has been sent, and also when the client went away mid-way
    # (the server closes the generator).
    try:
        while chunk := archive.read(CHUNK_BYTES):
            yield chunk
    finally:
        archive.close()


def zip_download(archive: IO[bytes]) -> Response:
    """Stream a built export (closed when sent); never cached anywhere on the way."""
    size = archive.seek(0, os.SEEK_END)
    archive.seek(0)
    response = Response(_chunks_of(archive), mimetype="application/zip",
                        direct_passthrough=True)
    response.content_length = size
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{personal_data.export_filename()}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/data", methods=["GET", "POST"])
@login_required
@limiter.limit(EXPORT_RATE_LIMIT, key_func=_per_user, methods=["POST"])
def data() -> Response | tuple[str, int]:
    """What we hold about you, and a button to download it all."""
    form = ExportForm()
    if form.validate_on_submit():
        return zip_download(personal_data.export_archive(current_user, current_user))
    return render_form("account/privacy_data.html", form=form)


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@rate_limits.failed_password_checks
def delete() -> Response | tuple[str, int]:
    """The confirmation page (password and a tick), then the deletion and a goodbye."""
    form = DeleteAccountForm()
    block = personal_data.deletion_block_reason(current_user)
    if block is None and form.validate_on_submit():
        with refusals_on(form) as call, rate_limits.failures_counted(WrongPassword):
            personal_data.delete_account(current_user, current_user,
                                         password=form.password.data)
        if call.succeeded:
            logout_user()
            session.clear()
            return redirect(url_for("account.deleted"))
    form.password.data = ""
    return render_form("account/privacy_delete.html", form=form, block=block,
                       summary=personal_data.deletion_summary(current_user))


@bp.route("/deleted")
def deleted() -> str:
    return render_template("account/privacy_deleted.html")


@bp.route("/waiting")
@login_required
def waiting() -> Response | str:
    """What an account not yet in good standing waits for, and what it can do meanwhile."""
    if in_good_standing(current_user):
        return redirect(url_for("main.home"))
    return render_template("account/waiting.html", reason=participation_block_reason(
        current_user), organisation=current_user.organisation)
