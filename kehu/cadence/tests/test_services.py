"""Next-due dates kept as work happens; rules and milestones through their services."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from kehu.activities.services import change_stage
from kehu.cadence import services
from kehu.cadence.models import CadenceRule, CustomerCadence, Milestone
from kehu.cadence.tests.helpers import called, customer_of
from kehu.core.testing import actions_since, mark, refuser

pytestmark = pytest.mark.django_db


def rules_state() -> list[tuple]:
    return list(
        CadenceRule.objects.order_by("grade").values_list(
            "grade", "interval_days", "uses_milestones"
        )
    )


def milestones_state() -> list[tuple]:
    return list(Milestone.objects.order_by("id").values_list("id", "date", "name", "node_id"))


def test_defaults_are_seeded(cast) -> None:
    assert rules_state() == [
        ("A", 1, False),
        ("B", 3, False),
        ("C", 12, False),
        ("D", None, True),
        ("callback", 90, False),
    ]
    from kehu.core.models import ScheduledJob

    job = ScheduledJob.objects.get(name="cadence-recompute")
    assert job.task_path == "kehu.cadence.tasks.recompute_cadences_task"


def test_logging_a_call_moves_the_next_due_date(cast) -> None:
    today = timezone.localdate()
    customer = customer_of(cast.consultant, "13912340001", grade="B")
    called(cast.consultant, customer, days_ago=5)
    row = CustomerCadence.objects.get(customer=customer)
    assert (row.next_due, row.due_kind, row.grade) == (
        today - datetime.timedelta(days=2),
        "call_due",
        "B",
    )
    called(cast.consultant, customer, days_ago=0)
    row.refresh_from_db()
    assert row.next_due == today + datetime.timedelta(days=3)
    assert row.last_contact == today


def test_a_lost_customer_is_never_due_and_comes_back_when_revived(cast) -> None:
    customer = customer_of(cast.consultant, "13912340002", grade="A")
    called(cast.consultant, customer, days_ago=3)
    change_stage(actor=cast.consultant, customer=customer, stage="lost", reason="买了竞品")
    assert CustomerCadence.objects.get(customer=customer).next_due is None
    change_stage(actor=cast.consultant, customer=customer, stage="visited", reason="回来了")
    assert CustomerCadence.objects.get(customer=customer).next_due is not None


def test_refresh_due_after_a_grade_change(cast) -> None:
    today = timezone.localdate()
    customer = customer_of(cast.consultant, "13912340003")
    called(cast.consultant, customer, days_ago=10)
    assert CustomerCadence.objects.get(customer=customer).due_kind == "callback"
    customer.intent_grade = "A"
    services.refresh_due(customer)
    row = CustomerCadence.objects.get(customer=customer)
    assert (row.next_due, row.due_kind) == (today - datetime.timedelta(days=9), "call_due")


def test_recompute_all_creates_missing_rows_and_is_idempotent(
    cast, django_assert_num_queries
) -> None:
    a = customer_of(cast.consultant, "13912340004", grade="C")
    b = customer_of(cast.other_consultant, "13912340005")
    CustomerCadence.objects.all().delete()
    today = timezone.localdate()
    # rules, then per batch: one SELECT, one upsert (inside a savepoint); one empty SELECT
    with django_assert_num_queries(6):
        assert services.recompute_all(today=today, batch=1000) == 2
    assert services.recompute_all(today=today, batch=1) == 2
    rows = dict(CustomerCadence.objects.values_list("customer_id", "next_due"))
    assert rows == {a.pk: today, b.pk: today}


def test_update_rule_allowed_and_audited(cast, django_capture_on_commit_callbacks) -> None:
    since = mark()
    with django_capture_on_commit_callbacks() as callbacks:
        rule = services.update_rule(actor=cast.admin, grade="B", interval_days=4)
    assert (rule.interval_days, rule.uses_milestones) == (4, False)
    assert actions_since(since) == [("cadence.rule.update", "admin")]
    assert len(callbacks) == 1


@pytest.mark.parametrize("persona", ["manager", "consultant", "region_manager"])
def test_update_rule_denied_changes_nothing(cast, persona) -> None:
    refused = refuser(rules_state)
    refused(
        PermissionDenied,
        services.update_rule,
        actor=getattr(cast, persona),
        grade="A",
        interval_days=2,
    )


@pytest.mark.parametrize(
    ("grade", "days", "field"),
    [("E", 2, "grade"), ("A", 0, "interval_days"), ("A", 400, "interval_days")],
)
def test_update_rule_bad_input_changes_nothing(cast, grade, days, field) -> None:
    refused = refuser(rules_state)
    exc = refused(
        ValidationError, services.update_rule, actor=cast.admin, grade=grade, interval_days=days
    )
    assert field in exc.message_dict


def test_milestone_by_a_manager_in_the_subtree(cast) -> None:
    since = mark()
    day = timezone.localdate() + datetime.timedelta(days=7)
    m = services.create_milestone(actor=cast.manager, date=day, name="开盘", node=cast.team)
    assert (m.node, m.name) == (cast.team, "开盘")
    services.update_milestone(actor=cast.manager, milestone=m, name="盛大开盘")
    services.delete_milestone(actor=cast.manager, milestone=m)
    assert actions_since(since) == [
        ("cadence.milestone.create", "manager"),
        ("cadence.milestone.update", "manager"),
        ("cadence.milestone.delete", "manager"),
    ]


def test_milestone_denied_outside_the_subtree_or_to_consultants(cast) -> None:
    day = timezone.localdate()
    refused = refuser(milestones_state)
    refused(PermissionDenied, services.create_milestone, actor=cast.consultant, date=day, name="x")
    exc = refused(
        ValidationError,
        services.create_milestone,
        actor=cast.manager,
        date=day,
        name="x",
        node=cast.other_team,
    )
    assert "node" in exc.message_dict
    theirs = services.create_milestone(
        actor=cast.other_manager, date=day, name="活动", node=cast.other_team
    )
    refused(PermissionDenied, services.delete_milestone, actor=cast.manager, milestone=theirs)
    refused(
        PermissionDenied, services.update_milestone, actor=cast.manager, milestone=theirs, name="y"
    )


def test_milestone_bad_input(cast) -> None:
    refused = refuser(milestones_state)
    exc = refused(
        ValidationError,
        services.create_milestone,
        actor=cast.admin,
        date=datetime.date(1999, 1, 1),
        name=" ",
    )
    assert set(exc.message_dict) == {"date", "name"}


def test_d_customers_follow_milestones_of_their_branch(cast) -> None:
    today = timezone.localdate()
    customer = customer_of(cast.consultant, "13912340006", grade="D")
    called(cast.consultant, customer, days_ago=1)
    services.create_milestone(
        actor=cast.other_manager,
        date=today + datetime.timedelta(days=3),
        name="别组",
        node=cast.other_team,
    )
    services.create_milestone(
        actor=cast.admin, date=today + datetime.timedelta(days=5), name="区域开放日", node=cast.area
    )
    services.recompute_all(today=today)
    row = CustomerCadence.objects.get(customer=customer)
    assert (row.next_due, row.milestone) == (today + datetime.timedelta(days=5), "区域开放日")


# --- the owner copy follows the customer, whatever moves it ------------------------------


def owners(customer) -> tuple:
    customer.refresh_from_db()
    return (customer.owner_id, CustomerCadence.objects.get(customer=customer).owner_id)


def test_owner_copy_follows_assignment_pool_and_claim(cast) -> None:
    from kehu.leads.assignment import assign_customers
    from kehu.leads.pool import claim_from_pool, return_to_pool

    customer = customer_of(cast.consultant, "13912340010", grade="B")
    called(cast.consultant, customer, days_ago=5)
    assert owners(customer) == (cast.consultant.pk, cast.consultant.pk)
    assign_customers(
        actor=cast.region_manager, customers=[customer], to_staff=cast.other_consultant
    )
    assert owners(customer) == (cast.other_consultant.pk, cast.other_consultant.pk)
    return_to_pool(actor=cast.other_consultant, customer=customer, reason="不想要了")
    assert owners(customer) == (None, None)
    claim_from_pool(actor=cast.consultant, customer=customer)
    assert owners(customer) == (cast.consultant.pk, cast.consultant.pk)


def test_owner_copy_follows_raw_updates_and_survives_a_reinstall(cast) -> None:
    from django.db import connection

    from kehu.cadence import triggers
    from kehu.cadence.defaults import ensure_defaults
    from kehu.customers.models import Customer

    customer = customer_of(cast.consultant, "13912340011")
    called(cast.consultant, customer, days_ago=1)
    triggers.uninstall(connection)
    ensure_defaults(using="default")  # what every migrate runs
    Customer.objects.filter(pk=customer.pk).update(owner=cast.other_consultant)
    assert owners(customer) == (cast.other_consultant.pk, cast.other_consultant.pk)
