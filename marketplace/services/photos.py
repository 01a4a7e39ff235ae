"""Photos: uploads checked and processed by Pillow in memory, stored once per content hash.

`prepare_photo` decodes an upload and makes every variant in memory, writing nothing;
`save_prepared` writes the files and adds the Photo row (the caller commits). Files follow the
transaction they belong to: files written for a row that is never committed are removed when the
transaction ends, and the files of rows deleted by `delete_unreferenced_photos` are removed only
once that deletion is committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import IO

import pillow_heif
from flask import current_app, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image, ImageCms, ImageOps
from sqlalchemy import delete, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from ..extensions import db
from ..models import Listing, ListingPhoto, ListingStatus, Photo
from ..storage import Storage, get_storage
from .errors import DomainError, Unavailable

log = logging.getLogger(__name__)

# Variant name → (longest side in px, file extension), smallest first. Each is made from the
# next larger one and never enlarged; "full" is the kept original.
VARIANTS: Mapping[str, tuple[int, str]] = MappingProxyType({
    "card": (480, "webp"),
    "page": (1024, "webp"),
    "full": (2048, "jpg"),
})
FULL = "full"
SAVE_OPTIONS: Mapping[str, tuple[str, dict[str, object]]] = MappingProxyType({
    # method 2 takes half the time of the default 4 for ~4 % more bytes (0 and 1: ~25 % more).
    "webp": ("WEBP", {"quality": 80, "method": 2}),
    # Not optimize: it would save ~9 % of the full file (shown only in the lightbox and on
    # large screens) for ~12 ms, an eighth of the time budget; progressive costs twice that.
    "jpg": ("JPEG", {"quality": 85}),
})

# Pillow's names for what we accept; every other decoder (EPS, PSD, TIFF, SVG…) stays unused.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
# 50 MP admits the 48/50 MP phone cameras; it bounds the memory a PNG or HEIC decode may take.
DEFAULT_MAX_PIXELS = 50_000_000
# Shrinking by a whole factor is far cheaper than resampling: libjpeg decodes a JPEG at 1/2, 1/4
# or 1/8 scale (draft) and reduce() averages blocks of pixels. So when a whole factor lands a
# variant at no less than FILL of its bound, it is used and the variant is that bit smaller:
# a 4000x3000 photo decodes straight to a 2000x1500 full variant and halves to a 1000x750 page.
FILL = 15 / 16
RESAMPLE = Image.Resampling.LANCZOS  # for the other cases
REDUCING_GAP = 2.0  # with it, resize() first reduces by a whole factor when shrinking over 4x
MB = 1024 * 1024
# What decoding costs is known from a file's header before decoding it: the decoded size (a JPEG's
# after draft) times the bytes a pixel takes at the peak of decoding and processing, by the mode
# Pillow decodes to (measured on 25 MP PNGs, rounded up; bench/README.md). Pillow keeps RGB in 4
# bytes a pixel; 16-bit grey is widened to 32 bits to be shrunk; transparency is flattened onto a
# second full-size image; a palette is expanded to RGB first.
PEAK_BYTES_PER_PIXEL: Mapping[str, int] = MappingProxyType({
    "1": 8, "L": 3, "P": 8, "RGB": 7, "YCbCr": 7, "CMYK": 10, "LAB": 10,
    "I;16": 9, "I;16B": 9, "I;16L": 9, "I;16N": 9, "I": 10, "F": 10,
    "LA": 12, "La": 12, "PA": 12, "RGBA": 12, "RGBa": 12,
})
TRANSPARENT_BYTES_PER_PIXEL = 12  # any mode with a transparent colour (tRNS) is flattened too
UNKNOWN_BYTES_PER_PIXEL = 12
# libheif decodes a pixel about four times slower than zlib and libjpeg do: a HEIC counts double,
# so that the budget bounds a form's time as well (one 12 MP HEIC a form, not eight).
HEIF_COST_FACTOR = 2
# A form's photos together may cost this much (PHOTO_DECODE_BUDGET_MB): it bounds a request's
# peak memory (photos are decoded one after the other) and its time (bench/upload_budget.py).
DEFAULT_DECODE_BUDGET_MB = 192
# Decodes costing at least this much (PHOTO_LARGE_DECODE_MB) take one of a process's
# PHOTO_LARGE_DECODES slots, waiting at most PHOTO_DECODE_WAIT_SECONDS for one.
DEFAULT_LARGE_DECODE_MB = 64
DEFAULT_LARGE_DECODES = 2
DEFAULT_DECODE_WAIT_SECONDS = 10.0
_SLOTS_KEY = "marketplace.photo_decode_slots"
_slots_creating = threading.Lock()
WHITE = (255, 255, 255)

_HASH = re.compile(r"[0-9a-f]{64}")
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_GREY_16BIT = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_ALPHA = {"RGBA", "LA", "PA", "RGBa", "La"}
# File signatures of the accepted formats: such a file that Pillow cannot read is damaged.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
                b"mif1", b"msf1"}

# Only the primary image of a HEIC: no thumbnails, depth maps or auxiliary images.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


class PhotoRejected(DomainError):
    """An upload we cannot use; `message` says why in words for the poster and names the file."""

    status_code = 422

    def __init__(self, message: str, filename: str) -> None:
        super().__init__(message, field="photos")
        self.filename = filename


class PhotosBusy(Unavailable):
    """Every slot for large decodes stayed taken while we waited: nothing was decoded or saved."""

    def __init__(self, message: str, filename: str) -> None:
        super().__init__(message, field="photos")
        self.filename = filename


class PhotoStorageFailed(Unavailable):
    """The photo storage failed while writing (disk full, read-only, bucket error): nothing of
    the form was saved."""

    def __init__(self) -> None:
        super().__init__(
            _("Nothing has been saved: we could not store the photos just now. Try again in a "
              "few minutes."), field="photos")


@dataclass
class PreparedPhoto:
    """An upload decoded and processed, ready for `save_prepared`; nothing is stored yet."""

    content_hash: str  # sha256 of the uploaded bytes
    width: int  # of the full variant
    height: int
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # variant → encoded bytes


# --- preparing ------------------------------------------------------------------------------

def prepare_photo(data: bytes | IO[bytes], filename: str) -> PreparedPhoto:
    """Decode an upload and make its variants in memory; raises PhotoRejected, writes nothing.

    Reads at most PHOTO_MAX_BYTES + 1 bytes. A file costing more than PHOTO_DECODE_BUDGET_MB
    alone is refused unread; a large one waits for a slot (PhotosBusy when none frees up in
    PHOTO_DECODE_WAIT_SECONDS). The file is always decoded and processed, also
    when a Photo with the same content exists: a PreparedPhoto then still carries its files, so
    `save_prepared` can store them should that Photo be deleted in the meantime.
    """
    max_bytes = current_app.config.get("PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)
    raw = bytes(data) if isinstance(data, bytes | bytearray | memoryview) \
        else _read_at_most(data, max_bytes + 1)
    name = _display_name(filename)
    _check_size(raw, name, filename)
    content_hash = hashlib.sha256(raw).hexdigest()
    with _bombs_refused() as caught:
        image = _open(raw, name, filename)
        try:
            cost = _cost(image)
            if cost > _budget():
                raise _too_costly(name, filename)
            with _decode_slot(cost, name, filename):
                _load(image, name, filename)
                try:
                    files, size = _make_variants(image)
                except Exception as error:
                    log.warning("Could not process %r", filename, exc_info=True)
                    raise _unusable(name, filename) from error
        finally:
            image.close()
    for warning in caught:
        log.info("Pillow warned about %r: %s", filename, warning.message)
    return PreparedPhoto(content_hash=content_hash, width=size[0], height=size[1], files=files)


def decode_cost(data: bytes, filename: str) -> int:
    """The bytes of memory that decoding and processing the upload will take at their peak, read
    from its header without decoding it; raises PhotoRejected for what `prepare_photo` refuses
    before decoding (not an accepted format, too many pixels, too small to hold its picture)."""
    name = _display_name(filename)
    _check_size(data, name, filename)
    with _bombs_refused():
        image = _open(data, name, filename)
        try:
            return _cost(image)
        finally:
            image.close()


def over_decode_budget(costs: Sequence[tuple[str, int]]) -> list[PhotoRejected]:
    """The refusals, each naming its files, for the uploads of one form (file name and
    `decode_cost`, in the order sent) that together cost more than PHOTO_DECODE_BUDGET_MB:
    a file over the budget on its own is refused as such; the others are taken in order while
    they fit, and those that do not are named together. Empty when all fit."""
    budget = _budget()
    refusals, total, left_out = [], 0, []
    for filename, cost in costs:
        if cost > budget:
            refusals.append(_too_costly(_display_name(filename), filename))
        elif total + cost <= budget:
            total += cost
        else:
            left_out.append(filename)
    if left_out:
        refusals.append(PhotoRejected(
            _("%(names)s: together with the other photos, more than we can process in one go. "
              "Add them in a second save (edit the listing), or send smaller photos.",
              names=", ".join(_display_name(filename) for filename in left_out)), left_out[0]))
    return refusals


def _check_size(raw: bytes, name: str, filename: str) -> None:
    max_bytes = current_app.config.get("PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)
    if not raw:
        raise PhotoRejected(_("%(name)s is empty. Choose the photo again.", name=name), filename)
    if len(raw) > max_bytes:
        raise PhotoRejected(
            _("%(name)s is larger than %(limit)s MB. Send a smaller photo.", name=name,
              limit=format_decimal(max_bytes / 1024 / 1024, format="#,##0.##")),
            filename)


def _budget() -> int:
    return current_app.config.get("PHOTO_DECODE_BUDGET_MB", DEFAULT_DECODE_BUDGET_MB) * MB


def _cost(image: Image.Image) -> int:
    """`decode_cost` of an opened (not yet loaded) image; a JPEG's after its draft."""
    if "transparency" in image.info:
        per_pixel = TRANSPARENT_BYTES_PER_PIXEL
    else:
        per_pixel = PEAK_BYTES_PER_PIXEL.get(image.mode, UNKNOWN_BYTES_PER_PIXEL)
    if image.format == "HEIF":
        per_pixel *= HEIF_COST_FACTOR
    return image.width * image.height * per_pixel


