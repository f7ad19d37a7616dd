"""Done when (issue 5): the simulator, the monthly run and the pages agree on the same
facts. The stored facts of each month (``build_facts``) go through ``simulate()`` and
the simulate API, and the answers are compared with the stored run, statement by
statement and line by line; and re-running stored months, in any order and after later
months were run, changes nothing (a hypothesis property)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.incentives import engine, services
from kehu.incentives.models import MonthlyRun, PoolEntry, Statement, StatementLine
from kehu.incentives.simulate import simulate
from kehu.incentives.tests import factories as f

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]
URL = "/api/v1/incentives/simulate/"


def stored_statements(run: MonthlyRun) -> dict[Any, tuple[Decimal, list[tuple]]]:
    """{staff: (total, [(kind, amount, customer, rule, reason), ...])} of a stored run,
    the scheme's lines only (field pay and commissions are not the simulator's)."""
    out: dict[Any, tuple[Decimal, list[tuple]]] = {}
    for statement in Statement.objects.filter(run=run).order_by("staff_id"):
        rows = list(
            StatementLine.objects.filter(statement=statement, kind__in=engine.SCHEME_KINDS)
            .order_by("position")
            .values_list("kind", "amount", "customer_id", "rule", "reason")
        )
        out[statement.staff_id] = (statement.total, rows)
    return out


def answered_statements(result: dict[str, Any]) -> dict[Any, tuple[Decimal, list[tuple]]]:
    return {
        s["staff"]: (
            Decimal(str(s["total"])).quantize(Decimal("0.01")),
            [
                (
                    line["kind"],
                    Decimal(str(line["amount"])).quantize(Decimal("0.01")),
                    line["customer"],
                    line["rule"],
                    line["reason"],
                )
                for line in s["lines"]
            ],
        )
        for s in result["statements"]
    }


def three_months(cast: Any) -> None:
    """January: the world of the factories (bonuses), a fraud and a lower region target;
    February: nothing developed; March: the January customers not active again are
    voided (rule 8) and the manager's pay was cut in between."""
    f.profiles(cast)
    f.develop(cast, cast.manager, 50000, month="2026-01", active=("2026-02",))
    f.develop(cast, cast.manager, 8000, month="2026-01")
    f.develop(cast, cast.manager, 20000, month="2026-01")
    fake = f.develop(cast, cast.other_manager, 9000, month="2026-01")
    services.flag_fraud(actor=cast.admin, developed=fake, reason="Fabricated")
    services.submit_target(actor=cast.admin, region=cast.region, month="2026-01", target=2)
    services.set_profile(
        actor=cast.admin,
        staff=cast.manager,
        role="area_manager",
        region=cast.region,
        threshold=2,
        performance_pay=100,
    )
    f.develop(cast, cast.other_manager, 8000, month="2026-03")


def test_build_facts_through_the_simulator_and_the_api_equal_the_stored_run(
    cast: Any, api: Any
) -> None:
    three_months(cast)
    for month in MONTHS[:3]:
        services.run_month(actor=cast.admin, month=month)
    march = MonthlyRun.objects.get(month="2026-03")
    assert march.result["voided"], "the scenario must exercise the activity check"
    for run in MonthlyRun.objects.order_by("month"):
        params = services.find_scheme("default", run.month)
        facts = services.build_facts(run.month, params=params)
        assert facts == run.facts
        body = {"scheme": "default", **facts}
        simulated = simulate(body)
        assert simulated == run.result
        response = api(cast.manager).post(URL, json.dumps(body), content_type="application/json")
        assert response.status_code == 200
        assert response.json() == json.loads(json.dumps(run.result))
        assert answered_statements(response.json()) == stored_statements(run)
        pool = run.pool_entry
        assert {
            k: Decimal(str(v)).quantize(Decimal("0.01"))
            for k, v in simulated["pool"].items()
            if k in ("opening", "penalties", "bonuses", "from_management_fund", "closing")
        } == {
            "opening": pool.opening,
            "penalties": pool.penalties,
            "bonuses": pool.bonuses,
            "from_management_fund": pool.from_management_fund,
            "closing": pool.closing,
        }


def snapshot() -> tuple:
    return (
        list(
            MonthlyRun.objects.order_by("month").values_list(
                "month", "scheme_id", "facts", "result", "field", "total"
            )
        ),
        list(
            Statement.objects.order_by("month", "staff_id").values_list(
                "month", "staff_id", "role", "assessed", "effective", "note", "total"
            )
        ),
        list(
            StatementLine.objects.order_by(
                "statement__month", "statement__staff_id", "position"
            ).values_list(
                "statement__month",
                "statement__staff_id",
                "position",
                "kind",
                "code",
                "month",
                "amount",
                "customer_id",
                "rule",
                "reason",
                "message",
            )
        ),
        list(
            PoolEntry.objects.order_by("month").values_list(
                "month", "opening", "penalties", "bonuses", "from_management_fund", "closing"
            )
        ),
    )


customers = st.lists(
    st.tuples(
        st.sampled_from(MONTHS),
        st.sampled_from(["manager", "other_manager"]),
        st.sampled_from([0, 5000, 7950, 20000, 50000]),
        st.sets(st.integers(1, 2)),
        st.booleans(),
    ),
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=customers,
    first_order=st.permutations(MONTHS),
    reruns=st.lists(st.sampled_from(MONTHS), min_size=1, max_size=4),
)
def test_property_re_running_stored_months_changes_nothing(
    cast: Any, rows: list[tuple], first_order: list[str], reruns: list[str]
) -> None:
    with transaction.atomic():
        f.profiles(cast)
        for month, who, paid, active, fraud in rows:
            later = tuple(m for i, m in enumerate(MONTHS) if i - MONTHS.index(month) in active)
            developed = f.develop(cast, getattr(cast, who), paid, month=month, active=later)
            if fraud:
                services.flag_fraud(actor=cast.admin, developed=developed, reason="Fabricated")
        # Months first run in any order; re-running the earliest re-runs every later one.
        for month in first_order:
            services.run_month(actor=cast.admin, month=month)
        services.run_month(actor=cast.admin, month=MONTHS[0])
        before = snapshot()
        ledger = before[3]
        for previous, entry in zip(ledger, ledger[1:], strict=False):
            assert entry[1] == previous[5]  # each opening is the previous closing
        for month in reruns:
            services.run_month(actor=None, month=month)
            assert snapshot() == before
        transaction.set_rollback(True)
