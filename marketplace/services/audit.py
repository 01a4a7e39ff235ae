"""Append-only record of administration actions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select

from ..extensions import db
from ..localtime import local_time, time_zone
from ..models import AuditEvent, Category, Organisation, User
from ..models.audit import AUDIT_ACTION_LABELS, audit_action_label
from ..models.base import escape_like


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
    transaction; the caller's commit makes it stick. `label` overrides the target's name.
    Raises ValueError for an action without words in AUDIT_ACTION_LABELS."""
    if action not in AUDIT_ACTION_LABELS:
        raise ValueError(f"audit action {action!r} has no words in AUDIT_ACTION_LABELS")
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


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log is narrowed to: an action code, words in who or what, local days."""
    action: str = ""
    query: str = ""
    start: date | None = None
    end: date | None = None


def events_matching(filters: AuditFilter) -> Select[AuditEvent]:
    """The events that match, newest first. Days are the platform's days (TIMEZONE), so an
    action at 00:30 in Amsterdam counts on the day an admin saw it happen."""
    statement = (select(AuditEvent).outerjoin(User, AuditEvent.actor_id == User.id)
                 .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()))
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.query:
        pattern = f"%{escape_like(filters.query)}%"
        statement = statement.where(or_(AuditEvent.target_label.ilike(pattern, escape="\\"),
                                        User.name.ilike(pattern, escape="\\"),
                                        User.email.ilike(pattern, escape="\\")))
    if filters.start:
        statement = statement.where(AuditEvent.created_at >= _local_midnight(filters.start))
    if filters.end:
        statement = statement.where(
            AuditEvent.created_at < _local_midnight(filters.end + timedelta(days=1)))
    return statement


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=time_zone())


def action_choices() -> list[tuple[str, str]]:
    """The actions the log holds, as (code, words), in the order of the words."""
    codes = db.session.scalars(select(AuditEvent.action).distinct()).all()
    return sorted(((code, audit_action_label(code)) for code in codes),
                  key=lambda choice: choice[1].casefold())


def csv_rows(filters: AuditFilter) -> Iterator[tuple[Any, ...]]:
    """The matching events as CSV rows, the action in words and the time as ISO 8601 in the
    platform's time zone (with its offset), so a spreadsheet sorts it and a person reads it."""
    yield (_("Time"), _("Action"), _("Who or what"), _("By"), _("Email address"), _("Reason"))
    for event in db.session.scalars(events_matching(filters).execution_options(yield_per=500)):
        actor = event.actor
        yield (local_time(event.created_at).isoformat(timespec="seconds"),
               audit_action_label(event.action), event.target_label,
               actor.name if actor else _("the system"), actor.email if actor else "",
               event.reason or "")
