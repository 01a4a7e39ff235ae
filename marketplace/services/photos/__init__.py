"""Photos: uploads checked and processed by Pillow in memory, stored once per content hash.

`prepare_photo` decodes an upload and makes every variant in memory, writing nothing;
`save_prepared` writes the files and adds the Photo row (in the caller's unit of work). Files
follow the transaction they belong to: files written for a row that is never committed are
removed when the transaction ends, and the files of rows deleted by `delete_unreferenced_photos`
are removed only once that deletion is committed.

The package, by concern (each module's docstring says more):
  refusals.py   PhotoRejected, PhotosBusy, PhotoStorageFailed and the words of each refusal
  variants.py   VARIANTS and how they are made from a decoded image (mode, colour, size, encoding)
  decoding.py   an upload's size, its header (format, pixels, too small to hold it), decoding
  budget.py     what a decode costs, a form's decode budget, the slots for large decodes
  preparing.py  prepare_photo and decode_cost: an upload made into its variants, nothing written
  names.py      storage names, URLs and srcset of the variants
  storing.py    save_prepared, delete_unreferenced_photos; the files follow the transaction
  purging.py    the photos of refused listings removed after the grace period
  staging.py    uploads kept for their member until a listing takes them (a day at most)

Everything other modules use is imported from here (`from ..services.photos import ...`). The
configurable limits are read from the application's config when used (PHOTO_MAX_BYTES, …), so
nothing here needs patching.
"""

from .budget import DEFAULT_DECODE_BUDGET_MB, HEIF_COST_FACTOR, over_decode_budget
from .decoding import ACCEPTED_FORMATS, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS
from .names import photo_file_name, photo_url, srcset
from .preparing import PreparedPhoto, decode_cost, prepare_photo
from .purging import purge_refused_listing_photos
from .refusals import PhotoRejected, PhotosBusy, PhotoStorageFailed
from .staging import (
    STAGED_FOR,
    StagedUploads,
    purge_stale_staged,
    recent_staged,
    remove_staged,
    stage_photo,
    stage_uploads,
    staged_photos,
    take_staged,
)
from .storing import delete_unreferenced_photos, save_prepared
from .variants import FULL, SAVE_OPTIONS, VARIANTS, variant_sizes

__all__ = [
    "ACCEPTED_FORMATS", "DEFAULT_DECODE_BUDGET_MB", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_PIXELS",
    "FULL", "HEIF_COST_FACTOR", "SAVE_OPTIONS", "STAGED_FOR", "VARIANTS",
    "PhotoRejected", "PhotoStorageFailed", "PhotosBusy", "PreparedPhoto", "StagedUploads",
    "decode_cost", "delete_unreferenced_photos", "over_decode_budget", "photo_file_name",
    "photo_url", "prepare_photo", "purge_refused_listing_photos", "purge_stale_staged",
    "recent_staged", "remove_staged", "save_prepared", "srcset", "stage_photo",
    "stage_uploads", "staged_photos", "take_staged", "variant_sizes",
]
