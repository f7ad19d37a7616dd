"""Helpers the test suites share: where the audit trail stood, and what it gained."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
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


def refuser(state: Callable[[], Any]) -> Callable[..., Any]:
    """``refused = refuser(db_state)``: then ``refused(ExcType, func, **kwargs)`` calls
    ``func``, which must raise ``ExcType`` and leave ``state()`` exactly as it was; it
    returns the exception for its message to be checked."""

    def refused(exc_type: type[BaseException], func: Callable[..., Any], **kwargs: Any) -> Any:
        before = state()
        with pytest.raises(exc_type) as info:
            func(**kwargs)
        assert state() == before
        return info.value

    return refused
