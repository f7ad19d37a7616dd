"""Built-in background tasks."""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction
from django_tasks import TaskContext, task

from kehu.core.models import TaskProbe


@task()
def probe(key: str, sleep_seconds: float = 0.0) -> str:
    """Write one TaskProbe row named ``key``; idempotent, so running it twice (after a
    worker died mid-task) still leaves exactly one row. ``sleep_seconds`` lets the tests
    kill a worker while the task is running."""
    if sleep_seconds:
        time.sleep(min(sleep_seconds, 60))
    try:
        with transaction.atomic():
            TaskProbe.objects.create(key=key)
    except IntegrityError:
        return "already-done"
    return "done"


@task(takes_context=True)
def scheduled_probe(context: TaskContext) -> str:
    """The same check for the schedule: a ``ScheduledJob`` pointing here writes one
    TaskProbe per run (keyed by the run's task id, so a re-run after a crash does not
    write a second one)."""
    return probe.call(f"scheduled:{context.task_result.id}")
