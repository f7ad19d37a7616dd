"""Customers, consents and settings the messaging tests share, built through services."""

from __future__ import annotations

import itertools
from typing import Any

from kehu.customers import services as customers
from kehu.customers.models import Customer
from kehu.leads.services import register_lead
from kehu.org.models import Staff

_numbers = itertools.count(1)


def make_customer(
    owner: Staff, name: str = "张三", title: str = "先生", phone: str | None = None, **changes: Any
) -> Customer:
    number = phone or f"1390000{next(_numbers):04d}"
    customer = register_lead(
        actor=owner, phone=number, kind="call", channel="phone", name=name
    ).customer
    changes = {"title": title, **changes}
    return customers.update_customer(actor=None, customer=customer, **changes)
