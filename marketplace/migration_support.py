"""Alembic autogenerate hooks: migrations never import the application's own types."""

from __future__ import annotations

from typing import Any

from .sqltypes import UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# The full-text index (models/search_index.py, migrations 0003 and 0016) is plain DDL the models
# do not describe: the FTS5 tables and their shadow tables on SQLite, a generated column and
# indexes on PostgreSQL. Autogenerate must neither drop them nor report them as differences.
SEARCH_INDEX_TABLE_PREFIXES = ("listing_fts", "listing_parts")
SEARCH_INDEX_COLUMN = ("listing", "search_vector")
SEARCH_INDEX_NAMES = {"ix_listing_search_vector", "ix_listing_title_trigrams"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool,
                   compare_to: Any) -> bool:
    if not reflected or compare_to is not None:
        return True
    if type_ == "table":
        return not (name or "").startswith(SEARCH_INDEX_TABLE_PREFIXES)
    if type_ == "column":
        return (obj.table.name, name) != SEARCH_INDEX_COLUMN
    if type_ == "index":
        return name not in SEARCH_INDEX_NAMES
    return True
