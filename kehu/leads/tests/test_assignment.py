"""Assignment (DOMAIN §10: fair, explainable assignment): by hand, one or many, and
smooth weighted round-robin by capacity; tested for fairness, not only correctness.

Every write has an allowed case (exact result and audit events) and a refused case
(nothing changed, no audit event).
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from kehu.core.models import AuditEvent
from kehu.core.testing import actions_since, mark, refuser
from kehu.customers.models import Customer
from kehu.leads import assignment
from kehu.leads.models import Assignment, PoolSettings, RoundRobinCursor
from kehu.leads.pool import return_to_pool, update_pool_settings
from kehu.leads.services import register_lead
from kehu.org import services as org


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------


def db_state() -> dict[str, Any]:
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "assignments": list(Assignment.objects.order_by("pk").values()),
        "cursors": list(RoundRobinCursor.objects.order_by("pk").values()),
        "settings": list(PoolSettings.objects.values()),
        "audit": AuditEvent.objects.count(),
    }


refused = refuser(db_state)


def owned_by(staff, phone: str) -> Customer:
    return register_lead(
        actor=staff, phone=phone, kind="call", channel="phone", name=phone
    ).customer


def leads(cast, count: int, start: int = 0) -> list[Customer]:
    """Leads a promoter found: registered to the team, owned by nobody yet."""
    return [
        register_lead(
            actor=cast.promoter,
            phone=f"139{start + i:08d}",
            kind="field",
            channel="flyer",
            name=f"线索{start + i}",
        ).customer
        for i in range(count)
    ]


def staff(cast, username: str, capacity: int = 100, node=None, roles=("consultant",)):
    return org.create_staff(
        actor=None,
        username=username,
        name=username.title(),
        roles=list(roles),
        node=node or cast.team,
        capacity=capacity,
    )


@pytest.fixture
def floor(cast) -> dict[str, Any]:
    """一组's sales floor: the consultant (capacity 100) and colleagues of 100, 50 and
    0, and one who left."""
    people = {
        "consultant": cast.consultant,
        "colleague": staff(cast, "colleague", 100),
        "junior": staff(cast, "junior", 50),
        "trainee": staff(cast, "trainee", 0),
    }
    gone = staff(cast, "gone", 100)
    org.mark_staff_left(actor=None, staff=gone)
    return people


def owners(results: list[dict[str, Any]]) -> list[str | None]:
    return [r["to"].username if r["to"] else None for r in results]


# --- by hand --------------------------------------------------------------------------------------


def test_a_manager_assigns_customers_to_someone_on_the_team(cast, floor):
    mine = owned_by(cast.consultant, "13900000001")
    unowned = leads(cast, 1)[0]
    before = timezone.now()
    since = mark()

    results = assignment.assign_customers(
        actor=cast.manager,
        customers=[mine, unowned],
        to_staff=floor["colleague"],
        reason_note="顾问休假",
    )

    assert [(r["customer"].pk, r["to"], r["reason"]) for r in results] == [
        (mine.pk, floor["colleague"], "Assigned by Manager to Colleague. 顾问休假"),
        (unowned.pk, floor["colleague"], "Assigned by Manager to Colleague. 顾问休假"),
    ]
    mine.refresh_from_db()
    unowned.refresh_from_db()
    assert (mine.owner, mine.previous_owner, mine.node) == (
        floor["colleague"],
        cast.consultant,
        cast.team,
    )
    assert (unowned.owner, unowned.previous_owner) == (floor["colleague"], None)
    # The new owner is protected like a registrant.
    assert unowned.protected_until >= before + datetime.timedelta(days=30)
    assert list(
        Assignment.objects.filter(reason="manual")
        .order_by("id")
        .values_list("customer", "from_staff", "to_staff", "actor", "explanation")
    ) == [
        (
            mine.pk,
            cast.consultant.pk,
            floor["colleague"].pk,
            cast.manager.pk,
            "Assigned by Manager to Colleague. 顾问休假",
        ),
        (
            unowned.pk,
            None,
            floor["colleague"].pk,
            cast.manager.pk,
            "Assigned by Manager to Colleague. 顾问休假",
        ),
    ]
    assert actions_since(since) == [("leads.customer.assign", "manager")] * 2


def test_a_region_manager_moves_customers_across_teams(cast):
    mine = owned_by(cast.consultant, "13900000001")
    [result] = assignment.assign_customers(
        actor=cast.region_manager, customers=[mine], to_staff=cast.other_consultant
    )
    mine.refresh_from_db()
    assert (mine.owner, mine.node) == (cast.other_consultant, cast.other_team)
    assert result["reason"] == "Assigned by Region_Manager to Other_Consultant."


def test_a_customer_already_theirs_is_left_as_it_is(cast):
    mine = owned_by(cast.consultant, "13900000001")
    before = db_state()
    [result] = assignment.assign_customers(
        actor=cast.manager, customers=[mine], to_staff=cast.consultant
    )
    assert result["reason"] == "Already owned by Consultant; unchanged."
    assert db_state() == before


def test_a_manager_assigns_an_unowned_customer_of_no_team_from_the_pool(cast):
    referral = register_lead(
        actor=cast.broker, phone="13900000001", kind="broker", channel="broker"
    ).customer
    assert referral.node is None
    assignment.assign_customers(actor=cast.manager, customers=[referral], to_staff=cast.consultant)
    referral.refresh_from_db()
    assert (referral.owner, referral.node) == (cast.consultant, cast.team)


@pytest.mark.parametrize(
    "persona",
    ["consultant", "other_consultant", "other_manager", "promoter", "commissioner", "broker"],
)
def test_only_managers_over_the_customers_assign_them(cast, floor, persona):
    mine = owned_by(cast.consultant, "13900000001")
    refused(
        PermissionDenied,
        assignment.assign_customers,
        actor=getattr(cast, persona),
        customers=[mine],
        to_staff=floor["colleague"],
    )


def test_one_customer_out_of_reach_refuses_the_whole_batch(cast):
    mine = owned_by(cast.consultant, "13900000001")
    theirs = owned_by(cast.other_consultant, "13900000002")
    refused(
        PermissionDenied,
        assignment.assign_customers,
        actor=cast.manager,
        customers=[mine, theirs],
        to_staff=cast.consultant,
    )


def test_a_manager_assigns_only_to_people_under_them(cast):
    mine = owned_by(cast.consultant, "13900000001")
    refused(
        PermissionDenied,
        assignment.assign_customers,
        actor=cast.manager,
        customers=[mine],
        to_staff=cast.other_consultant,
    )


def test_customers_go_to_active_consultants_or_managers(cast, floor):
    mine = owned_by(cast.consultant, "13900000001")
    error = refused(
        ValidationError,
        assignment.assign_customers,
        actor=cast.manager,
        customers=[mine],
        to_staff=cast.promoter,
    )
    assert error.message_dict == {
        "to_staff": ["Customers go to a consultant or a manager; choose one of them."]
    }
    gone = org.create_staff(actor=None, username="leaver", roles=["consultant"], node=cast.team)
    org.mark_staff_left(actor=None, staff=gone)
    error = refused(
        ValidationError,
        assignment.assign_customers,
        actor=cast.manager,
        customers=[mine],
        to_staff=gone,
    )
    assert error.message_dict == {"to_staff": ["This person has left; choose an active one."]}


def test_the_ownership_cap_refuses_the_batch_and_names_the_cap(cast, floor):
    update_pool_settings(actor=None, ownership_cap=2)
    owned_by(cast.consultant, "13800000001")
    batch = leads(cast, 2)
    error = refused(
        ValidationError,
        assignment.assign_customers,
        actor=cast.manager,
        customers=batch,
        to_staff=cast.consultant,
    )
    assert error.message_dict == {
        "to_staff": [
            "Consultant owns 1 customers and the ownership cap is 2: 2 more would exceed it. "
            "Choose someone else or fewer customers."
        ]
    }
    assignment.assign_customers(actor=cast.manager, customers=batch[:1], to_staff=cast.consultant)
    assert Customer.objects.filter(owner=cast.consultant).count() == 2


def test_a_batch_needs_customers_and_a_short_note(cast):
    error = refused(
        ValidationError,
        assignment.assign_customers,
        actor=cast.manager,
        customers=[],
        to_staff=cast.consultant,
    )
    assert error.message_dict == {"customers": ["Choose at least one customer."]}
    error = refused(
        ValidationError,
        assignment.assign_customers,
        actor=cast.manager,
        customers=leads(cast, 1),
        to_staff=cast.consultant,
        reason_note="x" * 201,
    )
    assert error.message_dict == {"reason_note": ["At most 200 characters (this has 201)."]}


# --- round-robin: the rule ------------------------------------------------------------------------


def test_smooth_weighted_round_robin_is_exactly_proportional():
    weights = {1: 100, 2: 100, 3: 50}
    credits: dict[int, int] = {}
    picks = [assignment.weighted_pick(weights, credits) for _ in range(300)]
    assert Counter(picks) == {1: 120, 2: 120, 3: 60}
    # Spread out, never in bursts, ties to the first: the same five every five.
    assert picks[:10] == [1, 2, 3, 1, 2, 1, 2, 3, 1, 2]
    assert credits == {1: 0, 2: 0, 3: 0}
    # Any prefix is within one customer of the exact share.
    for n in range(1, 301):
        counts = Counter(picks[:n])
        for pk, weight in weights.items():
            assert abs(counts[pk] - n * weight / 250) < 1


def test_round_robin_with_ties_is_deterministic():
    runs = []
    for _ in range(2):
        credits: dict[int, int] = {}
        runs.append([assignment.weighted_pick({5: 1, 7: 1, 9: 1}, credits) for _ in range(6)])
    assert runs == [[5, 7, 9, 5, 7, 9]] * 2
    # Equal weights in another order: the first listed wins the tie.
    credits = {}
    assert [assignment.weighted_pick({9: 1, 5: 1}, credits) for _ in range(4)] == [9, 5, 9, 5]


# --- round-robin: assigning ---------------------------------------------------------------------


def test_three_hundred_leads_are_shared_by_capacity(cast, floor):
    batch = leads(cast, 300)

    results = assignment.assign_round_robin(actor=cast.manager, customers=batch, node=cast.team)

    assert Counter(owners(results)) == {"consultant": 120, "colleague": 120, "junior": 60}
    assert Counter(
        Customer.objects.filter(owner__isnull=False).values_list("owner__username", flat=True)
    ) == {"consultant": 120, "colleague": 120, "junior": 60}
    assert Assignment.objects.filter(reason="round_robin").count() == 300


def test_each_assignment_says_why(cast, floor):
    batch = leads(cast, 3)
    since = mark()

    results = assignment.assign_round_robin(actor=cast.manager, customers=batch, node=cast.team)

    assert [(r["customer"].pk, r["to"].username, r["reason"]) for r in results] == [
        (
            batch[0].pk,
            "consultant",
            "Round-robin in 一组: weight 100 of 250; no. 1 of 3 in this batch.",
        ),
        (
            batch[1].pk,
            "colleague",
            "Round-robin in 一组: weight 100 of 250; no. 2 of 3 in this batch.",
        ),
        (batch[2].pk, "junior", "Round-robin in 一组: weight 50 of 250; no. 3 of 3 in this batch."),
    ]
    assert list(
        Assignment.objects.filter(reason="round_robin")
        .order_by("id")
        .values_list("customer", "from_staff", "to_staff__username", "actor", "explanation")
    ) == [(r["customer"].pk, None, r["to"].username, cast.manager.pk, r["reason"]) for r in results]
    assert [
        c.owner.username
        for c in Customer.objects.filter(pk__in=[b.pk for b in batch]).order_by("pk")
    ] == [
        "consultant",
        "colleague",
        "junior",
    ]
    assert actions_since(since) == [("leads.customer.assign", "manager")] * 3


def test_the_rotation_continues_across_calls(cast, floor):
    batch = leads(cast, 10)
    first = assignment.assign_round_robin(actor=cast.manager, customers=batch[:3], node=cast.team)
    second = assignment.assign_round_robin(actor=cast.manager, customers=batch[3:], node=cast.team)
    assert owners(first) + owners(second) == [
        "consultant",
        "colleague",
        "junior",
        "consultant",
        "colleague",
        "consultant",
        "colleague",
        "junior",
        "consultant",
        "colleague",
    ]
    cursor = RoundRobinCursor.objects.get(node=cast.team)
    assert cursor.credits == {
        str(floor["consultant"].pk): 0,
        str(floor["colleague"].pk): 0,
        str(floor["junior"].pk): 0,
    }


def test_people_at_the_cap_are_skipped(cast, floor):
    update_pool_settings(actor=None, ownership_cap=1)
    owned_by(cast.consultant, "13800000001")
    batch = leads(cast, 3)

    results = assignment.assign_round_robin(actor=cast.manager, customers=batch, node=cast.team)

    assert owners(results) == ["colleague", "junior", None]
    assert (
        results[0]["reason"] == "Round-robin in 一组: weight 100 of 150; no. 1 of 3 in this batch."
    )
    assert results[2]["why_not"] == (
        "Nobody to assign to in 一组: every consultant with capacity is at the ownership cap of 1."
    )
    assert Customer.objects.get(pk=batch[2].pk).owner is None


def test_a_lead_that_cannot_be_assigned_says_why_not(cast, floor):
    empty = org.add_node_path(actor=None, path="华东大区/上海区域/三组")
    staff(cast, "idle", 0, node=empty)
    batch = leads(cast, 1)
    owned = owned_by(cast.consultant, "13900000099")
    before = db_state()

    results = assignment.assign_round_robin(actor=cast.region_manager, customers=batch, node=empty)
    assert results == [
        {
            "customer": batch[0],
            "to": None,
            "why_not": "Nobody to assign to in 三组: every consultant has capacity 0.",
        }
    ]
    org.set_roles(actor=None, staff=org.Staff.objects.get(username="idle"), roles=["promoter"])
    results = assignment.assign_round_robin(actor=cast.region_manager, customers=batch, node=empty)
    assert results[0]["why_not"] == "Nobody to assign to in 三组: it has no active consultant."

    results = assignment.assign_round_robin(actor=cast.manager, customers=[owned], node=cast.team)
    assert results == [
        {
            "customer": owned,
            "to": None,
            "why_not": "Already owned by Consultant; reassign it by hand if needed.",
        }
    ]
    before["cursors"] = list(RoundRobinCursor.objects.order_by("pk").values())
    assert db_state() == before | {"audit": before["audit"] + 1}  # set_roles' own event


def test_a_pooled_lead_is_shared_like_a_new_one(cast, floor):
    customer = owned_by(cast.consultant, "13900000001")
    return_to_pool(actor=cast.manager, customer=customer, reason="离职交接")
    [result] = assignment.assign_round_robin(
        actor=cast.manager, customers=[customer], node=cast.team
    )
    assert result["to"] == cast.consultant
    customer.refresh_from_db()
    assert (customer.owner, customer.pooled_at) == (cast.consultant, None)


@pytest.mark.parametrize(
    ("persona", "node"),
    [
        ("consultant", "team"),
        ("promoter", "team"),
        ("broker", "team"),
        ("other_manager", "team"),
        ("manager", "other_team"),
        ("manager", "area"),
    ],
)
def test_only_managers_over_the_node_and_the_leads_share_them(cast, floor, persona, node):
    batch = leads(cast, 2)
    refused(
        PermissionDenied,
        assignment.assign_round_robin,
        actor=getattr(cast, persona),
        customers=batch,
        node=getattr(cast, node),
    )


def test_round_robin_needs_customers(cast):
    error = refused(
        ValidationError,
        assignment.assign_round_robin,
        actor=cast.manager,
        customers=[],
        node=cast.team,
    )
    assert error.message_dict == {"customers": ["Choose at least one customer."]}
