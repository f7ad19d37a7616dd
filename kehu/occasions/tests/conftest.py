"""What the occasions tests share: customers of the cast built through the services,
and a snapshot of every table occasions writes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone, translation

from kehu.core.models import AuditEvent
from kehu.customers.services import update_customer
from kehu.leads.services import register_lead
from kehu.occasions.models import (
    CareRule,
    InvitationSettings,
    LifecycleReminder,
    LifecycleRule,
    OccasionDate,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def soon(days: int) -> datetime.date:
    """A day ``days`` ahead that is not 29 February (so a birthday on it recurs)."""
    day = timezone.localdate() + datetime.timedelta(days=days)
    if (day.month, day.day) == (2, 29):
        day += datetime.timedelta(days=1)
    return day


_numbers = iter(range(13700000000, 13799999999))


def customer_of(staff: Any, name: str = "张先生", **changes: Any) -> Any:
    customer = register_lead(
        actor=staff, phone=str(next(_numbers)), kind="call", channel="phone", name=name
    ).customer
    if changes:
        update_customer(actor=staff, customer=customer, **changes)
        customer.refresh_from_db()
    return customer


def db_state() -> dict[str, Any]:
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (CareRule, InvitationSettings, LifecycleRule, LifecycleReminder, OccasionDate)
    } | {"audit": AuditEvent.objects.count()}
