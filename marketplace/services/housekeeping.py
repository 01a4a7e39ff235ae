"""Periodic upkeep (`flask housekeeping`): every task is idempotent and safe to run in parallel."""

from __future__ import annotations

from collections.abc import Iterator

from .mail import deliver_pending


def run() -> Iterator[str]:
    report = deliver_pending()
    yield f"mail: sent {report.sent}, to retry {report.retried}, failed {report.failed}"
