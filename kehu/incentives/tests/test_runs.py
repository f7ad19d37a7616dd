"""The monthly run over several months: a month where nobody developed anything, re-runs
of earlier months, the pool identity with field pay, and the activity check (rule 8)
through run_month."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from unittest import mock

from kehu.incentives import services, tasks
from kehu.incentives.models import MonthlyRun, PoolEntry, Statement, StatementLine
from kehu.incentives.tests import factories as f

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def totals(month: str) -> dict[str, Decimal]:
    return dict(Statement.objects.filter(month=month).values_list("staff__username", "total"))


def lines(month: str, username: str) -> list[tuple[str, str, Decimal, str]]:
    return list(
        StatementLine.objects.filter(statement__month=month, statement__staff__username=username)
        .order_by("position")
        .values_list("kind", "rule", "amount", "month")
    )


# ---------------------------------------------------------------------------- A1


def test_a_month_with_staff_but_nothing_developed_runs(cast: Any) -> None:
    f.profiles(cast)
    run = services.run_month(actor=cast.admin, month="2026-05")
    assert totals("2026-05") == {
        "manager": Decimal("-800.00"),
        "other_manager": Decimal("-500.00"),
        "region_manager": Decimal("-900.00"),
    }
    assert run.pool_entry.penalties == Decimal("2200.00")
    assert run.pool_entry.closing == Decimal("2200.00")


def test_a_void_in_a_month_where_nothing_was_developed_is_settled(cast: Any) -> None:
    f.profiles(cast)
    # March: two customers of 8,000 meet the manager's threshold of 2; neither is active
    # again in April or May, so May's run voids both (rule 8) although nobody developed
    # anything in May.
    f.develop(cast, cast.manager, 8000, month="2026-03")
    f.develop(cast, cast.manager, 8000, month="2026-03")
    services.run_month(actor=cast.admin, month="2026-03")
    services.run_month(actor=cast.admin, month="2026-05")
    assert lines("2026-05", "manager") == [
        ("penalty", "2", Decimal("-800.00"), "2026-05"),
        ("clawback", "8", Decimal("-800.00"), "2026-03"),
    ]


def test_the_scheduled_run_runs_a_month_with_staff_only(cast: Any) -> None:
    f.profiles(cast)
    now = datetime.datetime(2026, 4, 7, 10, tzinfo=SHANGHAI)
    with mock.patch("kehu.incentives.tasks.timezone.now", return_value=now):
        assert tasks.run_last_month_task.call() == {"month": "2026-03", "ran": True}
    assert totals("2026-03")["manager"] == Decimal("-800.00")
    assert MonthlyRun.objects.get(month="2026-03").ran_by is None
    assert PoolEntry.objects.get(month="2026-03").penalties == Decimal("2200.00")
