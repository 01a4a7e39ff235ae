"""How a session finds its user, and why an old session stops working."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import LoginManager
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .extensions import db, prepared
from .models import User

# Built once: on a member's page, building the statement cost as much as running it.
_USER_WITH_ORGANISATION = prepared(select(User).options(joinedload(User.organisation)).where(
    User.id == bindparam("user_id")))


def load_user(session_id: str) -> User | None:
    """Session ids are "<user id>:<session version>"; a bumped version ends old sessions.

    The user is read afresh for every request, with its organisation in the same statement:
    every page asks whether the member is in good standing (security.in_good_standing), which
    reads the organisation's status, and a second query cost a member's page a round trip."""
    user_id, _separator, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.scalars(_USER_WITH_ORGANISATION, {"user_id": int(user_id)}).first()
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def configure(login_manager: LoginManager) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
