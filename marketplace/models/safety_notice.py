"""Field safety notices (issue 20): a manufacturer's warning about a device, recorded by a
platform admin, and each organisation that received a matching device through the platform
until one of its members acknowledges it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow
from .organisation import Organisation
from .transfer import Transfer
from .user import User


class SafetyNotice(Model):
    """Which devices a notice concerns: the UDI-DI, or manufacturer and model (compared without
    case and spaces); narrowed, when given, to a range of serial or lot numbers
    (`serials_from` to `serials_to`: the same letters, then a number in the range) or to the
    numbers listed in `serials_listed` (one a line, "L123")."""

    __tablename__ = "safety_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    manufacturer: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    udi_di: Mapped[str | None] = mapped_column(String(14))  # a GS1 GTIN, as entered
    serials_from: Mapped[str | None] = mapped_column(String(60))
    serials_to: Mapped[str | None] = mapped_column(String(60))
    serials_listed: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))  # the manufacturer's notice (http/s)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    created_by: Mapped[User | None] = relationship()
    recipients: Mapped[list[SafetyNoticeRecipient]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SafetyNoticeRecipient.id")

    @property
    def device(self) -> str:
        """The device in a few words: manufacturer and model, else the UDI-DI."""
        words = " ".join(part for part in (self.manufacturer, self.model) if part)
        return words or (self.udi_di or "")

    def __repr__(self) -> str:
        return f"<SafetyNotice {self.id} {self.device!r}>"


class SafetyNoticeRecipient(Model):
    """An organisation that received a matching device, one row a notice: the transfer named
    in its email (the first that matched) and who of the organisation acknowledged, when."""

    __tablename__ = "safety_notice_recipient"
    __table_args__ = (UniqueConstraint("notice_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("safety_notice.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfer.id"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notice: Mapped[SafetyNotice] = relationship(back_populates="recipients")
    organisation: Mapped[Organisation] = relationship()
    transfer: Mapped[Transfer | None] = relationship()
    acknowledged_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<SafetyNoticeRecipient notice={self.notice_id} org={self.organisation_id}>"
