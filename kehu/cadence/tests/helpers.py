"""Building blocks for the cadence tests, through the services."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from kehu.activities.services import log_activity
from kehu.customers.models import Customer
from kehu.leads.services import register_lead


def customer_of(owner: Any, phone: str, name: str = "李女士", grade: str = "") -> Customer:
    customer = register_lead(
        actor=owner, phone=phone, kind="call", channel="phone", name=name
    ).customer
    if grade:
        Customer.objects.filter(pk=customer.pk).update(intent_grade=grade)
        customer.refresh_from_db()
    return customer


#: The day the agenda tests look at: a plain Wednesday with no solar term and no holiday
#: greeting window (test_api asserts it), so the agenda holds only what a test made.
#: Fixed, not today: on a solar-term day (大雪, 冬至…) or before a holiday the agenda
#: rightly has one more item, and exact assertions must not depend on the calendar.
DAY = datetime.date(2026, 6, 10)


def called(
    owner: Any, customer: Customer, days_ago: int, today: datetime.date | None = None
) -> Customer:
    """Log a call ``days_ago`` days before ``today`` (at 09:00 local time, or now if
    that is earlier), or before now when ``today`` is None: never in the future,
    whatever the hour."""
    when = timezone.localtime()
    if today is not None:
        when = min(
            when,
            datetime.datetime.combine(
                today, datetime.time(9), tzinfo=timezone.get_current_timezone()
            ),
        )
    log_activity(
        actor=owner,
        customer=customer,
        kind="call",
        occurred_at=when - datetime.timedelta(days=days_ago),
    )
    customer.refresh_from_db()
    return customer
