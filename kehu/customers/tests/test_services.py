"""The customer archive's services (DOMAIN §2): profile edits, numbers, tags, relations,
occasions, purchases and the contribution value, the completeness configuration, and
lunar dates.

Every write has an allowed case (exact result and audit events) and a refused case
(nothing changed, no audit event).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from kehu.core.models import AuditEvent
from kehu.core.testing import actions_since, mark, refuser
from kehu.customers import completeness, services
from kehu.customers.lunar import clean_lunar, solar_day
from kehu.customers.models import (
    Anniversary,
    Customer,
    CustomerPhone,
    CustomerTag,
    MileageReading,
    Purchase,
    Relation,
    StageRequirement,
    Tag,
)
from kehu.leads.services import register_lead


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------


def db_state() -> dict[str, Any]:
    """Everything the archive's services write."""
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "phones": list(CustomerPhone.objects.order_by("pk").values()),
        "tags": list(Tag.objects.order_by("pk").values()),
        "customer_tags": list(CustomerTag.objects.order_by("pk").values()),
        "relations": list(Relation.objects.order_by("pk").values()),
        "anniversaries": list(Anniversary.objects.order_by("pk").values()),
        "purchases": list(Purchase.objects.order_by("pk").values()),
        "mileage": list(MileageReading.objects.order_by("pk").values()),
        "requirements": list(StageRequirement.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


refused = refuser(db_state)


def customer_of(staff, phone: str = "13912345678", name: str = "张先生") -> Customer:
    kind = "field" if staff.has_role("promoter") else "call"
    channel = "flyer" if kind == "field" else "phone"
    return register_lead(actor=staff, phone=phone, kind=kind, channel=channel, name=name).customer


OUTSIDERS = ["other_consultant", "other_manager", "promoter", "commissioner", "broker"]


# --- who may edit -----------------------------------------------------------------------------


def test_who_may_edit_a_customer(cast):
    customer = customer_of(cast.consultant)
    assert {
        name: services.can_edit_customer(staff, customer) for name, staff in cast.all().items()
    } == {
        "admin": True,
        "region_manager": True,
        "manager": True,
        "other_manager": False,
        "consultant": True,
        "other_consultant": False,
        "commissioner": False,
        "promoter": False,
        "broker": False,
    }


# --- update_customer ----------------------------------------------------------------------------


def test_the_owner_edits_the_profile(cast):
    customer = customer_of(cast.consultant)
    since = mark()

    services.update_customer(
        actor=cast.consultant,
        customer=customer,
        name=" 张三 ",
        title="先生",
        gender="male",
        birthday=datetime.date(1980, 5, 1),
        lunar_birthday={"month": 3, "day": 16},
        wechat="zhangsan",
        email="zs@example.com",
        relationship="Y",
        profile={"occupation": "工程师", "budget": "300万"},
    )

    customer.refresh_from_db()
    assert (customer.name, customer.title, customer.gender, customer.birthday) == (
        "张三",
        "先生",
        "male",
        datetime.date(1980, 5, 1),
    )
    assert customer.lunar_birthday == {"month": 3, "day": 16, "is_leap": False}
    assert (customer.wechat, customer.email, customer.relationship) == (
        "zhangsan",
        "zs@example.com",
        "Y",
    )
    assert customer.profile == {"occupation": "工程师", "budget": "300万"}
    event = AuditEvent.objects.get(id__gt=since)
    assert (event.action, event.actor_label, event.object_id) == (
        "customers.customer.update",
        "consultant",
        str(customer.pk),
    )
    assert {
        k: (event.before[k], event.after[k])
        for k in event.after
        if event.before[k] != event.after[k]
    } == {
        "name": ("张先生", "张三"),
        "title": ("", "先生"),
        "gender": ("unknown", "male"),
        "birthday": (None, "1980-05-01"),
        "lunar_birthday": (None, {"month": 3, "day": 16, "is_leap": False}),
        "wechat": ("", "zhangsan"),
        "email": ("", "zs@example.com"),
        "relationship": ("N", "Y"),
        "profile": ({}, {"occupation": "工程师", "budget": "300万"}),
    }


def test_profile_keys_are_merged_and_blank_ones_removed(cast):
    customer = customer_of(cast.consultant)
    services.update_customer(
        actor=cast.consultant,
        customer=customer,
        profile={"occupation": "工程师", "budget": "300万"},
    )
    services.update_customer(
        actor=cast.manager, customer=customer, profile={"budget": "", "hobbies": "钓鱼"}
    )
    customer.refresh_from_db()
    assert customer.profile == {"occupation": "工程师", "hobbies": "钓鱼"}


def test_an_edit_that_changes_nothing_writes_no_event(cast):
    customer = customer_of(cast.consultant)
    since = mark()
    services.update_customer(actor=cast.consultant, customer=customer, name="张先生")
    assert actions_since(since) == []


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_edit_the_profile(cast, persona):
    customer = customer_of(cast.consultant)
    refused(
        PermissionDenied,
        services.update_customer,
        actor=getattr(cast, persona),
        customer=customer,
        name="李四",
    )


def test_a_promoter_may_not_edit_what_they_registered(cast):
    customer = customer_of(cast.promoter)
    refused(
        PermissionDenied,
        services.update_customer,
        actor=cast.promoter,
        customer=customer,
        name="李四",
    )


def test_bad_profile_edits_name_every_bad_field(cast):
    customer = customer_of(cast.consultant)
    error = refused(
        ValidationError,
        services.update_customer,
        actor=cast.consultant,
        customer=customer,
        name="名" * 101,
        email="not-an-email",
        gender="x",
        kind="robot",
        relationship="Z",
        age=151,
        birthday="2026-02-30",
        lunar_birthday={"month": 13, "day": 1},
        profile={"shoe_size": 42},
        owner=cast.manager.pk,
    )
    assert error.message_dict == {
        "name": ["At most 100 characters (this has 101)."],
        "email": ["Enter a valid email address."],
        "gender": ["Choose one of: male, female, unknown."],
        "kind": ["Choose one of: person, organisation."],
        "relationship": ["Choose one of: N, Y, M, O, VIP."],
        "age": ["Age is a whole number from 0 to 150."],
        "birthday": ["Enter a date as YYYY-MM-DD."],
        "lunar_birthday": ["The lunar month must be a whole number from 1 to 12."],
        "profile": [
            "Unknown profile fields: shoe_size; valid: "
            + ", ".join(completeness.PROFILE_KEYS)
            + "."
        ],
        "owner": ["This field cannot be changed here."],
    }


# --- numbers --------------------------------------------------------------------------------------


def test_the_owner_adds_a_second_number(cast):
    customer = customer_of(cast.consultant)
    since = mark()

    row = services.add_phone(actor=cast.consultant, customer=customer, phone="0086 138 0013 8000")

    assert (row.number, row.digits, row.is_primary) == ("+8613800138000", "13800138000", False)
    assert list(customer.phones.values_list("number", flat=True)) == [
        "+8613912345678",
        "+8613800138000",
    ]
    assert actions_since(since) == [("customers.phone.add", "consultant")]


def test_a_number_belongs_to_one_customer(cast):
    customer = customer_of(cast.consultant)
    customer_of(cast.other_consultant, "13800138000")
    error = refused(
        ValidationError,
        services.add_phone,
        actor=cast.consultant,
        customer=customer,
        phone="13800138000",
    )
    assert error.message_dict == {"phone": ["This number already belongs to another customer."]}


def test_a_bad_number_says_why(cast):
    customer = customer_of(cast.consultant)
    error = refused(
        ValidationError,
        services.add_phone,
        actor=cast.consultant,
        customer=customer,
        phone="1380013800",
    )
    assert error.message_dict == {
        "phone": ["A mainland mobile number has 11 digits; this one has 10."]
    }


def test_a_customer_has_at_most_ten_numbers(cast):
    customer = customer_of(cast.consultant)
    for i in range(9):
        services.add_phone(actor=cast.consultant, customer=customer, phone=f"1370000000{i}")
    error = refused(
        ValidationError,
        services.add_phone,
        actor=cast.consultant,
        customer=customer,
        phone="13700000099",
    )
    assert error.message_dict == {"phone": ["A customer has at most 10 numbers."]}


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_add_a_number(cast, persona):
    customer = customer_of(cast.consultant)
    refused(
        PermissionDenied,
        services.add_phone,
        actor=getattr(cast, persona),
        customer=customer,
        phone="13800138000",
    )


def test_removing_the_primary_number_promotes_the_next(cast):
    customer = customer_of(cast.consultant)
    services.add_phone(actor=cast.consultant, customer=customer, phone="13800138000")
    primary = customer.phones.get(is_primary=True)
    since = mark()

    services.remove_phone(actor=cast.consultant, customer=customer, phone_id=primary.pk)

    assert list(customer.phones.values_list("number", "is_primary")) == [("+8613800138000", True)]
    assert actions_since(since) == [("customers.phone.remove", "consultant")]


def test_the_last_number_stays(cast):
    customer = customer_of(cast.consultant)
    error = refused(
        ValidationError,
        services.remove_phone,
        actor=cast.consultant,
        customer=customer,
        phone_id=customer.phones.get().pk,
    )
    assert error.message_dict == {"phone": ["A customer keeps at least one number."]}


def test_another_customers_number_is_unknown_here(cast):
    customer = customer_of(cast.consultant)
    services.add_phone(actor=cast.consultant, customer=customer, phone="13800138000")
    other = customer_of(cast.consultant, "13700000000")
    error = refused(
        ValidationError,
        services.remove_phone,
        actor=cast.consultant,
        customer=customer,
        phone_id=other.phones.get().pk,
    )
    assert error.message_dict == {"phone": ["Unknown number."]}


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_remove_a_number(cast, persona):
    customer = customer_of(cast.consultant)
    row = services.add_phone(actor=cast.consultant, customer=customer, phone="13800138000")
    refused(
        PermissionDenied,
        services.remove_phone,
        actor=getattr(cast, persona),
        customer=customer,
        phone_id=row.pk,
    )


# --- tags ---------------------------------------------------------------------------------------


def test_tags_in_dimensions(cast):
    customer = customer_of(cast.consultant)
    since = mark()
    golf = services.ensure_tag(actor=cast.consultant, dimension="兴趣", name="高尔夫")
    teacher = services.ensure_tag(actor=cast.consultant, dimension="职业", name="教师")
    assert services.ensure_tag(actor=cast.consultant, dimension=" 兴趣 ", name="高尔夫 ") == golf

    services.set_tags(actor=cast.consultant, customer=customer, tags=[golf, teacher])
    services.set_tags(actor=cast.consultant, customer=customer, tags=[golf])

    assert [str(t.tag) for t in customer.tag_rows.all()] == ["兴趣: 高尔夫"]
    assert actions_since(since) == [
        ("customers.tag.create", "consultant"),
        ("customers.tag.create", "consultant"),
        ("customers.customer.tags", "consultant"),
        ("customers.customer.tags", "consultant"),
    ]


def test_a_tag_needs_a_dimension_and_a_name(cast):
    error = refused(
        ValidationError, services.ensure_tag, actor=cast.consultant, dimension="兴趣", name=" "
    )
    assert error.message_dict == {"tags": ["A tag needs a dimension and a name."]}


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_tag_a_customer(cast, persona):
    customer = customer_of(cast.consultant)
    golf = services.ensure_tag(actor=cast.consultant, dimension="兴趣", name="高尔夫")
    refused(
        PermissionDenied,
        services.set_tags,
        actor=getattr(cast, persona),
        customer=customer,
        tags=[golf],
    )


# --- relations, purchases and the contribution value --------------------------------------------


def test_referrals_and_repeat_purchases_make_the_contribution_value(cast):
    old = customer_of(cast.consultant, "13900000001", "老业主")
    friend = customer_of(cast.consultant, "13900000002", "朋友")
    since = mark()

    services.add_relation(actor=cast.consultant, customer=friend, other=old, kind="referred_by")
    services.record_purchase(
        actor=cast.consultant,
        customer=old,
        product="A栋101",
        amount=Decimal("1000000"),
        purchased_on=datetime.date(2025, 1, 1),
    )
    services.record_purchase(
        actor=cast.consultant,
        customer=old,
        product="车位",
        amount=Decimal("150000"),
        purchased_on=datetime.date(2025, 6, 1),
    )
    services.record_purchase(
        actor=cast.consultant,
        customer=friend,
        product="B栋202",
        amount=Decimal("900000"),
        purchased_on=datetime.date(2025, 7, 1),
    )

    old.refresh_from_db()
    friend.refresh_from_db()
    # Repeat purchases (all but the first) + what the people they referred bought.
    assert old.contribution_value == Decimal("1050000.00")
    assert friend.contribution_value == Decimal("0.00")
    assert actions_since(since) == [
        ("customers.relation.add", "consultant"),
        ("customers.purchase.add", "consultant"),
        ("customers.purchase.add", "consultant"),
        ("customers.purchase.add", "consultant"),
    ]


def test_a_relation_is_recorded_once(cast):
    a = customer_of(cast.consultant, "13900000001")
    b = customer_of(cast.consultant, "13900000002")
    first = services.add_relation(actor=cast.consultant, customer=a, other=b, kind="family")
    since = mark()
    assert services.add_relation(actor=cast.consultant, customer=a, other=b, kind="family") == first
    assert actions_since(since) == []


def test_bad_relations_are_refused(cast):
    a = customer_of(cast.consultant, "13900000001")
    b = customer_of(cast.consultant, "13900000002")
    error = refused(
        ValidationError,
        services.add_relation,
        actor=cast.consultant,
        customer=a,
        other=a,
        kind="family",
    )
    assert error.message_dict == {"other": ["A customer cannot be related to themselves."]}
    error = refused(
        ValidationError,
        services.add_relation,
        actor=cast.consultant,
        customer=a,
        other=b,
        kind="rival",
    )
    assert error.message_dict == {"kind": ["Choose one of: referred_by, family, colleague."]}


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_add_relations(cast, persona):
    a = customer_of(cast.consultant, "13900000001")
    b = customer_of(cast.consultant, "13900000002")
    refused(
        PermissionDenied,
        services.add_relation,
        actor=getattr(cast, persona),
        customer=a,
        other=b,
        kind="family",
    )


def test_a_purchase_cannot_be_negative(cast):
    customer = customer_of(cast.consultant)
    error = refused(
        ValidationError,
        services.record_purchase,
        actor=cast.consultant,
        customer=customer,
        product="退款",
        amount=Decimal("-1"),
        purchased_on=datetime.date(2025, 1, 1),
    )
    assert error.message_dict == {"amount": ["The amount cannot be negative."]}


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_record_purchases(cast, persona):
    customer = customer_of(cast.consultant)
    refused(
        PermissionDenied,
        services.record_purchase,
        actor=getattr(cast, persona),
        customer=customer,
        product="A栋101",
        amount=Decimal("1"),
        purchased_on=datetime.date(2025, 1, 1),
    )


# --- mileage readings ----------------------------------------------------------------------------


def bought_car(staff, days_ago: int = 60) -> Purchase:
    customer = customer_of(staff)
    return services.record_purchase(
        actor=staff,
        customer=customer,
        product="宝马 X3",
        amount=Decimal("300000"),
        purchased_on=timezone.localdate() - datetime.timedelta(days=days_ago),
    )


@pytest.mark.parametrize("persona", ["consultant", "manager", "region_manager", "admin"])
def test_whoever_may_edit_the_customer_records_the_mileage(cast, persona):
    purchase = bought_car(cast.consultant)
    actor = getattr(cast, persona)
    today = timezone.localdate()
    since = mark()
    first = services.record_mileage(
        actor=actor, purchase=purchase, km=1200, read_on=today - datetime.timedelta(days=30)
    )
    same_km = services.record_mileage(actor=actor, purchase=purchase, km=1200, read_on=today)
    assert list(
        MileageReading.objects.filter(purchase=purchase).values_list(
            "pk", "km", "read_on", "recorded_by_id"
        )
    ) == [
        (first.pk, 1200, today - datetime.timedelta(days=30), actor.pk),
        (same_km.pk, 1200, today, actor.pk),
    ]
    assert actions_since(since) == [("customers.mileage.add", persona)] * 2
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.object_id, event.after["km"], event.after["purchase"]) == (
        str(purchase.customer_id),
        1200,
        purchase.pk,
    )


