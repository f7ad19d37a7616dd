"""Background entry points of occasions; each is idempotent (STYLE rule 12)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from kehu.occasions import occurrences


@task()
def refresh_occasions_task() -> dict[str, Any]:
    """Nightly (the ``occasions-nightly`` ScheduledJob): rebuild birthday and
    anniversary dates for this year and next, and life-cycle reminders up to the
    horizon. Running it twice leaves the same rows."""
    return {**occurrences.refresh_all_occasions(), **occurrences.refresh_all_reminders()}


@task()
def rebuild_rule_task(rule_id: int) -> dict[str, Any]:
    """A life-cycle rule was created, changed or switched off: rebuild its reminders."""
    from kehu.occasions.models import LifecycleRule

    rule = LifecycleRule.objects.filter(pk=rule_id).first()
    if rule is None:
        return {"reminders": 0}
    return {"reminders": occurrences.rebuild_rule_reminders(rule)}
