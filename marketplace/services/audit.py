"""Append-only record of administration actions."""

from __future__ import annotations

from typing import Any

from ..extensions import db
from ..models import AuditEvent, Category, Organisation, User


def _label(target: Any) -> str:
    if isinstance(target, User):
        return f"{target.name} <{target.email}>"
    if isinstance(target, Category):
        return target.name_en
    for attribute in ("name", "title", "word", "text_en"):
        value = getattr(target, attribute, None)
        if isinstance(value, str):
            return value
    return f"{type(target).__name__} {getattr(target, 'id', '')}".strip()


def record(actor: User | None, action: str, target: Any, reason: str | None = None,
           label: str | None = None) -> AuditEvent:
    """Add an audit event about `target` (a model row, flushed so it has an id) to the current
    transaction; the caller's commit makes it stick. `label` overrides the target's name."""
    organisation_id: int | None
    if isinstance(target, Organisation):
        organisation_id = target.id
    else:
        organisation_id = getattr(target, "organisation_id", None)
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=getattr(target, "id", None),
        target_label=(label or _label(target))[:255],
        organisation_id=organisation_id,
        reason=reason,
    )
    db.session.add(event)
    return event
