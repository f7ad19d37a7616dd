"""The one-statement registration (PostgreSQL, kehu.core.inserts) writes exactly the rows
the ORM path writes, and nothing when it fails."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, NotSupportedError, connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from kehu.activities.models import StageChange
from kehu.core.inserts import Linked, insert_linked
from kehu.core.models import AuditEvent
from kehu.customers.models import Customer, CustomerPhone
from kehu.leads import services
from kehu.leads.models import Assignment, Registration

NOW = timezone.make_aware(datetime.datetime(2026, 11, 2, 10, 30))
IGNORED = {"id", "customer", "created_at", "updated_at", "number", "digits"}


def rows_of(customer_id: int) -> dict[str, Any]:
    customer = Customer.objects.get(pk=customer_id)

    def plain(obj: Any) -> dict[str, Any]:
        return {k: v for k, v in model_to_dict(obj).items() if k not in IGNORED}

    event = AuditEvent.objects.get(object_type="customers.customer", object_id=str(customer_id))
    return {
        "customer": plain(customer),
        "phones": [plain(p) for p in CustomerPhone.objects.filter(customer=customer)],
        "registrations": [plain(r) for r in Registration.objects.filter(customer=customer)],
        "assignments": [plain(a) for a in Assignment.objects.filter(customer=customer)],
        "stages": [plain(s) for s in StageChange.objects.filter(customer=customer)],
        "audit": {
            **{
                k: v
                for k, v in model_to_dict(event).items()
                if k not in {"id", "object_id", "object_repr", "created_at"}
            },
            "after": {**event.after, "phone": "…"},
        },
        "audit_names_the_customer": event.object_repr == str(customer),
    }


def register(cast: Any, phone: str, name: str) -> int:
    judgement = services.register_lead(
        actor=cast.consultant,
        phone=phone,
        name=name,
        kind="call",
        channel="phone",
        note="想要三房",
        location={"lat": 31.23, "lng": 121.47},
        now=NOW,
    )
    assert judgement.result == "new"
    return judgement.customer.pk


@pytest.mark.parametrize("name", ["王先生", ""])
def test_both_paths_write_the_same_rows(cast, monkeypatch, name):
    monkeypatch.setattr(services, "FAST_PATH", True)
    fast = rows_of(register(cast, "13911110001", name))
    monkeypatch.setattr(services, "FAST_PATH", False)
    orm = rows_of(register(cast, "13911110002", name))
    assert fast == orm
    assert fast["audit_names_the_customer"] is True
    assert fast["customer"]["owner"] == cast.consultant.pk
    assert fast["customer"]["node"] == cast.team.pk


def test_a_new_number_is_one_statement_on_postgresql(cast, django_assert_num_queries):
    # The ORM path: savepoint, lookup, six inserts, release (SQLite has no
    # data-modifying CTEs, so it always takes it).
    register(cast, "13911110007", "热身")  # channels and requirements cached, as in use
    expected = 1 if connection.vendor == "postgresql" else 9
    with django_assert_num_queries(expected):
        register(cast, "13911110003", "李女士")


def test_a_known_number_falls_through_to_the_judgement(cast):
    first = register(cast, "13911110004", "张先生")
    again = services.register_lead(
        actor=cast.consultant, phone="13911110004", kind="call", channel="phone", now=NOW
    )
    assert (again.result, again.customer.pk) == ("existing", first)
    assert Customer.objects.count() == 1
    assert Registration.objects.count() == 2


def test_a_failed_statement_writes_nothing(cast):
    """A unique violation in any row rolls back every row of the statement (PostgreSQL);
    SQLite, which has no data-modifying CTEs, is refused plainly."""
    register(cast, "13911110005", "赵先生")
    counts = [m.objects.count() for m in (Customer, CustomerPhone, Registration, AuditEvent)]
    customer = Customer(name="重复", stage="left_phone", node=cast.team, owner=cast.consultant)
    taken = CustomerPhone(number="+8613911110005", digits="13911110005", is_primary=True)
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            insert_linked(customer, [Linked(taken, "customer")])
    else:
        with pytest.raises(NotSupportedError):
            insert_linked(customer, [Linked(taken, "customer")])
    assert customer.pk is None
    assert [m.objects.count() for m in (Customer, CustomerPhone, Registration, AuditEvent)] == (
        counts
    )
