"""Transfers of ownership (issue 20): when a claim is collected, a document in Dutch and English
says who gave what to whom, with the device passport's data, who accepted and who confirmed
the hand-over, and the declarations of both sides.

`record_transfer` runs in mark_collected's unit of work: it writes the Transfer row (reference
OVD-<year>-<6 digits>, from the row's id, so two hand-overs at once never share one) and what the
document says as data (`details`), then renders the PDF from that data, stores it unchanged
under its SHA-256 and records the hash in the audit log. The file follows the transaction: a
rollback removes it.

If the PDF cannot be made (the renderer or the storage fails), the hand-over still counts: the
items have changed hands whatever a PDF library thinks, and refusing would leave the claim
"accepted" until it expired as never collected. The row and its data are kept (the registers
and safety notices read them, not the PDF), and housekeeping makes the document later from the
same data (`make_missing_documents`), so it says what was true at the hand-over.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from .. import stored_files
from ..extensions import db
from ..localtime import local_time
from ..models import Claim, Organisation, Site, Transfer, User
from ..models.base import utcnow
from ..storage import get_storage
from ..unit_of_work import Skip, each_in_own_unit
from . import audit, organisations
from .pdf import html_to_pdf, paper_font

log = logging.getLogger(__name__)

REFERENCE_PREFIX = "OVD"  # overdracht
LANGUAGES = ("nl", "en")  # the document says everything in both, Dutch first
RETRY_BATCH = 100  # documents housekeeping makes per run at most

# The document's words, each shown in both languages ("Gever / Giver").
LABELS = {
    "title": _l("Transfer of ownership"),
    "reference": _l("Reference"),
    "date": _l("Date of the hand-over"),
    "giver": _l("Giver"),
    "receiver": _l("Receiver"),
    "kvk": _l("KvK number"),
    "site": _l("Site"),
    "items": _l("What was handed over"),
    "item": _l("Item"),
    "quantity": _l("Quantity"),
    "condition": _l("Condition"),
    "category": _l("Category"),
    "cleaned_on": _l("Cleaned and disinfected on"),
    "manufacturer": _l("Manufacturer"),
    "model": _l("Model"),
    "udi_di": _l("UDI-DI (GTIN)"),
    "serial_numbers": _l("Serial or lot numbers"),
    "year_of_manufacture": _l("Year of manufacture"),
    "last_maintenance_on": _l("Last maintenance"),
    "last_safety_test_on": _l("Last electrical safety test"),
    "single_use": _l("Single use"),
    "ce_marked": _l("CE marking"),
    "yes": _l("yes"),
    "no": _l("no"),
    "accepted_by": _l("Claim accepted by"),
    "collected_by": _l("Hand-over confirmed by"),
    "declarations": _l("Declarations"),
    "unknown": _l("not known"),
    "made_by": _l("Made by the Surplus Marketplace when the hand-over was confirmed. Its "
                  "SHA-256 is kept in the platform's audit log."),
}
DECLARATIONS = (
    _l("The giver hands the items over as they are and gives no warranty beyond what it "
       "declared in the listing and its device passport."),
    _l("The receiver checks the items before use and is responsible for their safe use: "
       "inspection, maintenance and, for medical devices, admission by its own medical "
       "technology."),
)

# The CSV's columns: stable names an asset or maintenance system can map once.
CSV_COLUMNS = ("reference", "date", "direction", "other_organisation", "other_kvk_number",
               "title", "quantity", "unit", "manufacturer", "model", "udi_di",
               "serial_numbers", "year_of_manufacture")


def _both(text: Any) -> dict[str, str]:
    """`text` (a lazy string) in each language of the document."""
    words = {}
    for language in LANGUAGES:
        with force_locale(language):
            words[language] = str(text)
    return words


def _moment(moment: datetime | None) -> str | None:
    """An ISO 8601 time in the platform's time zone, to the minute, with its offset."""
    return local_time(moment).isoformat(timespec="minutes") if moment else None


def _organisation(organisation: Organisation, site: Any) -> dict[str, Any]:
    return {
        "id": organisation.id,
        "name": organisation.name,
        "kvk_number": organisation.kvk_number,
        "site": None if site is None else {
            "name": site.name, "street": site.street, "postcode": site.postcode,
            "city": site.city},
    }


