"""The incentive engine without the database: every rule of DOMAIN §8 and its edges,
then property tests (hypothesis) for re-running and funding."""

from __future__ import annotations

import copy
import io
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from kehu.incentives import engine
from kehu.incentives.engine import broker_commissions, compute, effective_count, field_pay
from kehu.incentives.schemes import DEFAULT_SCHEME, default_scheme, validate_scheme
from kehu.incentives.xlsx import statements_xlsx

MONTH = "2026-03"  # 31 days


def am(
    staff_id: int,
    *,
    region: str = "East",
    threshold: int = 2,
    pay: float = 5000,
    hired: str = "2020-01-01",
    probation: str | None = None,
    left: str | None = None,
) -> dict[str, Any]:
    return {
        "id": staff_id,
        "role": "area_manager",
        "region": region,
        "threshold": threshold,
        "monthly_target": None,
        "hired_on": hired,
        "probation_until": probation,
        "left_on": left,
        "performance_pay": pay,
    }


def rm(
    staff_id: int,
    *,
    region: str = "East",
    target: float | None = None,
    pay: float = 8000,
    hired: str = "2020-01-01",
    probation: str | None = None,
) -> dict[str, Any]:
    return {
        "id": staff_id,
        "role": "region_manager",
        "region": region,
        "threshold": None,
        "monthly_target": target,
        "hired_on": hired,
        "probation_until": probation,
        "left_on": None,
        "performance_pay": pay,
    }


_ids = iter(range(1000, 10**9))


def cust(
    by: int,
    paid: float,
    *,
    order: int = 1,
    month: str = MONTH,
    region: str = "East",
    active: list[str] | None = None,
    fraud: bool = False,
    customer_id: int | None = None,
) -> dict[str, Any]:
    return {
        "id": customer_id if customer_id is not None else next(_ids),
        "developed_by": by,
        "region": region,
        "developed_in": month,
        "reported_order": order,
        "payments": {month: paid},
        "active_months": active if active is not None else [month],
        "fraud": fraud,
    }


def run(
    staff: list[dict[str, Any]],
    customers: list[dict[str, Any]] | None = None,
    *,
    month: str = MONTH,
    pool: float = 0,
    scheme: dict[str, Any] | None = None,
) -> dict[str, Any]:
    facts = {"month": month, "pool_opening": pool, "staff": staff, "customers": customers or []}
    return compute(validate_scheme(scheme or {}), facts)


def statement(result: dict[str, Any], staff_id: int) -> dict[str, Any]:
    return next(s for s in result["statements"] if s["staff"] == staff_id)


def lines(result: dict[str, Any], staff_id: int) -> list[tuple[str, Any, Any, str]]:
    return [
        (line["kind"], line["amount"], line["customer"], line["code"])
        for line in statement(result, staff_id)["lines"]
    ]


# ----------------------------------------------------------------------------- rule 1


@pytest.mark.parametrize(
    ("paid", "count"),
    [(0, 0), (7949.99, 0), (7950, 1), (19999, 1), (49999.99, 1), (50000, 2), (10**7, 2)],
)
def test_effective_count_edges(paid, count):
    assert effective_count(DEFAULT_SCHEME, Decimal(str(paid))) == count


def test_only_payments_in_the_developed_month_count():
    customer = cust(1, 0)
    customer["payments"] = {"2026-02": 60000, MONTH: 7000, "2026-04": 9000}
    result = run([am(1, threshold=1)], [customer])
    assert lines(result, 1) == [("penalty", -500, None, "threshold.penalty")]


# ----------------------------------------------------------------------------- rules 2-3


@pytest.mark.parametrize(
    ("payments", "expected"),
    [
        ([], [("penalty", -800, None, "threshold.penalty")]),
        ([8000], [("penalty", -300, None, "threshold.penalty")]),
        ([7949, 7949], [("penalty", -800, None, "threshold.penalty")]),
        ([8000, 8000], []),
    ],
)
def test_threshold_two_penalties(payments, expected):
    customers = [cust(1, paid, order=i) for i, paid in enumerate(payments)]
    assert lines(run([am(1)], customers), 1) == expected


@pytest.mark.parametrize(
    ("paid", "bonus"),
    [(7950, 300), (19999, 300), (20000, 500), (49999, 500), (50000, 1000)],
)
def test_threshold_two_bonus_tiers(paid, bonus):
    customers = [
        cust(1, 8000, order=1),
        cust(1, 8000, order=2),
        cust(1, paid, order=3, customer_id=7),
    ]
    assert lines(run([am(1)], customers), 1) == [("bonus", bonus, 7, "threshold.bonus")]


@pytest.mark.parametrize(
    ("paid", "bonus"),
    [(7950, 200), (20000, 400), (50000, 700)],
)
def test_threshold_one_tiers(paid, bonus):
    assert lines(run([am(1, threshold=1)]), 1) == [("penalty", -500, None, "threshold.penalty")]
    customers = [cust(1, 8000, order=1), cust(1, paid, order=2, customer_id=7)]
    assert lines(run([am(1, threshold=1)], customers), 1) == [
        ("bonus", bonus, 7, "threshold.bonus")
    ]
    assert lines(run([am(1, threshold=1)], customers[:1]), 1) == []


