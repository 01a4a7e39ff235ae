"""The instructions for use of a listed medical device, as a PDF (issue 20).

An uploaded PDF is checked (a real PDF, not encrypted, without scripts, launch actions or
embedded files, at most IFU_MAX_BYTES) and stored at once under its content hash
(`stage_instructions`), so that a form shown again with errors keeps it: the form carries a
signed token naming it (`instructions_token`), and the listing's unit of work takes it over
(device_passports.apply_passport). A file no passport names any more is deleted after the
commit.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from ..extensions import db
from ..models import DevicePassport, User
from ..storage import get_storage
from ..unit_of_work import after_commit, unit_of_work
from .errors import DomainError, Unavailable

log = logging.getLogger(__name__)

# The posting form's field (device_passports.field_name("instructions")).
INSTRUCTIONS_FIELD = "passport_instructions_file"
STAGED_FOR_SECONDS = 24 * 60 * 60  # as staged photos: a day
_SIGNING_PURPOSE = "device-passport.instructions"  # itsdangerous salt: separates these tokens
_PDF_MAGIC = b"%PDF-"
# Names in a PDF that run code, start programs or carry files: a receiving hospital opens the
# instructions on its own machines. A GoTo /OpenAction is harmless; one with /JS is caught here.
_HOSTILE_NAMES = frozenset({"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles",
                            "/RichMedia", "/XFA", "/SubmitForm", "/ImportData"})
_MAX_OBJECTS = 200_000  # more than any manual has; a bigger walk is refused, not attempted


# --- the instructions for use ---------------------------------------------------------------------

@dataclass(frozen=True)
class StagedInstructions:
    """A checked PDF in storage, not yet (or already) a passport's."""

    key: str
    filename: str
    size: int
    sha256: str


def _refuse(message: str) -> DomainError:
    return DomainError(message, field=INSTRUCTIONS_FIELD)


def check_pdf(data: bytes) -> None:
    """Raise DomainError (on the upload field, in the member's language) unless `data` is a PDF
    we may hand to other organisations: within IFU_MAX_BYTES, a PDF by its first bytes and its
    structure, not encrypted, without JavaScript, launch actions or embedded files."""
    limit = current_app.config["IFU_MAX_BYTES"]
    if len(data) > limit:
        raise _refuse(_("The instructions are larger than %(size)s MB: upload a smaller PDF or "
                        "link to the manufacturer's.", size=round(limit / 1024 / 1024, 1)))
    if not data.lstrip(b"\x00\t\n\r ")[:5] == _PDF_MAGIC:
        raise _refuse(_("This file is not a PDF. Upload the instructions as a PDF."))
    from pypdf import PdfReader  # only here: the listing pages need no PDF library

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise _refuse(_("This PDF is protected with a password or encrypted. Upload one "
                            "that anyone can open."))
        if len(reader.pages) < 1:
            raise _refuse(_("This PDF has no pages."))
        hostile = _hostile_name(reader)
    except DomainError:
        raise
    except Exception as error:  # pypdf raises many kinds on a broken file
        log.info("Refused instructions that pypdf cannot read: %s", error)
        raise _refuse(_("This PDF is damaged or not a real PDF. Save it again as a PDF and "
                        "upload that.")) from error
    if hostile:
        raise _refuse(_("This PDF contains scripts, actions or attached files (%(what)s), "
                        "which we do not pass on. Upload a plain PDF, for example printed "
                        "again as PDF.", what=hostile.lstrip("/")))


