"""Alembic autogenerate hooks: migrations never import the application's own types."""

from __future__ import annotations

from typing import Any


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    from .models.base import UTCDateTime  # late: the models import the extensions

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
