"""Where a photo's variants are stored and served: storage names, URLs and the srcset."""

from __future__ import annotations

import re

from flask import url_for

from ...models import Photo
from .variants import VARIANTS, variant_sizes

_HASH = re.compile(r"[0-9a-f]{64}")


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
