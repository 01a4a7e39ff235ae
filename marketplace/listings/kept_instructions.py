"""The device passport's instructions for use (a PDF) kept through every answer of the posting
form, as its photos are: an upload is checked and stored before the rest of the form is looked
at, and the form shown again carries a signed token naming it, so nobody uploads it twice."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from ..services.errors import DomainError
from ..services.instructions_for_use import (
    StagedInstructions,
    instructions_token,
    stage_instructions,
    staged_from_token,
)
from .forms import ListingForm


@dataclass
class KeptInstructions:
    staged: StagedInstructions | None = None  # a new PDF for the passport
    refusal: str | None = None  # why the uploaded file was refused
    http_status: int | None = None


def keep_instructions(form: ListingForm) -> KeptInstructions:
    """The PDF uploaded with the form (checked and stored), else the one the form's token names;
    a refused upload is named, and an earlier accepted one still kept."""
    kept = KeptInstructions()
    if request.method != "POST":
        return kept
    kept.staged = staged_from_token(current_user, form.passport_instructions_staged.data)
    upload = form.passport_instructions_file.data
    if isinstance(upload, FileStorage) and upload.filename:
        try:
            kept.staged = stage_instructions(upload.read(), upload.filename)
        except DomainError as error:
            kept.refusal = error.message
            kept.http_status = error.status_code
    # What the page shows again carries it (an empty value when there is none).
    form.passport_instructions_staged.data = (
        instructions_token(current_user, kept.staged) if kept.staged else "")
    return kept


def show_refusal(form: ListingForm, kept: KeptInstructions) -> None:
    if kept.refusal:
        form.passport_instructions_file.errors = [
            *list(form.passport_instructions_file.errors or []), kept.refusal]
