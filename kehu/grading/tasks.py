"""Background entry points of grading; each is idempotent (STYLE rule 12)."""

from __future__ import annotations

from django_tasks import task


@task()
def recompute_value_grades_task() -> int:
    """The nightly value grades (scheduled by the ``value-grades`` ScheduledJob, and
    enqueued on demand). Running it twice writes the same grades."""
    from kehu.grading.services import recompute_value_grades

    return recompute_value_grades(actor=None)