def _receiving_site(organisation: Organisation) -> Any:
    """The receiver's address on the document: its first active site (claims name none)."""
    return db.session.scalar(select(Site).where(
        Site.id == organisations.receiving_site_id(organisation.id)))


def _person(user: User | None, moment: datetime | None) -> dict[str, Any]:
    return {"name": user.name if user is not None else None, "at": _moment(moment)}


def _item(claim: Claim) -> dict[str, Any]:
    listing = claim.listing
    category = listing.category
    passport = listing.passport
    item: dict[str, Any] = {
        "listing_id": listing.id,
        "title": listing.title,
        "quantity": claim.quantity,
        "unit": listing.unit.value,
        "quantity_text": {language: _in(language, listing.unit.quantity, claim.quantity)
                          for language in LANGUAGES},
        "condition": listing.condition.value if listing.condition else None,
        "condition_text": ({language: _in(language, lambda: listing.condition.label)
                            for language in LANGUAGES} if listing.condition else None),
        "category": ({"nl": category.name_nl, "en": category.name_en}
                     if category is not None else None),
        "cleaned_on": listing.cleaned_on.isoformat() if listing.cleaned_on else None,
        "passport": None,
    }
    if passport is not None:
        item["passport"] = {
            "manufacturer": passport.manufacturer,
            "model": passport.model,
            "udi_di": passport.udi_di,
            "serial_numbers": passport.serial_numbers,
            "year_of_manufacture": passport.year_of_manufacture,
            "last_maintenance_on": (passport.last_maintenance_on.isoformat()
                                    if passport.last_maintenance_on else None),
            "last_safety_test_on": (passport.last_safety_test_on.isoformat()
                                    if passport.last_safety_test_on else None),
            "single_use": passport.single_use,
            "ce_marked": passport.ce_marked,
        }
    return item


def _in(language: str, function: Any, *args: Any) -> str:
    with force_locale(language):
        return str(function(*args))


def reference_for(transfer_id: int, year: int) -> str:
    return f"{REFERENCE_PREFIX}-{year}-{transfer_id:06d}"


def record_transfer(actor: User, claim: Claim) -> Transfer:
    """The transfer of the just-collected `claim`, confirmed by `actor`, in the caller's unit
    of work, with its document when it can be made (else housekeeping makes it later)."""
    listing = claim.listing
    collected_at = claim.collected_at or utcnow()
    passport = listing.passport
    transfer = Transfer(
        claim=claim,
        # Unique until the id is known (one transfer per claim); replaced at once below.
        reference=f"new-{claim.id}",
        giver_organisation_id=listing.organisation_id,
        receiver_organisation_id=claim.claimant_organisation_id,
        created_at=collected_at,
        details={},
        manufacturer=passport.manufacturer if passport else None,
        model=passport.model if passport else None,
        udi_di=passport.udi_di if passport else None,
        serial_numbers=passport.serial_numbers if passport else None,
    )
    db.session.add(transfer)
    db.session.flush()
    transfer.reference = reference_for(transfer.id, local_time(collected_at).year)
    transfer.details = {
        "reference": transfer.reference,
        "date": local_time(collected_at).date().isoformat(),
        "claim_id": claim.id,
        "giver": _organisation(listing.organisation, listing.site),
        "receiver": _organisation(claim.claimant_organisation,
                                  _receiving_site(claim.claimant_organisation)),
        "accepted_by": _person(claim.decided_by, claim.decided_at),
        "collected_by": {**_person(actor, collected_at),
                         "organisation": actor.organisation.name if actor.organisation
                         else None},
        "items": [_item(claim)],
    }
    db.session.flush()
    make_document(transfer, actor)
    return transfer


def render_document(details: dict[str, Any]) -> bytes:
    """The PDF of a transfer's `details` (HTML template → services/pdf.py). Raises RuntimeError
    when the library reports errors."""
    html = render_template(
        "documents/transfer.html", d=details, pdf_font=paper_font(),
        labels={key: _both(text) for key, text in LABELS.items()},
        declarations=[_both(text) for text in DECLARATIONS])
    return html_to_pdf(html)


