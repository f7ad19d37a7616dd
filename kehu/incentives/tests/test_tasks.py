"""The scheduled monthly run and the default rows restored after a flush."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

from django.core.management import call_command

from kehu.core.models import ScheduledJob
from kehu.incentives import tasks
from kehu.incentives.models import MonthlyRun, Scheme
from kehu.incentives.tests import factories as f

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def test_month_due_after_nine_on_the_sixth() -> None:
    assert tasks.month_due(datetime.datetime(2026, 4, 6, 8, 59, tzinfo=SHANGHAI)) is None
    assert tasks.month_due(datetime.datetime(2026, 4, 6, 9, 0, tzinfo=SHANGHAI)) == "2026-03"
    assert tasks.month_due(datetime.datetime(2026, 1, 20, tzinfo=SHANGHAI)) == "2025-12"
    assert tasks.month_due(datetime.datetime(2026, 4, 5, 23, tzinfo=SHANGHAI)) is None


def test_scheduled_run_runs_last_month_once(cast: Any) -> None:
    f.world(cast)
    now = datetime.datetime(2026, 4, 7, 10, tzinfo=SHANGHAI)
    with mock.patch("kehu.incentives.tasks.timezone.now", return_value=now):
        assert tasks.run_last_month_task.call() == {"month": "2026-03", "ran": True}
        first = MonthlyRun.objects.get(month="2026-03")
        assert tasks.run_last_month_task.call() == {"month": "2026-03", "ran": False}
    assert MonthlyRun.objects.get(month="2026-03").pk == first.pk
    assert first.ran_by is None


def test_scheduled_run_skips_a_month_without_facts(db: Any) -> None:
    now = datetime.datetime(2026, 4, 7, 10, tzinfo=SHANGHAI)
    with mock.patch("kehu.incentives.tasks.timezone.now", return_value=now):
        result = tasks.run_last_month_task.call()
    assert result["ran"] is False and "no facts" in result["reason"]


def test_defaults_exist_and_come_back_after_flush(transactional_db: Any) -> None:
    assert ScheduledJob.objects.filter(name="incentives-monthly-run").exists()
    call_command("flush", verbosity=0, interactive=False)
    assert Scheme.objects.filter(code="default", status="approved").count() == 1
    assert ScheduledJob.objects.filter(name="incentives-monthly-run").exists()
    assert ScheduledJob.objects.filter(name="pool-rules").exists()
