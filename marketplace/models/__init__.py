"""SQLAlchemy models, one module per aggregate; import them from here."""

from . import search_index  # noqa: F401  (attaches the full-text index DDL to listing)
from .alert import Alert, AlertFrequency, AlertMatch
from .audit import AuditEvent
from .category import DEFAULT_CATEGORIES, DEFAULT_SUBCATEGORIES, Category
from .claim import Claim, ClaimMessage, ClaimStatus
from .listing import Condition, Listing, ListingStatus, Unit
from .organisation import (
    PROVINCE_NAMES,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Site,
)
from .outbox import OutboxMessage, OutboxStatus
from .photo import ListingPhoto, Photo
from .user import LANGUAGE_NAMES, Language, NotificationPreference, Role, User, UserStatus
from .wanted import Wanted, WantedAnswer, WantedStatus

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_SUBCATEGORIES",
    "LANGUAGE_NAMES",
    "PROVINCE_NAMES",
    "Alert",
    "AlertFrequency",
    "AlertMatch",
    "AuditEvent",
    "Category",
    "Claim",
    "ClaimMessage",
    "ClaimStatus",
    "Condition",
    "Language",
    "Listing",
    "ListingPhoto",
    "ListingStatus",
    "NotificationPreference",
    "Organisation",
    "OrganisationKind",
    "OrganisationStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Photo",
    "Province",
    "Role",
    "Site",
    "Unit",
    "User",
    "UserStatus",
    "Wanted",
    "WantedAnswer",
    "WantedStatus",
]
