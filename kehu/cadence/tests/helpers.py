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


def called(owner: Any, customer: Customer, days_ago: int) -> Customer:
    """Log a call ``days_ago`` days ago (at noon, local time)."""
    when = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    log_activity(
        actor=owner,
        customer=customer,
        kind="call",
        occurred_at=when - datetime.timedelta(days=days_ago),
    )
    customer.refresh_from_db()
    return customer