@pytest.mark.parametrize(
    ("km", "days_ago", "errors"),
    [
        (-1, 0, {"km": ["The kilometres are a whole number from 0 to 2000000."]}),
        (2_000_001, 0, {"km": ["The kilometres are a whole number from 0 to 2000000."]}),
        ("5000", 0, {"km": ["The kilometres are a whole number from 0 to 2000000."]}),
        (True, 0, {"km": ["The kilometres are a whole number from 0 to 2000000."]}),
        (5000, 61, {"read_on": ["A reading cannot be dated before the purchase."]}),
        (5000, -1, {"read_on": ["A reading cannot be dated in the future."]}),
        (5000, None, {"read_on": ["Give the date of the reading."]}),
        (
            -5,
            -1,
            {
                "km": ["The kilometres are a whole number from 0 to 2000000."],
                "read_on": ["A reading cannot be dated in the future."],
            },
        ),
        (
            2999,
            10,
            {"km": ["An earlier reading already shows 3000 km; a reading cannot be lower."]},
        ),
        (
            2999,
            20,
            {"km": ["An earlier reading already shows 3000 km; a reading cannot be lower."]},
        ),
        (3001, 30, {"km": ["A later reading shows only 3000 km; a reading cannot be higher."]}),
    ],
)
def test_bad_readings_are_refused(cast, km, days_ago, errors):
    purchase = bought_car(cast.consultant, days_ago=60)
    today = timezone.localdate()
    services.record_mileage(
        actor=cast.consultant, purchase=purchase, km=3000, read_on=today - datetime.timedelta(20)
    )
    read_on = None if days_ago is None else today - datetime.timedelta(days=days_ago)
    error = refused(
        ValidationError,
        services.record_mileage,
        actor=cast.consultant,
        purchase=purchase,
        km=km,
        read_on=read_on,
    )
    assert error.message_dict == errors


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_record_the_mileage(cast, persona):
    purchase = bought_car(cast.consultant)
    refused(
        PermissionDenied,
        services.record_mileage,
        actor=getattr(cast, persona),
        purchase=purchase,
        km=1000,
        read_on=timezone.localdate(),
    )


