"""The field force's pay in the monthly run: promoters per node, brokers' commissions
after the deal and clawed back when it is cancelled (DOMAIN §7, §8)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone

from kehu.activities.services import change_stage
from kehu.customers.services import record_purchase
from kehu.incentives import engine, services
from kehu.incentives.models import MonthlyRun, StatementLine
from kehu.incentives.months import add_months, first_day, month_of
from kehu.incentives.tests import factories as f
from kehu.leads.services import register_lead


def lines(month: str, username: str) -> list[tuple[str, Decimal, str]]:
    return list(
        StatementLine.objects.filter(
            statement__month=month, statement__staff__username=username
        ).values_list("code", "amount", "rule")
    )


def test_promoters_paid_per_node_and_brokers_after_the_deal(cast: Any) -> None:
    month = month_of(timezone.localdate())
    following = add_months(month, 1)
    f.profiles(cast)
    f.develop(cast, cast.manager, 8000, month=month)
    f.develop(cast, cast.manager, 8000, month=following)

    field = register_lead(
        actor=cast.promoter, phone="13955500001", kind="field", channel="flyer"
    ).customer
    change_stage(actor=cast.admin, customer=field, stage="visited")
    referred = register_lead(
        actor=cast.broker, phone="13955500002", kind="broker", channel="broker"
    ).customer
    change_stage(actor=cast.admin, customer=referred, stage="deal")
    record_purchase(
        actor=cast.admin,
        customer=referred,
        product="A-1-101",
        amount=Decimal("1000000"),
        purchased_on=timezone.localdate(),
    )

    services.run_month(actor=cast.admin, month=month)
    assert lines(month, "promoter") == [
        ("field.left_phone", Decimal("20.00"), "field"),
        ("field.visit", Decimal("50.00"), "field"),
    ]
    assert lines(month, "broker") == [("broker.commission", Decimal("10000.00"), "broker")]
    # Re-running the month pays the same, not twice.
    services.run_month(actor=cast.admin, month=month)
    assert lines(month, "broker") == [("broker.commission", Decimal("10000.00"), "broker")]

    later = timezone.make_aware(datetime.datetime.combine(first_day(following), datetime.time(10)))
    change_stage(actor=cast.admin, customer=referred, stage="lost", reason="Cancelled", at=later)
    services.run_month(actor=cast.admin, month=following)
    assert lines(following, "broker") == [("broker.clawback", Decimal("-10000.00"), "broker")]
    assert lines(following, "promoter") == []


def assert_pool_identity(run: MonthlyRun) -> None:
    """The stored pool funds exactly the scheme's lines: its bonuses are the positive
    scheme lines, its penalties the negative ones, and the bonuses are paid from the
    penalties used, the pool used and the management fund (rule 10). Field pay and
    commissions are kept apart by their kinds and are in the run's total."""
    pool = run.pool_entry
    scheme_lines = StatementLine.objects.filter(statement__run=run, kind__in=engine.SCHEME_KINDS)
    amounts = list(scheme_lines.values_list("amount", flat=True))
    assert pool.bonuses == sum((a for a in amounts if a > 0), Decimal(0))
    assert pool.penalties == -sum((a for a in amounts if a < 0), Decimal(0))
    used_from_penalties_and_pool = pool.opening + pool.penalties - pool.closing
    assert pool.bonuses == used_from_penalties_and_pool + pool.from_management_fund
    assert set(
        StatementLine.objects.filter(statement__run=run).values_list("kind", flat=True)
    ) <= set(engine.SCHEME_KINDS + engine.FIELD_KINDS)
    field = StatementLine.objects.filter(statement__run=run, kind__in=engine.FIELD_KINDS)
    field_total = sum(field.values_list("amount", flat=True), Decimal(0))
    assert run.field_total == field_total
    assert run.total == sum(amounts, Decimal(0)) + field_total


def test_field_pay_and_commissions_stay_out_of_the_pool(cast: Any) -> None:
    month = month_of(timezone.localdate())
    following = add_months(month, 1)
    f.profiles(cast)
    f.develop(cast, cast.manager, 8000, month=month)
    f.develop(cast, cast.manager, 8000, month=following)
    field = register_lead(
        actor=cast.promoter, phone="13955500011", kind="field", channel="flyer"
    ).customer
    change_stage(actor=cast.admin, customer=field, stage="visited")
    referred = register_lead(
        actor=cast.broker, phone="13955500012", kind="broker", channel="broker"
    ).customer
    change_stage(actor=cast.admin, customer=referred, stage="deal")
    record_purchase(
        actor=cast.admin,
        customer=referred,
        product="A-1-101",
        amount=Decimal("1000000"),
        purchased_on=timezone.localdate(),
    )
    run = services.run_month(actor=cast.admin, month=month)
    kinds = dict(
        StatementLine.objects.filter(statement__run=run, rule__in=["field", "broker"])
        .values_list("code", "kind")
        .distinct()
    )
    assert kinds == {
        "field.left_phone": "field_pay",
        "field.visit": "field_pay",
        "broker.commission": "commission",
    }
    assert run.field_total == Decimal("10070.00")
    assert_pool_identity(run)
    # The stored pool is the engine's pool for the same facts (no field pay in it).
    assert Decimal(str(run.result["pool"]["bonuses"])) == run.pool_entry.bonuses

    later = timezone.make_aware(datetime.datetime.combine(first_day(following), datetime.time(10)))
    change_stage(actor=cast.admin, customer=referred, stage="lost", reason="Cancelled", at=later)
    clawed = services.run_month(actor=cast.admin, month=following)
    assert lines(following, "broker") == [("broker.clawback", Decimal("-10000.00"), "broker")]
    assert StatementLine.objects.get(statement__run=clawed, rule="broker").kind == (
        "commission_clawback"
    )
    assert clawed.field_total == Decimal("-10000.00")
    assert_pool_identity(clawed)
    assert_pool_identity(MonthlyRun.objects.get(month=month))


def test_the_run_page_shows_field_pay_apart_from_the_pool(cast: Any, web: Any) -> None:
    month = month_of(timezone.localdate())
    f.profiles(cast)
    f.develop(cast, cast.manager, 8000, month=month)
    field = register_lead(
        actor=cast.promoter, phone="13955500021", kind="field", channel="flyer"
    ).customer
    change_stage(actor=cast.admin, customer=field, stage="visited")
    services.run_month(actor=cast.admin, month=month)
    page = web(cast.admin).get(reverse("incentives:run", args=[month])).content.decode()
    assert "not from the pool: 70.00." in page
