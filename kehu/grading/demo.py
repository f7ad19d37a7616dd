"""Demo grades: intent assessments for a few hundred prospects (A to D), referral
ability for owners, a few agents and loyal repeat buyers, key customers for every demo
consultant last week (closed: wins and defeats with reasons) and this week (open, some
reviewed, some consultants short), and the value grades computed. Through the services;
idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.core import demo
from kehu.customers import services as customers
from kehu.customers.models import Customer, Tag
from kehu.grading import rules, services
from kehu.grading.models import IntentAssessment, KeyCustomer, ReferralAssessment
from kehu.org.models import Staff

# Judgement profiles that give each grade (and a little noise on top).
PROFILES = {
    "A": dict.fromkeys(rules.JUDGEMENTS, True),
    "B": {"product": True, "price": True, "payment": True, "chosen_unit": True},
    "B2": {
        "product": True,
        "price": False,
        "price_resistance": True,
        "payment": True,
        "chosen_unit": True,
        "attention": True,
    },
    "C": {"product": True, "price": True, "payment": True, "attention": True},
    "D": {"product": True, "price": False, "payment": True},
}
NOTES = ["喜欢南向三居", "等年终奖付首付", "太太还没来看过", "对比了两个竞品", ""]
DEFEAT_REASONS = ["买了竞品", "价格太高", "贷款未批", "位置不合适"]
PROSPECTS = ["lead", "left_phone", "visited", "pledged"]
REPEAT_PRODUCT = "车位"  # the repeat purchases that make loyal B customers


@demo.register(40, "grades and key customers")
def load_grades(ctx: demo.DemoContext) -> None:
    consultants = list(Staff.objects.active().with_role("consultant").order_by("username"))
    if not consultants:
        return
    managers = {
        s.node_id: s for s in Staff.objects.active().with_role("manager").select_related("node")
    }
    if not Customer.objects.live().filter(owner__isnull=False).exists():
        return
    created = False
    if not IntentAssessment.objects.exists():
        _assessments(ctx)
        created = True
    settings = services.grading_settings()
    if not Tag.objects.filter(
        dimension__name=settings.agent_tag_dimension, name=settings.agent_tag_name
    ).exists():
        _agents_and_loyal_buyers(ctx)
        created = True
    if not KeyCustomer.objects.exists():
        _key_customers(ctx, consultants, managers)
        created = True
    if created:  # a second run changes nothing, not even the audit trail
        count = services.recompute_value_grades(actor=None)
        ctx.say(f"  value grades for {count} customers")


def _assessments(ctx: demo.DemoContext) -> None:
    rng = ctx.rng
    prospects = list(
        Customer.objects.live()
        .filter(stage__in=PROSPECTS, owner__isnull=False)
        .select_related("owner", "node")
        .order_by("id")
    )
    for customer in rng.sample(prospects, min(len(prospects), ctx.size * 8)):
        profile = rng.choices(list(PROFILES), weights=[2, 3, 2, 3, 3])[0]
        with transaction.atomic():
            services.assess_intent(
                actor=customer.owner,
                customer=customer,
                judgements=PROFILES[profile],
                note=rng.choice(NOTES),
            )
    owners = list(
        Customer.objects.live()
        .filter(stage__in=["deal", "owner"], owner__isnull=False)
        .select_related("owner", "node")
        .order_by("id")
    )
    if not ReferralAssessment.objects.exists():
        for customer in owners[: ctx.size * 3]:
            services.assess_referral(
                actor=customer.owner,
                customer=customer,
                loyalty=rng.randint(2, 5),
                network=rng.randint(1, 5),
                willingness=rng.randint(1, 5),
            )
    ctx.say(f"  intent grades for {IntentAssessment.objects.count()} assessments")


def _agents_and_loyal_buyers(ctx: demo.DemoContext) -> None:
    """A few owners are agents (tagged); a few bought a parking space or two every
    year for three years, each year at least 10% more (loyal: value grade B)."""
    rng = ctx.rng
    settings = services.grading_settings()
    agent = customers.ensure_tag(
        actor=None, dimension=settings.agent_tag_dimension, name=settings.agent_tag_name
    )
    owners = list(
        Customer.objects.live()
        .filter(stage__in=["deal", "owner"], owner__isnull=False)
        .select_related("owner", "node")
        .prefetch_related("tag_rows__tag")
        .order_by("id")
    )
    rng.shuffle(owners)
    for customer in owners[:5]:
        tags = [row.tag for row in customer.tag_rows.all()] + [agent]
        customers.set_tags(actor=customer.owner, customer=customer, tags=tags)
    today = timezone.localdate()
    for customer in owners[5:25]:
        amount = Decimal(rng.randrange(8, 15) * 10000)
        for years_ago in (2, 1, 0):
            customers.record_purchase(
                actor=customer.owner,
                customer=customer,
                product=REPEAT_PRODUCT,
                amount=amount,
                purchased_on=today
                - datetime.timedelta(days=365 * years_ago + rng.randrange(5, 60)),
            )
            amount = (amount * Decimal("1.25")).quantize(Decimal("1"))


def _key_customers(ctx: demo.DemoContext, consultants: list[Staff], managers: dict) -> None:
    rng = ctx.rng
    today = timezone.localdate()
    last_week_day = today - datetime.timedelta(days=7)
    last_week = rules.week_start(last_week_day)
    for index, consultant in enumerate(consultants):
        prospects = list(
            Customer.objects.live()
            .filter(owner=consultant, stage__in=PROSPECTS)
            .select_related("node")
            .order_by("-last_followup_at", "-id")[:12]
        )
        if not prospects:
            continue
        rng.shuffle(prospects)
        # Last week: 3 or 4 each, then closed over the week.
        earlier = prospects[:4] if index % 3 else prospects[:3]
        rows = services.submit_key_customers(
            actor=consultant,
            items=[{"customer": c, "horizon": rng.choice("HHAB")} for c in earlier],
            today=last_week_day,
            week=last_week,
        )
        for row in rows:
            submitted = timezone.make_aware(
                datetime.datetime.combine(last_week, datetime.time(9, 30))
            )
            KeyCustomer.objects.filter(pk=row.pk).update(created_at=submitted)
            roll = rng.random()
            when = submitted + datetime.timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8))
            if roll < 0.3:
                services.close_key_customer(
                    actor=consultant, key_customer=row, status="won", now=when
                )
            elif roll < 0.55:
                services.close_key_customer(
                    actor=consultant,
                    key_customer=row,
                    status="defeated",
                    reason=rng.choice(DEFEAT_REASONS),
                    now=when,
                )
        # This week: most submit 3, every fourth consultant is short (1).
        left = [c for c in prospects[len(earlier) :] if c.stage in PROSPECTS]
        now_items = left[: 1 if index % 4 == 0 else 3]
        if not now_items:
            continue
        rows = services.submit_key_customers(
            actor=consultant,
            items=[{"customer": c, "horizon": rng.choice("HAABC")} for c in now_items],
        )
        manager = managers.get(consultant.node_id)
        if manager is not None:
            for row in rows[: rng.randint(0, len(rows))]:
                services.review_key_customer(actor=manager, key_customer=row, note="跟进到位")
    ctx.say(f"  {KeyCustomer.objects.count()} key customers")
