"""Background work on the archive."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django_tasks import task

from kehu.customers import completeness
from kehu.customers.models import Customer, CustomerPhone
from kehu.customers.services import profile_of, requirements


def recompute_completeness(batch_size: int = 1000) -> int:
    """Recompute every live customer's stored completeness against the current
    requirements, in id batches; writes only the rows whose figures change. Idempotent:
    a second run changes nothing. Returns how many rows changed."""
    reqs = requirements()
    changed = 0
    last_id = 0
    while True:
        rows = list(
            Customer.objects.live()
            .filter(pk__gt=last_id)
            .annotate(has_phone=Exists(CustomerPhone.objects.filter(customer_id=OuterRef("pk"))))
            .order_by("pk")[:batch_size]
        )
        if not rows:
            return changed
        last_id = rows[-1].pk
        dirty = []
        for customer in rows:
            stage = completeness.completeness_stage(customer.stage, customer.visit_count)
            result = completeness.compute(
                profile_of(customer, has_phone=customer.has_phone), stage, reqs
            )
            if (
                customer.completeness != result.score
                or list(customer.completeness_missing or []) != result.missing
                or customer.is_below_completeness != result.is_below
            ):
                customer.completeness = result.score
                customer.completeness_missing = result.missing
                customer.is_below_completeness = result.is_below
                dirty.append(customer)
        Customer.objects.bulk_update(
            dirty, ["completeness", "completeness_missing", "is_below_completeness"]
        )
        changed += len(dirty)


@task()
def recompute_completeness_task() -> int:
    """Run by the worker after an administrator changes the completeness requirements."""
    return recompute_completeness()
