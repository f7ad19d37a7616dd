"""Derived rows the agenda reads by index: :class:`OccasionDate` (birthdays and
anniversaries as solar dates, this year and next) and :class:`LifecycleReminder` (due
dates of the life-cycle rules for each purchase, from its latest mileage reading when it
has one).

They are a cache of the customer archive, rebuilt from it: when a birthday, an
anniversary or a purchase is written (kehu.customers.hooks), when a rule changes, and by
the nightly job over every customer in batches of ids (set-based: one read, one delete
and one insert per batch, whatever the batch holds). Nothing here is audited: the
writes that cause it are.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from kehu.occasions import rules
from kehu.occasions.choices import OccasionKind

BATCH = 5000
#: Life-cycle reminders are kept from this many days back (the list shows recent ones).
KEEP_PAST_DAYS = 31
#: …and computed this many days ahead (the nightly job moves the horizon on).
HORIZON_DAYS = 400


def occasion_window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """1 January this year to 31 December next year."""
    today = today or timezone.localdate()
    return datetime.date(today.year, 1, 1), datetime.date(today.year + 1, 12, 31)


def reminder_window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or timezone.localdate()
    return (
        today - datetime.timedelta(days=KEEP_PAST_DAYS),
        today + datetime.timedelta(days=HORIZON_DAYS),
    )


# --- occasions --------------------------------------------------------------------------


def _occasion_rows(
    customers: Iterable[tuple[int, Any, Any]],
    anniversaries: Iterable[tuple[int, int, str, Any, Any]],
    first: datetime.date,
    last: datetime.date,
) -> list[Any]:
    from kehu.occasions.models import OccasionDate

    rows = []
    for customer_id, birthday, lunar in customers:
        try:
            dates, is_lunar = rules.occurrences(birthday, lunar, first, last)
        except (KeyError, TypeError, ValueError, IndexError):
            continue  # a malformed stored lunar date: nothing to compute, never a crash
        rows += [
            OccasionDate(
                customer_id=customer_id, kind=OccasionKind.BIRTHDAY, date=d, is_lunar=is_lunar
            )
            for d in dates
        ]
    for pk, customer_id, label, date, lunar in anniversaries:
        try:
            dates, is_lunar = rules.occurrences(date, lunar, first, last)
        except (KeyError, TypeError, ValueError, IndexError):
            continue
        rows += [
            OccasionDate(
                customer_id=customer_id,
                kind=OccasionKind.ANNIVERSARY,
                anniversary_id=pk,
                date=d,
                is_lunar=is_lunar,
                label=label[:50],
            )
            for d in dates
        ]
    return rows


def refresh_customer_occasions(customer_id: int, today: datetime.date | None = None) -> int:
    """Rebuild one customer's occasion dates; returns how many there are."""
    from kehu.customers.models import Anniversary, Customer
    from kehu.occasions.models import OccasionDate

    first, last = occasion_window(today)
    customers = Customer.objects.filter(pk=customer_id, merged_into__isnull=True).values_list(
        "id", "birthday", "lunar_birthday"
    )
    anniversaries = Anniversary.objects.filter(customer_id=customer_id).values_list(
        "id", "customer_id", "label", "date", "lunar"
    )
    rows = _occasion_rows(list(customers), list(anniversaries), first, last)
    with transaction.atomic():
        OccasionDate.objects.filter(customer_id=customer_id).delete()
        OccasionDate.objects.bulk_create(rows)
    return len(rows)


def refresh_all_occasions(today: datetime.date | None = None, batch: int = BATCH) -> dict[str, Any]:
    """Bring every customer's occasion dates up to date, ``batch`` customer ids at a
    time: only rows that differ are deleted or inserted, so a night with few changes
    writes little (the year rolling over moves every row once)."""
    from kehu.customers.models import Anniversary, Customer
    from kehu.occasions.models import OccasionDate

    started = time.monotonic()
    first, last = occasion_window(today)
    top = Customer.objects.aggregate(m=Max("id"))["m"] or 0
    kept = changed = 0
    for low in range(0, top + 1, batch):
        high = low + batch
        customers = (
            Customer.objects.filter(id__gte=low, id__lt=high, merged_into__isnull=True)
            .filter(Q(birthday__isnull=False) | Q(lunar_birthday__isnull=False))
            .values_list("id", "birthday", "lunar_birthday")
        )
        anniversaries = Anniversary.objects.filter(
            customer_id__gte=low, customer_id__lt=high, customer__merged_into__isnull=True
        ).values_list("id", "customer_id", "label", "date", "lunar")
        rows = _occasion_rows(list(customers), list(anniversaries), first, last)
        wanted = {_key(row): row for row in rows}
        with transaction.atomic():
            existing = OccasionDate.objects.filter(
                customer_id__gte=low, customer_id__lt=high
            ).values_list("id", *KEY)
            stale = []
            for pk, *key in existing:
                if wanted.pop(tuple(key), None) is None:
                    stale.append(pk)
            for start in range(0, len(stale), 500):
                OccasionDate.objects.filter(pk__in=stale[start : start + 500]).delete()
            OccasionDate.objects.bulk_create(list(wanted.values()), batch_size=2000)
        kept += len(rows)
        changed += len(stale) + len(wanted)
    return {
        "occasion_dates": kept,
        "occasion_changes": changed,
        "seconds": round(time.monotonic() - started, 2),
    }


KEY = ("customer_id", "kind", "anniversary_id", "date", "is_lunar", "label")


def _key(row: Any) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in KEY)