@contextlib.contextmanager
def _bombs_refused() -> Iterator[list[warnings.WarningMessage]]:
    """Only a decompression bomb is refused; other warnings (such as "Corrupt EXIF data",
    which a good photo may give) are recorded, for the caller to log."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield caught


def _slots() -> threading.BoundedSemaphore:
    """This process's slots for large decodes (one set per application)."""
    slots = current_app.extensions.get(_SLOTS_KEY)
    if slots is None:
        with _slots_creating:
            slots = current_app.extensions.get(_SLOTS_KEY)
            if slots is None:
                slots = threading.BoundedSemaphore(
                    current_app.config.get("PHOTO_LARGE_DECODES", DEFAULT_LARGE_DECODES))
                current_app.extensions[_SLOTS_KEY] = slots
    return slots


@contextlib.contextmanager
def _decode_slot(cost: int, name: str, filename: str) -> Iterator[None]:
    """Hold a slot while decoding a large file, so a process's threads never decode more than
    PHOTO_LARGE_DECODES of them at once; raises PhotosBusy when none frees up in time."""
    config = current_app.config
    if cost < config.get("PHOTO_LARGE_DECODE_MB", DEFAULT_LARGE_DECODE_MB) * MB:
        yield
        return
    slots = _slots()
    if not slots.acquire(timeout=config.get("PHOTO_DECODE_WAIT_SECONDS",
                                            DEFAULT_DECODE_WAIT_SECONDS)):
        log.warning("No free slot to decode %r: refused as busy", filename)
        raise PhotosBusy(
            _("We are processing many large photos right now, so %(name)s could not be "
              "processed. Nothing has been saved; send the form again in a minute.", name=name),
            filename)
    try:
        yield
    finally:
        slots.release()


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(limit - size)  # a raw stream may return less than asked
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _display_name(filename: str | None) -> str:
    """The file's own name, short and printable, for messages (never for storage)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isprintable()).strip()
    if len(name) > 60:
        name = name[:57] + "…"
    return name or _("This file")


def _unusable(name: str, filename: str) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s is not a photo we can use. Use JPEG, PNG, WebP or HEIC.", name=name), filename)


def _damaged(name: str, filename: str) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s is damaged or incomplete. Save or export it again, then upload it.",
          name=name), filename)


def _too_many_pixels(name: str, filename: str, max_pixels: int) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s has too many pixels (more than %(limit)s megapixels). Send a smaller photo.",
          name=name, limit=format_decimal(max_pixels / 1_000_000, format="#,##0.##")),
        filename)


def _too_costly(name: str, filename: str) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s takes too much memory to process (a very large, 16-bit or transparent "
          "image). Save it as a JPEG or as a smaller photo.", name=name), filename)


def _looks_like_accepted_format(raw: bytes) -> bool:
    return (raw.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
            or (raw[:4] == b"RIFF" and raw[8:12] == b"WEBP")
            or (raw[4:8] == b"ftyp" and raw[8:12] in _HEIF_BRANDS))


# Pillow takes a PNG whose compressed data ends early, and libjpeg a JPEG whose data stops at an
# early end marker, as complete (the rest black or grey): a file of a few hundred bytes could make
# us decode and process 50 megapixels of nothing, for seconds. Where the format bounds it, a file
# too small to hold its own picture is refused unread: deflate expands at most 1032 times, and a
# Huffman-coded JPEG spends at least a bit on every 8x8 block (arithmetic coding may spend less).
_DEFLATE_MAX_RATIO = 1032
_ARITHMETIC_JPEG = (b"\xff\xc9", b"\xff\xca", b"\xff\xcb", b"\xff\xcd", b"\xff\xce", b"\xff\xcf")


def _too_small_to_hold(image: Image.Image, raw: bytes) -> bool:
    width, height = image.size
    if image.format == "PNG":  # at least a bit a pixel and a filter byte a row
        return len(raw) * _DEFLATE_MAX_RATIO < height * (1 + -(-width // 8))
    if image.format in ("JPEG", "MPO") and not any(sof in raw for sof in _ARITHMETIC_JPEG):
        return len(raw) * 8 < -(-width // 8) * -(-height // 8)
    return False


def _pixel_limits() -> tuple[int, int]:
    """Our limit, and the one Pillow applies too should ours be set higher."""
    max_pixels = current_app.config.get("PHOTO_MAX_PIXELS", DEFAULT_MAX_PIXELS)
    return max_pixels, min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)


def _open(raw: bytes, name: str, filename: str) -> Image.Image:
    """The image with its header read, not decoded (a large JPEG set to decode at reduced
    scale); raises PhotoRejected for what the header alone shows we cannot use."""
    max_pixels, pillow_limit = _pixel_limits()
    try:
        image = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(name, filename, pillow_limit) from error
    except Exception as error:  # Pillow raises OSError, ValueError, SyntaxError, struct.error…
        if _looks_like_accepted_format(raw):
            raise _damaged(name, filename) from error
        raise _unusable(name, filename) from error
    try:
        if image.width * image.height > max_pixels:
            raise _too_many_pixels(name, filename, max_pixels)
        if _too_small_to_hold(image, raw):
            raise _damaged(name, filename)
        if image.format in ("JPEG", "MPO"):
            _draft(image)
    except PhotoRejected:
        image.close()
        raise
    except Exception as error:
        image.close()
        raise _damaged(name, filename) from error
    return image


def _load(image: Image.Image, name: str, filename: str) -> None:
    """Decode the opened image; raises PhotoRejected (the caller closes the image)."""
    try:
        image.load()  # verify() would pass a truncated JPEG; only decoding everything tells
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(name, filename, _pixel_limits()[1]) from error
    except Exception as error:
        raise _damaged(name, filename) from error


def _draft(image: Image.Image) -> None:
    """Let libjpeg decode at the smallest scale that keeps the full variant at FILL or more."""
    width, height = image.size
    for scale in (8, 4, 2):
        if -(-max(width, height) // scale) >= VARIANTS[FULL][0] * FILL:
            image.draft("RGB", (max(1, width // scale), max(1, height // scale)))
            return


# --- processing -----------------------------------------------------------------------------

def variant_sizes(width: int, height: int) -> dict[str, tuple[int, int]]:
    """The size of each variant of a photo whose full variant is width x height."""
    sizes, size = {}, (width, height)
    for variant, (max_side, _extension) in reversed(VARIANTS.items()):  # each from the larger
        size = _step(*size, max_side)[0]
        sizes[variant] = size
    return {variant: sizes[variant] for variant in VARIANTS}


def _step(width: int, height: int, max_side: int) -> tuple[tuple[int, int], int]:
    """The size of a variant made from an image of width x height to fit max_side x max_side,
    and the whole factor that reduce() makes it with (0: resample; 1: as it is)."""
    longest = max(width, height)
    if longest <= max_side:
        return (width, height), 1  # never enlarged
    factor = -(-longest // max_side)
    if -(-longest // factor) >= max_side * FILL:
        return (-(-width // factor), -(-height // factor)), factor  # as reduce() rounds
    scale = max_side / longest
    return (max(1, round(width * scale)), max(1, round(height * scale))), 0


def _make_variants(image: Image.Image) -> tuple[dict[str, bytes], tuple[int, int]]:
    """Every variant's encoded bytes, and the size of the full one."""
    icc_profile = image.info.get("icc_profile")
    if image.mode in _GREY_16BIT:
        # Shrunk before it is scaled to 8 bits, which at full size took 10 bytes a pixel; 32-bit
        # first, as Pillow cannot shrink 16-bit grey.
        work = _normalise_mode(_shrink(image.convert("I"), VARIANTS[FULL][0]))
    else:
        work = _shrink(_normalise_mode(image), VARIANTS[FULL][0])
    # After shrinking, so that fewer pixels are moved; fitting a square commutes with rotation.
    try:
        ImageOps.exif_transpose(work, in_place=True)
    except Exception:  # broken EXIF: keep the picture as it was taken
        log.info("Could not read the EXIF orientation", exc_info=True)
    work = _to_srgb_rgb(work, icc_profile)
    work.info = {}  # no EXIF, GPS, XMP, ICC profile or comment reaches a stored file
    files: dict[str, bytes] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for variant, (max_side, extension) in reversed(VARIANTS.items()):  # largest first
        work = _shrink(work, max_side)
        files[variant] = _encode(work, extension)
        sizes[variant] = work.size
    return {variant: files[variant] for variant in VARIANTS}, sizes[FULL]


