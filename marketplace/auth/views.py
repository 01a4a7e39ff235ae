"""Sign up, confirm the address, log in and out, reset a forgotten password."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.wrappers import Response as FlaskResponse  # make_response's, as the limiter wants
from flask_babel import gettext as _
from flask_limiter import RequestLimit
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import answer_time, rate_limits
from ..extensions import db, limiter
from ..i18n import current_language, speak_as
from ..models import Organisation, OrganisationStatus
from ..services import accounts
from ..services.accounts import EmailNotConfirmed, InvalidCredentials, NewOrganisationRequest
from ..services.errors import DomainError, InvalidToken
from ..services.organisations import SiteDetails
from ..web import refusals_on, render_form, safe_next_url, show_domain_error
from .forms import REQUEST_NEW, EmailForm, LoginForm, ResetPasswordForm, SignUpForm

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _limit(setting: str,
           on_breach: Callable[[RequestLimit], FlaskResponse | None] | None = None) -> Callable:
    """Rate-limit POSTs by client address, with the limit read from the settings."""
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"],
                         on_breach=on_breach)


def _active_organisation_choices() -> list[tuple[int, str]]:
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.status == OrganisationStatus.ACTIVE)
        .order_by(Organisation.name)
    ).all()
    return [(row.id, row.name) for row in organisations]


def _signup_refused(refused: RequestLimit) -> FlaskResponse:
    """A sign-up over the limit: the form again, with what was typed (not the password) and
    when to try again, instead of an error page."""
    form = SignUpForm()
    form.set_choices(_active_organisation_choices())
    return rate_limits.form_again("auth/signup.html", form, refused)


@bp.route("/signup", methods=["GET", "POST"])
@_limit("SIGNUP_RATE_LIMIT", on_breach=_signup_refused)
def signup() -> Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignUpForm()
    form.set_choices(_active_organisation_choices())
    if request.method == "GET":
        form.language.data = current_language()
    if form.validate_on_submit():
        new_request = None
        if form.organisation_choice.data == REQUEST_NEW:
            new_request = NewOrganisationRequest(
                name=form.organisation_name.data or "",
                kind=form.organisation_kind.data or "",
                kvk_number=form.kvk_number.data or "",
                first_site=SiteDetails(
                    name=form.site_name.data or "",
                    street=form.street.data or "",
                    postcode=form.postcode.data or "",
                    city=form.city.data or "",
                    province=form.province.data or "",
                ),
            )
        with refusals_on(form) as call:
            accounts.sign_up(
                name=form.name.data,
                email=form.email.data,
                password=form.password.data,
                language=form.language.data,
                organisation_id=None if new_request else form.organisation.data,
                new_organisation_request=new_request,
            )
        if call.succeeded:
            # The same answer whether or not the address had an account (see sign_up).
            session["signup_email"] = accounts.normalise_email(form.email.data)
            return redirect(url_for("auth.check_inbox"))
    return render_form("auth/signup.html", form=form)


@bp.route("/check-your-inbox")
def check_inbox() -> str:
    return render_template("auth/check_inbox.html", email=session.get("signup_email"))


@bp.route("/confirm/<token>")
def confirm_email(token: str) -> Response | tuple[str, int]:
    try:
        user, newly_confirmed = accounts.confirm_email(token)
    except InvalidToken as error:
        form = EmailForm()
        return render_template("auth/resend_confirmation.html", form=form,
                               token_error=error.message), 400
    speak_as(user)  # the link's recipient, on this page and the login page that follows
    if newly_confirmed:
        flash(_("Thank you, your email address is confirmed."), "success")
    else:
        flash(_("Your email address was confirmed already."), "info")
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login", email=user.email))


@bp.route("/confirm", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
@answer_time.no_sooner_than("EMAIL_LOOKUP_FLOOR_MS")  # known addresses queue mail: no tell
def resend_confirmation() -> Response | tuple[str, int]:
    form = EmailForm()
    if form.validate_on_submit():
        accounts.resend_confirmation(form.email.data)
        flash(_("If that address has an account waiting for confirmation, "
                "we have sent a new link to it."), "info")
        return redirect(url_for("auth.login"))
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"]
    return render_form("auth/resend_confirmation.html", form=form)


def _login_refused(refused: RequestLimit) -> FlaskResponse:
    """A login over the limit: the form again, with the address, and when to try again."""
    form = LoginForm()
    form.password.data = ""
    return rate_limits.form_again("auth/login.html", form, refused)


@bp.route("/login", methods=["GET", "POST"])
@rate_limits.failed_logins(on_breach=_login_refused)
def login() -> Response | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        form.email.data = request.args.get("email", "")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next_url(form.next.data) or url_for("main.home"))
    unconfirmed_email = None
    refusal_status = None
    if form.validate_on_submit():
        try:
            with rate_limits.failures_counted(InvalidCredentials):
                user = accounts.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            show_domain_error(form, error)
            refusal_status = error.status_code  # 401 wrong credentials, 403 not allowed in
            if isinstance(error, EmailNotConfirmed):
                unconfirmed_email = form.email.data
        else:
            # A fresh session at login: nothing set before it (session fixation) survives.
            session.clear()
            login_user(user, remember=form.remember.data)
            accounts.record_login(user)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(safe_next_url(form.next.data) or url_for("main.home"))
    form.password.data = ""
    body, status = render_form("auth/login.html", form=form, unconfirmed_email=unconfirmed_email)
    return body, refusal_status or status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    # Ends this session and every other one of this user (other devices, remember-me cookies).
    accounts.log_out(current_user)
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("main.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
@answer_time.no_sooner_than("EMAIL_LOOKUP_FLOOR_MS")  # known addresses queue mail: no tell
def forgot_password() -> Response | tuple[str, int]:
    form = EmailForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        # The same answer whether or not the address has an account.
        flash(_("If that address has an account, we have emailed it a link to choose a new "
                "password. The link works for a limited time."), "info")
        return redirect(url_for("auth.login"))
    return render_form("auth/forgot_password.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@_limit("RESET_RATE_LIMIT")
def reset_password(token: str) -> Response | tuple[str, int]:
    try:
        user = accounts.user_for_reset_token(token)
    except InvalidToken as error:
        return render_template("auth/forgot_password.html", form=EmailForm(),
                               token_error=error.message), 400
    speak_as(user)  # the link's recipient, whatever the browser asks for
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            user = accounts.reset_password(token, form.password.data)
        if call.succeeded:
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Your password has been changed. Log in with your new password."), "success")
            return redirect(url_for("auth.login", email=user.email))
    return render_form("auth/reset_password.html", form=form)
