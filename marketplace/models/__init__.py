"""SQLAlchemy models, one module per aggregate; import them from here."""

from .audit import AuditEvent
from .organisation import (
    PROVINCE_NAMES,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Site,
)
from .outbox import OutboxMessage, OutboxStatus
from .user import LANGUAGE_NAMES, Language, NotificationPreference, Role, User, UserStatus

__all__ = [
    "LANGUAGE_NAMES",
    "PROVINCE_NAMES",
    "AuditEvent",
    "Language",
    "NotificationPreference",
    "Organisation",
    "OrganisationKind",
    "OrganisationStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Province",
    "Role",
    "Site",
    "User",
    "UserStatus",
]