def _normalise_mode(image: Image.Image) -> Image.Image:
    """RGB, L or CMYK: 16-bit grey scaled to 8 bits, transparency flattened on white (the
    variants are JPEG and lossy WebP, which would store an alpha channel in WebP only)."""
    if image.mode in _GREY_16BIT:
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in _ALPHA or "transparency" in image.info:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, WHITE)
        flat.paste(rgba, mask=rgba)
        return flat
    if image.mode not in ("RGB", "L", "CMYK"):
        return image.convert("RGB")
    return image


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    size, factor = _step(*image.size, max_side)
    if factor == 1:
        return image
    if factor:
        return image.reduce(factor)
    return image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)


def _to_srgb_rgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB in sRGB: other colour profiles converted, CMYK and grey converted."""
    if icc_profile and image.mode in ("RGB", "CMYK"):
        image = _convert_profile(image, icc_profile)
    return image if image.mode == "RGB" else image.convert("RGB")


def _convert_profile(image: Image.Image, icc_profile: bytes) -> Image.Image:
    """The pixels in sRGB, so the profile can be left out (browsers assume sRGB)."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(profile) or ""
        if "srgb" in description.lower().replace(" ", ""):
            return image
        converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        log.info("Ignoring an unusable colour profile", exc_info=True)
        return image
    return converted if converted is not None else image