# --- occasions ----------------------------------------------------------------------------------


def test_anniversaries_solar_or_lunar(cast):
    customer = customer_of(cast.consultant)
    since = mark()
    services.add_anniversary(
        actor=cast.consultant,
        customer=customer,
        label="结婚纪念日",
        date=datetime.date(2010, 10, 1),
    )
    services.add_anniversary(
        actor=cast.consultant, customer=customer, label="母亲生日", lunar={"month": 8, "day": 15}
    )
    assert list(customer.anniversaries.values_list("label", "date", "lunar")) == [
        ("母亲生日", None, {"month": 8, "day": 15, "is_leap": False}),
        ("结婚纪念日", datetime.date(2010, 10, 1), None),
    ]
    assert actions_since(since) == [("customers.anniversary.add", "consultant")] * 2


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        (
            {"label": "", "date": datetime.date(2010, 1, 1)},
            {"label": ["Name the occasion (at most 50 characters)."]},
        ),
        ({"label": "纪念日"}, {"date": ["Give a solar date or a lunar one."]}),
        (
            {"label": "纪念日", "lunar": {"month": 13, "day": 1}},
            {"lunar": ["The lunar month must be a whole number from 1 to 12."]},
        ),
    ],
)
def test_bad_anniversaries_are_refused(cast, kwargs, errors):
    customer = customer_of(cast.consultant)
    error = refused(
        ValidationError,
        services.add_anniversary,
        actor=cast.consultant,
        customer=customer,
        **kwargs,
    )
    assert error.message_dict == errors


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_others_may_not_add_anniversaries(cast, persona):
    customer = customer_of(cast.consultant)
    refused(
        PermissionDenied,
        services.add_anniversary,
        actor=getattr(cast, persona),
        customer=customer,
        label="生日",
        date=datetime.date(2010, 1, 1),
    )


