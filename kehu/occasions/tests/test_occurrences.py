"""Occasion dates and life-cycle reminders follow the archive (hooks and the job)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kehu.customers.services import (
    add_anniversary,
    record_mileage,
    record_purchase,
    update_customer,
)
from kehu.occasions import occurrences, rules
from kehu.occasions.models import LifecycleReminder, LifecycleRule, OccasionDate
from kehu.occasions.tasks import refresh_occasions_task
from kehu.occasions.tests.conftest import customer_of, soon

D = datetime.date


def dates_of(customer, kind="birthday"):
    return list(
        OccasionDate.objects.filter(customer=customer, kind=kind)
        .order_by("date")
        .values_list("date", "is_lunar")
    )


def test_a_solar_birthday_is_kept_for_this_year_and_next(cast):
    day = soon(5)
    customer = customer_of(cast.consultant, birthday=D(1980, day.month, day.day))
    this = timezone.localdate().year
    expected = rules.solar_occurrences(
        D(1980, day.month, day.day), D(this, 1, 1), D(this + 1, 12, 31)
    )
    assert dates_of(customer) == [(d, False) for d in expected]
    assert len(expected) == 2


def test_a_lunar_birthday_is_converted_and_changes_follow(cast):
    customer = customer_of(
        cast.consultant, lunar_birthday={"month": 8, "day": 15, "is_leap": False}
    )
    this = timezone.localdate().year
    expected = rules.lunar_occurrences({"month": 8, "day": 15}, D(this, 1, 1), D(this + 1, 12, 31))
    assert dates_of(customer) == [(d, True) for d in expected]
    update_customer(actor=cast.consultant, customer=customer, lunar_birthday=None)
    assert dates_of(customer) == []


def test_an_anniversary_is_kept(cast):
    customer = customer_of(cast.consultant)
    day = soon(3)
    add_anniversary(
        actor=cast.consultant,
        customer=customer,
        label="结婚纪念日",
        date=D(2010, day.month, day.day),
    )
    rows = list(OccasionDate.objects.filter(customer=customer, kind="anniversary"))
    assert len(rows) == 2
    assert {r.label for r in rows} == {"结婚纪念日"}
    assert day in {r.date for r in rows}


def test_a_purchase_gets_its_reminders(cast):
    customer = customer_of(cast.consultant)
    bought = timezone.localdate() - datetime.timedelta(days=30)
    purchase = record_purchase(
        actor=cast.consultant,
        customer=customer,
        product="宝马 X3",
        amount=Decimal("300000"),
        purchased_on=bought,
    )
    rows = list(LifecycleReminder.objects.filter(purchase=purchase).select_related("rule"))
    first_service = LifecycleRule.objects.get(kind="service", km_after=5000)
    mine = [r for r in rows if r.rule_id == first_service.pk]
    assert [(r.sequence, r.due_on) for r in mine] == [(1, rules.add_months(bought, 4))]
    assert mine[0].notify_on == mine[0].due_on - datetime.timedelta(days=14)
    assert {r.rule.kind for r in rows} == {"service", "insurance"}  # within the horizon


def test_the_nightly_job_rebuilds_everything_and_is_idempotent(cast):
    day = soon(5)
    a = customer_of(cast.consultant, birthday=D(1980, day.month, day.day))
    b = customer_of(cast.other_consultant, lunar_birthday={"month": 1, "day": 1, "is_leap": False})
    record_purchase(
        actor=cast.consultant,
        customer=a,
        product="奔驰 C",
        amount=Decimal("1"),
        purchased_on=timezone.localdate(),
    )
    before = sorted(OccasionDate.objects.values_list("customer_id", "kind", "date", "is_lunar"))
    reminders = sorted(
        LifecycleReminder.objects.values_list("purchase_id", "rule_id", "sequence", "due_on")
    )
    OccasionDate.objects.all().delete()
    LifecycleReminder.objects.all().delete()
    result = refresh_occasions_task.call()
    assert result["occasion_dates"] == len(before)
    assert result["reminders"] == len(reminders)
    assert (
        sorted(OccasionDate.objects.values_list("customer_id", "kind", "date", "is_lunar"))
        == before
    )
    refresh_occasions_task.call()
    assert (
        sorted(OccasionDate.objects.values_list("customer_id", "kind", "date", "is_lunar"))
        == before
    )
    assert (
        sorted(
            LifecycleReminder.objects.values_list("purchase_id", "rule_id", "sequence", "due_on")
        )
        == reminders
    )
    assert {c for c, *_ in before} == {a.pk, b.pk}


def test_the_job_works_in_small_batches(cast):
    customers = [
        customer_of(cast.consultant, name=f"客户{i}", birthday=D(1990, 1 + i, 10)) for i in range(5)
    ]
    OccasionDate.objects.all().delete()
    result = occurrences.refresh_all_occasions(batch=2)
    assert result["occasion_dates"] == 10
    assert set(OccasionDate.objects.values_list("customer_id", flat=True)) == {
        c.pk for c in customers
    }


def test_a_malformed_stored_lunar_date_is_skipped_not_a_crash(cast):
    from kehu.customers.models import Customer

    customer = customer_of(cast.consultant)
    Customer.objects.filter(pk=customer.pk).update(lunar_birthday={"month": 13})
    assert occurrences.refresh_customer_occasions(customer.pk) == 0


# --- mileage readings -----------------------------------------------------------------------


def _first_service(purchase: Any) -> list[tuple[int, datetime.date]]:
    rule = LifecycleRule.objects.get(kind="service", km_after=5000)
    return list(
        LifecycleReminder.objects.filter(purchase=purchase, rule=rule).values_list(
            "sequence", "due_on"
        )
    )


def test_a_reading_recomputes_the_purchase_reminders_from_its_rate(cast):
    customer = customer_of(cast.consultant)
    today = timezone.localdate()
    bought = today - datetime.timedelta(days=40)
    purchase = record_purchase(
        actor=cast.consultant,
        customer=customer,
        product="宝马 X3",
        amount=Decimal("300000"),
        purchased_on=bought,
    )
    assert _first_service(purchase) == [(1, rules.add_months(bought, 4))]  # assumed rate
    periodic = LifecycleRule.objects.get(kind="service", km_after=15000)
    callback = LifecycleRule.objects.get(kind="callback")
    untouched = sorted(
        LifecycleReminder.objects.filter(purchase=purchase)
        .exclude(rule__in=[periodic, LifecycleRule.objects.get(kind="service", km_after=5000)])
        .values_list("rule_id", "sequence", "due_on")
    )

    # 4,000 km in 40 days: 5,000 km after 50 days.
    record_mileage(actor=cast.consultant, purchase=purchase, km=4000, read_on=today)
    assert _first_service(purchase) == [(1, bought + datetime.timedelta(days=50))]
    # 15,000 km after 150 days, then every 12 months (within the 400-day horizon).
    assert list(
        LifecycleReminder.objects.filter(purchase=purchase, rule=periodic).values_list(
            "sequence", "due_on"
        )
    ) == [(1, bought + datetime.timedelta(days=150))]
    # Rules counted in months only do not move.
    assert (
        sorted(
            LifecycleReminder.objects.filter(purchase=purchase)
            .exclude(rule__kind="service")
            .values_list("rule_id", "sequence", "due_on")
        )
        == untouched
    )
    assert callback.pk not in {r for r, *_ in untouched}  # 36 months: beyond the horizon

    # A later reading past the mark: due on the reading's date.
    record_mileage(actor=cast.manager, purchase=purchase, km=5600, read_on=today)
    assert _first_service(purchase) == [(1, today)]


def test_the_nightly_job_uses_the_readings_too(cast):
    customer = customer_of(cast.consultant)
    today = timezone.localdate()
    purchases = [
        record_purchase(
            actor=cast.consultant,
            customer=customer,
            product=f"奔驰 {i}",
            amount=Decimal("1"),
            purchased_on=today - datetime.timedelta(days=30 + i),
        )
        for i in range(3)
    ]
    record_mileage(actor=cast.consultant, purchase=purchases[0], km=2500, read_on=today)
    record_mileage(actor=cast.consultant, purchase=purchases[2], km=1000, read_on=today)
    after_hooks = sorted(
        LifecycleReminder.objects.values_list("purchase_id", "rule_id", "sequence", "due_on")
    )
    LifecycleReminder.objects.all().delete()
    occurrences.refresh_all_reminders(batch=2)
    assert (
        sorted(
            LifecycleReminder.objects.values_list("purchase_id", "rule_id", "sequence", "due_on")
        )
        == after_hooks
    )
    # A rule change rebuilds from the readings as well.
    rule = LifecycleRule.objects.get(kind="service", km_after=5000)
    LifecycleReminder.objects.filter(rule=rule).delete()
    occurrences.rebuild_rule_reminders(rule)
    assert (
        sorted(
            LifecycleReminder.objects.values_list("purchase_id", "rule_id", "sequence", "due_on")
        )
        == after_hooks
    )
    assert _first_service(purchases[0]) == [(1, today + datetime.timedelta(days=30))]