def _encode(image: Image.Image, extension: str) -> bytes:
    image_format, options = SAVE_OPTIONS[extension]
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


# --- storing --------------------------------------------------------------------------------

def photo_file_name(photo_or_hash: Photo | str, variant: str) -> str:
    """The storage name of a variant, e.g. "ab/ab12…-card.webp" (from the content hash only)."""
    content_hash = photo_or_hash if isinstance(photo_or_hash, str) \
        else photo_or_hash.content_hash
    if not _HASH.fullmatch(content_hash) or variant not in VARIANTS:
        raise ValueError(f"no photo file for {content_hash!r}, {variant!r}")
    return f"{content_hash[:2]}/{content_hash}-{variant}.{VARIANTS[variant][1]}"


def photo_url(photo: Photo, variant: str) -> str:
    return url_for("photos.serve", name=photo_file_name(photo, variant))


def srcset(photo: Photo) -> str:
    """The srcset of a photo ("url 480w, url 1024w, url 2048w") with the real widths.

    A variant as wide as a smaller one (small photos are never enlarged) is left out: a width
    may appear only once in a srcset.
    """
    candidates, last_width = [], None
    for variant, (width, _height) in variant_sizes(photo.width, photo.height).items():
        if width != last_width:
            candidates.append(f"{photo_url(photo, variant)} {width}w")
            last_width = width
    return ", ".join(candidates)


