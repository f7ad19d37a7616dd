"""Demo customers: about 2,000 (50 per staff member at the default size) registered over
six months through every channel and kind, followed up, moved through every stage, with
tags, relations, lunar birthdays, conflicts and a few frauds. Built through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kehu.activities import services as activities
from kehu.core import demo
from kehu.customers import services as customers
from kehu.customers.models import Customer
from kehu.leads import services as leads
from kehu.leads.models import Channel, Registration
from kehu.org.models import Staff

CONSULTANT_CHANNELS = [
    "walk_in",
    "phone",
    "online",
    "referral",
    "flyer",
    "exhibition",
    "tour",
    "circle",
    "key_account",
    "roadshow",
    "intercept",
]
TAGS = {
    "职业": ["教师", "医生", "公务员", "企业主", "工程师", "金融"],
    "收入": ["高收入", "中等收入"],
    "意向产品": ["两居", "三居", "四居", "别墅", "商铺"],
    "性格": ["果断", "谨慎", "健谈"],
}
LOST_REASONS = ["价格太高", "买了竞品", "位置不合适", "户型不满意", "贷款未批"]
PROFILE_SAMPLES = {
    "family_structure": ["三口之家", "夫妻二人", "三代同堂", "单身"],
    "occupation": ["教师", "医生", "工程师", "企业主", "公务员", "销售经理"],
    "purpose": ["自住", "投资", "改善"],
    "needs": ["学区", "近地铁", "大三居", "南北通透", "低总价"],
    "income": ["30万/年", "50万/年", "100万/年"],
    "housing": ["老公房 60㎡", "商品房 89㎡", "租房"],
}


@demo.register(20, "customers and leads")
def load_customers(ctx: demo.DemoContext) -> None:
    target = ctx.size * 50
    if Customer.objects.count() >= target:
        return
    rng = ctx.rng
    now = timezone.now()
    sellers = list(Staff.objects.active().with_role("consultant").select_related("node"))
    promoters = list(Staff.objects.active().with_role("promoter").select_related("node"))
    brokers = list(Staff.objects.active().with_role("broker"))
    channels = {c.code: c for c in Channel.objects.all()}
    tags = [
        customers.ensure_tag(actor=None, dimension=d, name=n)
        for d, names in TAGS.items()
        for n in names
    ]
    used: set[str] = set()
    created: list[Customer] = []
    for index in range(target - Customer.objects.count()):
        phone = demo.mobile(rng)
        while phone in used:
            phone = demo.mobile(rng)
        used.add(phone)
        roll = rng.random()
        if roll < 0.70:
            actor, kind = rng.choice(sellers), rng.choice(["call", "visit"])
            channel = rng.choice(CONSULTANT_CHANNELS)
        elif roll < 0.90:
            actor, kind, channel = (
                rng.choice(promoters),
                "field",
                rng.choice(["flyer", "exhibition", "intercept", "roadshow"]),
            )
        else:
            actor, kind, channel = rng.choice(brokers), "broker", "broker"
        when = now - datetime.timedelta(days=rng.uniform(0, 180))
        with transaction.atomic():
            judged = leads.register_lead(
                actor=actor,
                phone=phone,
                kind=kind,
                channel=channel,
                name=demo.chinese_name(rng),
                gender=rng.choice(["male", "female"]),
                note=rng.choice(["咨询三居户型", "关注学区", "问价格和优惠", "看样板间", ""]),
                now=when,
            )
            customer = judged.customer
            Registration.objects.filter(pk=judged.registration.pk).update(created_at=when)
            Customer.objects.filter(pk=customer.pk).update(created_at=when)
            if customer.owner_id is None:
                owner = rng.choice([s for s in sellers if s.node_id == actor.node_id] or sellers)
                Customer.objects.filter(pk=customer.pk).update(owner=owner, node=owner.node)
                customer.refresh_from_db()
            _follow(ctx, customer, when, now, tags, channels)
        created.append(customer)
        if index % 500 == 499:
            ctx.say(f"  {index + 1} customers…")
    _conflicts_and_fraud(ctx, created, sellers, now)


def _follow(
    ctx: demo.DemoContext,
    customer: Customer,
    start: datetime.datetime,
    now: datetime.datetime,
    tags: list,
    channels: dict,
) -> None:
    rng = ctx.rng
    owner = customer.owner
    # Six months of follow-ups, thinning out with time; some customers go to sleep.
    moment = start
    for _n in range(rng.randrange(0, 7)):
        moment += datetime.timedelta(days=rng.uniform(1, 25))
        if moment >= now:
            break
        kind = rng.choices(["call", "visit", "message", "note"], weights=[5, 2, 2, 1])[0]
        activities.log_activity(
            actor=owner,
            customer=customer,
            kind=kind,
            outcome=rng.choice(["reached", "interested", "no_answer", "appointment"]),
            note=rng.choice(["约了周末看房", "对价格有顾虑", "带家人再来", "比较竞品中", ""]),
            occurred_at=moment,
        )
        customer.refresh_from_db()
    stage_roll = rng.random()
    later = min(now, moment + datetime.timedelta(days=3))
    if customer.stage == "visited" and stage_roll < 0.35:
        activities.change_stage(actor=owner, customer=customer, stage="pledged", at=later)
        if stage_roll < 0.2:
            activities.change_stage(actor=owner, customer=customer, stage="deal", at=later)
            customers.record_purchase(
                actor=owner,
                customer=customer,
                product="住宅",
                amount=Decimal(rng.randrange(150, 900) * 10000),
                purchased_on=later.date(),
            )
            if stage_roll < 0.12:
                activities.change_stage(actor=owner, customer=customer, stage="owner", at=later)
    elif stage_roll > 0.9:
        activities.change_stage(
            actor=owner, customer=customer, stage="lost", reason=rng.choice(LOST_REASONS), at=later
        )
    profile = {k: rng.choice(v) for k, v in PROFILE_SAMPLES.items() if rng.random() < 0.6}
    changes: dict = {
        "profile": profile,
        "address": rng.choice(["浦东新区", "天河区", "西湖区", "南山区", ""]),
        "age": rng.randrange(25, 65),
    }
    if rng.random() < 0.3:
        changes["lunar_birthday"] = {
            "month": rng.randrange(1, 13),
            "day": rng.randrange(1, 29),
            "is_leap": False,
        }
    elif rng.random() < 0.5:
        changes["birthday"] = datetime.date(
            rng.randrange(1960, 2000), rng.randrange(1, 13), rng.randrange(1, 29)
        )
    changes["intent_grade"] = rng.choice(["A", "B", "C", "D"])
    grade = changes.pop("intent_grade")
    customers.update_customer(actor=owner, customer=customer, **changes)
    Customer.objects.filter(pk=customer.pk).update(intent_grade=grade)
    customers.set_tags(actor=owner, customer=customer, tags=rng.sample(tags, rng.randrange(0, 4)))


def _conflicts_and_fraud(
    ctx: demo.DemoContext, created: list[Customer], sellers: list[Staff], now: datetime.datetime
) -> None:
    rng = ctx.rng
    recent = [
        c
        for c in created
        if c.protected_until and c.protected_until > now + datetime.timedelta(days=3)
    ]
    for customer in rng.sample(recent, min(len(recent), 25)):
        other = rng.choice([s for s in sellers if s.pk != customer.owner_id])
        number = customer.phones.first()
        if number is not None:
            leads.register_lead(actor=other, phone=number.number, kind="visit", channel="walk_in")
    sample = rng.sample(created, min(len(created), 14))
    for a, b in zip(sample[:7], sample[7:], strict=False):
        customers.add_relation(actor=None, customer=a, other=b, kind="referred_by")
    admin = Staff.objects.filter(username="admin").first()
    for registration in Registration.objects.filter(kind="field").order_by("?")[:5]:
        leads.flag_fraud(actor=admin, registration=registration, reason="空号 / 虚假号码")
