"""Duplicates and merge (DOMAIN §10): the duplicate check sees every record and reveals
only what the asker may see; a merge keeps all the history, relations and tags, is
allowed only to someone who may edit both records, and is audited once.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from kehu.activities.models import Activity, StageChange
from kehu.activities.services import log_activity
from kehu.core.models import AuditEvent
from kehu.core.testing import mark, refuser
from kehu.customers import merge as merging
from kehu.customers import services
from kehu.customers.models import (
    Anniversary,
    Customer,
    CustomerPhone,
    CustomerTag,
    Purchase,
    Relation,
)
from kehu.leads.assignment import assign_customers
from kehu.leads.models import Assignment, Conflict, PoolEvent, Registration
from kehu.leads.pool import return_to_pool
from kehu.leads.services import register_lead


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------

HISTORY = [
    ("phones", CustomerPhone),
    ("registrations", Registration),
    ("conflicts", Conflict),
    ("activities", Activity),
    ("stage_changes", StageChange),
    ("assignments", Assignment),
    ("pool_events", PoolEvent),
    ("anniversaries", Anniversary),
    ("purchases", Purchase),
    ("tags", CustomerTag),
]


def db_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "customers": list(Customer.objects.order_by("pk").values()),
        "relations": list(Relation.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }
    for label, model in HISTORY:
        state[label] = list(model.objects.order_by("pk").values())
    return state


refused = refuser(db_state)


def customer_of(staff, phone: str, name: str = "张三", **changes: Any) -> Customer:
    customer = register_lead(
        actor=staff, phone=phone, kind="call", channel="phone", name=name
    ).customer
    if changes:
        services.update_customer(actor=None, customer=customer, **changes)
    customer.refresh_from_db()
    return customer


def counts(customer: Customer) -> dict[str, int]:
    return {label: model.objects.filter(customer=customer).count() for label, model in HISTORY}


# --- finding duplicates -------------------------------------------------------------------------


def test_number_variants_are_one_typo_away():
    variants = merging.number_variants("1390")
    assert len(variants) == 4 * 9 + 3
    assert {"2390", "1391", "3190", "1930", "1309"} <= variants
    assert "1390" not in variants
    assert "1399" in variants
    assert "0139" not in variants  # two changes
    assert merging.number_variants("11") == {f"{d}1" for d in "023456789"} | {
        f"1{d}" for d in "023456789"
    }


@pytest.fixture
def lookalikes(cast) -> dict[str, Customer]:
    """The customer under check, and records that do or do not look like it."""
    return {
        "subject": customer_of(
            cast.consultant, "13900000001", wechat="ZhangSan", email="zs@example.com"
        ),
        # one digit changed, someone else's
        "digit": customer_of(cast.other_consultant, "13900000002"),
        # two neighbours swapped, mine
        "swapped": customer_of(cast.consultant, "13900000010", name=" 张三 "),
        # similar number, another name: not a duplicate
        "other_name": customer_of(cast.consultant, "13900000003", name="李四"),
        # two digits off: not a duplicate
        "far": customer_of(cast.consultant, "13900000022"),
        # same WeChat (case aside), mine
        "wechat": customer_of(cast.consultant, "13700000000", name="老张", wechat="zhangsan"),
        # same email, someone else's
        "email": customer_of(
            cast.other_consultant, "13600000000", name="Z", email="ZS@example.com"
        ),
    }


def found(result: dict[str, Any], lookalikes: dict[str, Customer]) -> list[tuple[str, list[str]]]:
    names = {c.pk: name for name, c in lookalikes.items()}
    return [(names[c["customer"].pk], c["reasons"]) for c in result["candidates"]]


def test_the_duplicate_check_shows_what_the_asker_may_see_and_counts_the_rest(cast, lookalikes):
    result = merging.find_duplicates(actor=cast.consultant, customer=lookalikes["subject"])

    assert found(result, lookalikes) == [
        ("swapped", ["name_and_number"]),
        ("wechat", ["wechat"]),
    ]
    assert result["hidden_count"] == 2
    assert result["hidden_message"] == (
        "2 more records you cannot see look like this customer; ask your manager."
    )


def test_a_manager_over_both_teams_sees_every_duplicate(cast, lookalikes):
    result = merging.find_duplicates(actor=cast.region_manager, customer=lookalikes["subject"])

    assert found(result, lookalikes) == [
        ("digit", ["name_and_number"]),
        ("swapped", ["name_and_number"]),
        ("wechat", ["wechat"]),
        ("email", ["email"]),
    ]
    assert (result["hidden_count"], result["hidden_message"]) == (0, "")


def test_one_hidden_record_is_counted_in_the_singular(cast, lookalikes):
    result = merging.find_duplicates(actor=cast.other_consultant, customer=lookalikes["digit"])
    assert found(result, lookalikes) == []
    assert result["hidden_count"] == 2  # subject and swapped, both the consultant's
    result = merging.find_duplicates(actor=cast.other_consultant, customer=lookalikes["email"])
    assert result["hidden_message"] == (
        "1 more record you cannot see looks like this customer; ask your manager."
    )


def test_merged_records_are_not_duplicates(cast, lookalikes):
    merging.merge_customers(
        actor=cast.consultant, keep=lookalikes["subject"], merge=lookalikes["swapped"]
    )
    result = merging.find_duplicates(actor=cast.consultant, customer=lookalikes["subject"])
    assert found(result, lookalikes) == [("wechat", ["wechat"])]


def test_nobody_checks_a_customer_they_cannot_see(cast, lookalikes):
    with pytest.raises(PermissionDenied):
        merging.find_duplicates(actor=cast.other_consultant, customer=lookalikes["subject"])


# --- merging ------------------------------------------------------------------------------------


@pytest.fixture
def pair(cast) -> dict[str, Customer]:
    """Two records of one person, both the consultant's, each with a history; the one to
    merge has gone further and knows more."""
    keep = customer_of(cast.consultant, "13900000001", profile={"budget": "300万"}, title="先生")
    merge = customer_of(
        cast.consultant,
        "13900000002",
        gender="male",
        wechat="zhangsan",
        email="zs@example.com",
        title="总",
        profile={"budget": "500万", "occupation": "教师"},
    )
    referrer = customer_of(cast.consultant, "13800000001", name="老业主")
    colleague = customer_of(cast.consultant, "13800000002", name="同事")
    # conflict: someone else registers the merged record's number while protected
    register_lead(actor=cast.other_consultant, phone="13900000002", kind="call", channel="phone")
    # follow-ups and the stage history
    log_activity(actor=cast.consultant, customer=merge, kind="call")
    log_activity(actor=cast.consultant, customer=merge, kind="visit")
    # pool and assignments: back to the pool, then assigned again by the manager
    return_to_pool(actor=cast.consultant, customer=merge, reason="暂不跟进")
    assign_customers(actor=cast.manager, customers=[merge], to_staff=cast.consultant)
    # tags: one shared, one only on the merged record
    golf = services.ensure_tag(actor=None, dimension="兴趣", name="高尔夫")
    teacher = services.ensure_tag(actor=None, dimension="职业", name="教师")
    services.set_tags(actor=None, customer=keep, tags=[golf])
    services.set_tags(actor=None, customer=merge, tags=[golf, teacher])
    # relations: one duplicate, one that would point at itself, one that moves each way
    services.add_relation(actor=None, customer=keep, other=referrer, kind="referred_by")
    services.add_relation(actor=None, customer=merge, other=referrer, kind="referred_by")
    services.add_relation(actor=None, customer=merge, other=keep, kind="family")
    services.add_relation(actor=None, customer=colleague, other=merge, kind="colleague")
    services.add_relation(actor=None, customer=merge, other=colleague, kind="family")
    # occasions and purchases
    services.add_anniversary(
        actor=None, customer=merge, label="生日", lunar={"month": 8, "day": 15}
    )
    services.record_purchase(
        actor=None,
        customer=keep,
        product="车位",
        amount=Decimal("100000"),
        purchased_on=datetime.date(2025, 1, 1),
    )
    services.record_purchase(
        actor=None,
        customer=merge,
        product="A栋101",
        amount=Decimal("2000000"),
        purchased_on=datetime.date(2025, 6, 1),
    )
    keep.refresh_from_db()
    merge.refresh_from_db()
    return {"keep": keep, "merge": merge, "referrer": referrer, "colleague": colleague}


def test_every_relation_to_a_customer_is_handled_by_the_merge():
    """The merge moves the archive's and the funnel's rows itself; every other app's
    rows go through the generic mover, which must see them as relations of Customer."""
    from kehu.customers.merge import HANDLED_HERE

    relations = {
        (r.related_model._meta.label_lower, r.field.name) for r in Customer._meta.related_objects
    }
    assert relations >= HANDLED_HERE
    others = {label.split(".")[0] for label, _field in relations - HANDLED_HERE}
    assert others <= {"grading", "cadence", "occasions", "messaging", "incentives", "customers"}


def test_a_merge_moves_all_the_history(cast, pair):
    keep, merge = pair["keep"], pair["merge"]
    before_keep, before_merge = counts(keep), counts(merge)
    assert before_merge == {
        "phones": 1,
        "registrations": 2,
        "conflicts": 1,
        "activities": 2,
        "stage_changes": 2,
        "assignments": 3,
        "pool_events": 1,
        "anniversaries": 1,
        "purchases": 1,
        "tags": 2,
    }
    since = mark()

    result = merging.merge_customers(actor=cast.consultant, keep=keep, merge=merge)

    assert result.pk == keep.pk
    merge.refresh_from_db()
    assert counts(merge) == dict.fromkeys(before_merge, 0)
    after = counts(keep)
    assert after == {
        label: before_keep[label] + before_merge[label] + (1 if label == "stage_changes" else 0)
        for label in before_keep
    } | {"tags": 2}
    assert list(keep.phones.values_list("number", "is_primary")) == [
        ("+8613900000001", True),
        ("+8613900000002", False),
    ]
    assert sorted(str(t.tag) for t in keep.tag_rows.all()) == ["兴趣: 高尔夫", "职业: 教师"]
    relations = sorted(
        (r.from_customer_id, r.kind, r.to_customer_id) for r in Relation.objects.all()
    )
    assert relations == sorted(
        [
            (keep.pk, "referred_by", pair["referrer"].pk),
            (pair["colleague"].pk, "colleague", keep.pk),
            (keep.pk, "family", pair["colleague"].pk),
        ]
    )
    # The merged record stays, hidden, pointing at the one kept.
    assert (merge.merged_into_id, merge.owner_id, merge.previous_owner_id) == (
        keep.pk,
        None,
        cast.consultant.pk,
    )
    assert merge not in Customer.objects.visible_to(cast.consultant)
    assert merge not in Customer.objects.visible_to(cast.admin)
    assert merge not in Customer.objects.in_pool()
    # One audit event saying what moved.
    event = AuditEvent.objects.get(id__gt=since)
    assert (event.action, event.actor_label, event.object_id) == (
        "customers.customer.merge",
        "consultant",
        str(keep.pk),
    )
    assert event.before == {
        "merged": merge.pk,
        "merged_owner": cast.consultant.pk,
        "owner": cast.consultant.pk,
    }
    assert event.after == {
        "moved": {
            "phones": 1,
            "registrations": 2,
            "conflicts": 1,
            "activities": 2,
            "stage_changes": 2,
            "assignments": 3,
            "pool_events": 1,
            "anniversaries": 1,
            "purchases": 1,
            "tags": 1,
            "relations": 2,
            # Other apps' rows, moved by the generic mover: the birthday and anniversary
            # dates, the purchase's life-cycle reminders and the messages the merged
            # record's follow-ups triggered. Both records have a cadence row (every
            # customer has one from its creation): the kept one stays, recomputed below.
            "occasions.occasiondate": 2,
            "occasions.lifecyclereminder": 3,
            "cadence.customercadence.dropped": 1,
            "messaging.message": 2,
        },
        "dropped_relations": 2,
        "filled": ["wechat", "email", "gender", "profile.occupation", "stage"],
        "owner": cast.consultant.pk,
    }


def test_a_merge_fills_the_empty_fields_and_recomputes(cast, pair):
    keep, merge = pair["keep"], pair["merge"]

    merging.merge_customers(actor=cast.consultant, keep=keep, merge=merge)

    keep.refresh_from_db()
    pair["referrer"].refresh_from_db()
    # Keep's own values win; empty ones are filled from the merged record.
    assert (keep.title, keep.gender, keep.wechat, keep.email) == (
        "先生",
        "male",
        "zhangsan",
        "zs@example.com",
    )
    assert keep.profile == {"budget": "300万", "occupation": "教师"}
    # The merged record had visited: the customer has.
    assert (keep.stage, keep.visit_count) == ("visited", 1)
    assert keep.last_followup_at == merge.last_followup_at
    # The next due date follows the history the kept record now has.
    from kehu.cadence.models import CustomerCadence

    assert CustomerCadence.objects.get(customer=keep).last_contact == timezone.localdate(
        merge.last_followup_at
    )
    assert list(
        StageChange.objects.filter(customer=keep)
        .order_by("-id")
        .values_list("from_stage", "to_stage", "reason")[:1]
    ) == [("left_phone", "visited", f"merged with #{merge.pk}")]
    # Completeness for a first visit: gender and the call basics are there now; the
    # visit's fields are missing.
    assert keep.completeness_missing == [
        "consultation",
        "age",
        "address",
        "family_structure",
        "purpose",
        "needs",
    ]
    assert keep.completeness == 31  # 10 of 32 fields
    # Contribution: the merged record's purchase is a repeat purchase of the one kept,
    # and the referrer is credited with both.
    assert keep.contribution_value == Decimal("2000000.00")
    assert pair["referrer"].contribution_value == Decimal("2100000.00")


def test_registering_a_merged_number_finds_the_customer_kept(cast, pair):
    merging.merge_customers(actor=cast.consultant, keep=pair["keep"], merge=pair["merge"])
    judgement = register_lead(
        actor=cast.consultant, phone="13900000002", kind="call", channel="phone"
    )
    assert (judgement.result, judgement.customer.pk) == ("existing", pair["keep"].pk)


def test_a_pooled_record_merged_with_an_owned_one_goes_to_that_owner(cast):
    keep = customer_of(cast.consultant, "13900000001")
    merge = customer_of(cast.consultant, "13900000002")
    return_to_pool(actor=cast.consultant, customer=keep, reason="重复")

    merging.merge_customers(actor=cast.manager, keep=keep, merge=merge)

    keep.refresh_from_db()
    assert (keep.owner, keep.pooled_at) == (cast.consultant, None)
    assert list(
        Assignment.objects.filter(customer=keep, reason="merge").values_list(
            "from_staff", "to_staff", "actor"
        )
    ) == [(None, cast.consultant.pk, cast.manager.pk)]


@pytest.mark.parametrize("persona", ["admin", "region_manager", "manager", "consultant"])
def test_who_may_edit_both_may_merge(cast, persona):
    keep = customer_of(cast.consultant, "13900000001")
    merge = customer_of(cast.consultant, "13900000002")
    merging.merge_customers(actor=getattr(cast, persona), keep=keep, merge=merge)
    assert Customer.objects.get(pk=merge.pk).merged_into_id == keep.pk


@pytest.mark.parametrize(
    "persona",
    [
        "manager",
        "other_manager",
        "consultant",
        "other_consultant",
        "promoter",
        "commissioner",
        "broker",
    ],
)
def test_nobody_merges_what_they_may_not_edit_both_of(cast, persona):
    keep = customer_of(cast.consultant, "13900000001")
    merge = customer_of(cast.other_consultant, "13900000002")
    refused(
        PermissionDenied,
        merging.merge_customers,
        actor=getattr(cast, persona),
        keep=keep,
        merge=merge,
    )


def test_a_manager_over_both_teams_merges_across_them(cast):
    keep = customer_of(cast.consultant, "13900000001")
    merge = customer_of(cast.other_consultant, "13900000002")
    merging.merge_customers(actor=cast.region_manager, keep=keep, merge=merge)
    assert list(keep.phones.values_list("number", flat=True)) == [
        "+8613900000001",
        "+8613900000002",
    ]


def test_a_record_is_not_merged_into_itself(cast):
    customer = customer_of(cast.consultant, "13900000001")
    error = refused(
        ValidationError,
        merging.merge_customers,
        actor=cast.consultant,
        keep=customer,
        merge=customer,
    )
    assert error.message_dict == {
        "merge": ["Choose another customer: a record cannot be merged into itself."]
    }


def test_nothing_is_merged_into_a_merged_record_or_merged_twice(cast):
    a = customer_of(cast.consultant, "13900000001")
    b = customer_of(cast.consultant, "13900000002")
    c = customer_of(cast.consultant, "13900000003")
    merging.merge_customers(actor=cast.consultant, keep=a, merge=b)
    b.refresh_from_db()

    error = refused(ValidationError, merging.merge_customers, actor=cast.admin, keep=b, merge=c)
    assert error.message_dict == {
        "keep": [f"This customer was merged into #{a.pk}; merge into that one."]
    }
    error = refused(ValidationError, merging.merge_customers, actor=cast.admin, keep=c, merge=b)
    assert error.message_dict == {"merge": ["This customer has already been merged."]}


def test_earlier_merges_follow_to_the_customer_kept(cast):
    a = customer_of(cast.consultant, "13900000001")
    b = customer_of(cast.consultant, "13900000002")
    c = customer_of(cast.consultant, "13900000003")
    merging.merge_customers(actor=cast.consultant, keep=b, merge=c)
    merging.merge_customers(actor=cast.consultant, keep=a, merge=b)
    assert dict(Customer.objects.filter(pk__in=[b.pk, c.pk]).values_list("pk", "merged_into")) == {
        b.pk: a.pk,
        c.pk: a.pk,
    }
    assert a.phones.count() == 3


def test_a_merge_keeps_an_unsubscribe_from_either_record(cast, pair):
    """Other apps' rows follow the kept customer; an unsubscribe on the merged record is
    honoured on the kept one (its one consent row wins otherwise)."""
    from kehu.messaging import services as messaging
    from kehu.messaging.models import Consent

    keep, merge = pair["keep"], pair["merge"]
    messaging.set_consent(actor=cast.consultant, customer=keep, opted_in=True)
    messaging.set_consent(actor=cast.consultant, customer=merge, opted_in=True)
    messaging.set_consent(actor=cast.consultant, customer=merge, opted_in=False)
    merging.merge_customers(actor=cast.consultant, keep=keep, merge=merge)
    assert list(Consent.objects.values_list("customer_id", flat=True)) == [keep.pk]
    assert messaging.is_opted_in(keep) is False


def test_a_merge_moves_other_apps_rows(cast, pair):
    from kehu.grading import services as grading
    from kehu.grading.models import IntentAssessment

    keep, merge = pair["keep"], pair["merge"]
    judgements = {
        "product": True,
        "price": True,
        "payment": True,
        "chosen_unit": True,
        "attention": True,
        "decision_makers": True,
    }
    grading.assess_intent(actor=cast.consultant, customer=merge, judgements=judgements)
    merging.merge_customers(actor=cast.consultant, keep=keep, merge=merge)
    assert list(IntentAssessment.objects.values_list("customer_id", flat=True)) == [keep.pk]
