"""People who use the marketplace."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, enum_column, utcnow
from .organisation import Organisation, OrganisationStatus
from .states import Transitions


class Role(enum.StrEnum):
    MEMBER = "member"
    ORG_ADMIN = "org_admin"
    PLATFORM_ADMIN = "platform_admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.MEMBER: _l("Member"),
    Role.ORG_ADMIN: _l("Organisation admin"),
    Role.PLATFORM_ADMIN: _l("Platform admin"),
}


class UserStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for an organisation admin (or a platform admin)
    ACTIVE = "active"
    DEACTIVATED = "deactivated"

    @property
    def label(self) -> str:
        return str(USER_STATUS_LABELS[self])


USER_STATUS_LABELS = {
    UserStatus.PENDING: _l("Awaiting approval"),
    UserStatus.ACTIVE: _l("Active"),
    UserStatus.DEACTIVATED: _l("Deactivated"),
}
# Joining an organisation waits for its admin; a new organisation's first admin, and accounts
# made by operators, start active. Deactivation (also of one still waiting) can be undone.
USER_TRANSITIONS = Transitions(UserStatus, initial={UserStatus.PENDING, UserStatus.ACTIVE},
                               edges={
    UserStatus.PENDING: {UserStatus.ACTIVE, UserStatus.DEACTIVATED},
    UserStatus.ACTIVE: {UserStatus.DEACTIVATED},
    UserStatus.DEACTIVATED: {UserStatus.ACTIVE},
})


class Language(enum.StrEnum):
    NL = "nl"
    EN = "en"

    @property
    def label(self) -> str:
        return LANGUAGE_NAMES[self]


# Each language is named in itself, so anyone can find their own in the switch.
LANGUAGE_NAMES = {Language.NL: "Nederlands", Language.EN: "English"}


class NotificationPreference(enum.StrEnum):
    INSTANT = "instant"
    DAILY = "daily"
    OFF = "off"

    @property
    def label(self) -> str:
        return str(NOTIFICATION_LABELS[self])


NOTIFICATION_LABELS = {
    NotificationPreference.INSTANT: _l("Right away, one email per event"),
    NotificationPreference.DAILY: _l("In one daily digest"),
    NotificationPreference.OFF: _l("Not at all (account and security emails still arrive)"),
}


class User(UserMixin, Model):
    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL
    STATUS_TRANSITIONS: ClassVar[Transitions[UserStatus]] = USER_TRANSITIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    # Always stored lower-cased (see services.accounts.normalise_email): unique ignoring case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id"), index=True
    )
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.MEMBER)
    status: Mapped[UserStatus] = mapped_column(
        enum_column(UserStatus), default=UserStatus.PENDING, index=True
    )
    language: Mapped[Language] = mapped_column(enum_column(Language, 2), default=Language.NL)
    notifications: Mapped[NotificationPreference] = mapped_column(
        enum_column(NotificationPreference), default=NotificationPreference.INSTANT
    )
    # Kinds of optional email switched off (see services/mail.EMAIL_KINDS), comma-separated.
    muted_email_kinds: Mapped[str] = mapped_column(String(200), default="")
    # Hears of the claims on every listing of the organisation, as a follower of each does.
    follows_organisation_listings: Mapped[bool] = mapped_column(default=False)
    # A colleague of the medical technology department: approves the organisation's claims for
    # medical devices when it requires that (services/medical_technology; set by its admin).
    medical_technology: Mapped[bool] = mapped_column(default=False, server_default=false())
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped at logout, password change and deactivation: every older session then stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the account was deleted: the row stays, anonymised (services/personal_data.py).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    # Flask-Login: the id in the session carries the version, so a bump logs out old sessions.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users at login_user()
        return self.status is not UserStatus.DEACTIVATED

    @property
    def muted_kinds(self) -> set[str]:
        return {kind for kind in self.muted_email_kinds.split(",") if kind}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_platform_admin(self) -> bool:
        return self.role is Role.PLATFORM_ADMIN

    @property
    def is_org_admin(self) -> bool:
        return self.role is Role.ORG_ADMIN

    @property
    def organisation_active(self) -> bool:
        return (
            self.organisation is not None
            and self.organisation.status is OrganisationStatus.ACTIVE
        )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"
