"""An upload decoded and made into its variants in memory, writing nothing (`prepare_photo`)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import IO

from flask import current_app

from .budget import budget_bytes, decode_slot, image_cost
from .decoding import (
    DEFAULT_MAX_BYTES,
    bombs_refused,
    check_size,
    load_image,
    open_image,
    read_at_most,
)
from .refusals import display_name, too_costly, unusable
from .variants import make_variants

# Logged under the package's name, as before it was split.
log = logging.getLogger(__package__)


@dataclass
class PreparedPhoto:
    """An upload decoded and processed, ready for `save_prepared`; nothing is stored yet."""

    content_hash: str  # sha256 of the uploaded bytes
    width: int  # of the full variant
    height: int
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # variant → encoded bytes


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
        else read_at_most(data, max_bytes + 1)
    name = display_name(filename)
    check_size(raw, name, filename)
    content_hash = hashlib.sha256(raw).hexdigest()
    with bombs_refused() as caught:
        image = open_image(raw, name, filename)
        try:
            cost = image_cost(image)
            if cost > budget_bytes():
                raise too_costly(name, filename)
            with decode_slot(cost, name, filename):
                load_image(image, name, filename)
                try:
                    files, size = make_variants(image)
                except Exception as error:
                    log.warning("Could not process %r", filename, exc_info=True)
                    raise unusable(name, filename) from error
        finally:
            image.close()
    for warning in caught:
        log.info("Pillow warned about %r: %s", filename, warning.message)
    return PreparedPhoto(content_hash=content_hash, width=size[0], height=size[1], files=files)


def decode_cost(data: bytes, filename: str) -> int:
    """The bytes of memory that decoding and processing the upload will take at their peak, read
    from its header without decoding it; raises PhotoRejected for what `prepare_photo` refuses
    before decoding (not an accepted format, too many pixels, too small to hold its picture)."""
    name = display_name(filename)
    check_size(data, name, filename)
    with bombs_refused():
        image = open_image(data, name, filename)
        try:
            return image_cost(image)
        finally:
            image.close()