# --- life-cycle reminders -------------------------------------------------------------------


Reading = tuple[int, datetime.date]


def _latest_readings(
    purchase_ids: Iterable[int] | None = None, low: int = 0, high: int = 0
) -> dict[int, Reading]:
    """Each purchase's latest mileage reading ``(km, read_on)``: of ``purchase_ids``, or
    of the purchases with ids in ``[low, high)``. One query, readings in index order so
    the last one seen per purchase is the latest."""
    from kehu.customers.models import MileageReading

    queryset = MileageReading.objects.order_by("purchase_id", "read_on", "km", "id")
    if purchase_ids is not None:
        queryset = queryset.filter(purchase_id__in=list(purchase_ids))
    else:
        queryset = queryset.filter(purchase_id__gte=low, purchase_id__lt=high)
    return {
        pid: (km, read_on)
        for pid, km, read_on in queryset.values_list("purchase_id", "km", "read_on")
    }


def _reminder_rows(
    purchases: Iterable[tuple[int, int, str, datetime.date]],
    active_rules: list[Any],
    first: datetime.date,
    last: datetime.date,
    readings: dict[int, Reading] | None = None,
) -> list[Any]:
    """The reminders of ``purchases`` under ``active_rules`` within ``[first, last]``;
    a purchase with a reading in ``readings`` has its km-based dates from its observed
    rate (rules.due_dates)."""
    from kehu.occasions.models import LifecycleReminder

    readings = readings or {}
    rows = []
    for purchase_id, customer_id, product, purchased_on in purchases:
        reading = readings.get(purchase_id)
        for rule in active_rules:
            if not rules.product_matches(product, rule.product_contains):
                continue
            for sequence, due in rules.due_dates(
                purchased_on,
                months_after=rule.months_after,
                km_after=rule.km_after,
                km_per_month=rule.km_per_month,
                repeat_months=rule.repeat_months,
                occurrences=rule.occurrences,
                until=last,
                reading=reading,
            ):
                if due < first:
                    continue
                rows.append(
                    LifecycleReminder(
                        customer_id=customer_id,
                        purchase_id=purchase_id,
                        rule_id=rule.pk,
                        sequence=sequence,
                        due_on=due,
                        notify_on=due - datetime.timedelta(days=rule.lead_days),
                    )
                )
    return rows


def _active_rules() -> list[Any]:
    from kehu.occasions.models import LifecycleRule

    return list(LifecycleRule.objects.filter(is_active=True))


def refresh_purchase_reminders(purchase_id: int, today: datetime.date | None = None) -> int:
    from kehu.customers.models import Purchase
    from kehu.occasions.models import LifecycleReminder

    first, last = reminder_window(today)
    purchases = list(
        Purchase.objects.filter(pk=purchase_id).values_list(
            "id", "customer_id", "product", "purchased_on"
        )
    )
    rows = _reminder_rows(purchases, _active_rules(), first, last, _latest_readings([purchase_id]))
    with transaction.atomic():
        LifecycleReminder.objects.filter(purchase_id=purchase_id).delete()
        LifecycleReminder.objects.bulk_create(rows)
    return len(rows)


def refresh_all_reminders(today: datetime.date | None = None, batch: int = BATCH) -> dict[str, Any]:
    """Rebuild every purchase's reminders (rules may have changed, the horizon moves)."""
    from kehu.customers.models import Purchase
    from kehu.occasions.models import LifecycleReminder

    started = time.monotonic()
    first, last = reminder_window(today)
    active = _active_rules()
    top = Purchase.objects.aggregate(m=Max("id"))["m"] or 0
    written = 0
    for low in range(0, top + 1, batch):
        high = low + batch
        purchases = list(
            Purchase.objects.filter(
                id__gte=low, id__lt=high, customer__merged_into__isnull=True
            ).values_list("id", "customer_id", "product", "purchased_on")
        )
        rows = _reminder_rows(purchases, active, first, last, _latest_readings(low=low, high=high))
        with transaction.atomic():
            LifecycleReminder.objects.filter(purchase_id__gte=low, purchase_id__lt=high).delete()
            LifecycleReminder.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    return {"reminders": written, "seconds": round(time.monotonic() - started, 2)}


def rebuild_rule_reminders(rule: Any, today: datetime.date | None = None) -> int:
    """After a rule is created, changed or switched off: its reminders only."""
    from kehu.customers.models import Purchase
    from kehu.occasions.models import LifecycleReminder

    first, last = reminder_window(today)
    LifecycleReminder.objects.filter(rule_id=rule.pk).delete()
    if not rule.is_active:
        return 0
    written = 0
    pending: list[Any] = []
    queryset = (
        Purchase.objects.filter(customer__merged_into__isnull=True)
        .order_by("id")
        .values_list("id", "customer_id", "product", "purchased_on")
    )
    for row in queryset.iterator(chunk_size=BATCH):
        pending.append(row)
        if len(pending) >= BATCH:
            written += _flush(pending, rule, first, last)
            pending = []
    return written + _flush(pending, rule, first, last)


def _flush(purchases: list[Any], rule: Any, first: datetime.date, last: datetime.date) -> int:
    from kehu.occasions.models import LifecycleReminder

    readings = {}
    if rule.km_after and purchases:
        # A range, not a list of ids: an IN of 5,000 parameters is too many for SQLite.
        readings = _latest_readings(low=purchases[0][0], high=purchases[-1][0] + 1)
    rows = _reminder_rows(purchases, [rule], first, last, readings)
    LifecycleReminder.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