def test_penalty_line_names_rule_reason_and_message():
    with translation.override("en"):
        (line,) = statement(run([am(1)]), 1)["lines"]
    assert line["rule"] == "2"
    assert line["reason"] == "0 effective of a threshold of 2 in 2026-03: penalty 800."
    assert line["message"] == line["reason"]  # English is active in tests
    assert line["month"] == MONTH
    (line,) = statement(run([am(1, threshold=1)]), 1)["lines"]
    assert line["rule"] == "3"


# ----------------------------------------------------------------------------- rule 4


def test_customers_are_taken_in_reported_order_not_list_or_id_order():
    big = cust(1, 60000, order=2, customer_id=1)
    small = cust(1, 8000, order=1, customer_id=2)
    # reported first: the small one covers the threshold of 1, the big one earns 700
    assert lines(run([am(1, threshold=1)], [big, small]), 1) == [
        ("bonus", 700, 1, "threshold.bonus")
    ]
    big["reported_order"], small["reported_order"] = 1, 2
    assert lines(run([am(1, threshold=1)], [small, big]), 1) == [
        ("bonus", 200, 2, "threshold.bonus")
    ]


def test_a_50000_customer_counts_two_and_is_never_split():
    # 1 counted, 1 remaining: the 50,000 customer goes whole to the threshold, no bonus.
    customers = [
        cust(1, 8000, order=1),
        cust(1, 60000, order=2, customer_id=50),
        cust(1, 9000, order=3, customer_id=9),
    ]
    result = run([am(1)], customers)
    assert lines(result, 1) == [("bonus", 300, 9, "threshold.bonus")]
    assert statement(result, 1)["effective"] == 4
    # alone it meets the threshold of 2 and earns nothing
    assert lines(run([am(1)], [cust(1, 50000)]), 1) == []
    # used for a threshold of 1, it earns no bonus either
    assert lines(run([am(1, threshold=1)], [cust(1, 50000)]), 1) == []


def test_customers_below_the_effective_amount_do_not_use_the_threshold():
    customers = [cust(1, 5000, order=1), cust(1, 8000, order=2, customer_id=8)]
    assert lines(run([am(1, threshold=1)], customers), 1) == []


# ----------------------------------------------------------------------------- rule 5


def test_threshold_penalty_is_capped_at_the_performance_pay():
    result = run([am(1, pay=450)])
    (line,) = statement(result, 1)["lines"]
    assert (line["amount"], line["code"]) == (-450, "threshold.penalty")
    assert "capped at the performance pay 450" in line["reason"]
    assert lines(run([am(1, pay=800)]), 1) == [("penalty", -800, None, "threshold.penalty")]
    assert lines(run([am(1, pay=0)]), 1) == []


def test_fraud_penalties_are_not_capped():
    result = run([am(1, pay=100)], [cust(1, 9000, fraud=True, customer_id=5)])
    assert lines(result, 1) == [
        ("penalty", -100, None, "threshold.penalty"),
        ("fraud_penalty", -3000, 5, "fraud.developer"),
    ]


# ----------------------------------------------------------------------------- rule 7


def test_probation_halves_rewards_and_penalties():
    last_day = "2026-03-31"
    assert lines(run([am(1, probation=last_day)]), 1) == [
        ("penalty", -400, None, "threshold.penalty")
    ]
    customers = [
        cust(1, 8000, order=1),
        cust(1, 8000, order=2),
        cust(1, 25000, order=3, customer_id=3),
    ]
    result = run([am(1, probation=last_day)], customers)
    assert lines(result, 1) == [("bonus", 250, 3, "threshold.bonus")]
    assert statement(result, 1)["probation"] is True
    assert "(probation ×0.5)" in statement(result, 1)["lines"][0]["reason"]


def test_probation_ending_before_the_last_day_of_the_month_pays_in_full():
    result = run([am(1, probation="2026-03-30")])
    assert lines(result, 1) == [("penalty", -800, None, "threshold.penalty")]
    assert statement(result, 1)["probation"] is False


def test_the_cap_applies_after_the_probation_factor():
    assert lines(run([am(1, pay=300, probation="2026-04-30")]), 1) == [
        ("penalty", -300, None, "threshold.penalty")
    ]
    assert lines(run([am(1, pay=500, probation="2026-04-30")]), 1) == [
        ("penalty", -400, None, "threshold.penalty")
    ]


