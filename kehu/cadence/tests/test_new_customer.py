"""A customer registered today is on its owner's agenda today (kehu.cadence.triggers):
the row comes from the database itself, whichever way the customer was created."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from kehu.cadence.models import CustomerCadence
from kehu.cadence.tests.helpers import customer_of
from kehu.customers.models import Customer


def test_a_lead_registered_today_is_due_today_on_its_owners_agenda(cast, api) -> None:
    customer = customer_of(cast.consultant, "13900001111", name="新客户")
    today = timezone.localdate()
    row = CustomerCadence.objects.get(customer=customer)
    assert (row.owner_id, row.next_due, row.callback_due, row.due_kind, row.grade) == (
        cast.consultant.pk,
        today,
        today,
        "callback",
        "",
    )
    body = api(cast.consultant).get(f"/api/v1/agenda/?date={today.isoformat()}").json()
    mine = [item for item in body["items"] if item["customer"] == customer.pk]
    assert [(i["kind"], i["due"]) for i in mine] == [("callback", today.isoformat())]
    # Nobody else sees it.
    other = api(cast.other_consultant).get(f"/api/v1/agenda/?date={today.isoformat()}").json()
    assert customer.pk not in [item["customer"] for item in other["items"]]


def test_a_customer_inserted_by_hand_gets_its_row_too(cast) -> None:
    """Raw SQL (an import, the benchmark) bypasses every service: the trigger still runs."""
    Customer.objects.bulk_create(
        [
            Customer(name="甲", owner=cast.consultant, intent_grade="A", stage="left_phone"),
            Customer(name="乙", owner=None, stage="lost"),
        ]
    )
    rows = {
        c.name: c.cadence
        for c in Customer.objects.filter(name__in=["甲", "乙"]).select_related("cadence")
    }
    today = timezone.localdate()
    assert (rows["甲"].owner_id, rows["甲"].next_due, rows["甲"].due_kind) == (
        cast.consultant.pk,
        today,
        "call_due",
    )
    assert (rows["乙"].owner_id, rows["乙"].next_due) == (None, None)


def test_the_first_call_recomputes_the_row_with_every_rule(cast) -> None:
    from kehu.activities.services import log_activity

    customer = customer_of(cast.consultant, "13900002222")
    log_activity(actor=cast.consultant, customer=customer, kind="call")
    row = CustomerCadence.objects.get(customer=customer)
    # Called today, no grade: the next contact is the callback, 90 days on.
    assert row.last_contact == timezone.localdate()
    assert (row.next_due - row.last_contact).days == 90


def test_the_trigger_is_installed(db) -> None:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'cadence_new_customer' "
                "AND NOT tgisinternal"
            )
        else:
            cur.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name = 'cadence_new_customer'"
            )
        assert cur.fetchone()[0] == 1
