"""Append-only record of administration actions."""

from __future__ import annotations

from ..extensions import db
from ..models import AuditEvent, Listing, Organisation, Site, User


def record(
    actor: User | None,
    action: str,
    target: Organisation | User | Site | Listing,
    reason: str | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller's commit makes it stick)."""
    if isinstance(target, Organisation):
        organisation_id, label = target.id, target.name
    elif isinstance(target, User):
        organisation_id, label = target.organisation_id, f"{target.name} <{target.email}>"
    elif isinstance(target, Listing):
        organisation_id, label = target.organisation_id, target.title
    else:
        organisation_id, label = target.organisation_id, target.name
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=target.id,
        target_label=label[:255],
        organisation_id=organisation_id,
        reason=reason,
    )
    db.session.add(event)
    return event
