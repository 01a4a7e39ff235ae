"""Answers that take the same time whatever they found.

Forgot-password and resend-confirmation say the same words for an address with an account and
one without, but the first also renders and queues an email (about 30 ms): the time taken
would tell which addresses have accounts. Their POSTs are answered no sooner than
EMAIL_LOOKUP_FLOOR_MS after the request began (250 ms by default, well above the slower path;
bench/email_lookup_timing.py measures both). Should the work ever take longer than the floor,
the difference shows again: raise the setting. Mail delivered right after the request
(MAIL_DELIVER_AFTER_REQUEST, the demo without a mail server) comes after the floor; production
queues it for the separate sender.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, g, request

from .extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def wait_until(deadline: float) -> None:
    """Sleep until `deadline` (a time.perf_counter() value) when it is still ahead."""
    remaining = deadline - time.perf_counter()
    if remaining > 0:
        time.sleep(remaining)


def request_started() -> float:
    """When this request began (set first thing by logs.py), or now."""
    started = g.get("request_started")
    return started if started is not None else time.perf_counter()


def no_sooner_than(setting: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A view's POSTs are answered no sooner than `setting` milliseconds after the request
    began, whatever the view did."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def padded(*args: P.args, **kwargs: P.kwargs) -> R:
            answer = view(*args, **kwargs)
            if request.method == "POST":
                # The transaction ends here, inside the floor: a lookup that found nothing
                # leaves one open, whose rollback would otherwise come after (0.2 ms).
                db.session.close()
                wait_until(request_started() + current_app.config[setting] / 1000)
            return answer

        return padded

    return decorate
