"""How a session finds its user, and why an old session stops working."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user

from .models import User
from .models.base import utcnow
from .services import session_user
from .services.session_user import SessionUser


def load_user(session_id: str) -> User | None:
    """Session ids are "<user id>:<session version>"; a bumped version ends old sessions.

    The user is read afresh for every request, with its organisation and what its pages ask
    (the navigation's counts, the search's origin: services/session_user.py) in the same
    statement: every page asks whether the member is in good standing
    (security.in_good_standing), which reads the organisation's status, and each further
    statement cost a member's page a round trip. What was read waits in `g.session_user`
    (`signed_in`) for the navigation and the search page."""
    user_id, _separator, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    read = session_user.read(int(user_id), utcnow())
    if read is None or not read.user.is_active or read.user.session_version != int(version):
        return None
    g.session_user = read
    return read.user


def signed_in(user: User) -> SessionUser | None:
    """What load_user read for this request if `user` is whom it read (not after a login to
    another account in the same request), else None."""
    read: SessionUser | None = g.get("session_user")
    return read if read is not None and read.user.id == user.id else None


def request_user() -> User | None:
    """The request's signed-in user itself, None for a visitor: flask_login's `current_user`
    is a proxy that looks the user up again at every attribute, which a member's page asked
    170 times."""
    user = current_user._get_current_object()
    return user if user.is_authenticated else None


def configure(login_manager: LoginManager) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
