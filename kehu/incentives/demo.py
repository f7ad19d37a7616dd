"""Demo incentives: profiles for the demo's region and team managers, customers developed
over the last three months with their payments and activity, a fraud case, targets, a
draft scheme waiting for approval, and the last two months run. Built through the
services; running it twice changes nothing."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from kehu.core import demo
from kehu.customers.models import Customer
from kehu.incentives import services
from kehu.incentives.models import IncentiveProfile, Scheme
from kehu.incentives.months import add_months, first_day, month_of
from kehu.org.models import OrgNode, Staff

PAYMENTS = [0, 3000, 7950, 8000, 12000, 20000, 26000, 50000, 68000]


@demo.register(80, "incentives")
def load_incentives(ctx: demo.DemoContext) -> None:
    if IncentiveProfile.objects.exists():
        return
    admin = Staff.objects.with_role("admin").order_by("pk").first()
    if admin is None:
        return
    rng = ctx.rng
    this_month = month_of(timezone.localdate())
    months = [add_months(this_month, -n) for n in (3, 2, 1)]
    regions = list(OrgNode.objects.filter(kind="region").order_by("path"))
    used: set[int] = set()
    for region in regions:
        if region.manager_id:
            services.set_profile(
                actor=admin,
                staff=Staff.objects.get(pk=region.manager_id),
                role="region_manager",
                region=region,
            )
        managers = list(
            Staff.objects.active()
            .with_role("manager")
            .filter(node__path__startswith=region.path, node__kind="team")
            .order_by("pk")
        )
        for index, manager in enumerate(managers):
            services.set_profile(
                actor=admin,
                staff=manager,
                role="area_manager",
                region=region,
                threshold=2 if index % 2 == 0 else 1,
                performance_pay=2000 if index % 2 == 0 else 1500,
            )
        pool = list(
            Customer.objects.filter(node__path__startswith=region.path)
            .exclude(pk__in=used)
            .order_by("pk")[: len(managers) * 9]
        )
        for month_index, month in enumerate(months):
            # Before the deadline (the first of the month) so none is late.
            early = timezone.make_aware(
                datetime.datetime.combine(first_day(month), datetime.time(9))
            )
            services.submit_target(
                actor=admin,
                region=region,
                month=month,
                target=0 if month_index == 1 else len(managers) + 1,
                now=early,
            )
            for manager in managers:
                for _n in range(rng.randint(1, 3)):
                    if not pool:
                        break
                    customer = pool.pop()
                    used.add(customer.pk)
                    developed = services.develop_customer(
                        actor=admin,
                        customer=customer,
                        developed_by=manager,
                        region=region,
                        developed_in=month,
                    )
                    amount = rng.choice(PAYMENTS)
                    if amount:
                        services.record_payment(
                            actor=admin, developed=developed, month=month, amount=amount
                        )
                    for later in months[month_index:]:
                        if rng.random() < 0.7:
                            services.mark_active_month(
                                actor=admin, developed=developed, month=later
                            )
                            if later != month and rng.random() < 0.5:
                                services.record_payment(
                                    actor=admin,
                                    developed=developed,
                                    month=later,
                                    amount=rng.choice(PAYMENTS[1:5]),
                                )
                    if month_index == 1 and region == regions[0] and manager == managers[0]:
                        services.flag_fraud(
                            actor=admin,
                            developed=developed,
                            reason="客户信息虚构，电话为空号 / fabricated: the number is unused",
                        )
    default = Scheme.objects.filter(code="default").order_by("-version").first()
    if default is not None:
        draft = services.copy_scheme(actor=admin, scheme=default, code="default")
        services.update_scheme(
            actor=admin,
            scheme=draft,
            name="Customer development 2026",
            params=dict(draft.params, fraud={"developer": 5000, "region_manager": 1500}),
        )
        services.submit_scheme(actor=admin, scheme=draft)
    for month in months[1:]:
        try:
            services.run_month(actor=admin, month=month)
        except ValidationError as exc:  # a month without facts: the demo goes on
            ctx.say(f"demo: incentives: {month} not run ({exc})")
