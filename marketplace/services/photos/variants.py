"""The variants of a photo (card, page, full): their sizes, and making them in memory from a
decoded image (mode, orientation, colour profile, shrinking, encoding)."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from types import MappingProxyType

from PIL import Image, ImageCms, ImageOps

# Logged under the package's name, as before it was split.
log = logging.getLogger(__package__)

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

# Shrinking by a whole factor is far cheaper than resampling: libjpeg decodes a JPEG at 1/2, 1/4
# or 1/8 scale (draft) and reduce() averages blocks of pixels. So when a whole factor lands a
# variant at no less than FILL of its bound, it is used and the variant is that bit smaller:
# a 4000x3000 photo decodes straight to a 2000x1500 full variant and halves to a 1000x750 page.
FILL = 15 / 16
RESAMPLE = Image.Resampling.LANCZOS  # for the other cases
REDUCING_GAP = 2.0  # with it, resize() first reduces by a whole factor when shrinking over 4x
WHITE = (255, 255, 255)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_GREY_16BIT = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}
_ALPHA = {"RGBA", "LA", "PA", "RGBa", "La"}


def variant_sizes(width: int, height: int) -> dict[str, tuple[int, int]]:
    """The size of each variant of a photo whose full variant is width x height."""
    sizes, size = {}, (width, height)
    for variant, (max_side, _extension) in reversed(list(VARIANTS.items())):  # each from the larger
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


def make_variants(image: Image.Image) -> tuple[dict[str, bytes], tuple[int, int]]:
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
    for variant, (max_side, extension) in reversed(list(VARIANTS.items())):  # largest first
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
