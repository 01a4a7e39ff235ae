"""What decoding an upload costs (memory, and time for HEIC), known from its header: the budget
of one form's photos together, and the slots that bound a process's large decodes at once."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType

from flask import current_app
from flask_babel import gettext as _
from PIL import Image

from .refusals import PhotoRejected, PhotosBusy, display_name, too_costly

# Logged under the package's name, as before it was split.
log = logging.getLogger(__package__)

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


def over_decode_budget(costs: Sequence[tuple[str, int]]) -> list[PhotoRejected]:
    """The refusals, each naming its files, for the uploads of one form (file name and
    `decode_cost`, in the order sent) that together cost more than PHOTO_DECODE_BUDGET_MB:
    a file over the budget on its own is refused as such; the others are taken in order while
    they fit, and those that do not are named together. Empty when all fit."""
    budget = budget_bytes()
    refusals, left_out = [], []
    for (filename, cost), fits in zip(costs, within_budget(costs), strict=True):
        if cost > budget:
            refusals.append(too_costly(display_name(filename), filename))
        elif not fits:
            left_out.append(filename)
    if left_out:
        refusals.append(PhotoRejected(
            _("%(names)s: together with the other photos, more than we can process in one go. "
              "Add them in a second save (edit the listing), or send smaller photos.",
              names=", ".join(display_name(filename) for filename in left_out)), left_out[0]))
    return refusals


def within_budget(costs: Sequence[tuple[str, int]]) -> list[bool]:
    """For each upload (in the order sent), whether it is taken: those that fit the budget
    together, in order (`over_decode_budget` names the others)."""
    budget, total, taken = budget_bytes(), 0, []
    for _filename, cost in costs:
        fits = cost <= budget and total + cost <= budget
        total += cost if fits else 0
        taken.append(fits)
    return taken


def budget_bytes() -> int:
    return current_app.config.get("PHOTO_DECODE_BUDGET_MB", DEFAULT_DECODE_BUDGET_MB) * MB


def image_cost(image: Image.Image) -> int:
    """`decode_cost` of an opened (not yet loaded) image; a JPEG's after its draft."""
    if "transparency" in image.info:
        per_pixel = TRANSPARENT_BYTES_PER_PIXEL
    else:
        per_pixel = PEAK_BYTES_PER_PIXEL.get(image.mode, UNKNOWN_BYTES_PER_PIXEL)
    if image.format == "HEIF":
        per_pixel *= HEIF_COST_FACTOR
    return image.width * image.height * per_pixel


def large_decode_slots() -> threading.BoundedSemaphore:
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
def decode_slot(cost: int, name: str, filename: str) -> Iterator[None]:
    """Hold a slot while decoding a large file, so a process's threads never decode more than
    PHOTO_LARGE_DECODES of them at once; raises PhotosBusy when none frees up in time."""
    config = current_app.config
    if cost < config.get("PHOTO_LARGE_DECODE_MB", DEFAULT_LARGE_DECODE_MB) * MB:
        yield
        return
    slots = large_decode_slots()
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