@pytest.mark.parametrize(
    ("month", "hired", "assessed"),
    [
        ("2026-03", "2026-03-11", True),  # 21 days of 31
        ("2026-03", "2026-03-12", False),  # 20 days
        ("2026-04", "2026-04-10", True),  # 21 days of 30
        ("2026-04", "2026-04-11", False),  # 20 days
        ("2026-02", "2026-02-08", True),  # 21 days of 28
        ("2026-02", "2026-02-09", False),
    ],
)
def test_the_21_day_rule(month, hired, assessed):
    result = run([am(1, hired=hired)], [cust(1, 60000, month=month)], month=month)
    row = statement(result, 1)
    assert row["assessed"] is assessed
    if assessed:
        assert row["lines"] == []
    else:
        assert row["lines"] == [] and row["total"] == 0
        assert row["not_assessed"]["code"] == "days_worked"
        assert row["not_assessed"]["reason"] == (
            f"Not assessed: 20 days on duty in {month}, fewer than 21 (rule 7)."
        )


def test_left_on_and_not_yet_joined():
    result = run(
        [
            am(1, left="2026-02-28"),
            am(2, left="2026-03-21"),  # 21 days on duty
            am(3, left="2026-03-20"),  # 20 days
            am(4, hired="2026-04-01"),
        ]
    )
    assert [
        (s["staff"], s["assessed"], s.get("not_assessed", {}).get("code"))
        for s in result["statements"]
    ] == [
        (1, False, "left"),
        (2, True, None),
        (3, False, "days_worked"),
        (4, False, "not_joined"),
    ]
    assert lines(result, 2) == [("penalty", -800, None, "threshold.penalty")]


def test_every_staff_member_has_a_statement_in_id_order_even_when_nothing_applies():
    customers = [cust(2, 8000, order=1), cust(2, 8000, order=2)]
    result = run([am(2), am(1, threshold=1), rm(3)], customers)
    assert [s["staff"] for s in result["statements"]] == [1, 2, 3]
    assert statement(result, 2) | {"lines": None} == statement(result, 2) | {
        "total": 0,
        "lines": None,
        "assessed": True,
    }
    assert statement(result, 2)["lines"] == []


# ----------------------------------------------------------------------------- rule 6


def test_region_threshold_is_the_sum_of_area_thresholds_and_each_unit_is_300():
    staff = [am(1, threshold=2), am(2, threshold=1), rm(9), am(3, region="West")]
    five = [cust(1, 8000, order=i) for i in range(5)]
    result = run(staff, five)
    assert statement(result, 9)["threshold"] == 3
    assert lines(result, 9) == [("bonus", 600, None, "region.bonus")]
    one = [cust(2, 8000)]
    assert lines(run(staff, one), 9) == [("penalty", -600, None, "region.penalty")]
    exactly = [cust(1, 50000), cust(2, 9000)]  # 2 + 1
    assert lines(run(staff, exactly), 9) == []


def test_region_count_uses_rule_1_and_only_the_region():
    staff = [am(1, threshold=2), rm(9), am(3, region="West"), rm(8, region="West")]
    customers = [
        cust(1, 50000),  # counts 2
        cust(1, 7000),  # does not count
        cust(1, 9000, fraud=True),  # never counts
        cust(3, 60000, region="West"),
    ]
    customers[2]["id"] = 66
    result = run(staff, customers)
    assert statement(result, 9)["effective"] == 2
    assert lines(result, 9) == [("fraud_penalty", -1000, 66, "fraud.region_manager")]
    assert statement(result, 8)["effective"] == 2
    assert lines(result, 8) == []


def test_a_lower_approved_target_replaces_the_sum():
    staff = [am(1, threshold=2), am(2, threshold=2)]
    customers = [cust(1, 8000)]
    assert lines(run([*staff, rm(9)], customers), 9) == [("penalty", -900, None, "region.penalty")]
    assert lines(run([*staff, rm(9, target=2)], customers), 9) == [
        ("penalty", -300, None, "region.penalty")
    ]
    # a higher target does not raise the threshold
    assert lines(run([*staff, rm(9, target=6)], customers), 9) == [
        ("penalty", -900, None, "region.penalty")
    ]


def test_area_managers_not_on_duty_do_not_add_to_the_region_threshold():
    staff = [am(1, threshold=2), am(2, threshold=2, hired="2026-03-20"), rm(9)]
    result = run(staff, [cust(2, 8000), cust(1, 8000)])
    assert statement(result, 9)["threshold"] == 2
    assert lines(result, 9) == []


def test_region_manager_on_probation_at_half():
    staff = [am(1, threshold=2), rm(9, probation="2026-06-30")]
    assert lines(run(staff), 9) == [("penalty", -300, None, "region.penalty")]


def test_rule_11_zero_target_and_nothing_developed_is_not_assessed():
    staff = [am(1, threshold=2), rm(9, target=0)]
    result = run(staff, [cust(1, 5000)])
    row = statement(result, 9)
    assert (row["assessed"], row["lines"], row["not_assessed"]["code"]) == (
        False,
        [],
        "zero_target",
    )
    result = run(staff, [cust(1, 8000)])
    assert statement(result, 9)["assessed"] is True
    assert lines(result, 9) == [("bonus", 300, None, "region.bonus")]


