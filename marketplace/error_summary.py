"""The error summary at the top of a refused form (the GOV.UK pattern): each error with the id
of the input it is about, so the summary can link to it, and a note for the page's title."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import g, has_app_context
from flask_babel import gettext as _
from wtforms import Field, Form

# Fields that render one input per choice, ids "<field id>-0", "<field id>-1", …
_GROUPED = frozenset({"RadioField", "SelectMultipleField"})
# Fields nobody sees: their errors are named in words, without a link.
_HIDDEN = frozenset({"HiddenField", "CSRFTokenField"})


class SummaryError(NamedTuple):
    target: str | None  # the id of the input to link to, None when there is none to show
    message: str


def _flat(errors: Any) -> list[str]:
    """The messages of a field's errors, however nested (FieldList and FormField nest them)."""
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _flat(value)]
    if isinstance(errors, (list, tuple)):
        return [message for value in errors for message in _flat(value)]
    return [str(errors)]


def _field_errors(field: Field) -> list[SummaryError]:
    if field.type in _HIDDEN:
        if field.type == "CSRFTokenField":
            return [SummaryError(None, _("The form had expired. Please send it again."))]
        return [SummaryError(None, message) for message in _flat(field.errors)]
    if hasattr(field, "entries") or field.type == "FormField":  # FieldList, FormField
        return [error for subfield in field if subfield.errors
                for error in _field_errors(subfield)]
    target = f"{field.id}-0" if field.type in _GROUPED else field.id
    return [SummaryError(target, message) for message in _flat(field.errors)]


def error_summary(form: Form) -> list[SummaryError]:
    """The form's errors in the order its fields are shown, errors of the whole form first.
    Marks the request, so that the page's title starts with "Error: " (page_has_errors)."""
    errors = [SummaryError(None, str(message)) for message in getattr(form, "form_errors", [])]
    errors += [error for field in form if field.errors for error in _field_errors(field)]
    if errors and has_app_context():
        g.page_has_errors = True
    return errors


def page_has_errors() -> bool:
    """Whether an error summary was shown on this page (base.html renders the content first)."""
    return bool(has_app_context() and g.get("page_has_errors"))
