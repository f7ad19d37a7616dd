"""Background entry points of the incentives app; each is idempotent (STYLE rule 12)."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks import task

from kehu.incentives.models import MonthlyRun
from kehu.incentives.months import add_months, month_of

logger = logging.getLogger(__name__)


def month_due(now: datetime.datetime) -> str | None:
    """Last month, once its targets deadline (08:00 on the 6th, Asia/Shanghai) has passed
    by an hour; None before that."""
    from kehu.incentives.services import TARGET_TZ

    local = now.astimezone(TARGET_TZ)
    if (local.day, local.hour) < (6, 9):
        return None
    return add_months(month_of(local.date()), -1)


@task()
def run_month_task(month: str) -> dict[str, Any]:
    """Run (or re-run) one month as the system; the result replaces the month's run."""
    from kehu.incentives.services import run_month

    run = run_month(actor=None, month=month)
    return {"month": run.month, "statements": run.statements.count(), "total": str(run.total)}


@task()
def run_last_month_task() -> dict[str, Any]:
    """The scheduled monthly run (the ``incentives-monthly-run`` job, daily): runs last
    month once, after the targets deadline. A month already run is left alone (re-run
    it from the run page). A month with people assessed always runs, even when nobody
    developed anything; a month without anybody assessed is skipped with a warning in
    the log and the reason in the task's result."""
    from kehu.incentives.services import run_month

    month = month_due(timezone.now())
    if month is None or MonthlyRun.objects.filter(month=month).exists():
        return {"month": month, "ran": False}
    try:
        run_month(actor=None, month=month)
    except ValidationError as exc:
        reason = "; ".join(exc.messages)
        logger.warning("incentives: %s not run: %s", month, reason)
        return {"month": month, "ran": False, "reason": reason}
    return {"month": month, "ran": True}