# ----------------------------------------------------------------------------- rule 8


def test_activity_check_voids_and_settles_the_difference_in_the_current_month():
    january = cust(1, 9000, month="2026-01", active=["2026-01"], customer_id=77)
    staff = [am(1, threshold=1), rm(9)]
    # January itself: threshold met
    assert lines(run(staff, [january], month="2026-01"), 1) == []
    # February: not checked yet
    assert lines(run(staff, [january], month="2026-02"), 1) == [
        ("penalty", -500, None, "threshold.penalty")
    ]
    # March: void; January recomputed 0 → -500; region 0 → -300
    result = run(staff, [january], month="2026-03")
    assert lines(result, 1) == [
        ("penalty", -500, None, "threshold.penalty"),
        ("clawback", -500, 77, "activity_check.clawback"),
    ]
    assert lines(result, 9) == [
        ("penalty", -300, None, "region.penalty"),
        ("clawback", -300, 77, "activity_check.clawback"),
    ]
    clawback = statement(result, 1)["lines"][1]
    assert clawback["rule"] == "8" and clawback["month"] == "2026-01"
    assert result["voided"] == [
        {
            "customer": 77,
            "developed_by": 1,
            "region": "East",
            "developed_in": "2026-01",
            "active_months": ["2026-01"],
        }
    ]
    # April: settled once, not again
    assert lines(run(staff, [january], month="2026-04"), 1) == [
        ("penalty", -500, None, "threshold.penalty")
    ]


@pytest.mark.parametrize(
    ("active", "void"),
    [
        (["2026-01"], True),
        (["2026-01", "2026-02"], False),
        (["2026-03"], False),  # January counts through its payment
        (["2026-04"], True),  # outside the window
    ],
)
def test_activity_check_window(active, void):
    january = cust(1, 9000, month="2026-01", active=active)
    result = run([am(1, threshold=1)], [january], month="2026-03")
    assert bool(result["voided"]) is void


def test_activity_check_payments_can_be_excluded_by_the_scheme():
    january = cust(1, 9000, month="2026-01", active=["2026-02"])
    scheme = {"activity_check": {"payments_count_as_active": False}}
    assert run([am(1, threshold=1)], [january], month="2026-03", scheme=scheme)["voided"]
    assert not run([am(1, threshold=1)], [january], month="2026-03")["voided"]


def test_recomputation_moves_the_next_customer_to_the_threshold():
    first = cust(1, 8000, order=1, month="2026-01", active=[], customer_id=1)
    first["payments"] = {"2026-01": 8000}
    second = cust(1, 25000, order=2, month="2026-01", active=["2026-02"], customer_id=2)
    staff = [am(1, threshold=1)]
    assert lines(run(staff, [first, second], month="2026-01"), 1) == [
        ("bonus", 400, 2, "threshold.bonus")
    ]
    result = run(staff, [first, second], month="2026-03")
    assert [c["customer"] for c in result["voided"]] == [1]
    assert lines(result, 1)[-1] == ("clawback", -400, 1, "activity_check.clawback")


def test_activity_check_recomputes_with_that_months_probation_and_pay():
    january = cust(1, 9000, month="2026-01", active=[])
    staff = [am(1, threshold=1, probation="2026-01-31", pay=5000)]
    staff[0]["performance_pay_by_month"] = {"2026-01": 200}
    result = run(staff, [january], month="2026-03")
    # January without it: 500 × 0.5 = 250, capped at January's pay of 200
    assert lines(result, 1)[-1] == ("clawback", -200, january["id"], "activity_check.clawback")


def test_activity_check_recomputes_under_that_months_scheme_version():
    """January was run under a scheme whose one-customer threshold cost 600; March runs
    under the default (500): January is recomputed with January's 600."""
    january = cust(1, 9000, month="2026-01", active=[], customer_id=77)
    staff = [am(1, threshold=1)]
    thresholds = copy.deepcopy(validate_scheme({})["area_manager"]["thresholds"])
    thresholds["1"]["penalties"] = [600]
    then = validate_scheme({"version": 2, "area_manager": {"thresholds": thresholds}})
    facts = {
        "month": "2026-03",
        "pool_opening": 0,
        "staff": staff,
        "customers": [january],
        "recompute": {"month": "2026-01", "staff": staff, "customers": [january], "scheme": then},
    }
    result = compute(validate_scheme({}), facts)
    assert lines(result, 1) == [
        ("penalty", -500, None, "threshold.penalty"),  # March, under March's scheme
        ("clawback", -600, 77, "activity_check.clawback"),  # January, under January's
    ]
    without = {**facts, "recompute": {k: v for k, v in facts["recompute"].items() if k != "scheme"}}
    assert lines(compute(validate_scheme({}), without), 1)[-1][1] == -500


def test_activity_check_can_be_disabled():
    january = cust(1, 9000, month="2026-01", active=[])
    result = run(
        [am(1, threshold=1)],
        [january],
        month="2026-03",
        scheme={"activity_check": {"enabled": False}},
    )
    assert result["voided"] == []