# --- completeness -------------------------------------------------------------------------------


def test_completeness_is_a_pure_function_of_the_profile():
    result = completeness.compute(
        {"name": "张三", "gender": "male", "phone": True, "source": 1, "recorder": 2, "title": " "},
        "first_call",
    )
    assert (result.score, result.missing, result.is_below) == (16, ["consultation"], True)
    full = completeness.compute(dict.fromkeys(completeness.FIELDS, "x"), "owner")
    assert (full.score, full.missing, full.is_below) == (100, [], False)
    nearly = completeness.compute(dict.fromkeys(list(completeness.FIELDS)[:-1], "x"), "owner")
    assert (nearly.score, nearly.missing, nearly.is_below) == (97, ["intent_grade"], True)


@pytest.mark.parametrize(
    ("stage", "visits", "expected"),
    [
        ("lead", 0, "first_call"),
        ("left_phone", 0, "first_call"),
        ("left_phone", 1, "first_visit"),
        ("visited", 0, "first_visit"),
        ("pledged", 2, "first_visit"),
        ("visited", 3, "repeat_visits"),
        ("deal", 0, "owner"),
        ("owner", 5, "owner"),
        ("lost", 0, "first_call"),
    ],
)
def test_the_completeness_stage_follows_the_funnel_and_visits(stage, visits, expected):
    assert completeness.completeness_stage(stage, visits) == expected