def _hostile_name(reader: Any) -> str | None:
    """The first name of _HOSTILE_NAMES used as a key or value anywhere in the file's objects
    (names are compared decoded, so "/J#53" is "/JS"), reached from the trailer and from every
    object in the cross-reference tables."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    for generation, numbers in reader.xref.items():
        stack.extend(IndirectObject(number, generation, reader) for number in numbers)
    stack.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    steps = 0
    while stack:
        steps += 1
        if steps > _MAX_OBJECTS:
            return "/ObjectLimit"
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, NameObject):
            if str(item) in _HOSTILE_NAMES:
                return str(item)
        elif isinstance(item, DictionaryObject):
            for name, value in item.items():
                if str(name) in _HOSTILE_NAMES:
                    return str(name)
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return None


def _display_name(filename: str) -> str:
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(character for character in name if character.isprintable())
    return (name or "instructions.pdf")[:200]


_KEY = re.compile(r"documents/ifu/(\d{4}-\d{2}-\d{2})/([0-9a-f]{64})\.pdf")


def instructions_key(sha256: str, day: date | None = None) -> str:
    """Where an upload of `day` (UTC) is stored: the day lets housekeeping find uploads that
    no passport took over (`purge_stale_instructions`)."""
    return f"documents/ifu/{(day or datetime.now(UTC).date()).isoformat()}/{sha256}.pdf"


def stage_instructions(data: bytes, filename: str) -> StagedInstructions:
    """Check an uploaded PDF and store it under its content hash (written whole or not at all);
    raises DomainError when refused, Unavailable when the storage fails."""
    check_pdf(data)
    digest = hashlib.sha256(data).hexdigest()
    key = instructions_key(digest)
    storage = get_storage()
    try:
        if not storage.exists(key):
            storage.write(key, data)
    except OSError as error:
        log.error("Could not store instructions %s", key, exc_info=True)
        raise Unavailable(_("The instructions could not be stored just now. Try again in a "
                            "moment.")) from error
    return StagedInstructions(key=key, filename=_display_name(filename), size=len(data),
                              sha256=digest)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SIGNING_PURPOSE)


def instructions_token(owner: User, staged: StagedInstructions) -> str:
    """What the form carries to keep `staged` when it is shown again (only `owner` can use it)."""
    return _serializer().dumps([owner.id, staged.key, staged.filename, staged.size])


def staged_from_token(owner: User, token: str | None) -> StagedInstructions | None:
    """The staged PDF a form's token names, or None when it is missing, tampered with, older
    than a day, someone else's or its file is gone."""
    if not token:
        return None
    try:
        owner_id, key, filename, size = _serializer().loads(token, max_age=STAGED_FOR_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None
    named = _KEY.fullmatch(str(key))
    if owner_id != owner.id or named is None:
        return None
    digest = named.group(2)
    try:
        if not get_storage().exists(key):
            return None
    except OSError:
        return None
    return StagedInstructions(key=key, filename=_display_name(str(filename)), size=int(size),
                              sha256=digest)


def purge_stale_instructions(now: datetime | None = None) -> int:
    """Delete the uploaded PDFs of two days ago or older that no passport names (forms never
    sent again: their tokens last a day); returns how many. Each in its own small step, so one
    failing deletion stops none of the others."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=2)).date()
    storage = get_storage()
    stale = []
    for name in storage.names():
        named = _KEY.fullmatch(name)
        if named and date.fromisoformat(named.group(1)) <= cutoff:
            stale.append(name)
    if not stale:
        return 0
    with unit_of_work():
        used = set(db.session.scalars(select(DevicePassport.instructions_key)
                                      .where(DevicePassport.instructions_key.in_(stale))))
    deleted = 0
    for name in stale:
        if name in used:
            continue
        try:
            storage.delete(name)
            deleted += 1
        except OSError:
            log.warning("Could not delete unused instructions %s", name, exc_info=True)
    return deleted


def delete_unreferenced_after_commit(key: str | None) -> None:
    """Once committed, delete the stored PDF `key` unless some passport still names it."""
    if not key:
        return

    def delete() -> None:
        still = db.session.scalar(select(DevicePassport.id)
                                  .where(DevicePassport.instructions_key == key).limit(1))
        if still is None:
            try:
                get_storage().delete(key)
            except OSError:
                log.warning("Could not delete instructions %s", key, exc_info=True)

    after_commit(delete)
