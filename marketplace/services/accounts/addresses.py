"""Email addresses: how they are stored and the account an address belongs to."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import User


def normalise_email(email: str) -> str:
    """Addresses are unique ignoring case and surrounding space; we store them lower-cased."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))