def document_key(sha256: str) -> str:
    return f"documents/transfers/{sha256[:2]}/{sha256}.pdf"


def make_document(transfer: Transfer, actor: User | None = None) -> bool:
    """Render and store the transfer's PDF and record its SHA-256 (on the row and in the audit
    log), in the caller's unit of work; False, and logged, when it could not be made."""
    try:
        data = render_document(transfer.details)
    except Exception:
        log.exception("Could not make the document of transfer %s", transfer.reference)
        return False
    sha256 = hashlib.sha256(data).hexdigest()
    key = document_key(sha256)
    storage = get_storage()
    try:
        storage.write(key, data)
    except OSError:
        log.exception("Could not store the document of transfer %s", transfer.reference)
        return False
    stored_files.written(storage, [key])
    transfer.document_key = key
    transfer.document_sha256 = sha256
    audit.record(actor, "transfer.document", transfer, label=transfer.reference,
                 reason=f"SHA-256 {sha256}")
    return True


def make_missing_documents() -> int:
    """Make the documents a hand-over could not (housekeeping), each in its own unit; returns
    how many were made. A row another run holds is passed by (PostgreSQL)."""
    waiting = list(db.session.scalars(
        select(Transfer.id).where(Transfer.document_key.is_(None))
        .order_by(Transfer.id).limit(RETRY_BATCH)))

    def make(transfer_id: int) -> bool:
        transfer = db.session.scalar(
            select(Transfer).where(Transfer.id == transfer_id, Transfer.document_key.is_(None))
            .with_for_update(skip_locked=True))
        if transfer is None:
            return False
        if not make_document(transfer):
            raise Skip
        return True

    return each_in_own_unit(waiting, make)


def transfer_of_claim(claim_id: int) -> Transfer | None:
    return db.session.scalar(select(Transfer).where(Transfer.claim_id == claim_id))


def read_document(transfer: Transfer) -> bytes:
    """The stored PDF. Raises FileNotFoundError when there is none (yet), OSError when the
    storage fails."""
    if not transfer.document_key:
        raise FileNotFoundError(f"transfer {transfer.reference} has no document yet")
    return get_storage().read(transfer.document_key)


# --- registers --------------------------------------------------------------------------------

def transfers_of(organisation: Organisation) -> list[Transfer]:
    """The organisation's transfers, given and received, newest first."""
    return list(db.session.scalars(
        select(Transfer)
        .where(or_(Transfer.giver_organisation_id == organisation.id,
                   Transfer.receiver_organisation_id == organisation.id))
        .order_by(Transfer.created_at.desc(), Transfer.id.desc())))


def direction(transfer: Transfer, organisation: Organisation) -> str:
    """"given" or "received", as the organisation sees it."""
    return "given" if transfer.giver_organisation_id == organisation.id else "received"


def other_side(transfer: Transfer, organisation: Organisation) -> dict[str, Any]:
    """The other organisation as the document names it."""
    details = transfer.details
    return details["receiver"] if direction(transfer, organisation) == "given" \
        else details["giver"]


def csv_rows(organisation: Organisation) -> Iterator[tuple[Any, ...]]:
    """One row per item of each transfer (CSV_COLUMNS first): ISO dates, codes not words."""
    yield CSV_COLUMNS
    for transfer in transfers_of(organisation):
        other = other_side(transfer, organisation)
        for item in transfer.details.get("items", ()):
            passport = item.get("passport") or {}
            yield (transfer.reference, transfer.details.get("date"),
                   direction(transfer, organisation), other.get("name"),
                   other.get("kvk_number") or "", item.get("title"), item.get("quantity"),
                   item.get("unit"), passport.get("manufacturer") or "",
                   passport.get("model") or "", passport.get("udi_di") or "",
                   _one_line(passport.get("serial_numbers")),
                   passport.get("year_of_manufacture") or "")


def _one_line(serials: str | None) -> str:
    """Serial or lot numbers, one a line in the passport, separated by "; " in a cell."""
    return "; ".join(line.strip() for line in (serials or "").splitlines() if line.strip())
