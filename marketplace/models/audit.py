"""A record of every approval, moderation and administration action. Only ever appended to."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow
from .user import User


class AuditEvent(Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. "organisation.approve"
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    target_label: Mapped[str] = mapped_column(String(255), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.target_type}:{self.target_id}>"


# Every action the log records, in words: the list, its filter and the CSV show these, never
# the codes. services.audit.record refuses an action that is not here.
AUDIT_ACTION_LABELS = {
    "listing.approve": _l("Listing approved"),
    "listing.reject": _l("Listing rejected"),
    "listing.request_changes": _l("Changes asked for a listing"),
    "listing.remove": _l("Listing removed"),
    "listing.edit": _l("Listing changed for a colleague"),
    "listing.withdraw": _l("Listing withdrawn for a colleague"),
    "listing.relist": _l("Listing offered again for a colleague"),
    "listing.hold": _l("Listing held for review"),
    "report.resolve": _l("Report handled"),
    "moderation_reason.add": _l("Standard reason added"),
    "moderation_reason.update": _l("Standard reason changed"),
    "moderation_reason.activate": _l("Standard reason switched on"),
    "moderation_reason.deactivate": _l("Standard reason switched off"),
    "watch_word.add": _l("Watch-word added"),
    "watch_word.delete": _l("Watch-word deleted"),
    "organisation.approve": _l("Organisation approved"),
    "organisation.suspend": _l("Organisation suspended"),
    "organisation.reactivate": _l("Organisation reactivated"),
    "organisation.trust": _l("Organisation trusted (no review)"),
    "organisation.distrust": _l("Organisation no longer trusted"),
    "organisation.notification_email": _l("Notification address changed"),
    "organisation.medical_sign_off.on": _l("Approval by medical technology switched on"),
    "organisation.medical_sign_off.off": _l("Approval by medical technology switched off"),
    "site.add": _l("Pick-up site added"),
    "site.update": _l("Pick-up site changed"),
    "site.archive": _l("Pick-up site archived"),
    "site.restore": _l("Pick-up site restored"),
    "user.approve": _l("Member approved"),
    "user.deactivate": _l("Member deactivated"),
    "user.reactivate": _l("Member reactivated"),
    "user.role.member": _l("Role changed to member"),
    "user.role.org_admin": _l("Role changed to organisation admin"),
    "user.role.platform_admin": _l("Role changed to platform admin"),
    "user.medical_technology.on": _l("Marked as medical technology"),
    "user.medical_technology.off": _l("No longer medical technology"),
    "user.export": _l("Personal data downloaded"),
    "user.delete": _l("Account deleted"),
    "category.add": _l("Category added"),
    "category.rename": _l("Category renamed"),
    "category.move": _l("Category moved"),
    "category.retire": _l("Category retired"),
    "category.restore": _l("Category restored"),
    "category.delete": _l("Category deleted"),
    "category.medical_device": _l("Medical-device settings of a category changed"),
    "impact_factor.create": _l("Impact factor added"),
    "impact_factor.update": _l("Impact factor changed"),
    "category_material.update": _l("Material class of a category changed"),
    "green_deal_factor.update": _l("Transport or displacement setting changed"),
    "mail.retry": _l("Failed email sent again"),
    "synonym_group.add": _l("Synonyms added"),
    "synonym_group.update": _l("Synonyms changed"),
    "synonym_group.delete": _l("Synonyms deleted"),
    "safety_notice.record": _l("Field safety notice recorded"),
    "safety_notice.acknowledge": _l("Field safety notice acknowledged"),
    "transfer.document": _l("Transfer document made"),  # its SHA-256 in the reason
}


def audit_action_label(action: str) -> str:
    """The action in the reader's language; an action of an older version shows as its code."""
    label = AUDIT_ACTION_LABELS.get(action)
    return str(label) if label is not None else action
