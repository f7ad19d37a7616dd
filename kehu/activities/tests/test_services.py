"""Follow-ups and the funnel (DOMAIN §4): log_activity, change_stage, the stage history,
sleeping customers, and completeness as a customer moves on.

Every write has an allowed case (exact result and audit events) and a refused case
(nothing changed, no audit event).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from kehu.activities import services
from kehu.activities.models import Activity, StageChange
from kehu.core.models import AuditEvent
from kehu.core.testing import actions_since, mark, refuser
from kehu.customers.models import Customer
from kehu.customers.services import update_customer
from kehu.leads.services import register_lead


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------


def db_state() -> dict[str, Any]:
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "activities": list(Activity.objects.order_by("pk").values()),
        "stage_changes": list(StageChange.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


refused = refuser(db_state)


def customer_of(cast, phone: str = "13912345678", **kwargs: Any) -> Customer:
    return register_lead(
        actor=cast.consultant, phone=phone, kind="call", channel="phone", name="李女士", **kwargs
    ).customer


def history(customer: Customer) -> list[tuple[str, str, str]]:
    return list(
        StageChange.objects.filter(customer=customer)
        .order_by("created_at", "id")
        .values_list("from_stage", "to_stage", "reason")
    )


# --- log_activity -------------------------------------------------------------------------------


def test_a_call_is_a_follow_up(cast):
    customer = customer_of(cast)
    at = timezone.now() - datetime.timedelta(hours=1)
    since = mark()

    activity = services.log_activity(
        actor=cast.consultant,
        customer=customer,
        kind="call",
        outcome="interested",
        note="想看三房",
        occurred_at=at,
    )

    customer.refresh_from_db()
    assert list(Activity.objects.values_list("customer", "staff", "kind", "outcome", "note")) == [
        (customer.pk, cast.consultant.pk, "call", "interested", "想看三房")
    ]
    assert activity.occurred_at == at
    assert customer.last_followup_at == at
    assert (customer.visit_count, customer.stage) == (0, "left_phone")
    assert actions_since(since) == [("activities.activity.log", "consultant")]


def test_an_older_follow_up_does_not_move_the_last_follow_up_back(cast):
    customer = customer_of(cast)
    recent = timezone.now() - datetime.timedelta(days=1)
    services.log_activity(actor=cast.consultant, customer=customer, kind="call", occurred_at=recent)
    services.log_activity(
        actor=cast.consultant,
        customer=customer,
        kind="note",
        occurred_at=recent - datetime.timedelta(days=5),
    )
    customer.refresh_from_db()
    assert customer.last_followup_at == recent


def test_a_visit_counts_and_moves_a_lead_to_visited(cast):
    customer = customer_of(cast)
    since = mark()

    services.log_activity(actor=cast.consultant, customer=customer, kind="visit")
    services.log_activity(actor=cast.manager, customer=customer, kind="visit")

    customer.refresh_from_db()
    assert (customer.visit_count, customer.stage) == (2, "visited")
    assert history(customer) == [
        ("", "left_phone", "registration"),
        ("left_phone", "visited", "visit"),
    ]
    assert actions_since(since) == [
        ("activities.stage.change", "consultant"),
        ("activities.activity.log", "consultant"),
        ("activities.activity.log", "manager"),
    ]


def test_a_visit_does_not_move_a_pledged_customer_back(cast):
    customer = customer_of(cast)
    services.change_stage(actor=cast.consultant, customer=customer, stage="pledged")
    services.log_activity(actor=cast.consultant, customer=customer, kind="visit")
    customer.refresh_from_db()
    assert (customer.visit_count, customer.stage) == (1, "pledged")


@pytest.mark.parametrize(
    "persona", ["other_consultant", "other_manager", "promoter", "broker", "commissioner"]
)
def test_only_the_owner_and_managers_over_it_log_follow_ups(cast, persona):
    customer = customer_of(cast)
    refused(
        PermissionDenied,
        services.log_activity,
        actor=getattr(cast, persona),
        customer=customer,
        kind="call",
    )


def test_a_bad_follow_up_names_every_bad_field_and_leaves_nothing(cast):
    customer = customer_of(cast)
    error = refused(
        ValidationError,
        services.log_activity,
        actor=cast.consultant,
        customer=customer,
        kind="fax",
        outcome="maybe",
        note="x" * 4001,
        occurred_at=timezone.now() + datetime.timedelta(hours=1),
    )
    assert error.message_dict == {
        "kind": ["Choose one of: call, visit, message, note."],
        "outcome": [
            "Choose one of: reached, no_answer, interested, not_interested, appointment, other."
        ],
        "note": ["At most 4000 characters (this has 4001)."],
        "occurred_at": ["A follow-up cannot be in the future."],
    }


# --- sleeping -----------------------------------------------------------------------------------


def test_sleeping_means_no_follow_up_for_more_than_thirty_days(cast):
    now = timezone.now()
    followed_31 = customer_of(cast, "13900000001")
    followed_29 = customer_of(cast, "13900000002")
    never_new = customer_of(cast, "13900000003", now=now - datetime.timedelta(days=29))
    never_old = customer_of(cast, "13900000004", now=now - datetime.timedelta(days=31))
    lost = customer_of(cast, "13900000005", now=now - datetime.timedelta(days=60))
    services.change_stage(actor=cast.consultant, customer=lost, stage="lost", reason="price")
    for customer, days in ((followed_31, 31), (followed_29, 29)):
        services.log_activity(
            actor=cast.consultant,
            customer=customer,
            kind="call",
            occurred_at=now - datetime.timedelta(days=days),
        )

    assert set(Customer.objects.sleeping(now=now)) == {followed_31, never_old}
    assert set(Customer.objects.sleeping(days=28, now=now)) == {
        followed_31,
        followed_29,
        never_new,
        never_old,
    }
    # Lost and owners are not "sleeping": nobody is meant to call them.
    assert lost not in Customer.objects.sleeping(days=1, now=now)


# --- change_stage -------------------------------------------------------------------------------


def test_the_stage_history_is_kept_in_order(cast):
    customer = customer_of(cast)
    t0 = timezone.now()
    since = mark()
    steps = [
        ("visited", "", t0 + datetime.timedelta(minutes=1)),
        ("deal", "", t0 + datetime.timedelta(minutes=2)),  # forward moves may skip stages
        ("pledged", "合同录错", t0 + datetime.timedelta(minutes=3)),
        ("owner", "", t0 + datetime.timedelta(minutes=4)),
    ]
    for stage, reason, at in steps:
        services.change_stage(
            actor=cast.consultant, customer=customer, stage=stage, reason=reason, at=at
        )

    assert history(customer) == [
        ("", "left_phone", "registration"),
        ("left_phone", "visited", ""),
        ("visited", "deal", ""),
        ("deal", "pledged", "合同录错"),
        ("pledged", "owner", ""),
    ]
    row = StageChange.objects.filter(customer=customer).order_by("created_at", "id").last()
    assert (row.actor, row.owner, row.node, row.channel.code) == (
        cast.consultant,
        cast.consultant,
        cast.team,
        "phone",
    )
    assert Customer.objects.get().stage == "owner"
    assert actions_since(since) == [("activities.stage.change", "consultant")] * 4


def test_lost_needs_a_reason(cast):
    customer = customer_of(cast)
    error = refused(
        ValidationError,
        services.change_stage,
        actor=cast.consultant,
        customer=customer,
        stage="lost",
    )
    assert error.message_dict == {
        "reason": [
            "Say why the customer was lost (price, competitor, location, product, finance, "
            "no_need, unreachable, other…)."
        ]
    }
    services.change_stage(
        actor=cast.consultant, customer=customer, stage="lost", reason="competitor"
    )
    customer.refresh_from_db()
    assert (customer.stage, customer.lost_reason) == ("lost", "competitor")


def test_moving_back_needs_a_reason(cast):
    customer = customer_of(cast)
    services.change_stage(actor=cast.consultant, customer=customer, stage="pledged")
    error = refused(
        ValidationError,
        services.change_stage,
        actor=cast.consultant,
        customer=customer,
        stage="visited",
    )
    assert error.message_dict == {"reason": ["Moving a customer back needs a reason."]}


def test_a_lost_customer_comes_back_without_a_reason_and_loses_the_lost_reason(cast):
    customer = customer_of(cast)
    services.change_stage(actor=cast.consultant, customer=customer, stage="lost", reason="price")
    services.change_stage(actor=cast.consultant, customer=customer, stage="visited")
    customer.refresh_from_db()
    assert (customer.stage, customer.lost_reason) == ("visited", "")


def test_the_same_stage_changes_nothing(cast):
    customer = customer_of(cast)
    before = db_state()
    services.change_stage(actor=cast.consultant, customer=customer, stage="left_phone")
    assert db_state() == before


def test_an_unknown_stage_is_refused(cast):
    customer = customer_of(cast)
    error = refused(
        ValidationError,
        services.change_stage,
        actor=cast.consultant,
        customer=customer,
        stage="won",
    )
    assert error.message_dict == {
        "stage": ["Choose one of: lead, left_phone, visited, pledged, deal, owner, lost."]
    }


@pytest.mark.parametrize("persona", ["other_consultant", "other_manager", "promoter", "broker"])
def test_only_the_owner_and_managers_over_it_change_the_stage(cast, persona):
    customer = customer_of(cast)
    refused(
        PermissionDenied,
        services.change_stage,
        actor=getattr(cast, persona),
        customer=customer,
        stage="visited",
    )


def test_a_manager_over_the_team_changes_the_stage(cast):
    customer = customer_of(cast)
    since = mark()
    services.change_stage(actor=cast.region_manager, customer=customer, stage="pledged")
    assert Customer.objects.get().stage == "pledged"
    assert actions_since(since) == [("activities.stage.change", "region_manager")]


# --- completeness as the customer moves on ------------------------------------------------------


def test_completeness_after_a_call_registration(cast):
    customer = customer_of(cast)
    customer.refresh_from_db()
    # name, gender (unknown), phone, source, consultation (no note), recorder
    assert customer.completeness_missing == ["gender", "consultation"]
    assert customer.is_below_completeness is True
    assert customer.completeness == 12  # name, phone, source, recorder of 32 fields

    update_customer(
        actor=cast.consultant, customer=customer, gender="female", profile={"consultation": "两居"}
    )
    customer.refresh_from_db()
    assert (customer.completeness, customer.completeness_missing) == (19, [])
    assert customer.is_below_completeness is False


def test_a_first_visit_raises_what_is_required(cast):
    customer = customer_of(cast, note="两居")
    update_customer(actor=cast.consultant, customer=customer, gender="female")
    customer.refresh_from_db()
    assert customer.is_below_completeness is False

    services.log_activity(actor=cast.consultant, customer=customer, kind="visit")

    customer.refresh_from_db()
    assert customer.completeness_missing == [
        "age",
        "address",
        "family_structure",
        "occupation",
        "purpose",
        "needs",
    ]
    assert customer.is_below_completeness is True
    assert customer in Customer.objects.below_completeness()

    update_customer(
        actor=cast.consultant,
        customer=customer,
        age=35,
        address="浦东新区",
        profile={
            "family_structure": "三口之家",
            "occupation": "教师",
            "purpose": "自住",
            "needs": "学区",
        },
    )
    customer.refresh_from_db()
    assert (customer.completeness, customer.completeness_missing) == (38, [])
    assert customer.is_below_completeness is False
    assert customer not in Customer.objects.below_completeness()
