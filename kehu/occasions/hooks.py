"""What occasions does when the customer archive changes (registered in apps.py with
kehu.customers.hooks). Inside the writer's transaction: a few lunar conversions, one
delete and one insert, so the agenda is right as soon as the write commits."""

from __future__ import annotations

from typing import Any

from kehu.occasions import occurrences


def occasions_changed(customer: Any) -> None:
    occurrences.refresh_customer_occasions(customer.pk)


def purchase_recorded(purchase: Any, customer: Any) -> None:
    occurrences.refresh_purchase_reminders(purchase.pk)
