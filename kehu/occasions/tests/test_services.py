"""Settings services: administrators only, audited, atomic; the agenda sees the items."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kehu.core.testing import actions_since, mark, refuser
from kehu.occasions import services
from kehu.occasions.models import LifecycleRule
from kehu.occasions.tests.conftest import customer_of, db_state, soon

refused = refuser(db_state)
D = datetime.date


def test_an_admin_sets_care_and_the_window(cast):
    since = mark()
    assert (
        services.set_care_rule(actor=cast.admin, relationship="Y", care="call_card").care
        == "call_card"
    )
    services.set_care_rule(
        actor=cast.admin, relationship="Y", care="call_card"
    )  # no change: no event
    row = services.set_invitation_window(actor=cast.admin, days_min=10, days_max=12)
    assert (row.days_min, row.days_max) == (10, 12)
    assert actions_since(since) == [
        ("occasions.care_rule.set", "admin"),
        ("occasions.invitation.set", "admin"),
    ]


@pytest.mark.parametrize("persona", ["manager", "consultant", "region_manager", "broker"])
def test_only_admins_change_settings(cast, persona):
    actor = getattr(cast, persona)
    rule = LifecycleRule.objects.first()
    refused(
        PermissionDenied, services.set_care_rule, actor=actor, relationship="Y", care="visit_gift"
    )
    refused(PermissionDenied, services.set_invitation_window, actor=actor, days_min=1, days_max=2)
    refused(
        PermissionDenied,
        services.create_lifecycle_rule,
        actor=actor,
        name="x",
        kind="service",
        months_after=1,
    )
    refused(PermissionDenied, services.update_lifecycle_rule, actor=actor, rule=rule, lead_days=1)
    refused(PermissionDenied, services.delete_lifecycle_rule, actor=actor, rule=rule)


def test_bad_settings_name_every_bad_field(cast):
    exc = refused(
        ValidationError,
        services.create_lifecycle_rule,
        actor=cast.admin,
        name="",
        kind="wash",
        months_after=-1,
        lead_days=1000,
        ask_referral="yes",
    )
    assert set(exc.message_dict) == {"name", "kind", "months_after", "lead_days", "ask_referral"}
    exc = refused(
        ValidationError, services.set_care_rule, actor=cast.admin, relationship="Z", care="x"
    )
    assert set(exc.message_dict) == {"relationship", "care"}
    exc = refused(
        ValidationError, services.set_invitation_window, actor=cast.admin, days_min=0, days_max=99
    )
    assert set(exc.message_dict) == {"days_min", "days_max"}
    rule = LifecycleRule.objects.get(kind="callback")
    exc = refused(
        ValidationError,
        services.update_lifecycle_rule,
        actor=cast.admin,
        rule=rule,
        months_after=None,
    )
    assert exc.message_dict == {
        "months_after": ["Give months after the purchase, kilometres after it, or both."]
    }


def test_switching_a_rule_off_removes_its_reminders(cast, django_capture_on_commit_callbacks):
    from decimal import Decimal

    from django.utils import timezone

    from kehu.customers.services import record_purchase
    from kehu.occasions import occurrences

    customer = customer_of(cast.consultant)
    record_purchase(
        actor=cast.consultant,
        customer=customer,
        product="车",
        amount=Decimal("1"),
        purchased_on=timezone.localdate(),
    )
    rule = LifecycleRule.objects.get(kind="insurance")
    assert rule.reminders.count() == 1
    services.update_lifecycle_rule(actor=cast.admin, rule=rule, is_active=False)
    occurrences.rebuild_rule_reminders(rule)  # what the worker runs after commit
    assert rule.reminders.count() == 0


def test_the_agenda_holds_occasion_items(cast):
    from kehu.cadence.agenda import build_agenda

    day = soon(6)
    customer = customer_of(cast.consultant, name="生日客户", birthday=D(1980, day.month, day.day))
    kinds = {(i.kind, i.customer) for i in build_agenda(cast.consultant, day)}
    assert ("birthday", customer.pk) in kinds