def test_an_admin_edits_what_a_stage_requires(cast):
    customer = customer_of(cast.consultant)
    since = mark()

    row = services.set_stage_requirement(
        actor=cast.admin, stage="first_call", fields=["name", "phone", "name"], minimum=10
    )

    assert (row.fields, row.minimum) == (["name", "phone"], 10)
    result = services.refresh_completeness(customer)
    customer.refresh_from_db()
    assert (result.missing, result.minimum) == ([], 10)
    assert (customer.completeness_missing, customer.is_below_completeness) == ([], False)
    assert actions_since(since) == [("customers.completeness.configure", "admin")]


@pytest.mark.parametrize("persona", ["region_manager", "manager", "consultant"])
def test_only_admins_edit_the_requirements(cast, persona):
    refused(
        PermissionDenied,
        services.set_stage_requirement,
        actor=getattr(cast, persona),
        stage="first_call",
        fields=["name"],
        minimum=0,
    )


@pytest.mark.parametrize(
    ("kwargs", "errors"),
    [
        (
            {"stage": "second_date", "fields": ["name"], "minimum": 0},
            {
                "stage": [
                    "Unknown stage; choose one of: first_call, first_visit, repeat_visits, owner."
                ]
            },
        ),
        (
            {"stage": "first_call", "fields": ["name", "star_sign"], "minimum": 0},
            {
                "fields": [
                    "Unknown fields: star_sign; valid: " + ", ".join(completeness.FIELDS) + "."
                ]
            },
        ),
        (
            {"stage": "first_call", "fields": ["name"], "minimum": 101},
            {"minimum": ["The minimum is a percentage from 0 to 100."]},
        ),
    ],
)
def test_bad_requirements_are_refused(cast, kwargs, errors):
    error = refused(ValidationError, services.set_stage_requirement, actor=cast.admin, **kwargs)
    assert error.message_dict == errors


