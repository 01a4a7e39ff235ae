"""Rate limits on what a guesser or a flood would use, and what a refused visitor is told.

- Logging in counts FAILED attempts only (a wrong password or unknown address), per client
  address (LOGIN_RATE_LIMIT) and per account tried (LOGIN_ACCOUNT_RATE_LIMIT): staff logging in
  correctly from one shared address never use the limit up. Once a limit is used up every login
  it covers is refused until its window ends, the right password too: otherwise the answer
  would tell a guesser when a guess was right.
- Re-entering one's current password (change password, delete account) counts failed
  re-entries per member, both pages together (PASSWORD_CHECK_RATE_LIMIT).
- A refusal (429) says when to try again, from the window of the limit that was used up, with
  a `Retry-After` header; a form the visitor filled in can be shown again instead
  (`on_breach`).

A failure is counted after the answer (flask-limiter's `deduct_when`), so requests in flight at
the same moment are checked before any of them is counted: a burst can get one failed attempt
per request in flight beyond a limit, never more.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from flask import current_app, g, make_response, render_template, request
from flask.wrappers import Response
from flask_babel import ngettext
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm

from .extensions import limiter

_FAILED = "rate_limits_failed_attempt"  # in flask.g: this request guessed wrong
REENTRY_SCOPE = "reentry"  # change password and delete account count together
UNKNOWN_WAIT_SECONDS = 60  # when the window cannot be read

# A decorated view keeps its signature (flask-limiter's decorators are typed the same way).
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def failures_counted(*errors: type[Exception]) -> Iterator[None]:
    """Count the request against its failed-attempt limits when the block raises one of
    `errors` (re-raised as it is)."""
    try:
        yield
    except errors:
        g.setdefault(_FAILED, True)
        raise


def _failed(_response: Response) -> bool:
    return bool(g.get(_FAILED))


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _account_tried() -> str:
    """The account a login names, as a hash: the counters' keys hold no addresses."""
    email = (request.form.get("email") or "").strip().lower()
    return "account:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def _member() -> str:
    if current_user.is_authenticated:
        return f"member:{current_user.id}"
    return get_remote_address()


def failed_logins(on_breach: Callable[[RequestLimit], Response | None] | None = None
                  ) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Limit the failed POSTs of a login view per address and per account tried."""
    per_address = limiter.limit(_setting("LOGIN_RATE_LIMIT"), methods=["POST"],
                                deduct_when=_failed, on_breach=on_breach)
    per_account = limiter.limit(_setting("LOGIN_ACCOUNT_RATE_LIMIT"), methods=["POST"],
                                key_func=_account_tried, deduct_when=_failed,
                                on_breach=on_breach)
    return lambda view: per_account(per_address(view))


def failed_password_checks(view: Callable[P, R]) -> Callable[P, R]:
    """Limit, per member, the POSTs of a view where the current password was not right."""
    return limiter.shared_limit(_setting("PASSWORD_CHECK_RATE_LIMIT"), REENTRY_SCOPE,
                                methods=["POST"], key_func=_member,
                                deduct_when=_failed)(view)


def seconds_until_allowed(refused: RequestLimit | None = None) -> int:
    """How long until the limit that refused this request lets one through again (at least
    one second)."""
    refused = refused or limiter.current_limit
    try:
        # The window's end itself (RequestLimit.reset_at adds a second to it).
        reset_at = refused.window[0] if refused is not None else None
    except Exception:  # a store failing just now: a refusal must still be answered
        reset_at = None
    if reset_at is None:
        return UNKNOWN_WAIT_SECONDS
    return max(1, math.ceil(reset_at - time.time()))


def try_again_message(seconds: int) -> str:
    """'Try again in 12 minutes.' in the visitor's language, rounded up (hours from two)."""
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return ngettext("You tried this too often in a short time. "
                        "Try again in %(num)d minute.",
                        "You tried this too often in a short time. "
                        "Try again in %(num)d minutes.", minutes)
    hours = math.ceil(minutes / 60)
    return ngettext("You tried this too often in a short time. Try again in %(num)d hour.",
                    "You tried this too often in a short time. Try again in %(num)d hours.",
                    hours)


def form_again(template: str, form: FlaskForm, refused: RequestLimit) -> Response:
    """The refused form shown again (429) with what was typed and when to try again, instead
    of an error page."""
    form.form_errors.append(try_again_message(seconds_until_allowed(refused)))
    return make_response(render_template(template, form=form), 429)
