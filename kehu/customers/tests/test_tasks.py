"""Recomputing stored completeness after the requirements change."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django_tasks_db.models import DBTaskResult

from kehu.customers import services
from kehu.customers.models import Customer
from kehu.customers.tasks import recompute_completeness, recompute_completeness_task
from kehu.leads.services import register_lead

pytestmark = pytest.mark.django_db


def test_changing_requirements_enqueues_a_recompute_and_it_updates_stored_scores(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    judged = register_lead(
        actor=cast.consultant, phone="13912340001", kind="call", channel="phone", name="甲"
    )
    customer = Customer.objects.get(pk=judged.customer.pk)
    assert "consultation" in customer.completeness_missing
    assert customer.is_below_completeness is True

    with django_capture_on_commit_callbacks(execute=True):
        services.set_stage_requirement(
            actor=cast.admin, stage="first_call", fields=["name", "phone"], minimum=0
        )
    assert (
        DBTaskResult.objects.filter(
            task_path="kehu.customers.tasks.recompute_completeness_task", status="READY"
        ).count()
        == 1
    )
    # Not yet run: the stored figures still reflect the old requirements.
    assert Customer.objects.get(pk=customer.pk).is_below_completeness is True

    assert recompute_completeness_task.call() == 1
    customer.refresh_from_db()
    assert customer.completeness_missing == []
    assert customer.is_below_completeness is False
    # Idempotent: nothing left to change.
    assert recompute_completeness() == 0


def test_a_denied_requirements_change_enqueues_nothing(
    cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        services.set_stage_requirement(
            actor=cast.manager, stage="first_call", fields=["name"], minimum=0
        )
    assert DBTaskResult.objects.count() == 0


def test_customers_follow_an_owner_who_moves_and_keeps_them(cast: Any) -> None:
    """A customer's team is its owner's team: the old team's manager stops seeing them,
    the new team's starts."""
    from kehu.org import services as org

    judged = register_lead(
        actor=cast.consultant, phone="13912340002", kind="call", channel="phone", name="乙"
    )
    assert Customer.objects.visible_to(cast.manager).filter(pk=judged.customer.pk).exists()
    org.move_staff(actor=cast.admin, staff=cast.consultant, node=cast.other_team)
    customer = Customer.objects.get(pk=judged.customer.pk)
    assert customer.node_id == cast.other_team.pk
    assert customer.owner_id == cast.consultant.pk
    fresh_manager = type(cast.manager).objects.get(pk=cast.manager.pk)
    fresh_other = type(cast.other_manager).objects.get(pk=cast.other_manager.pk)
    assert not Customer.objects.visible_to(fresh_manager).filter(pk=customer.pk).exists()
    assert Customer.objects.visible_to(fresh_other).filter(pk=customer.pk).exists()