# --- lunar dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"month": 13, "day": 1}, "The lunar month must be a whole number from 1 to 12."),
        ({"month": 0, "day": 1}, "The lunar month must be a whole number from 1 to 12."),
        ({"month": 2, "day": 31}, "The lunar day must be a whole number from 1 to 30."),
        ({"month": 2, "day": 0}, "The lunar day must be a whole number from 1 to 30."),
        ({"month": "2", "day": 1}, "The lunar month must be a whole number from 1 to 12."),
        ({"month": True, "day": 1}, "The lunar month must be a whole number from 1 to 12."),
        ({"month": 2, "day": 1, "is_leap": "yes"}, "is_leap must be true or false."),
        ({"month": 2, "day": 1, "year": 1980}, "Unknown keys: year."),
        ("八月十五", 'A lunar date is an object: {"month": 1-12, "day": 1-30, "is_leap": false}.'),
    ],
)
def test_bad_lunar_dates_say_why(value, message):
    with pytest.raises(ValidationError) as info:
        clean_lunar(value)
    assert info.value.message_dict == {"lunar_birthday": [message]}


def test_a_clean_lunar_date():
    assert clean_lunar({"month": 2, "day": 30}) == {"month": 2, "day": 30, "is_leap": False}
    assert clean_lunar({"month": 4, "day": 1, "is_leap": True}) == {
        "month": 4,
        "day": 1,
        "is_leap": True,
    }
    assert clean_lunar(None) is None
    assert clean_lunar({}) is None


@pytest.mark.parametrize(
    ("lunar", "year", "solar"),
    [
        # Mid-Autumn.
        ({"month": 8, "day": 15}, 2025, datetime.date(2025, 10, 6)),
        # The 30th of a 29-day month falls on the 29th (2021's first month has 29 days)…
        ({"month": 1, "day": 30}, 2021, datetime.date(2021, 3, 12)),
        # …and stays the 30th in a year where the month has 30 (2022).
        ({"month": 1, "day": 30}, 2022, datetime.date(2022, 3, 2)),
        # A leap-month birthday is kept on the leap month in a year that has it (2020: 闰四月)…
        ({"month": 4, "day": 15, "is_leap": True}, 2020, datetime.date(2020, 6, 6)),
        # …the ordinary month is the ordinary month…
        ({"month": 4, "day": 15, "is_leap": False}, 2020, datetime.date(2020, 5, 7)),
        # …and falls on the ordinary month in a year without that leap month.
        ({"month": 4, "day": 15, "is_leap": True}, 2021, datetime.date(2021, 5, 26)),
        # Both rules at once: 闰四月 2020 has 29 days.
        ({"month": 4, "day": 30, "is_leap": True}, 2020, datetime.date(2020, 6, 20)),
    ],
)
def test_the_solar_day_of_a_lunar_date(lunar, year, solar):
    assert solar_day(lunar, year) == solar
