"""Time the value-grade job over N customers (``python -m kehu.grading.benchmark N``).

Seeds N customers with about 0.8 purchases each on average over three years (a tenth of
them growing every year) into an empty database, then times a full run and a second
(idempotent) one. Used to measure the job for docs/grading.md; not part of the suite.
"""

from __future__ import annotations

import datetime
import random
import sys
import time
from decimal import Decimal


def seed(count: int) -> None:
    from django.utils import timezone

    from kehu.customers.models import Customer, Purchase

    rng = random.Random(7)
    today = timezone.localdate()
    batch = 5000
    made = 0
    while made < count:
        rows = Customer.objects.bulk_create(
            [Customer(name=f"b{made + i}") for i in range(min(batch, count - made))]
        )
        purchases = []
        for customer in rows:
            roll = rng.random()
            if roll < 0.1:
                amount = Decimal(rng.randrange(100, 200) * 100)
                for years in (2, 1, 0):
                    purchases.append(
                        Purchase(
                            customer=customer,
                            product="p",
                            amount=amount,
                            purchased_on=today - datetime.timedelta(days=365 * years + 10),
                        )
                    )
                    amount *= Decimal("1.2")
            elif roll < 0.6:
                purchases.append(
                    Purchase(
                        customer=customer,
                        product="p",
                        amount=Decimal(rng.randrange(1, 1000) * 1000),
                        purchased_on=today - datetime.timedelta(days=rng.randrange(0, 1000)),
                    )
                )
        Purchase.objects.bulk_create(purchases)
        made += len(rows)


def main(count: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from kehu.customers.models import Customer
    from kehu.grading.valuejob import compute_value_grades

    if Customer.objects.count() < count:
        started = time.perf_counter()
        seed(count - Customer.objects.count())
        print(f"seeded in {time.perf_counter() - started:.1f} s")
    for run in ("first", "second"):
        started = time.perf_counter()
        graded = compute_value_grades()
        print(
            f"{connection.vendor}: {run} run over {Customer.objects.count()} customers: "
            f"{graded} graded in {time.perf_counter() - started:.2f} s"
        )


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
