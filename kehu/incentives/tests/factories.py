"""A small incentives world built through the services, on top of the fixed cast:

华东大区 (region)   region_manager: region manager
  一组              manager: area manager, threshold 2, performance pay 2,000
  二组              other_manager: area manager, threshold 1, performance pay 1,500
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from kehu.customers.models import Customer
from kehu.incentives import services
from kehu.incentives.models import DevelopedCustomer
from kehu.leads.services import register_lead

MONTH = "2026-03"
_numbers = itertools.count(1)


def customer(cast: Any, name: str = "") -> Customer:
    n = next(_numbers)
    return register_lead(
        actor=cast.consultant,
        phone=f"1391{n:07d}",
        kind="call",
        channel="phone",
        name=name or f"客户{n}",
    ).customer


def profiles(cast: Any) -> None:
    services.set_profile(
        actor=cast.admin, staff=cast.region_manager, role="region_manager", region=cast.region
    )
    services.set_profile(
        actor=cast.admin,
        staff=cast.manager,
        role="area_manager",
        region=cast.region,
        threshold=2,
        performance_pay=2000,
    )
    services.set_profile(
        actor=cast.admin,
        staff=cast.other_manager,
        role="area_manager",
        region=cast.region,
        threshold=1,
        performance_pay=1500,
    )


def develop(
    cast: Any,
    by: Any,
    paid: Any,
    month: str = MONTH,
    active: tuple[str, ...] = (),
) -> DevelopedCustomer:
    developed = services.develop_customer(
        actor=cast.admin,
        customer=customer(cast),
        developed_by=by,
        region=cast.region,
        developed_in=month,
    )
    if paid:
        services.record_payment(actor=cast.admin, developed=developed, month=month, amount=paid)
    for m in active:
        services.mark_active_month(actor=cast.admin, developed=developed, month=m)
    return developed


def world(cast: Any) -> dict[str, Any]:
    """March 2026: the manager developed 50,000 + 8,000 + 20,000 (threshold 2 reached by
    the first, whole; bonuses for the next two), the other manager nothing."""
    profiles(cast)
    return {
        "big": develop(cast, cast.manager, Decimal("50000")),
        "small": develop(cast, cast.manager, 8000),
        "mid": develop(cast, cast.manager, 20000),
    }
