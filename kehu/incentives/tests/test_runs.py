"""The monthly run over several months: a month where nobody developed anything, re-runs
of earlier months, the pool identity with field pay, and the activity check (rule 8)
through run_month."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kehu.core.models import AuditEvent
from kehu.core.testing import actions_since, mark, refuser
from kehu.incentives import services, tasks
from kehu.incentives.models import MonthlyRun, PoolEntry, Statement, StatementLine
from kehu.incentives.simulate import simulate
from kehu.incentives.tests import factories as f
from kehu.org.models import Staff

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


# ---------------------------------------------------------------------------- A2


def ledger() -> list[tuple[str, Decimal, Decimal]]:
    return list(PoolEntry.objects.order_by("month").values_list("month", "opening", "closing"))


def assert_chained() -> None:
    rows = ledger()
    for (_m, _o, closing), (_n, opening, _c) in zip(rows, rows[1:], strict=False):
        assert opening == closing
    if rows:
        assert rows[0][1] == Decimal(0)


def test_re_running_a_month_re_runs_the_later_months_in_order(cast: Any) -> None:
    f.profiles(cast)
    services.run_month(actor=cast.admin, month="2026-03")
    services.run_month(actor=cast.admin, month="2026-04")
    services.run_month(actor=cast.admin, month="2026-05")
    assert ledger()[1] == ("2026-04", Decimal("2200.00"), Decimal("4400.00"))
    # A late record for March: the manager reached the threshold of 2 after all.
    f.develop(cast, cast.manager, 50000, month="2026-03", active=("2026-04", "2026-05"))
    since = mark()
    services.run_month(actor=cast.admin, month="2026-03")
    assert actions_since(since) == [("incentives.run", "admin")] * 3
    reruns = AuditEvent.objects.filter(id__gt=since).order_by("id")
    assert [e.after.get("rerun_after") for e in reruns] == [None, "2026-03", "2026-03"]
    assert ledger() == [
        ("2026-03", Decimal("0.00"), Decimal("800.00")),
        ("2026-04", Decimal("800.00"), Decimal("3000.00")),
        ("2026-05", Decimal("3000.00"), Decimal("5200.00")),
    ]
    assert_chained()


def test_a_later_month_that_cannot_be_run_refuses_the_re_run(cast: Any) -> None:
    f.profiles(cast)
    services.run_month(actor=cast.admin, month="2026-03")
    services.run_month(actor=cast.admin, month="2026-04")
    # Everybody left at the end of March: April has nobody assessed any more.
    Staff.objects.filter(incentive_profile__isnull=False).update(
        left_on=datetime.date(2026, 3, 31), is_active=False
    )
    refused = refuser(
        lambda: (
            ledger(),
            list(MonthlyRun.objects.values_list("pk", "month", "total")),
            list(Statement.objects.values_list("pk", "total")),
        )
    )
    exc = refused(ValidationError, services.run_month, actor=cast.admin, month="2026-03")
    assert exc.messages[0].startswith(
        "Re-running 2026-03 re-runs the later months already run, and 2026-04 cannot be run: "
        "There are no facts for 2026-04"
    )


def test_the_run_page_says_which_later_months_were_re_run(cast: Any, web: Any) -> None:
    f.profiles(cast)
    services.run_month(actor=cast.admin, month="2026-03")
    services.run_month(actor=cast.admin, month="2026-04")
    response = web(cast.admin).post(reverse("incentives:runs"), {"month": "2026-03"}, follow=True)
    assert "The later months already run were re-run after it: 2026-04." in (
        response.content.decode()
    )
    assert_chained()


# ---------------------------------------------------------------------------- A4


def two_in_march(cast: Any) -> None:
    """March: the manager's two customers of 8,000 meet the threshold of 2; neither is
    active again, so running May voids both (rule 8) and recomputes March."""
    f.profiles(cast)
    f.develop(cast, cast.manager, 8000, month="2026-03")
    f.develop(cast, cast.manager, 8000, month="2026-03")
    services.run_month(actor=cast.admin, month="2026-03")
    assert totals("2026-03")["manager"] == Decimal("0.00")


def test_the_activity_check_recomputes_with_that_months_performance_pay(cast: Any) -> None:
    two_in_march(cast)
    # The manager's performance pay is cut to 300 in May: May's own penalty is capped at
    # 300, but March is recomputed with March's pay (2,000): 0 then, −800 now.
    services.set_profile(
        actor=cast.admin,
        staff=cast.manager,
        role="area_manager",
        region=cast.region,
        threshold=2,
        performance_pay=300,
    )
    services.run_month(actor=cast.admin, month="2026-05")
    assert lines("2026-05", "manager") == [
        ("penalty", "2", Decimal("-300.00"), "2026-05"),
        ("clawback", "8", Decimal("-800.00"), "2026-03"),
    ]
    clawback = StatementLine.objects.get(
        statement__month="2026-05", rule="8", kind="clawback", statement__staff=cast.manager
    )
    assert "2026-03 recomputed without it: 0 then, -800 now." in clawback.reason
    # The region manager: March threshold 3, count 2 → −300; without the two → −900.
    assert lines("2026-05", "region_manager")[-1] == (
        "clawback",
        "8",
        Decimal("-600.00"),
        "2026-03",
    )


def test_the_activity_check_settles_with_someone_who_has_left(cast: Any) -> None:
    two_in_march(cast)
    Staff.objects.filter(pk=cast.manager.pk).update(
        left_on=datetime.date(2026, 4, 10), is_active=False
    )
    run = services.run_month(actor=cast.admin, month="2026-05")
    statement = Statement.objects.get(run=run, staff=cast.manager)
    assert (statement.assessed, statement.total) == (False, Decimal("-800.00"))
    assert statement.note == (
        "Not assessed in 2026-05 (no longer among the staff assessed); only the "
        "recomputation of 2026-03 is settled (rule 8)."
    )
    assert lines("2026-05", "manager") == [("clawback", "8", Decimal("-800.00"), "2026-03")]
    assert len(run.result["voided"]) == 2
    # The other manager (threshold 1) is no longer with the manager in the region: May's
    # region threshold is 1, but March is recomputed with March's staff (threshold 3).
    assert lines("2026-05", "region_manager")[-1][2] == Decimal("-600.00")
    # The simulator, given the same facts, agrees with the stored run.
    params = services.find_scheme("default", "2026-05")
    facts = services.build_facts("2026-05", params=params)
    assert facts["recompute"]["month"] == "2026-03"
    assert simulate({"scheme": "default", **facts}) == run.result


def test_a_bad_recompute_block_is_named(db: Any) -> None:
    staff = {
        "id": 1,
        "role": "area_manager",
        "region": "East",
        "threshold": 2,
        "hired_on": "2020-01-01",
        "performance_pay": 0,
    }
    body = {
        "month": "2026-05",
        "staff": [staff],
        "recompute": {"month": "2026-06", "staff": [{**staff, "role": "boss"}], "x": 1},
    }
    with pytest.raises(ValidationError) as info:
        simulate(body)
    assert set(info.value.message_dict) == {
        "recompute.month",
        "recompute.staff.0.role",
        "recompute.x",
    }
    with pytest.raises(ValidationError) as info:
        simulate({**body, "recompute": []})
    assert info.value.message_dict == {
        "recompute": ["Expected an object with month, staff and customers."]
    }
