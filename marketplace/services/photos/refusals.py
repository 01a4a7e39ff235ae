"""Why an upload is refused, in words for the poster that name the file."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..errors import DomainError, Unavailable


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


def display_name(filename: str | None) -> str:
    """The file's own name, short and printable, for messages (never for storage)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isprintable()).strip()
    if len(name) > 60:
        name = name[:57] + "…"
    return name or _("This file")


def unusable(name: str, filename: str) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s is not a photo we can use. Use JPEG, PNG, WebP or HEIC.", name=name), filename)


def damaged(name: str, filename: str) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s is damaged or incomplete. Save or export it again, then upload it.",
          name=name), filename)


def too_many_pixels(name: str, filename: str, max_pixels: int) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s has too many pixels (more than %(limit)s megapixels). Send a smaller photo.",
          name=name, limit=format_decimal(max_pixels / 1_000_000, format="#,##0.##")),
        filename)


def too_costly(name: str, filename: str) -> PhotoRejected:
    return PhotoRejected(
        _("%(name)s takes too much memory to process (a very large, 16-bit or transparent "
          "image). Save it as a JPEG or as a smaller photo.", name=name), filename)
