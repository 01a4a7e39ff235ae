"""SQLAlchemy models, one module per aggregate; import them from here."""

from . import (
    search_index,  # noqa: F401  (attaches the full-text index DDL to listing)
    search_vocabulary,  # noqa: F401  (its DDL comes after the index's)
)
from .alert import Alert, AlertFrequency, AlertMatch
from .audit import AuditEvent
from .category import DEFAULT_CATEGORIES, DEFAULT_SUBCATEGORIES, Category
from .claim import Claim, ClaimMessage, ClaimStatus
from .device_passport import PASSPORT_FIELDS, DevicePassport
from .following import ListingFollower
from .impact import DEFAULT_IMPACT_FACTORS, ImpactFactor
from .listing import Condition, Listing, ListingStatus, Unit
from .material import (
    DEFAULT_CATEGORY_MATERIALS,
    DEFAULT_GREEN_DEAL_FACTORS,
    MATERIAL_CLASS_LABELS,
    CategoryMaterial,
    GreenDealFactor,
    GreenDealSetting,
    MaterialClass,
)
from .moderation import (
    DEFAULT_MODERATION_REASONS,
    DEFAULT_WATCH_WORDS,
    DailyTask,
    ModerationReason,
    Report,
    ReportOutcome,
    ReportReason,
    ReportStatus,
    WatchWord,
    WatchWordKind,
)
from .organisation import (
    PROVINCE_NAMES,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Site,
)
from .outbox import OutboxMessage, OutboxStatus
from .photo import ListingPhoto, Photo, StagedPhoto
from .safety_notice import SafetyNotice, SafetyNoticeRecipient
from .synonym import DEFAULT_SYNONYM_GROUPS, SynonymGroup, SynonymWord
from .transfer import Transfer
from .user import LANGUAGE_NAMES, Language, NotificationPreference, Role, User, UserStatus
from .wanted import Wanted, WantedAnswer, WantedStatus

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_CATEGORY_MATERIALS",
    "DEFAULT_GREEN_DEAL_FACTORS",
    "DEFAULT_IMPACT_FACTORS",
    "DEFAULT_MODERATION_REASONS",
    "DEFAULT_SUBCATEGORIES",
    "DEFAULT_SYNONYM_GROUPS",
    "DEFAULT_WATCH_WORDS",
    "LANGUAGE_NAMES",
    "MATERIAL_CLASS_LABELS",
    "PASSPORT_FIELDS",
    "PROVINCE_NAMES",
    "Alert",
    "AlertFrequency",
    "AlertMatch",
    "AuditEvent",
    "Category",
    "CategoryMaterial",
    "Claim",
    "ClaimMessage",
    "ClaimStatus",
    "Condition",
    "DailyTask",
    "DevicePassport",
    "GreenDealFactor",
    "GreenDealSetting",
    "ImpactFactor",
    "Language",
    "Listing",
    "ListingFollower",
    "ListingPhoto",
    "ListingStatus",
    "MaterialClass",
    "ModerationReason",
    "NotificationPreference",
    "Organisation",
    "OrganisationKind",
    "OrganisationStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Photo",
    "Province",
    "Report",
    "ReportOutcome",
    "ReportReason",
    "ReportStatus",
    "Role",
    "SafetyNotice",
    "SafetyNoticeRecipient",
    "Site",
    "StagedPhoto",
    "SynonymGroup",
    "SynonymWord",
    "Transfer",
    "Unit",
    "User",
    "UserStatus",
    "Wanted",
    "WantedAnswer",
    "WantedStatus",
    "WatchWord",
    "WatchWordKind",
]