def save_prepared(prepared: PreparedPhoto) -> Photo:
    """The Photo for the prepared upload: the existing one with that content, or a new one whose
    files are written now (added and flushed; the caller commits). If writing fails, the files
    written are deleted, the row is withdrawn and the error re-raised: PhotoStorageFailed for a
    failure of the storage (an OSError: disk full, read-only folder, bucket error)."""
    existing = db.session.scalar(
        select(Photo).where(Photo.content_hash == prepared.content_hash))
    if existing is not None:
        return existing
    if set(prepared.files) != set(VARIANTS):
        raise ValueError("a prepared photo without all its files cannot be saved")
    storage = get_storage()
    photo = Photo(content_hash=prepared.content_hash, width=prepared.width,
                  height=prepared.height, byte_size=len(prepared.files[FULL]))
    db.session.add(photo)
    # The row first: the unique hash then makes a concurrent upload of the same file wait for
    # this transaction instead of writing the same names at the same time.
    db.session.flush()
    written: list[str] = []
    try:
        for variant, data in prepared.files.items():
            written.append(photo_file_name(prepared.content_hash, variant))
            storage.write(written[-1], data)
    except BaseException as error:
        for name in written:
            _delete_file(storage, name)
        with contextlib.suppress(Exception):
            db.session.delete(photo)
            db.session.flush()
        if isinstance(error, OSError):
            log.error("Could not store photo file %s", written[-1], exc_info=True)
            raise PhotoStorageFailed() from error
        raise
    db.session.info.setdefault(_WRITTEN, []).extend((storage, name) for name in written)
    return photo


