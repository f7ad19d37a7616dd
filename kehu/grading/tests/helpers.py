"""What the grading tests share: a few customers built through the services on top of
the fixed cast, and a snapshot of every table grading writes (equal before and after
means nothing changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kehu.core.models import AuditEvent
from kehu.customers.models import Customer
from kehu.grading.models import (
    CustomerGrade,
    GradingSettings,
    IntentAssessment,
    KeyCustomer,
    ReferralAssessment,
)
from kehu.leads.services import register_lead
from kehu.org.models import Staff

ALL_SIX = {
    "product": True,
    "price": True,
    "payment": True,
    "chosen_unit": True,
    "attention": True,
    "decision_makers": True,
}


def fresh(staff: Staff) -> Staff:
    """The persona as a new request would load it (nothing cached on the instance)."""
    return Staff.objects.get(pk=staff.pk)


@dataclass
class World:
    mine: Customer  # the consultant's (team 一组)
    mine2: Customer
    mine3: Customer
    theirs: Customer  # the other consultant's (team 二组)


def customer(actor: Staff, phone: str, name: str) -> Customer:
    return register_lead(actor=actor, phone=phone, kind="call", channel="phone", name=name).customer


@pytest.fixture
def world(cast: Any) -> World:
    return World(
        mine=customer(cast.consultant, "13900000001", "张三"),
        mine2=customer(cast.consultant, "13900000002", "张四"),
        mine3=customer(cast.consultant, "13900000003", "张五"),
        theirs=customer(cast.other_consultant, "13900000009", "李四"),
    )


def state() -> dict[str, list[dict]]:
    """Every row of every table grading writes, and the customers' grades and stages."""
    data: dict[str, list[dict]] = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            IntentAssessment,
            ReferralAssessment,
            CustomerGrade,
            GradingSettings,
            KeyCustomer,
            AuditEvent,
        )
    }
    data["Customer"] = list(
        Customer.objects.order_by("pk").values("pk", "intent_grade", "stage", "lost_reason")
    )
    return data