# ----------------------------------------------------------------------------- rule 9


def test_fraud_costs_the_developer_3000_and_the_region_manager_1000_and_never_counts():
    staff = [am(1, threshold=1), rm(9), rm(8, region="West")]
    result = run(staff, [cust(1, 60000, fraud=True, customer_id=4)])
    assert lines(result, 1) == [
        ("penalty", -500, None, "threshold.penalty"),
        ("fraud_penalty", -3000, 4, "fraud.developer"),
    ]
    assert lines(result, 9) == [
        ("penalty", -300, None, "region.penalty"),
        ("fraud_penalty", -1000, 4, "fraud.region_manager"),
    ]
    assert lines(result, 8) == []
    line = statement(result, 1)["lines"][1]
    assert line["rule"] == "9"


def test_fraud_is_not_halved_on_probation_unless_the_scheme_says_so():
    staff = [am(1, threshold=1, probation="2026-12-31")]
    fraud = [cust(1, 9000, fraud=True, customer_id=4), cust(1, 9000, order=2)]
    assert lines(run(staff, fraud), 1) == [("fraud_penalty", -3000, 4, "fraud.developer")]
    halved = run(staff, fraud, scheme={"probation_applies_to_fraud": True})
    assert lines(halved, 1) == [("fraud_penalty", -1500, 4, "fraud.developer")]


def test_fraud_applies_to_a_developer_who_is_not_assessed():
    result = run([am(1, hired="2026-03-25")], [cust(1, 9000, fraud=True, customer_id=4)])
    row = statement(result, 1)
    assert row["assessed"] is False
    assert lines(result, 1) == [("fraud_penalty", -3000, 4, "fraud.developer")]


def test_fraud_is_settled_in_the_month_the_customer_was_developed():
    fraud = cust(1, 9000, fraud=True, month="2026-02", customer_id=4)
    staff = [am(1, threshold=1)]
    assert lines(run(staff, [fraud], month="2026-02"), 1)[-1] == (
        "fraud_penalty",
        -3000,
        4,
        "fraud.developer",
    )
    assert lines(run(staff, [fraud, cust(1, 8000)]), 1) == []


# ----------------------------------------------------------------------------- rule 10


def test_bonuses_are_paid_from_penalties_first():
    staff = [am(1, threshold=1), am(2, threshold=2)]
    customers = [cust(1, 8000, order=1), cust(1, 8000, order=2)]  # bonus 200; 2 pays 800
    result = run(staff, customers, pool=1000)
    assert result["pool"] == {
        "opening": 1000,
        "penalties": 800,
        "bonuses": 200,
        "penalties_used": 200,
        "pool_used": 0,
        "from_management_fund": 0,
        "closing": 1600,
    }


def test_then_from_the_pool_then_from_the_management_fund():
    staff = [am(1, threshold=1, pay=100)]
    customers = [cust(1, 8000, order=1), cust(1, 60000, order=2), cust(1, 60000, order=3)]
    result = run(staff, customers, pool=500)  # bonuses 1,400, no penalties
    assert result["pool"] == {
        "opening": 500,
        "penalties": 0,
        "bonuses": 1400,
        "penalties_used": 0,
        "pool_used": 500,
        "from_management_fund": 900,
        "closing": 0,
    }
    staff = [am(1, threshold=1), am(2, threshold=1, pay=300)]
    result = run(staff, customers[:2], pool=1000)  # bonus 700, penalty 300
    assert result["pool"] | {} == {
        "opening": 1000,
        "penalties": 300,
        "bonuses": 700,
        "penalties_used": 300,
        "pool_used": 400,
        "from_management_fund": 0,
        "closing": 600,
    }


def test_funding_order_is_a_parameter():
    staff = [am(1, threshold=1), am(2, threshold=1)]
    customers = [cust(1, 8000, order=1), cust(1, 60000, order=2)]  # bonus 700, penalty 500
    scheme = {"funding_order": ["pool", "penalties", "management_fund"]}
    pool = run(staff, customers, pool=1000, scheme=scheme)["pool"]
    assert (pool["pool_used"], pool["penalties_used"], pool["closing"]) == (700, 0, 800)


# ----------------------------------------------------------------------------- output


def test_amounts_are_json_numbers_ints_where_whole():
    scheme = {"probation_factor": 0.33}
    result = run([am(1, probation="2026-12-31")], scheme=scheme)
    (line,) = statement(result, 1)["lines"]
    assert line["amount"] == -264 and isinstance(line["amount"], int)
    result = run([am(1, probation="2026-12-31", pay=100.5)], scheme=scheme)
    assert statement(result, 1)["total"] == -100.5
    json.dumps(result)  # JSON-able


def test_compute_does_not_change_its_input():
    facts = {
        "month": MONTH,
        "pool_opening": 0,
        "staff": [am(1), rm(9)],
        "customers": [cust(1, 9000, month="2026-01", active=[])],
    }
    before = copy.deepcopy(facts)
    scheme = default_scheme()
    compute(scheme, facts)
    assert facts == before and scheme == DEFAULT_SCHEME


