"""A listed medical device's passport (issue 20). Which categories hold medical devices, and which
passport fields they require, is on Category (`medical_device`, `passport_requirements`); the
listing reaches its passport as `Listing.passport`."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, utcnow

# The passport's fields a category may require (Category.passport_requirements names them).
PASSPORT_FIELDS = ("manufacturer", "model", "single_use", "ce_marked", "udi_di",
                   "serial_numbers", "year_of_manufacture", "last_maintenance_on",
                   "last_safety_test_on", "instructions")


class DevicePassport(Model):
    """What a receiving hospital's medical technology needs to know of a listed device, for the
    batch (serial or lot numbers per unit in `serial_numbers`). Cleaning and disinfection are
    the listing's own fields (cleaned_on, its description)."""

    __tablename__ = "device_passport"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"),
                                            unique=True)
    manufacturer: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    # None: not said. Single-use devices are offered only unopened and before their expiry.
    single_use: Mapped[bool | None]
    ce_marked: Mapped[bool | None]
    udi_di: Mapped[str | None] = mapped_column(String(14), index=True)  # a GS1 GTIN
    serial_numbers: Mapped[str | None] = mapped_column(Text)  # serial or lot numbers, one a line
    year_of_manufacture: Mapped[int | None] = mapped_column(Integer)
    last_maintenance_on: Mapped[date | None] = mapped_column(Date)
    last_safety_test_on: Mapped[date | None] = mapped_column(Date)  # electrical safety test
    instructions_url: Mapped[str | None] = mapped_column(String(500))
    # The instructions for use as an uploaded PDF: its key in photo storage's folder for
    # documents, original file name, size and SHA-256.
    instructions_key: Mapped[str | None] = mapped_column(String(200))
    instructions_filename: Mapped[str | None] = mapped_column(String(200))
    instructions_bytes: Mapped[int | None] = mapped_column(Integer)
    instructions_sha256: Mapped[str | None] = mapped_column(String(64))
    history_notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<DevicePassport listing={self.listing_id} {self.manufacturer} {self.model}>"
