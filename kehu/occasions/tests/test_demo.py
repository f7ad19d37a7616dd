"""The occasions demo loader: birthdays (some lunar) kept as occasion dates, and
purchases with life-cycle reminders; a second run changes nothing."""

from __future__ import annotations

import random

from kehu.core import demo
from kehu.customers.models import Customer
from kehu.occasions.demo import load_occasions
from kehu.occasions.models import LifecycleReminder, OccasionDate
from kehu.occasions.tests.conftest import customer_of


def test_the_demo_has_solar_and_lunar_birthdays_and_reminders(cast):
    for i in range(30):
        customer_of(cast.consultant, name=f"演示{i}")
    ctx = demo.DemoContext(size=1, rng=random.Random(1), password="x", say=lambda _s: None)
    load_occasions(ctx)
    lunar = Customer.objects.filter(lunar_birthday__isnull=False)
    assert lunar.count() >= 3
    assert Customer.objects.filter(birthday__isnull=False).count() >= 3
    # Each lunar birthday lands on solar days as lunar occasion dates.
    lunar_ids = set(lunar.values_list("pk", flat=True))
    assert lunar_ids == set(
        OccasionDate.objects.filter(kind="birthday", is_lunar=True).values_list(
            "customer_id", flat=True
        )
    )
    assert LifecycleReminder.objects.exists()
    state = sorted(OccasionDate.objects.values_list("customer_id", "kind", "date", "is_lunar"))
    load_occasions(ctx)
    assert (
        sorted(OccasionDate.objects.values_list("customer_id", "kind", "date", "is_lunar")) == state
    )