def test_reasons_are_translated():
    with translation.override("zh-hans"):
        (chinese,) = statement(run([am(1)]), 1)["lines"]
    with translation.override("en"):
        (english,) = statement(run([am(1)]), 1)["lines"]
    # The English reason is stable whatever the language; the message is translated.
    reason = "0 effective of a threshold of 2 in 2026-03: penalty 800."
    assert chinese["reason"] == english["reason"] == english["message"] == reason
    assert chinese["message"] == "2026-03 有效客户 0 位，考核基数 2：罚款 800。"
    assert chinese["message"] != english["message"]


# ----------------------------------------------------------------------------- properties


def _random_facts(seed: int, n_staff: int, n_customers: int, pool: int) -> dict[str, Any]:
    rng = random.Random(seed)
    regions = ["East", "West"]
    staff = []
    for staff_id in range(1, n_staff + 1):
        hired = rng.choice(["2020-01-01", "2026-03-05", "2026-03-15", "2026-02-20", "2025-12-10"])
        probation = rng.choice([None, None, "2026-03-31", "2026-03-15", "2026-05-01"])
        if staff_id % 4 == 0:
            staff.append(
                rm(
                    staff_id,
                    region=rng.choice(regions),
                    target=rng.choice([None, 0, 1, 2, 5]),
                    hired=hired,
                    probation=probation,
                )
            )
        else:
            staff.append(
                am(
                    staff_id,
                    region=rng.choice(regions),
                    threshold=rng.choice([1, 2]),
                    pay=rng.choice([0, 250, 600, 5000]),
                    hired=hired,
                    probation=probation,
                    left=rng.choice([None, None, None, "2026-03-10", "2026-03-25"]),
                )
            )
    area_ids = [s["id"] for s in staff if s["role"] == "area_manager"] or [staff[0]["id"]]
    customers = []
    for index in range(n_customers):
        month = rng.choice(["2026-01", "2026-02", "2026-03", "2026-03"])
        active = [m for m in ("2026-01", "2026-02", "2026-03") if m >= month and rng.random() < 0.4]
        row = cust(
            rng.choice(area_ids),
            rng.choice([0, 5000, 7950, 8000, 19999, 20000, 49999, 50000, 120000]),
            order=rng.randrange(0, 30),
            month=month,
            region=rng.choice(regions),
            active=active,
            fraud=rng.random() < 0.1,
            customer_id=index + 1,
        )
        customers.append(row)
    return {"month": MONTH, "pool_opening": pool, "staff": staff, "customers": customers}


facts_strategy = st.builds(
    _random_facts,
    seed=st.integers(0, 10**9),
    n_staff=st.integers(1, 9),
    n_customers=st.integers(0, 25),
    pool=st.sampled_from([0, 100, 1000, 100000]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=facts_strategy)
def test_property_rerunning_a_month_changes_nothing(facts):
    scheme = default_scheme()
    first = compute(scheme, facts)
    assert compute(scheme, copy.deepcopy(facts)) == first
    shuffled = copy.deepcopy(facts)
    random.Random(1).shuffle(shuffled["staff"])
    random.Random(2).shuffle(shuffled["customers"])
    assert compute(scheme, shuffled) == first


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=facts_strategy)
def test_property_bonuses_equal_penalties_used_plus_pool_used_plus_fund_used(facts):
    pool = compute(default_scheme(), facts)["pool"]
    dec = {k: Decimal(str(v)) for k, v in pool.items()}
    assert dec["bonuses"] == dec["penalties_used"] + dec["pool_used"] + dec["from_management_fund"]
    assert dec["penalties_used"] <= dec["penalties"]
    assert 0 <= dec["pool_used"] <= dec["opening"]
    assert (
        dec["closing"]
        == dec["opening"] + dec["penalties"] - dec["bonuses"] + dec["from_management_fund"]
    )
    assert dec["closing"] >= 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=facts_strategy)
def test_property_statements_add_up_and_respect_the_cap(facts):
    result = compute(default_scheme(), facts)
    pay = {s["id"]: Decimal(str(s["performance_pay"])) for s in facts["staff"]}
    assert [s["staff"] for s in result["statements"]] == sorted(pay)
    positives = negatives = Decimal(0)
    for row in result["statements"]:
        amounts = [Decimal(str(line["amount"])) for line in row["lines"]]
        assert Decimal(str(row["total"])) == sum(amounts, Decimal(0))
        positives += sum((a for a in amounts if a > 0), Decimal(0))
        negatives -= sum((a for a in amounts if a < 0), Decimal(0))
        for line in row["lines"]:
            assert line["reason"] and line["rule"] in {"2", "3", "6", "8", "9"}
            if line["code"] == "threshold.penalty":
                assert -Decimal(str(line["amount"])) <= pay[row["staff"]]
            if line["kind"] == "clawback":
                assert Decimal(str(line["amount"])) <= 0
        if not row["assessed"]:
            assert all(line["rule"] in {"8", "9"} for line in row["lines"])
        ranks = [engine.RULE_ORDER[line["rule"]] for line in row["lines"]]
        assert ranks == sorted(ranks)
    assert positives == Decimal(str(result["pool"]["bonuses"]))
    assert negatives == Decimal(str(result["pool"]["penalties"]))


