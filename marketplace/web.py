"""Small helpers the thin views share: form errors, safe redirects, page rendering."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from .models.base import DATABASE_INT_MAX
from .security import Action, in_good_standing, permitted
from .services.errors import DomainError

INVALID_FORM_STATUS = 422
_REFUSAL_STATUS = "web.refusal_status"  # in g, from refusals_on to render_form


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Attach a service's error to its field, or to the form as a whole."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*list(field.errors), error.message]
    else:
        form.form_errors.append(error.message)


def render_form(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """Render a form page; a submitted form with errors answers 422 (503 when `refusals_on`
    caught a refusal for something unavailable: storage failing, photos busy), otherwise 200."""
    has_errors = bool(form.errors) or bool(form.form_errors)
    status = INVALID_FORM_STATUS if request.method == "POST" and has_errors else 200
    if has_errors and g.get(_REFUSAL_STATUS):
        status = g.pop(_REFUSAL_STATUS)
    return render_template(template, form=form, **context), status


def page_number() -> int:
    """The `page` query argument of a paginated list: 1 when missing, bad or below 1."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), DATABASE_INT_MAX)


def id_value(values: MultiDict[str, str], name: str) -> int | None:
    """An id from form or query values (`request.form`, `request.args`): None when missing, not
    a number, or beyond any database id."""
    number = values.get(name, type=int)
    return number if number is not None and 1 <= number <= DATABASE_INT_MAX else None


def safe_next_url(target: str | None) -> str | None:
    """`target` when it stays on this site (a path), else None: never redirect off-site."""
    if not target or any(ord(character) < 32 for character in target):
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


P = ParamSpec("P")
R = TypeVar("R")


def member_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """login_required, and for an account not in good standing (awaiting approval, or of an
    organisation that is not active: security.in_good_standing) the page that says what it
    is waiting for instead of the view."""

    @wraps(view)
    @login_required
    def checked(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if not in_good_standing(current_user):
            return redirect(url_for("account.waiting"))
        return view(*args, **kwargs)

    return checked


def require(action: Action, obj: Any = None) -> None:
    """Abort with 403 unless the current user is one who may do `action` (the service says
    what the object's state allows)."""
    if not permitted(current_user, action, obj):
        abort(403)


@dataclass
class ServiceCall:
    succeeded: bool = True


@contextmanager
def refusals_on(form: FlaskForm, *, forbid: bool = False) -> Iterator[ServiceCall]:
    """Run the service calls of a submitted form in this block: a refusal (DomainError),
    rolled back by the service's unit of work, is shown on the form, and `call.succeeded`
    turns False.

    With `forbid`, a refusal for lack of permission answers 403 instead.
    """
    call = ServiceCall()
    try:
        yield call
    except DomainError as error:
        if forbid and error.status_code == 403:
            abort(403)
        show_domain_error(form, error)
        if error.status_code >= 500:  # the form is shown again, with the status it deserves
            g.setdefault(_REFUSAL_STATUS, error.status_code)
        call.succeeded = False


def attempt(action: Callable[[], object], success: str, *, forbid: bool = False) -> bool:
    """Run a service call for a button: flash `success`, or the refusal (its unit of work
    rolled back).

    With `forbid`, a refusal for lack of permission answers 403 instead of a message.
    """
    try:
        action()
    except DomainError as error:
        if forbid and error.status_code == 403:
            abort(403)
        flash(error.message, "error")
        return False
    flash(success, "success")
    return True
