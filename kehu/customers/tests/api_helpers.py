"""What the customer, leads and activities API tests share: a small world of customers
built through the services on top of the fixed cast, a snapshot of every table those
APIs write (equal before and after means nothing changed), and the error bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kehu.activities.models import Activity, StageChange
from kehu.core.models import AuditEvent
from kehu.customers.models import (
    Anniversary,
    Customer,
    CustomerPhone,
    CustomerTag,
    MileageReading,
    Purchase,
    Relation,
    StageRequirement,
    Tag,
    TagDimension,
)
from kehu.leads.models import Assignment, Channel, Conflict, Registration
from kehu.leads.services import register_lead
from kehu.org.models import Staff

DENIED = {
    "error": {
        "code": "permission_denied",
        "message": "You are not allowed to do this.",
        "fields": {},
    }
}
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}

#: Who may see a customer of the world but not edit it (403), or not see it (404):
#: (persona, customer, status, body).
NON_EDITORS = [
    ("promoter", "field", 403, DENIED),
    ("commissioner", "mine", 403, DENIED),
    ("broker", "referral", 403, DENIED),
    ("other_consultant", "mine", 404, NOT_FOUND),
    ("other_manager", "mine", 404, NOT_FOUND),
]

# The world's numbers, one per customer.
NUMBERS = {
    "mine": "13900000001",  # the consultant's (team 一组)
    "theirs": "13900000002",  # the other consultant's (team 二组)
    "field": "13900000003",  # found by the promoter (team 一组, nobody owns it)
    "referral": "13900000004",  # referred by the broker (no team, nobody owns it)
    "hq": "13900000005",  # the admin's (at the company)
}


def invalid(
    fields: dict[str, list[str]], message: str = "Please correct the errors below."
) -> dict:
    return {"error": {"code": "invalid", "message": message, "fields": fields}}


def everything() -> dict[str, list[dict]]:
    """Every row of every table these APIs write."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            Customer,
            CustomerPhone,
            CustomerTag,
            Tag,
            TagDimension,
            Relation,
            Anniversary,
            Purchase,
            MileageReading,
            StageRequirement,
            Registration,
            Conflict,
            Assignment,
            Channel,
            Activity,
            StageChange,
            AuditEvent,
        )
    }


def new_events(after_pk: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=after_pk).order_by("pk"))


def last_event_pk() -> int:
    event = AuditEvent.objects.order_by("-pk").first()
    return event.pk if event else 0


def fresh(staff: Staff) -> Staff:
    """The persona as a new request would load it (nothing cached on the instance)."""
    return Staff.objects.get(pk=staff.pk)


@dataclass
class World:
    mine: Customer
    theirs: Customer
    field: Customer
    referral: Customer
    hq: Customer

    def ids(self, *names: str) -> set[int]:
        return {getattr(self, name).pk for name in names}

    def names(self) -> dict[int, str]:
        return {getattr(self, name).pk: name for name in NUMBERS}


def register(actor: Staff, phone: str, kind: str = "call", channel: str = "phone", **kw: Any):
    return register_lead(actor=actor, phone=phone, kind=kind, channel=channel, **kw)


def build_world(cast: Any) -> World:
    def customer(actor: Staff, key: str, kind: str, name: str) -> Customer:
        return register(actor, NUMBERS[key], kind=kind, name=name).customer

    return World(
        mine=customer(cast.consultant, "mine", "call", "张三"),
        theirs=customer(cast.other_consultant, "theirs", "visit", "李四"),
        field=customer(cast.promoter, "field", "field", "王五"),
        referral=customer(cast.broker, "referral", "broker", "赵六"),
        hq=customer(cast.admin, "hq", "web", "钱七"),
    )


@pytest.fixture(name="world")
def world_fixture(cast: Any) -> World:
    """Import ``world_fixture`` into a test module to use the ``world`` fixture."""
    return build_world(cast)


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """The cast's argon2 hashes cost seconds; nothing here logs in by password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Who sees which customer (Customer.objects.visible_to): exact sets by world name.
VISIBLE_CUSTOMERS = {
    "admin": {"mine", "theirs", "field", "referral", "hq"},
    "region_manager": {"mine", "theirs", "field"},
    "manager": {"mine", "field"},
    "other_manager": {"theirs"},
    "consultant": {"mine"},
    "other_consultant": {"theirs"},
    "commissioner": {"mine", "field"},
    "promoter": {"field"},
    "broker": {"referral"},
}