# ----------------------------------------------------------------------------- schemes


def test_default_scheme_is_valid_and_partial_schemes_are_completed():
    assert validate_scheme(copy.deepcopy(DEFAULT_SCHEME)) == DEFAULT_SCHEME
    completed = validate_scheme({"code": "spring", "probation_factor": 0.6})
    assert completed["probation_factor"] == 0.6
    assert completed["area_manager"] == DEFAULT_SCHEME["area_manager"]
    json.dumps(DEFAULT_SCHEME)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"fraud": {"developer": -1}}, "fraud.developer"),
        (
            {
                "area_manager": {
                    "thresholds": {
                        "2": {"penalties": [800], "bonus_tiers": [{"from": 1, "amount": 1}]}
                    }
                }
            },
            "area_manager.thresholds.2.penalties",
        ),
        (
            {
                "area_manager": {
                    "thresholds": {
                        "1": {
                            "penalties": [5],
                            "bonus_tiers": [{"from": 9, "amount": 1}, {"from": 3, "amount": 1}],
                        }
                    }
                }
            },
            "area_manager.thresholds.1.bonus_tiers.1.from",
        ),
        ({"funding_order": ["pool", "pool", "management_fund"]}, "funding_order"),
        ({"probation_factor": 1.5}, "probation_factor"),
        ({"probation_factor": "half"}, "probation_factor"),
        (
            {"effective": {"count_one_from": 9000, "count_two_from": 100}},
            "effective.count_two_from",
        ),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"valid_from": "2026-03-01", "valid_to": "2026-02-01"}, "valid_to"),
        ({"code": "Has Spaces"}, "code"),
        ({"thresholds": {}}, "thresholds"),
        ({"field_pay": {"visit": -5}}, "field_pay.visit"),
        ({"field_pay": {"walk": 5}}, "field_pay.walk"),
        ({"broker": {"commission_rate": 2}}, "broker.commission_rate"),
        ({"min_days_worked": 40}, "min_days_worked"),
        ({"cap_threshold_penalty": "yes"}, "cap_threshold_penalty"),
    ],
)
def test_validate_scheme_names_the_field(data, path):
    with pytest.raises(ValidationError) as caught:
        validate_scheme(data)
    assert path in caught.value.message_dict, caught.value.message_dict


def test_a_scheme_with_other_thresholds_works():
    scheme = {
        "area_manager": {
            "thresholds": {
                "3": {"penalties": [900, 600, 300], "bonus_tiers": [{"from": 7950, "amount": 100}]}
            }
        }
    }
    staff = [am(1, threshold=3)]
    assert lines(run(staff, [cust(1, 60000)], scheme=scheme), 1) == [
        ("penalty", -300, None, "threshold.penalty")
    ]


# ----------------------------------------------------------------------------- field force


def test_field_pay_per_node_once_with_campaign_overrides():
    events = [
        {"promoter": 5, "customer": 1, "node": "visit", "month": MONTH, "campaign": None},
        {"promoter": 5, "customer": 1, "node": "left_phone", "month": MONTH, "campaign": None},
        {"promoter": 5, "customer": 1, "node": "visit", "month": MONTH, "campaign": None},
        {
            "promoter": 4,
            "customer": 2,
            "node": "deal",
            "month": MONTH,
            "campaign": 7,
            "amounts": {"deal": 800},
        },
        {
            "promoter": 4,
            "customer": 3,
            "node": "pledge",
            "month": MONTH,
            "campaign": 7,
            "amounts": {"deal": 800},
        },
        {
            "promoter": 4,
            "customer": 3,
            "node": "left_phone",
            "month": MONTH,
            "campaign": 8,
            "amounts": {"left_phone": 0},
        },
    ]
    result = field_pay(default_scheme(), events)
    assert [
        (line["staff"], line["customer"], line["code"], line["amount"], line["campaign"])
        for line in result
    ] == [
        (4, 2, "field.deal", 800, 7),
        (4, 3, "field.pledge", 100, 7),
        (5, 1, "field.left_phone", 20, None),
        (5, 1, "field.visit", 50, None),
    ]
    assert all(line["kind"] == "field_pay" and line["rule"] == "field" for line in result)
    with pytest.raises(ValueError):
        field_pay(
            default_scheme(), [{"promoter": 1, "customer": 1, "node": "walk", "month": MONTH}]
        )


