"""Customers follow their owner's successor when the owner leaves or moves away."""

from __future__ import annotations

from typing import Any

from kehu.core import ownership
from kehu.core.audit import record
from kehu.customers.models import Customer


@ownership.register("customers.owned")
def reassign_customers(*, actor: Any, from_staff: Any, to_staff: Any) -> int:
    from kehu.leads.choices import AssignmentReason
    from kehu.leads.models import Assignment

    ids = list(Customer.objects.filter(owner=from_staff).values_list("pk", flat=True))
    if not ids:
        return 0
    Customer.objects.filter(pk__in=ids).update(
        owner=to_staff, node=to_staff.node, previous_owner=from_staff
    )
    Assignment.objects.bulk_create(
        [
            Assignment(
                customer_id=pk,
                from_staff=from_staff,
                to_staff=to_staff,
                reason=AssignmentReason.STAFF_LEFT,
                actor=actor if getattr(actor, "pk", None) else None,
            )
            for pk in ids
        ]
    )
    record(
        actor=actor,
        action="customers.reassign",
        object_type="org.staff",
        object_id=from_staff.pk,
        object_repr=str(from_staff),
        after={"to": to_staff.pk, "customers": len(ids)},
    )
    return len(ids)


reassign_customers.count = lambda staff: Customer.objects.filter(owner=staff).count()  # type: ignore[attr-defined]


@ownership.register_follower("customers.owned")
def move_customers_with_owner(*, actor: Any, staff: Any, node: Any) -> int:
    """The owner moved and keeps their customers: the customers' team follows, so the
    new team's managers see them and the old team's no longer do."""
    return Customer.objects.filter(owner=staff).exclude(node=node).update(node=node)
