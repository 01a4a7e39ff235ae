"""Reading an upload: its size, its header (an accepted format, not too many pixels, large enough
to hold its picture) and then its pixels, with only a decompression bomb refused as a warning."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from typing import IO

import pillow_heif
from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from PIL import Image

from .refusals import PhotoRejected, damaged, too_many_pixels, unusable
from .variants import FILL, FULL, VARIANTS

# Pillow's names for what we accept; every other decoder (EPS, PSD, TIFF, SVG…) stays unused.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
# 50 MP admits the 48/50 MP phone cameras; it bounds the memory a PNG or HEIC decode may take.
DEFAULT_MAX_PIXELS = 50_000_000
# File signatures of the accepted formats: such a file that Pillow cannot read is damaged.
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
                b"mif1", b"msf1"}

# Only the primary image of a HEIC: no thumbnails, depth maps or auxiliary images.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def check_size(raw: bytes, name: str, filename: str) -> None:
    max_bytes = current_app.config.get("PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)
    if not raw:
        raise PhotoRejected(_("%(name)s is empty. Choose the photo again.", name=name), filename)
    if len(raw) > max_bytes:
        raise PhotoRejected(
            _("%(name)s is larger than %(limit)s MB. Send a smaller photo.", name=name,
              limit=format_decimal(max_bytes / 1024 / 1024, format="#,##0.##")),
            filename)


@contextlib.contextmanager
def bombs_refused() -> Iterator[list[warnings.WarningMessage]]:
    """Only a decompression bomb is refused; other warnings (such as "Corrupt EXIF data",
    which a good photo may give) are recorded, for the caller to log."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield caught


def read_at_most(stream: IO[bytes], limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(limit - size)  # a raw stream may return less than asked
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


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


def open_image(raw: bytes, name: str, filename: str) -> Image.Image:
    """The image with its header read, not decoded (a large JPEG set to decode at reduced
    scale); raises PhotoRejected for what the header alone shows we cannot use."""
    max_pixels, pillow_limit = _pixel_limits()
    try:
        image = Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_many_pixels(name, filename, pillow_limit) from error
    except Exception as error:  # Pillow raises OSError, ValueError, SyntaxError, struct.error…
        if _looks_like_accepted_format(raw):
            raise damaged(name, filename) from error
        raise unusable(name, filename) from error
    try:
        if image.width * image.height > max_pixels:
            raise too_many_pixels(name, filename, max_pixels)
        if _too_small_to_hold(image, raw):
            raise damaged(name, filename)
        if image.format in ("JPEG", "MPO"):
            _draft(image)
    except PhotoRejected:
        image.close()
        raise
    except Exception as error:
        image.close()
        raise damaged(name, filename) from error
    return image


def load_image(image: Image.Image, name: str, filename: str) -> None:
    """Decode the opened image; raises PhotoRejected (the caller closes the image)."""
    try:
        image.load()  # verify() would pass a truncated JPEG; only decoding everything tells
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_many_pixels(name, filename, _pixel_limits()[1]) from error
    except Exception as error:
        raise damaged(name, filename) from error


def _draft(image: Image.Image) -> None:
    """Let libjpeg decode at the smallest scale that keeps the full variant at FILL or more."""
    width, height = image.size
    for scale in (8, 4, 2):
        if -(-max(width, height) // scale) >= VARIANTS[FULL][0] * FILL:
            image.draft("RGB", (max(1, width // scale), max(1, height // scale)))
            return
