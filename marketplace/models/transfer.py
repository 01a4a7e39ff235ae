"""The transfer of ownership made when a claim is collected (issue 20): the document, kept
unchanged, and what it says as data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow
from .claim import Claim


class Transfer(Model):
    """The transfer of ownership of a collected claim: the PDF kept unchanged (its SHA-256 also
    in the audit log) and what it says as data, for the registers and safety notices."""

    __tablename__ = "transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)  # e.g. OVD-2026-000123
    giver_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                       index=True)
    receiver_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"),
                                                          index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The PDF in storage and its SHA-256; None while it waits to be made (a failed rendering
    # does not undo the hand-over: housekeeping makes it from `details` later).
    document_key: Mapped[str | None] = mapped_column(String(200))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    # What the document says (organisations, sites, people, times, items with their passport
    # data): the register, its CSV and safety notices read this, never the PDF.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Of the passport, for matching safety notices in SQL (None when it had none).
    manufacturer: Mapped[str | None] = mapped_column(String(120))
    model: Mapped[str | None] = mapped_column(String(120))
    udi_di: Mapped[str | None] = mapped_column(String(14), index=True)
    serial_numbers: Mapped[str | None] = mapped_column(Text)

    # claim.transfer (None until collected): the claim page and the collected mail read it.
    claim: Mapped[Claim] = relationship(backref=backref("transfer", uselist=False))

    def __repr__(self) -> str:
        return f"<Transfer {self.reference} claim={self.claim_id}>"
