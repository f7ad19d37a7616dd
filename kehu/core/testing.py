"""Helpers the test suites share: where the audit trail stood, and what it gained."""

from __future__ import annotations

from django.db.models import Max

from kehu.core.models import AuditEvent


def mark() -> int:
    """The newest audit event's id (0 when there is none)."""
    return AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0


def actions_since(since: int) -> list[tuple[str, str]]:
    """``(action, actor label)`` of every audit event written after ``mark()``."""
    return [
        (e.action, e.actor_label) for e in AuditEvent.objects.filter(id__gt=since).order_by("id")
    ]
