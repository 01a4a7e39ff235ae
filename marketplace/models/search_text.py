"""What SQLite's full-text index holds beside a listing's words: their stems (`search_stems`),
kept in step with title and description on every insert (a column default, so Core inserts of
the benchmarks and the load test's seed get it too) and every ORM update of the text."""

from __future__ import annotations

from typing import Any

from ..words import stems_of_text


def listing_stems(title: str | None, description: str | None) -> str:
    return stems_of_text(f"{title or ''} {description or ''}")


def stems_of_inserted_text(context: Any) -> str:
    """The column default: the stems of the row being inserted."""
    parameters = context.get_current_parameters()
    return listing_stems(parameters.get("title"), parameters.get("description"))
