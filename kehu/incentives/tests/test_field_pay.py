"""The field force's pay in the monthly run: promoters per node, brokers' commissions
after the deal and clawed back when it is cancelled (DOMAIN §7, §8)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kehu.activities.services import change_stage
from kehu.customers.services import record_purchase
from kehu.incentives import services
from kehu.incentives.models import StatementLine
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