def delete_unreferenced_photos(photo_ids: Iterable[int] | None = None) -> int:
    """Delete the Photo rows (of `photo_ids`, or all) that no listing shows; returns how many.

    The caller commits; the files of the deleted rows are removed once that commit succeeds
    (a rollback keeps them, with their rows).
    """
    referenced = select(ListingPhoto.id).where(ListingPhoto.photo_id == Photo.id).exists()
    statement = select(Photo).where(~referenced)
    if photo_ids is not None:
        ids = set(photo_ids)
        if not ids:
            return 0
        statement = statement.where(Photo.id.in_(ids))
    photos = list(db.session.scalars(statement))
    if not photos:
        return 0
    for photo in photos:
        db.session.delete(photo)
    db.session.flush()
    storage = get_storage()
    db.session.info.setdefault(_DELETED, []).extend(
        (storage, photo_file_name(photo, variant)) for photo in photos for variant in VARIANTS)
    return len(photos)


# --- files follow the transaction -----------------------------------------------------------

_WRITTEN = "photos.files_written"  # removed unless the transaction commits
_DELETED = "photos.files_of_deleted_rows"  # removed once the transaction commits


def _delete_file(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        log.warning("Could not delete photo file %s", name, exc_info=True)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for storage, name in session.info.pop(_DELETED, ()):
        _delete_file(storage, name)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the real transaction decides
    # Still here, so not committed (rolled back, or the session closed): the rows are gone.
    for storage, name in session.info.pop(_WRITTEN, ()):
        _delete_file(storage, name)
    session.info.pop(_DELETED, None)


# --- photos of refused listings removed after a grace period (personal data) ----------------

def purge_refused_listing_photos(now: datetime | None = None,
                                 grace: timedelta | None = None) -> int:
    """Take the photos off listings rejected or removed by moderation whose last change is
    older than the grace period (PHOTO_GRACE_DAYS), and delete the files no other listing
    shows. A rejected listing edited or resubmitted within the period keeps its photos (its
    change restarts the period, or its status moved on). Returns how many listings lost their
    photos; each is its own transaction, conditional on the listing still qualifying, so two
    runs at once purge a listing once."""
    now = now or datetime.now(UTC)
    if grace is None:
        grace = timedelta(days=current_app.config["PHOTO_GRACE_DAYS"])
    qualifies = (Listing.status.in_([ListingStatus.REJECTED, ListingStatus.REMOVED])
                 & (Listing.updated_at < now - grace))
    has_photos = select(ListingPhoto.id).where(ListingPhoto.listing_id == Listing.id).exists()
    listing_ids = db.session.scalars(
        select(Listing.id).where(qualifies, has_photos).order_by(Listing.id)).all()
    db.session.commit()
    purged = 0
    for listing_id in listing_ids:
        # Lock the listing (PostgreSQL), so an edit at this moment waits, then check again.
        still = db.session.scalar(select(Listing.id).where(Listing.id == listing_id, qualifies)
                                  .with_for_update())
        photo_ids = set(db.session.scalars(
            select(ListingPhoto.photo_id).where(ListingPhoto.listing_id == listing_id)))
        detached = 0 if still is None else db.session.execute(
            delete(ListingPhoto).where(ListingPhoto.listing_id == listing_id)
            .execution_options(synchronize_session=False)).rowcount
        if not detached:
            db.session.rollback()
            continue  # changed since, or another run was first
        try:
            delete_unreferenced_photos(photo_ids)
            db.session.commit()  # the files go once this has committed
        except IntegrityError:
            # The same picture was just uploaded to another listing: try again next run.
            db.session.rollback()
            log.warning("Photos of listing %s are in use again; kept for now", listing_id)
            continue
        purged += 1
        log.info("Removed the photos of refused listing %s after the grace period", listing_id)
    return purged
