"""Staged photos: an upload processed and stored as soon as it reaches us, kept for the member
who sent it until a listing takes it (or a day has passed), so that no form shown again asks
for a photo twice.

`stage_photo` is one unit of work per photo: a photo refused by itself, or the storage failing
on it, leaves the member's other staged photos as they are. `take_staged` (inside the listing's
unit of work) hands the member's chosen photos over and drops their staged rows;
`purge_stale_staged` (cron) removes what was never used, with the files nobody else shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import Photo, StagedPhoto, User
from ...security import Action, permitted
from ...unit_of_work import atomic, each_in_own_unit, unit_of_work
from ..errors import DomainError, NotFound
from .budget import over_decode_budget, within_budget
from .preparing import decode_cost, prepare_photo
from .refusals import PhotoRejected, display_name
from .storing import delete_unreferenced_photos, save_prepared

STAGED_FOR = timedelta(days=1)


@atomic
def stage_photo(owner: User, data: bytes, filename: str) -> StagedPhoto:
    """Process and store one upload for `owner`; raises PhotoRejected (the file is named),
    PhotosBusy or PhotoStorageFailed, and then keeps nothing of it."""
    photo = save_prepared(prepare_photo(data, filename))
    staged = StagedPhoto(owner_id=owner.id, photo=photo,
                         original_name=display_name(filename)[:200])
    db.session.add(staged)
    db.session.flush()
    return staged


@dataclass
class StagedUploads:
    """What became of a form's uploads: those staged, in order, and the refusals (each naming
    its file), with the status the gravest deserves (503: try again later)."""

    staged: list[StagedPhoto] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    http_status: int | None = None  # of the gravest refusal

    def refuse(self, error: DomainError) -> None:
        self.refusals.append(error.message)
        self.http_status = max(self.http_status or 0, error.status_code)


def stage_uploads(owner: User, uploads: Sequence[tuple[str, bytes]], room: int,
                  too_many: str) -> StagedUploads:
    """Stage a form's uploads (file name, bytes) one by one, each in its own unit: a refused
    one is named, the others kept. Checked first, before any is decoded: their number against
    `room` (refused as a whole with `too_many`: nothing decoded), each header, and the decode
    budget of a form (those left over are named, the others staged)."""
    result = StagedUploads()
    distinct: dict[bytes, tuple[str, bytes]] = {}
    for filename, data in uploads:
        distinct.setdefault(hashlib.sha256(data).digest(), (filename, data))
    if len(distinct) > room:
        result.refuse(DomainError(too_many, field="photos"))
        return result
    readable, costs = [], []
    for filename, data in distinct.values():
        try:
            costs.append((filename, decode_cost(data, filename)))
            readable.append((filename, data))
        except PhotoRejected as error:
            result.refuse(error)
    for over in over_decode_budget(costs):
        result.refuse(over)
    for (filename, data), fits in zip(readable, within_budget(costs), strict=True):
        if not fits:
            continue
        try:
            result.staged.append(stage_photo(owner, data, filename))
        except DomainError as error:  # refused on decoding, busy, or the storage failing
            result.refuse(error)
    return result


def staged_photos(owner: User, ids: Iterable[int | str]) -> list[StagedPhoto]:
    """`owner`'s staged photos among `ids`, in the order given (each once); ids of photos
    that are not theirs, or gone, are left out."""
    wanted: list[int] = []
    for value in ids:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number < 2**31 and number not in wanted:
            wanted.append(number)
    if not wanted:
        return []
    rows = {row.id: row for row in db.session.scalars(
        select(StagedPhoto).where(StagedPhoto.id.in_(wanted), StagedPhoto.owner_id == owner.id))}
    return [rows[number] for number in wanted if number in rows]


def take_staged(owner: User, staged: Sequence[StagedPhoto]) -> list[Photo]:
    """The photos of `owner`'s staged rows, in order, their rows dropped: joins the caller's
    unit of work (the listing that takes them), so a rollback keeps them staged."""
    photos = []
    for row in staged:
        if not permitted(owner, Action.USE_STAGED_PHOTO, row):
            continue
        photos.append(row.photo)
        db.session.delete(row)
    db.session.flush()
    return photos


@atomic
def remove_staged(owner: User, staged_id: int) -> None:
    """Drop one of `owner`'s staged photos (the file goes once nothing shows it); NotFound
    for another member's or one that is gone."""
    rows = staged_photos(owner, [staged_id])
    if not rows:
        raise NotFound()
    photo_id = rows[0].photo_id
    db.session.delete(rows[0])
    db.session.flush()
    delete_unreferenced_photos({photo_id})


def purge_stale_staged(now: datetime | None = None) -> int:
    """Remove staged photos older than a day, each in its own unit, with the photo files that
    no listing and no other staged row refers to; returns how many rows went."""
    cutoff = (now or datetime.now(UTC)) - STAGED_FOR
    with unit_of_work():
        ids = db.session.scalars(select(StagedPhoto.id).where(StagedPhoto.created_at < cutoff)
                                 .order_by(StagedPhoto.id)).all()

    def purge(staged_id: int) -> bool:
        row = db.session.get(StagedPhoto, staged_id)
        if row is None:
            return False
        photo_id = row.photo_id
        db.session.delete(row)
        db.session.flush()
        delete_unreferenced_photos({photo_id})
        return True

    return each_in_own_unit(ids, purge)


def recent_staged(owner: User, now: datetime | None = None) -> list[StagedPhoto]:
    """All of `owner`'s staged photos not yet removed, oldest first (what a form whose body
    could not be read shows)."""
    cutoff = (now or datetime.now(UTC)) - STAGED_FOR
    return list(db.session.scalars(
        select(StagedPhoto).where(StagedPhoto.owner_id == owner.id,
                                  StagedPhoto.created_at >= cutoff)
        .order_by(StagedPhoto.id)))
