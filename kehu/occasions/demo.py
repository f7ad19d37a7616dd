"""Demo occasions: birthdays for the demo customers still without one (about a third
lunar, with leap-month and 30th cases), some birthdays this week and A/VIP birthdays
two to three weeks ahead (so My day has birthday and invitation items), anniversaries,
and car purchases whose life-cycle reminders fall due soon. Through the services;
idempotent (a second run finds its purchases and stops)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from kehu.core import demo
from kehu.customers import services as customers
from kehu.customers.models import Customer, Purchase
from kehu.occasions import occurrences

PRODUCTS = ["宝马 X3 2.0T", "奔驰 C260L", "大众 帕萨特", "丰田 凯美瑞", "比亚迪 汉 EV"]
ANNIVERSARIES = ["结婚纪念日", "购车纪念日", "公司成立日"]


def _birthday_near(day: datetime.date, rng) -> datetime.date:  # noqa: ANN001
    return datetime.date(rng.randrange(1960, 2000), day.month, min(day.day, 28))


@demo.register(70, "occasions")
def load_occasions(ctx: demo.DemoContext) -> None:
    rng = ctx.rng
    today = timezone.localdate()
    if Purchase.objects.filter(product__in=PRODUCTS).exists():
        ctx.say("  occasions already loaded")
        return
    owned = list(
        Customer.objects.live()
        .filter(owner__isnull=False)
        .select_related("owner", "node")
        .order_by("pk")
    )
    lunar = leap = thirtieth = solar = 0
    for customer in owned:
        if customer.birthday or customer.lunar_birthday:
            continue
        roll = rng.random()
        if roll < 0.02:
            changes = {
                "lunar_birthday": {"month": rng.choice([4, 5, 6]), "day": 10, "is_leap": True}
            }
            leap += 1
        elif roll < 0.04:
            changes = {
                "lunar_birthday": {"month": rng.randrange(1, 13), "day": 30, "is_leap": False}
            }
            thirtieth += 1
        elif roll < 0.33:
            changes = {
                "lunar_birthday": {
                    "month": rng.randrange(1, 13),
                    "day": rng.randrange(1, 30),
                    "is_leap": False,
                }
            }
            lunar += 1
        elif roll < 0.9:
            changes = {
                "birthday": datetime.date(
                    rng.randrange(1960, 2000), rng.randrange(1, 13), rng.randrange(1, 29)
                )
            }
            solar += 1
        else:
            continue
        customers.update_customer(actor=customer.owner, customer=customer, **changes)

    by_owner: dict[int, list[Customer]] = {}
    for customer in owned:
        by_owner.setdefault(customer.owner_id, []).append(customer)
    anniversaries = purchases = 0
    for owner_customers in by_owner.values():
        sample = rng.sample(owner_customers, min(len(owner_customers), 8))
        # two birthdays this week, one VIP birthday 2-3 weeks ahead
        for offset, customer in zip([0, rng.randrange(1, 7)], sample[:2], strict=False):
            day = today + datetime.timedelta(days=offset)
            customers.update_customer(
                actor=customer.owner,
                customer=customer,
                birthday=_birthday_near(day, rng),
                lunar_birthday=None,
            )
        if len(sample) > 2:
            vip = sample[2]
            day = today + datetime.timedelta(days=rng.randrange(15, 21))
            customers.update_customer(
                actor=vip.owner,
                customer=vip,
                birthday=_birthday_near(day, rng),
                lunar_birthday=None,
                relationship="VIP",
            )
        for customer in sample[3:5]:
            day = today + datetime.timedelta(days=rng.randrange(0, 10))
            customers.add_anniversary(
                actor=customer.owner,
                customer=customer,
                label=rng.choice(ANNIVERSARIES),
                date=datetime.date(rng.randrange(2005, 2024), day.month, min(day.day, 28)),
            )
            anniversaries += 1
        # purchases whose first service, insurance renewal or callback is due soon
        for customer, months in zip(sample[5:8], [4, 12, 36], strict=False):
            bought = today - datetime.timedelta(days=months * 30 + rng.randrange(-5, 5))
            customers.record_purchase(
                actor=customer.owner,
                customer=customer,
                product=rng.choice(PRODUCTS),
                amount=Decimal(rng.randrange(150_000, 450_000)),
                purchased_on=bought,
            )
            purchases += 1
    occurrences.refresh_all_occasions(today)
    ctx.say(
        f"  birthdays: {solar} solar, {lunar} lunar, {leap} leap-month, {thirtieth} on a 30th; "
        f"{anniversaries} anniversaries, {purchases} purchases with reminders"
    )