def test_broker_commission_after_the_deal_and_clawed_back():
    deals = [
        {
            "broker": 8,
            "customer": 1,
            "deal": 11,
            "amount": 1_000_000,
            "month": MONTH,
            "status": "signed",
            "commission_paid": None,
        },
        {
            "broker": 8,
            "customer": 2,
            "deal": 12,
            "amount": 500_000,
            "month": MONTH,
            "status": "signed",
            "commission_paid": 5000,
        },
        {
            "broker": 8,
            "customer": 3,
            "deal": 13,
            "amount": 500_000,
            "month": MONTH,
            "status": "cancelled",
            "commission_paid": 5000,
        },
        {
            "broker": 8,
            "customer": 4,
            "deal": 14,
            "amount": 500_000,
            "month": MONTH,
            "status": "signed",
            "referral_false": True,
            "commission_paid": 5000,
        },
        {
            "broker": 8,
            "customer": 5,
            "deal": 15,
            "amount": 500_000,
            "month": MONTH,
            "status": "cancelled",
            "commission_paid": None,
        },
        {
            "broker": 8,
            "customer": 6,
            "deal": 16,
            "amount": 500_000,
            "month": MONTH,
            "status": "pledged",
            "commission_paid": None,
        },
    ]
    result = broker_commissions(default_scheme(), deals)
    assert [(line["deal"], line["kind"], line["amount"], line["code"]) for line in result] == [
        (11, "commission", 10000, "broker.commission"),
        (13, "commission_clawback", -5000, "broker.clawback"),
        (14, "commission_clawback", -5000, "broker.clawback"),
    ]
    assert result[2]["reason"] == "Referral proved false: commission of 5,000 clawed back."
    scheme = validate_scheme(
        {"broker": {"commission_rate": 0, "commission_fixed": 2000, "min_deal_amount": 600_000}}
    )
    assert [line["amount"] for line in broker_commissions(scheme, deals[:1])] == [2000]
    small = [{**deals[0], "amount": 100_000}]
    assert broker_commissions(scheme, small) == []


# ----------------------------------------------------------------------------- xlsx


def test_statements_xlsx_has_every_line_and_the_pool():
    staff = [am(1, threshold=1), am(2), am(3, hired="2026-03-30")]
    with translation.override("en"):
        # The reasons are worded when the engine runs, so it runs in the export's language.
        result = run(
            staff, [cust(1, 8000, order=1), cust(1, 60000, order=2, customer_id=5)], pool=100
        )
        content = statements_xlsx(result, {1: "张三", 2: "=cmd()"})
    book = load_workbook(io.BytesIO(content))
    rows = list(book["Statements"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Month", "Staff id", "Name")
    assert [(r[1], r[2], r[7], r[8], r[9]) for r in rows[1:]] == [
        (1, "张三", "bonus", 700, 5),
        (2, "'=cmd()", "penalty", -800, None),
        (3, None, None, 0, None),
    ]
    assert rows[3][11].startswith("Not assessed")
    pool = dict(book["Pool"].iter_rows(values_only=True))
    assert pool["Opening balance"] == 100 and pool["Closing balance"] == 200


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=facts_strategy)
def test_property_clawbacks_equal_a_full_recomputation(facts):
    """The engine recomputes only the people a void customer concerns; recomputing
    everybody must give the same clawbacks."""
    scheme = default_scheme()
    result = compute(scheme, facts)
    people = engine._people(facts)
    customers = engine._customers(facts)
    void = engine.voided_customers(scheme, MONTH, customers)
    expected = {}
    if void:
        month = void[0].developed_in
        before = engine.month_base(scheme, month, people, customers)
        after = engine.month_base(
            scheme, month, people, customers, voided=frozenset(c.id for c in void)
        )
        for person in people:
            difference = after.total(person.id) - before.total(person.id)
            if difference:
                expected[person.id] = engine.as_json_number(difference)
    clawbacks = {
        row["staff"]: line["amount"]
        for row in result["statements"]
        for line in row["lines"]
        if line["code"] == "activity_check.clawback"
    }
    assert clawbacks == expected


@pytest.mark.django_db
def test_the_simulator_takes_the_recomputed_months_scheme():
    from kehu.incentives.simulate import simulate

    january = cust(1, 9000, month="2026-01", active=[], customer_id=77)
    staff = [am(1, threshold=1)]
    thresholds = copy.deepcopy(default_scheme()["area_manager"]["thresholds"])
    thresholds["1"]["penalties"] = [600]
    body = {
        "scheme": "default",
        "month": "2026-03",
        "staff": staff,
        "customers": [january],
        "recompute": {
            "month": "2026-01",
            "staff": staff,
            "customers": [january],
            "scheme": {"area_manager": {"thresholds": thresholds}},
        },
    }
    result = simulate(body)
    assert [line["amount"] for line in statement(result, 1)["lines"]] == [-500, -600]
    body["recompute"]["scheme"] = "no-such-scheme"
    with pytest.raises(ValidationError) as caught:
        simulate(body)
    assert list(caught.value.message_dict) == ["recompute.scheme"]
