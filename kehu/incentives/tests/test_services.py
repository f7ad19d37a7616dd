"""Schemes and approval, the monthly facts and the monthly run, through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.testing import actions_since, mark, refuser
from kehu.incentives import engine, services
from kehu.incentives.models import (
    CustomerPayment,
    DevelopedCustomer,
    MonthlyRun,
    PoolEntry,
    RegionTarget,
    Scheme,
    Statement,
    StatementLine,
)
from kehu.incentives.months import add_months, first_day, last_day, month_of, parse_month
from kehu.incentives.schemes import DEFAULT_SCHEME, validate_scheme
from kehu.incentives.tests import factories as f
from kehu.org import services as org_services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def second_admin(cast: Any) -> Any:
    return org_services.create_staff(
        actor=None,
        username="admin2",
        roles=["admin"],
        node=cast.company,
        password="correct-horse-battery-staple",
        name="Admin2",
        phone="13800000010",
    )


def scheme_state() -> list[tuple]:
    return list(
        Scheme.objects.order_by("pk").values_list(
            "pk", "status", "params", "name", "approved_by", "submitted_by"
        )
    )


def run_state() -> tuple:
    return (
        list(MonthlyRun.objects.values_list("pk", "month", "total")),
        list(Statement.objects.values_list("pk", "total")),
        StatementLine.objects.count(),
        list(PoolEntry.objects.values_list("month", "closing")),
    )


# ---------------------------------------------------------------------------- schemes


def test_builtin_default_scheme_is_approved_and_found(db: Any) -> None:
    scheme = Scheme.objects.get(code="default")
    assert (scheme.version, scheme.status, scheme.is_builtin) == (1, "approved", True)
    assert services.find_scheme("default", "2026-03") == validate_scheme(DEFAULT_SCHEME)
    assert services.find_scheme("nope", "2026-03") is None
    assert services.find_scheme("default", "2010-12") is None


def test_copy_edit_submit_and_second_admin_approves(cast: Any) -> None:
    other = second_admin(cast)
    since = mark()
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get(code="default"))
    assert (draft.code, draft.version, draft.status) == ("default", 2, "draft")
    params = dict(draft.params, probation_factor=0.6)
    services.update_scheme(
        actor=cast.admin, scheme=draft, params=params, valid_from=datetime.date(2026, 1, 1)
    )
    services.submit_scheme(actor=cast.admin, scheme=draft)
    # A draft pending approval is not run yet.
    assert services.find_scheme("default", "2026-03")["version"] == 1
    services.approve_scheme(actor=other, scheme=draft)
    found = services.find_scheme("default", "2026-03")
    assert (found["version"], found["probation_factor"]) == (2, 0.6)
    assert services.find_scheme("default", "2025-12")["version"] == 1
    assert actions_since(since) == [
        ("incentives.scheme.copy", "admin"),
        ("incentives.scheme.update", "admin"),
        ("incentives.scheme.submit", "admin"),
        ("incentives.scheme.approve", "admin2"),
    ]


def test_the_submitter_cannot_approve_and_nothing_changes(cast: Any) -> None:
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get(code="default"))
    services.submit_scheme(actor=cast.admin, scheme=draft)
    refused = refuser(scheme_state)
    exc = refused(PermissionDenied, services.approve_scheme, actor=cast.admin, scheme=draft)
    assert "second administrator" in str(exc)
    refused(PermissionDenied, services.approve_scheme, actor=cast.manager, scheme=draft)


def test_the_database_refuses_approval_by_the_submitter(cast: Any) -> None:
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get(code="default"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Scheme.objects.filter(pk=draft.pk).update(submitted_by=cast.admin, approved_by=cast.admin)


def test_reject_needs_a_reason_and_another_admin(cast: Any) -> None:
    other = second_admin(cast)
    draft = services.copy_scheme(actor=cast.admin, scheme=Scheme.objects.get(code="default"))
    services.submit_scheme(actor=cast.admin, scheme=draft)
    refused = refuser(scheme_state)
    refused(ValidationError, services.reject_scheme, actor=other, scheme=draft, note=" ")
    services.reject_scheme(actor=other, scheme=draft, note="Too generous")
    draft.refresh_from_db()
    assert (draft.status, draft.decision_note, draft.approved_by) == (
        "rejected",
        "Too generous",
        None,
    )


def test_scheme_writes_refused_for_non_admins_and_bad_params(cast: Any) -> None:
    default = Scheme.objects.get(code="default")
    refused = refuser(scheme_state)
    refused(PermissionDenied, services.copy_scheme, actor=cast.manager, scheme=default)
    exc = refused(
        ValidationError,
        services.update_scheme,
        actor=cast.admin,
        scheme=default,
        name="x",
    )
    assert "copy this version" in exc.messages[0]
    draft = services.copy_scheme(
        actor=cast.admin, scheme=default, code="spring-2026", name="Spring"
    )
    assert (draft.code, draft.version) == ("spring-2026", 1)
    refused = refuser(scheme_state)
    exc = refused(
        ValidationError,
        services.update_scheme,
        actor=cast.admin,
        scheme=draft,
        params=dict(draft.params, fraud={"developer": -1, "region_manager": 1000}),
    )
    assert exc.message_dict == {"params.fraud.developer": ["Must not be negative."]}
    refused(
        ValidationError, services.copy_scheme, actor=cast.admin, scheme=default, code="Bad Code"
    )
    refused(PermissionDenied, services.submit_scheme, actor=cast.consultant, scheme=draft)


# ---------------------------------------------------------------------------- facts


def test_payment_allowed_for_manager_over_region_refused_otherwise(cast: Any) -> None:
    f.profiles(cast)
    developed = f.develop(cast, cast.manager, 0)
    since = mark()
    services.record_payment(
        actor=cast.region_manager, developed=developed, month="2026-03", amount="8000.50"
    )
    assert actions_since(since) == [("incentives.payment.record", "region_manager")]
    refused = refuser(lambda: list(CustomerPayment.objects.values_list("amount", flat=True)))
    # The team manager does not manage the region the customer was developed in.
    refused(
        PermissionDenied,
        services.record_payment,
        actor=cast.manager,
        developed=developed,
        month="2026-03",
        amount=1,
    )
    exc = refused(
        ValidationError,
        services.record_payment,
        actor=cast.admin,
        developed=developed,
        month="2026-03",
        amount=-5,
    )
    assert exc.message_dict == {"amount": ["The amount must not be negative."]}
    exc = refused(
        ValidationError,
        services.record_payment,
        actor=cast.admin,
        developed=developed,
        month="2026-13",
        amount=5,
    )
    assert list(exc.message_dict) == ["month"]


def test_the_database_refuses_a_negative_payment(cast: Any) -> None:
    f.profiles(cast)
    developed = f.develop(cast, cast.manager, 0)
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerPayment.objects.create(developed=developed, month="2026-03", amount=-1)


def test_targets_due_before_eight_on_the_sixth(cast: Any) -> None:
    before = datetime.datetime(2026, 3, 6, 7, 59, tzinfo=SHANGHAI)
    after = datetime.datetime(2026, 3, 6, 8, 0, tzinfo=SHANGHAI)
    row = services.submit_target(
        actor=cast.region_manager, region=cast.region, month="2026-03", target=3, now=before
    )
    assert (row.target, row.is_late) == (3, False)
    refused = refuser(lambda: list(RegionTarget.objects.values_list("target", "is_late")))
    exc = refused(
        ValidationError,
        services.submit_target,
        actor=cast.region_manager,
        region=cast.region,
        month="2026-03",
        target=4,
        now=after,
    )
    assert "08:00 on the 6th" in exc.messages[0]
    refused(
        PermissionDenied,
        services.submit_target,
        actor=cast.manager,
        region=cast.region,
        month="2026-03",
        target=4,
        now=before,
    )
    refused(
        ValidationError,
        services.submit_target,
        actor=cast.admin,
        region=cast.region,
        month="2026-03",
        target=-1,
        now=before,
    )
    row = services.submit_target(
        actor=cast.admin, region=cast.region, month="2026-03", target=4, now=after
    )
    assert (row.target, row.is_late) == (4, True)


# ---------------------------------------------------------------------------- the run


def test_run_month_stores_statements_lines_and_pool(cast: Any) -> None:
    w = f.world(cast)
    since = mark()
    run = services.run_month(actor=cast.admin, month=f.MONTH)
    assert actions_since(since) == [("incentives.run", "admin")]
    totals = dict(Statement.objects.filter(run=run).values_list("staff__username", "total"))
    # Manager: 50,000 meets threshold 2 whole; 8,000 → 300, 20,000 → 500.
    # Other manager (threshold 1): nothing → penalty 500 (capped at pay 1,500: 500).
    # Region: threshold 2 + 1 = 3; count 2 + 1 + 1 = 4 → one above → bonus 300.
    assert totals == {
        "manager": Decimal("800.00"),
        "other_manager": Decimal("-500.00"),
        "region_manager": Decimal("300.00"),
    }
    lines = list(
        StatementLine.objects.filter(statement__staff=cast.manager).values_list(
            "kind", "amount", "customer_id", "rule"
        )
    )
    assert lines == [
        ("bonus", Decimal("300.00"), w["small"].customer_id, "2"),
        ("bonus", Decimal("500.00"), w["mid"].customer_id, "2"),
    ]
    assert all(StatementLine.objects.values_list("reason", flat=True))
    pool = PoolEntry.objects.get(month=f.MONTH)
    assert (
        pool.opening,
        pool.penalties,
        pool.bonuses,
        pool.from_management_fund,
        pool.closing,
    ) == (Decimal(0), Decimal(500), Decimal(1100), Decimal(600), Decimal(0))


def test_run_month_is_idempotent(cast: Any) -> None:
    f.world(cast)
    first = services.run_month(actor=cast.admin, month=f.MONTH)
    state = run_state()
    second = services.run_month(actor=cast.admin, month=f.MONTH)
    assert second.result == first.result
    assert MonthlyRun.objects.count() == 1
    again = run_state()
    assert [r[1:] for r in again[0]] == [r[1:] for r in state[0]]
    assert [r[1] for r in again[1]] == [r[1] for r in state[1]]
    assert again[2:] == state[2:]


def test_the_simulator_and_the_run_agree(cast: Any) -> None:
    f.world(cast)
    params = services.find_scheme("default", f.MONTH)
    simulated = engine.compute(params, services.build_facts(f.MONTH, params=params))
    run = services.run_month(actor=cast.admin, month=f.MONTH)
    assert run.result == simulated
    stored = {s.staff_id: s.total for s in Statement.objects.filter(run=run)}
    assert stored == {s["staff"]: Decimal(str(s["total"])) for s in simulated["statements"]}


def test_run_month_refusals_leave_nothing(cast: Any) -> None:
    refused = refuser(run_state)
    exc = refused(ValidationError, services.run_month, actor=cast.admin, month=f.MONTH)
    assert "no facts for 2026-03" in exc.messages[0]
    f.world(cast)
    refused(PermissionDenied, services.run_month, actor=cast.manager, month=f.MONTH)
    exc = refused(
        ValidationError, services.run_month, actor=cast.admin, month=f.MONTH, scheme="unknown"
    )
    assert "no approved version of scheme “unknown”" in exc.messages[0]
    refused(ValidationError, services.run_month, actor=cast.admin, month="March")
    # A month that has not started, with nothing recorded for it, has no facts (a past
    # month with people assessed runs: see test_runs.py).
    future = add_months(month_of(timezone.localdate()), 2)
    exc = refused(ValidationError, services.run_month, actor=cast.admin, month=future)
    assert f"no facts for {future}: the month has not started" in exc.messages[0]


def test_pool_carries_into_next_month(cast: Any) -> None:
    f.profiles(cast)
    # March: nobody develops anything: penalties 800 + 500 + region 3×300 = 2,200.
    f.develop(cast, cast.other_manager, 100)
    march = services.run_month(actor=cast.admin, month="2026-03")
    assert march.pool_entry.closing == Decimal("2200.00")
    f.develop(cast, cast.manager, 50000, month="2026-04")
    f.develop(cast, cast.manager, 50000, month="2026-04")
    services.run_month(actor=None, month="2026-04")
    april = PoolEntry.objects.get(month="2026-04")
    assert april.opening == Decimal("2200.00")


def test_fraud_costs_the_developer_and_the_region_manager(cast: Any) -> None:
    w = f.world(cast)
    services.flag_fraud(actor=cast.region_manager, developed=w["small"], reason="Fabricated")
    run = services.run_month(actor=cast.admin, month=f.MONTH)
    fraud = list(
        StatementLine.objects.filter(statement__run=run, kind="fraud_penalty")
        .values_list("statement__staff__username", "amount", "customer_id")
        .order_by("statement__staff__username")
    )
    assert fraud == [
        ("manager", Decimal("-3000.00"), w["small"].customer_id),
        ("region_manager", Decimal("-1000.00"), w["small"].customer_id),
    ]


def test_market_outside_the_list_counts_only_once_approved(cast: Any) -> None:
    f.profiles(cast)
    outside = services.add_market(actor=cast.admin, name="外省", on_list=False)
    developed = services.develop_customer(
        actor=cast.admin,
        customer=f.customer(cast),
        developed_by=cast.manager,
        region=cast.region,
        developed_in=f.MONTH,
        market=outside,
    )
    services.record_payment(actor=cast.admin, developed=developed, month=f.MONTH, amount=50000)
    facts = services.build_facts(f.MONTH)
    assert facts["customers"] == []
    refused = refuser(
        lambda: developed.__class__.objects.filter(market_approval__isnull=False).count()
    )
    refused(
        PermissionDenied, services.approve_market, actor=cast.region_manager, developed=developed
    )
    services.approve_market(actor=cast.admin, developed=developed)
    assert [c["id"] for c in services.build_facts(f.MONTH)["customers"]] == [developed.customer_id]


def test_a_zero_target_carries_the_unmet_target_forward(cast: Any) -> None:
    f.profiles(cast)
    early = datetime.datetime(2026, 2, 1, tzinfo=SHANGHAI)
    services.submit_target(
        actor=cast.admin, region=cast.region, month="2026-02", target=3, now=early
    )
    services.submit_target(
        actor=cast.admin, region=cast.region, month="2026-03", target=0, now=early
    )
    f.develop(cast, cast.manager, 8000, month="2026-02")
    f.develop(cast, cast.manager, 8000, month="2026-03")
    staff = {s["id"]: s for s in services.build_facts("2026-03")["staff"]}
    # February: 3 set, 1 reached → 2 unmet carried into March's 0.
    assert staff[cast.region_manager.pk]["monthly_target"] == 2
    assert staff[cast.manager.pk]["monthly_target"] is None


def test_build_facts_shape(cast: Any) -> None:
    w = f.world(cast)
    services.mark_active_month(actor=cast.admin, developed=w["big"], month=f.MONTH)
    facts = services.build_facts(f.MONTH)
    assert facts["month"] == f.MONTH and facts["pool_opening"] == 0
    assert facts["customers"][0] == {
        "id": w["big"].customer_id,
        "developed_by": cast.manager.pk,
        "region": cast.region.pk,
        "developed_in": f.MONTH,
        "reported_order": 1,
        "payments": {f.MONTH: 50000},
        "active_months": [f.MONTH],
        "fraud": False,
    }
    assert {s["id"]: s["role"] for s in facts["staff"]} == {
        cast.region_manager.pk: "region_manager",
        cast.manager.pk: "area_manager",
        cast.other_manager.pk: "area_manager",
    }


def test_a_customer_is_developed_once_and_orders_are_unique(cast: Any) -> None:
    f.profiles(cast)
    developed = f.develop(cast, cast.manager, 8000)
    state = lambda: list(DevelopedCustomer.objects.values_list("pk", "reported_order"))  # noqa: E731
    refused = refuser(state)
    exc = refused(
        ValidationError,
        services.develop_customer,
        actor=cast.admin,
        customer=developed.customer,
        developed_by=cast.manager,
        region=cast.region,
        developed_in=f.MONTH,
    )
    assert exc.message_dict == {"customer": ["This customer is already recorded as developed."]}
    refused(
        ValidationError,
        services.develop_customer,
        actor=cast.admin,
        customer=f.customer(cast),
        developed_by=cast.manager,
        region=cast.region,
        developed_in=f.MONTH,
        reported_order=1,
    )


@given(st.integers(1990, 2100), st.integers(1, 12), st.integers(-500, 500))
def test_add_months_round_trips(year: int, month: int, n: int) -> None:
    start = f"{year:04d}-{month:02d}"
    moved = add_months(start, n)
    assert parse_month(moved) == moved
    assert add_months(moved, -n) == start
    assert first_day(moved) <= last_day(moved)
