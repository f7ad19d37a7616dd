"""The public pool (公海, DOMAIN §10): the daily return rules, manual returns, claims
under quotas, the pool settings, staff leaving, and the scheduled job.

Every write has an allowed case (exact result and audit events) and a refused case
(nothing changed, no audit event). Time is moved with the services' ``now=``.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation
from django.utils.module_loading import import_string

from kehu.activities.services import change_stage, log_activity
from kehu.core.models import AuditEvent, ScheduledJob
from kehu.core.testing import actions_since, mark, refuser
from kehu.core.worker import enqueue_due_jobs
from kehu.customers.models import Customer
from kehu.leads import pool
from kehu.leads.models import Assignment, PoolEvent, PoolSettings
from kehu.leads.services import register_lead
from kehu.leads.tasks import run_pool_rules_task
from kehu.org import services as org

DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- helpers ------------------------------------------------------------------------------


def db_state() -> dict[str, Any]:
    return {
        "customers": list(Customer.objects.order_by("pk").values()),
        "assignments": list(Assignment.objects.order_by("pk").values()),
        "pool_events": list(PoolEvent.objects.order_by("pk").values()),
        "settings": list(PoolSettings.objects.values()),
        "audit": AuditEvent.objects.count(),
    }


refused = refuser(db_state)


def customer_of(staff, phone: str, name: str = "", grade: str = "") -> Customer:
    kind = {"promoter": "field", "broker": "broker"}.get(
        next(iter(staff.roles & {"promoter", "broker"}), ""), "call"
    )
    customer = register_lead(
        actor=staff, phone=phone, kind=kind, channel="phone", name=name or phone
    ).customer
    if grade:
        # Grading is its own service (a later issue); the grade is set directly here.
        Customer.objects.filter(pk=customer.pk).update(intent_grade=grade)
    customer.refresh_from_db()
    return customer


def pooled(cast, phone: str, owner=None) -> Customer:
    """A customer of ``owner`` (the consultant by default) returned to the pool."""
    customer = customer_of(owner or cast.consultant, phone)
    pool.return_to_pool(actor=cast.admin, customer=customer, reason="测试")
    customer.refresh_from_db()
    return customer


@pytest.fixture
def south(cast):
    """Another region, with a consultant of its own."""
    team = org.add_node_path(actor=None, path="华南大区/广州区域/三组")
    consultant = org.create_staff(
        actor=None, username="south", roles=["consultant"], node=team, phone="13800000010"
    )
    return consultant


# --- who sees the pool ----------------------------------------------------------------------


def test_the_pool_as_each_person_sees_it(cast, south):
    mine = pooled(cast, "13900000001")
    other_team = pooled(cast, "13900000002", owner=cast.other_consultant)
    other_region = pooled(cast, "13900000003", owner=south)
    no_team = customer_of(cast.broker, "13900000004")  # a referral nobody owns yet
    customer_of(cast.consultant, "13900000005")  # owned: not in the pool

    seen = {
        name: sorted(c.pk for c in pool.pool_visible_to(staff))
        for name, staff in {**cast.all(), "south": south}.items()
    }
    region = sorted([mine.pk, other_team.pk, no_team.pk])
    assert seen == {
        "admin": sorted([mine.pk, other_team.pk, other_region.pk, no_team.pk]),
        "region_manager": region,
        "manager": region,
        "other_manager": region,
        "consultant": region,
        "other_consultant": region,
        "commissioner": [],
        "promoter": [],
        "broker": [],
        "south": sorted([other_region.pk, no_team.pk]),
    }


# --- the return rules ----------------------------------------------------------------------------


def test_customers_nobody_follows_go_back_after_their_grades_days(cast):
    t0 = timezone.now()
    graded = {
        g: customer_of(cast.consultant, f"1390000000{i}", grade=g) for i, g in enumerate("ABCD")
    }
    ungraded = customer_of(cast.consultant, "13900000009")
    followed = customer_of(cast.consultant, "13900000010")
    log_activity(actor=cast.consultant, customer=followed, kind="call", occurred_at=t0)

    # Defaults: A 30, B 20, C 15, D 10, no grade 15 days.
    assert pool.run_pool_rules(now=t0 + 10 * DAY) == []
    returned = pool.run_pool_rules(now=t0 + 10 * DAY + datetime.timedelta(minutes=1))
    assert [e.customer_id for e in returned] == [graded["D"].pk]
    returned = pool.run_pool_rules(now=t0 + 16 * DAY)
    assert [e.customer_id for e in returned] == [graded["C"].pk, ungraded.pk, followed.pk]
    assert [e.customer_id for e in pool.run_pool_rules(now=t0 + 21 * DAY)] == [graded["B"].pk]
    assert [e.customer_id for e in pool.run_pool_rules(now=t0 + 31 * DAY)] == [graded["A"].pk]
    assert Customer.objects.filter(owner__isnull=False).count() == 0


def test_a_returned_customer_says_why(cast):
    t0 = timezone.now()
    customer = customer_of(cast.consultant, "13900000001", grade="B")
    log_activity(
        actor=cast.consultant,
        customer=customer,
        kind="call",
        occurred_at=t0 - datetime.timedelta(hours=1),
    )
    now = t0 + 21 * DAY
    since = mark()

    [event] = pool.run_pool_rules(now=now)

    customer.refresh_from_db()
    assert (event.customer_id, event.kind, event.staff, event.day) == (
        customer.pk,
        "returned",
        cast.consultant,
        timezone.localdate(now),
    )
    assert event.reason == "No follow-up for 21 days (grade B returns after 20)."
    assert (customer.owner, customer.previous_owner, customer.pooled_at) == (
        None,
        cast.consultant,
        now,
    )
    assert customer.protected_until is None
    assert customer in Customer.objects.in_pool()
    assert list(
        Assignment.objects.filter(reason="pool").values_list(
            "from_staff", "to_staff", "explanation"
        )
    ) == [(cast.consultant.pk, None, "No follow-up for 21 days (grade B returns after 20).")]
    assert actions_since(since) == [("leads.pool.return", "system")]


def test_the_rules_are_idempotent(cast):
    t0 = timezone.now()
    customer_of(cast.consultant, "13900000001")
    assert len(pool.run_pool_rules(now=t0 + 16 * DAY)) == 1
    before = db_state()
    assert pool.run_pool_rules(now=t0 + 16 * DAY) == []
    assert pool.run_pool_rules(now=t0 + 17 * DAY) == []
    assert db_state() == before


def test_signed_customers_never_go_back_and_lost_ones_do(cast):
    t0 = timezone.now()
    deal = customer_of(cast.consultant, "13900000001")
    owner = customer_of(cast.consultant, "13900000002")
    lost = customer_of(cast.consultant, "13900000003")
    change_stage(actor=cast.consultant, customer=deal, stage="deal")
    change_stage(actor=cast.consultant, customer=owner, stage="owner")
    change_stage(actor=cast.consultant, customer=lost, stage="lost", reason="competitor")

    [event] = pool.run_pool_rules(now=t0)

    assert event.customer_id == lost.pk
    assert event.reason == "Lost (competitor); back to the pool for someone else to try."
    assert pool.run_pool_rules(now=t0 + 365 * DAY) == []
    assert set(Customer.objects.filter(owner=cast.consultant)) == {deal, owner}


def test_lost_customers_stay_when_the_setting_says_so(cast):
    pool.update_pool_settings(actor=cast.admin, return_lost=False)
    lost = customer_of(cast.consultant, "13900000003")
    change_stage(actor=cast.consultant, customer=lost, stage="lost", reason="price")
    assert pool.run_pool_rules() == []
    assert Customer.objects.get().owner == cast.consultant


def test_a_new_owner_gets_the_full_period(cast):
    """A claim or an assignment starts the clock again: a customer is not snatched back
    from the person who just received it."""
    t0 = timezone.now()
    customer = customer_of(cast.consultant, "13900000001")
    pool.run_pool_rules(now=t0 + 16 * DAY)
    pool.claim_from_pool(actor=cast.other_consultant, customer=customer, now=t0 + 16 * DAY)
    # The claim was recorded at the real time; move it to the day it happened.
    Assignment.objects.filter(reason="claim").update(created_at=t0 + 16 * DAY)

    assert pool.run_pool_rules(now=t0 + 30 * DAY) == []
    assert [e.customer_id for e in pool.run_pool_rules(now=t0 + 32 * DAY)] == [customer.pk]


def test_staff_leaving_hands_customers_to_a_successor_not_the_pool(cast):
    customer = customer_of(cast.consultant, "13900000001")

    moved = org.mark_staff_left(actor=cast.manager, staff=cast.consultant)

    customer.refresh_from_db()
    assert moved["customers.owned"] == 1
    assert (customer.owner, customer.previous_owner, customer.node) == (
        cast.manager,
        cast.consultant,
        cast.team,
    )
    assert customer not in Customer.objects.in_pool()
    assert list(
        Assignment.objects.filter(reason="staff_left").values_list("from_staff", "to_staff")
    ) == [(cast.consultant.pk, cast.manager.pk)]


# --- returning by hand ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["consultant", "manager", "region_manager", "admin"])
def test_the_owner_or_a_manager_returns_a_customer(cast, persona):
    customer = customer_of(cast.consultant, "13900000001")
    actor = getattr(cast, persona)
    since = mark()

    event = pool.return_to_pool(actor=actor, customer=customer, reason=" 客户要求换顾问 ")

    customer.refresh_from_db()
    assert (event.kind, event.staff, event.reason) == (
        "returned",
        cast.consultant,
        "客户要求换顾问",
    )
    assert (customer.owner, customer.previous_owner) == (None, cast.consultant)
    assert list(Assignment.objects.filter(reason="pool").values_list("actor", flat=True)) == [
        actor.pk
    ]
    assert actions_since(since) == [("leads.pool.return", actor.username)]


@pytest.mark.parametrize(
    "persona", ["other_consultant", "other_manager", "promoter", "commissioner", "broker"]
)
def test_others_may_not_return_a_customer(cast, persona):
    customer = customer_of(cast.consultant, "13900000001")
    refused(
        PermissionDenied,
        pool.return_to_pool,
        actor=getattr(cast, persona),
        customer=customer,
        reason="不想要",
    )


def test_a_return_needs_a_reason(cast):
    customer = customer_of(cast.consultant, "13900000001")
    error = refused(
        ValidationError, pool.return_to_pool, actor=cast.consultant, customer=customer, reason=" "
    )
    assert error.message_dict == {"reason": ["Say why the customer goes back to the pool."]}


def test_a_signed_customer_is_not_returned_by_hand(cast):
    customer = customer_of(cast.consultant, "13900000001")
    change_stage(actor=cast.consultant, customer=customer, stage="deal")
    error = refused(
        ValidationError, pool.return_to_pool, actor=cast.manager, customer=customer, reason="离职"
    )
    assert error.message_dict == {
        "customer": [
            "A customer who signed stays with a consultant; assign it to someone else instead."
        ]
    }


def test_a_customer_in_the_pool_is_not_returned_again(cast):
    customer = pooled(cast, "13900000001")
    error = refused(
        ValidationError, pool.return_to_pool, actor=cast.admin, customer=customer, reason="再次"
    )
    assert error.message_dict == {"customer": ["This customer is already in the pool."]}


# --- claiming ------------------------------------------------------------------------------------


def test_claiming_a_customer_from_the_pool(cast):
    customer = pooled(cast, "13900000001")
    now = timezone.now()
    since = mark()

    result = pool.claim_from_pool(actor=cast.other_consultant, customer=customer, now=now)

    assert result.pk == customer.pk
    assert (result.owner, result.node, result.pooled_at, result.previous_owner) == (
        cast.other_consultant,
        cast.other_team,
        None,
        cast.consultant,
    )
    assert result.protected_until == now + 30 * DAY
    event = PoolEvent.objects.filter(kind="claimed").get()
    assert (event.staff, event.day) == (cast.other_consultant, timezone.localdate(now))
    assert list(
        Assignment.objects.filter(reason="claim").values_list("to_staff", "explanation")
    ) == [(cast.other_consultant.pk, "Claimed from the pool (1 of 10 today).")]
    assert result not in Customer.objects.in_pool()
    assert actions_since(since) == [("leads.pool.claim", "other_consultant")]


def test_a_referral_nobody_owns_is_claimed_into_the_claimers_team(cast):
    customer = customer_of(cast.broker, "13900000001")
    result = pool.claim_from_pool(actor=cast.consultant, customer=customer)
    assert (result.owner, result.node) == (cast.consultant, cast.team)


@pytest.mark.parametrize("persona", ["promoter", "commissioner", "broker"])
def test_only_people_who_may_own_customers_claim(cast, persona):
    customer = pooled(cast, "13900000001")
    refused(PermissionDenied, pool.claim_from_pool, actor=getattr(cast, persona), customer=customer)


def test_nobody_claims_from_another_regions_pool(cast, south):
    customer = pooled(cast, "13900000001")
    refused(PermissionDenied, pool.claim_from_pool, actor=south, customer=customer)


def test_an_owned_customer_cannot_be_claimed(cast):
    customer = customer_of(cast.consultant, "13900000001")
    error = refused(ValidationError, pool.claim_from_pool, actor=cast.manager, customer=customer)
    assert error.message_dict == {
        "customer": ["This customer is not in the pool any more (someone has it); pick another."]
    }


def test_the_daily_quota_counts_claims_of_the_local_day(cast):
    pool.update_pool_settings(actor=cast.admin, claim_daily_quota=2)
    customers = [pooled(cast, f"1390000000{i}") for i in range(4)]
    # 23:30 and 23:50 in Shanghai, then 00:10 the next local day.
    evening = datetime.datetime(2026, 5, 1, 15, 30, tzinfo=datetime.UTC)
    pool.claim_from_pool(actor=cast.other_consultant, customer=customers[0], now=evening)
    pool.claim_from_pool(
        actor=cast.other_consultant,
        customer=customers[1],
        now=evening + datetime.timedelta(minutes=20),
    )

    error = refused(
        ValidationError,
        pool.claim_from_pool,
        actor=cast.other_consultant,
        customer=customers[2],
        now=evening + datetime.timedelta(minutes=25),
    )
    assert error.message_dict == {
        "customer": [
            "You have claimed 2 customers today, your daily quota of 2; claim more tomorrow "
            "or ask your manager to assign one."
        ]
    }
    pool.claim_from_pool(
        actor=cast.other_consultant,
        customer=customers[2],
        now=evening + datetime.timedelta(minutes=40),
    )
    # Someone else's quota is their own.
    pool.claim_from_pool(actor=cast.manager, customer=customers[3], now=evening)
    assert Customer.objects.filter(owner=cast.other_consultant).count() == 3


def test_the_previous_owner_may_not_claim_back_within_the_period(cast):
    t0 = datetime.datetime(2026, 1, 5, 2, 0, tzinfo=datetime.UTC)  # 10:00 in Shanghai
    customer = customer_of(cast.consultant, "13900000001")
    pool.return_to_pool(actor=cast.manager, customer=customer, reason="长期未跟进", now=t0)

    error = refused(
        ValidationError,
        pool.claim_from_pool,
        actor=cast.consultant,
        customer=customer,
        now=t0 + 29 * DAY,
    )
    assert error.message_dict == {
        "customer": [
            "You had this customer until Jan. 5, 2026; you may claim it again from "
            "Feb. 4, 2026 (after 30 days), or ask your manager to assign it to you."
        ]
    }
    # Anyone else may claim it at once; the previous owner once the period is over.
    assert (
        pool.claim_from_pool(actor=cast.consultant, customer=customer, now=t0 + 30 * DAY).owner
        == cast.consultant
    )


def test_nobody_claims_beyond_the_ownership_cap(cast):
    pool.update_pool_settings(actor=cast.admin, ownership_cap=1)
    customer_of(cast.other_consultant, "13900000001")
    customer = pooled(cast, "13900000002")
    error = refused(
        ValidationError, pool.claim_from_pool, actor=cast.other_consultant, customer=customer
    )
    assert error.message_dict == {
        "customer": [
            "You own 1 customers, the cap of 1; return some to the pool before claiming more."
        ]
    }


def test_of_two_claims_at_once_the_second_finds_it_taken(cast, monkeypatch):
    """The claim is a conditional UPDATE: someone else's claim landing between our read
    and our write makes ours refused, not a double owner."""
    customer = pooled(cast, "13900000001")
    real = pool.owned_count

    def rival_claims_meanwhile(staff):
        Customer.objects.filter(pk=customer.pk).update(owner=cast.manager)
        return real(staff)

    monkeypatch.setattr(pool, "owned_count", rival_claims_meanwhile)
    with pytest.raises(ValidationError) as info:
        pool.claim_from_pool(actor=cast.other_consultant, customer=customer)
    assert info.value.message_dict == {
        "customer": ["Someone claimed this customer a moment ago; pick another."]
    }
    assert PoolEvent.objects.filter(kind="claimed").count() == 0
    assert Assignment.objects.filter(reason="claim").count() == 0


@pytest.mark.django_db(transaction=True)
def test_simultaneous_claims_from_threads_give_one_winner(cast):
    customer = pooled(cast, "13900000001")
    claimers = [
        cast.other_consultant,
        cast.manager,
        cast.other_manager,
        cast.region_manager,
        cast.admin,
    ]
    barrier = threading.Barrier(len(claimers))
    outcomes: dict[str, str] = {}

    def claim(staff) -> None:
        try:
            translation.activate("en")
            barrier.wait()
            pool.claim_from_pool(actor=staff, customer=customer)
            outcomes[staff.username] = "won"
        except ValidationError as exc:
            outcomes[staff.username] = exc.message_dict["customer"][0]
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(s,)) for s in claimers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == len(claimers)
    assert len(winners) == 1
    assert set(outcomes.values()) - {"won"} <= {
        "This customer is not in the pool any more (someone has it); pick another.",
        "Someone claimed this customer a moment ago; pick another.",
    }
    assert Customer.objects.get(pk=customer.pk).owner.username == winners[0]
    assert PoolEvent.objects.filter(kind="claimed").count() == 1
    assert Assignment.objects.filter(reason="claim").count() == 1


# --- the settings --------------------------------------------------------------------------------


def test_an_admin_changes_the_pool_rules(cast):
    since = mark()
    row = pool.update_pool_settings(
        actor=cast.admin,
        return_days={"A": 60, "": 20},
        claim_daily_quota=5,
        no_reclaim_days=7,
        ownership_cap=500,
        sleeping_days=45,
        return_lost=False,
    )
    assert (
        row.return_days,
        row.claim_daily_quota,
        row.no_reclaim_days,
        row.ownership_cap,
        row.sleeping_days,
        row.return_lost,
    ) == ({"A": 60, "": 20}, 5, 7, 500, 45, False)
    assert actions_since(since) == [("leads.pool.settings", "admin")]


def test_grades_without_their_own_days_use_the_no_grade_days(cast):
    pool.update_pool_settings(actor=cast.admin, return_days={"A": 60, "": 20})
    t0 = timezone.now()
    c = customer_of(cast.consultant, "13900000001", grade="C")
    a = customer_of(cast.consultant, "13900000002", grade="A")
    assert [e.customer_id for e in pool.run_pool_rules(now=t0 + 21 * DAY)] == [c.pk]
    assert [e.customer_id for e in pool.run_pool_rules(now=t0 + 61 * DAY)] == [a.pk]


@pytest.mark.parametrize("persona", ["region_manager", "manager", "consultant"])
def test_only_admins_change_the_pool_rules(cast, persona):
    refused(
        PermissionDenied, pool.update_pool_settings, actor=getattr(cast, persona), ownership_cap=1
    )


def test_bad_pool_rules_say_what_to_fix(cast):
    error = refused(
        ValidationError,
        pool.update_pool_settings,
        actor=cast.admin,
        return_days={"E": 3},
        claim_daily_quota=-1,
        no_reclaim_days="7",
        ownership_cap=0,
        sleeping_days=True,
        return_lost="yes",
        colour="red",
    )
    assert error.message_dict == {
        "return_days": [
            'Days per intent grade, e.g. {"A": 30, "B": 20, "C": 15, "D": 10, "": 15} '
            '("" is for customers without a grade).'
        ],
        "claim_daily_quota": ["A whole number from 0 to 1000."],
        "no_reclaim_days": ["A whole number from 0 to 3650."],
        "ownership_cap": ["A whole number from 1 to 1000000."],
        "sleeping_days": ["A whole number from 1 to 3650."],
        "return_lost": ["Must be true or false."],
        "colour": ["This field cannot be changed here."],
    }
    error = refused(
        ValidationError, pool.update_pool_settings, actor=cast.admin, return_days={"A": 0}
    )
    assert error.message_dict == {
        "return_days": ["Each number of days is a whole number from 1 to 3650."]
    }


# --- the scheduled job ---------------------------------------------------------------------------


def test_the_pool_rules_run_daily_from_the_schedule(cast):
    job = ScheduledJob.objects.get(name="pool-rules")
    assert (job.task_path, job.interval_seconds, job.is_enabled) == (
        "kehu.leads.tasks.run_pool_rules_task",
        86400,
        True,
    )
    assert timezone.localtime(job.next_run_at).time() == datetime.time(2, 0)
    assert import_string(job.task_path) is run_pool_rules_task

    from django_tasks_db.models import DBTaskResult

    # Only this job is due here (other apps' jobs are theirs to test).
    ScheduledJob.objects.exclude(pk=job.pk).update(is_enabled=False)
    assert enqueue_due_jobs(now=job.next_run_at) == ["pool-rules"]
    assert list(DBTaskResult.objects.values_list("task_path", "status")) == [
        ("kehu.leads.tasks.run_pool_rules_task", "READY")
    ]
    assert enqueue_due_jobs(now=job.next_run_at) == []  # once per run


def test_the_task_runs_the_rules_and_is_idempotent(cast):
    customer = customer_of(cast.consultant, "13900000001")
    change_stage(actor=cast.consultant, customer=customer, stage="lost", reason="price")
    assert run_pool_rules_task.call() == {"returned": 1}
    assert run_pool_rules_task.call() == {"returned": 0}
    assert PoolEvent.objects.count() == 1
